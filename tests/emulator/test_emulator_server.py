"""Server behaviour: scenarios, strict mode, routing, defaults, gauges, the control plane."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Callable
from typing import Any

import openai
import pytest
from openai import AsyncOpenAI
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import Fault
from alloy.testing.emulator import RecordedRequest
from alloy.testing.emulator import RemoteEmulator
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall
from alloy.testing.emulator import Verbatim

MakeClient = Callable[..., OpenAI]
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]


def _chat(client: OpenAI) -> str | None:
    return client.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content


def _post(url: str, body: object) -> tuple[int, Any]:
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"content-type": "application/json"}
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, json.loads(exc.read())


def test_urls_and_env(emulator: Emulator, scenario: Scenario) -> None:
    root = emulator.url
    assert root.startswith("http://127.0.0.1:")
    assert emulator.base_url("openai") == f"{root}/openai/v1"
    assert emulator.base_url("anthropic") == f"{root}/anthropic"
    assert emulator.base_url("gemini") == f"{root}/gemini"
    assert emulator.base_url("ollama") == f"{root}/ollama"
    assert scenario.url == f"{root}/_s/{scenario.name}"
    assert scenario.base_url("openai") == f"{root}/_s/{scenario.name}/openai/v1"
    env = scenario.env()
    assert env["OPENAI_BASE_URL"] == scenario.base_url("openai")
    assert env["OLLAMA_HOST"] == scenario.base_url("ollama")
    assert set(env) == {
        "OPENAI_BASE_URL",
        "OPENAI_API_KEY",
        "ANTHROPIC_BASE_URL",
        "ANTHROPIC_API_KEY",
        "GOOGLE_GEMINI_BASE_URL",
        "GEMINI_API_KEY",
        "OLLAMA_HOST",
    }
    with pytest.raises(ValueError, match="unknown api"):
        emulator.base_url("cohere")
    with pytest.raises(ValueError, match="invalid scenario name"):
        emulator.scenario("has/slash")


def test_env_points_sdk_at_scenario(scenario: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in scenario.env().items():
        monkeypatch.setenv(name, value)
    scenario.enqueue(Reply(text="via env"))
    with OpenAI(max_retries=0) as sdk:
        assert _chat(sdk) == "via env"
    assert scenario.requests[0].headers["authorization"] == "Bearer ***"
    assert scenario.requests[0].carries_key("test")


def test_scenarios_are_isolated(emulator: Emulator, make_client: MakeClient) -> None:
    first, second = emulator.scenario(), emulator.scenario()
    first.enqueue(Reply(text="one"))
    second.enqueue(Reply(text="two"))
    client_two = make_client(base_url=second.base_url("openai"))
    client_one = make_client(base_url=first.base_url("openai"))
    assert _chat(client_two) == "two"
    assert _chat(client_one) == "one"
    assert [r.scenario for r in first.requests] == [first.name]
    assert [r.scenario for r in second.requests] == [second.name]
    assert emulator.scenario(first.name).requests == first.requests
    assert all(r.scenario != first.name for r in emulator.requests)


def test_queue_is_shared_by_both_openai_apis(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="first"), Reply(text="second"))
    assert client.responses.create(model="m", input="x").output_text == "first"
    assert _chat(client) == "second"
    assert scenario.pending == 0


def test_strict_mode_errors_on_empty_queue() -> None:
    with Emulator(strict=True) as emulator:
        sdk = OpenAI(base_url=emulator.base_url("openai"), api_key="t", max_retries=0)
        with sdk:
            with pytest.raises(openai.BadRequestError, match="no scripted reply left"):
                _chat(sdk)
            emulator.set_default(Reply(text="fallback"))
            assert _chat(sdk) == "fallback"
            emulator.reset()
            assert emulator.requests == []
            with pytest.raises(openai.BadRequestError):
                _chat(sdk)
        [request] = emulator.requests
        assert request.item is None
        assert request.status == 400


def test_default_responder_sees_the_request(client: OpenAI, scenario: Scenario) -> None:
    def echo(request: RecordedRequest) -> Reply:
        return Reply(text="echo: " + request.json["messages"][-1]["content"])

    scenario.set_default(echo)
    assert _chat(client) == "echo: hi"
    scenario.set_default(Fault(status=418))
    with pytest.raises(openai.APIStatusError) as caught:
        _chat(client)
    assert caught.value.status_code == 418
    scenario.set_default(None)
    with pytest.raises(openai.BadRequestError):
        _chat(client)


def test_unknown_path_is_404_and_recorded(make_client: MakeClient, scenario: Scenario) -> None:
    client = make_client()
    scenario.enqueue(Reply(text="kept"))
    with pytest.raises(openai.NotFoundError, match="no endpoint"):
        client.embeddings.create(model="m", input="x")
    assert scenario.pending == 1
    [request] = scenario.requests
    assert request.provider == "unknown"
    assert request.status == 404


def test_routes_for_every_api(scenario: Scenario) -> None:
    scenario.set_default(Fault(status=400))
    calls = {
        "/openai/v1/chat/completions": "openai-chat",
        "/openai/v1/responses": "openai-responses",
        "/anthropic/v1/messages": "anthropic",
        "/gemini/v1/models/gemini-2.5-flash:generateContent": "gemini",
        "/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent": "gemini",
        "/ollama/api/chat": "ollama",
        "/ollama/v1/chat/completions": "openai-chat",
        "/v1/chat/completions": "openai-chat",
    }
    for path in calls:
        assert _post(scenario.url + path, {"model": "x"})[0] == 400
    requests = scenario.requests
    assert [r.provider for r in requests] == list(calls.values())
    assert [r.stream for r in requests] == [False, False, False, False, True, True, False, False]


def test_replay_mismatch_is_404_and_keeps_the_item(client: OpenAI, scenario: Scenario) -> None:
    recorded = Verbatim(body='{"id": "x"}', method="POST", path="/v1/responses")
    scenario.enqueue(recorded)
    with pytest.raises(openai.NotFoundError, match="replay expected POST /v1/responses"):
        _chat(client)
    assert scenario.pending == 1


def test_requests_is_a_snapshot(client: OpenAI, scenario: Scenario) -> None:
    _chat(client)
    snapshot = scenario.requests
    snapshot[0].disconnected = True
    _chat(client)
    assert len(snapshot) == 1
    assert [r.disconnected for r in scenario.requests] == [False, False]
    request = scenario.requests[0]
    assert request.method == "POST"
    assert request.query == ""
    assert request.arrived_at <= (request.first_byte_at or 0) <= (request.finished_at or 0)


async def test_peak_in_flight(scenario: Scenario) -> None:
    scenario.set_default(Reply(text="slow", delay=0.2))
    async with AsyncOpenAI(base_url=scenario.base_url("openai"), api_key="t", max_retries=0) as sdk:
        results = await asyncio.gather(
            *(sdk.chat.completions.create(model="m", messages=MESSAGES) for _ in range(8))
        )
    assert {r.choices[0].message.content for r in results} == {"slow"}
    assert scenario.peak_in_flight == 8
    assert scenario.in_flight == 0
    scenario.reset()
    assert scenario.peak_in_flight == 0


def test_control_plane_in_process(emulator: Emulator, make_client: MakeClient) -> None:
    remote = RemoteEmulator(emulator.url).scenario()
    local = emulator.scenario(remote.name)
    assert remote.url == local.url
    assert remote.health()
    remote.enqueue(
        Reply(text="remote", tool_calls=[ToolCall("f", {"a": 1}, id="c1")], headers={"x": "1"}),
        Fault(status=409, headers={"retry-after-ms": "1"}, body={"error": {"message": "m"}}),
    )
    assert local.pending == 2
    client = make_client(base_url=remote.base_url("openai"))
    assert _chat(client) == "remote"
    with pytest.raises(openai.ConflictError):
        _chat(client)
    remote.set_default(Reply(text="remote default"))
    assert _chat(client) == "remote default"
    requests = remote.requests
    assert [r.status for r in requests] == [200, 409, 200]
    assert requests[0].item == Reply(
        text="remote", tool_calls=[ToolCall("f", {"a": 1}, id="c1")], headers={"x": "1"}
    )
    assert requests[0].body == local.requests[0].body
    assert remote.peak_in_flight == 1
    remote.reset()
    assert local.requests == []
    assert _post(emulator.url + "/__emu__/enqueue", {"items": [{"kind": "bogus"}]})[0] == 400
    assert _post(emulator.url + "/__emu__/nothing", {})[0] == 404


async def test_zero_socket_mode() -> None:
    """The app also serves through httpx2's ASGITransport, with no server running."""
    import httpx2

    emulator = Emulator()
    emulator.enqueue(Reply(text="in memory"))
    async with (
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=emulator.app)) as http,
        AsyncOpenAI(
            base_url="http://emulator/openai/v1",
            api_key="t",
            http_client=http,
            max_retries=0,
            _strict_response_validation=True,
        ) as sdk,
    ):
        completion = await sdk.chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content == "in memory"
    assert emulator.requests[0].path == "/openai/v1/chat/completions"


def test_recorded_requests_keep_no_credential() -> None:
    from alloy.testing.emulator._record import masked

    headers, query, digests = masked(
        {"Authorization": "Bearer sk-proj-SECRET123", "x-goog-api-key": "AIzaSECRET", "a": "b"},
        "alt=sse&key=AIzaQUERYSECRET&x=1",
    )
    shown = repr((headers, query))
    for secret in ("sk-proj-SECRET123", "AIzaSECRET", "AIzaQUERYSECRET"):
        assert secret not in shown
    assert headers == {"Authorization": "Bearer ***", "x-goog-api-key": "***", "a": "b"}
    assert query == "alt=sse&key=***&x=1"
    assert len(digests) == 3


def test_base_url_takes_every_backend_name(scenario: Scenario) -> None:
    from alloy.backends import registered

    for name in registered():
        if name == "fake":
            continue
        assert scenario.base_url(name).startswith(scenario.url)
    assert scenario.base_url("openai-chat") == scenario.base_url("openai")


def test_remote_emulator_is_importable_from_alloy_testing() -> None:
    from alloy import testing
    from alloy.testing.emulator import RemoteEmulator

    assert testing.RemoteEmulator is RemoteEmulator
    assert "RemoteEmulator" in testing.__all__
