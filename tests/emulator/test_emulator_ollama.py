"""Ollama's native ``/api/chat`` through the real ollama SDK, JSON and NDJSON, and its faults.

The SDK parses every object with its pydantic ``ChatResponse`` model, so a shape it does
not accept fails here.
"""
# The ollama SDK's chat() (a parameter typed with a bare Callable), its context managers and
# its clients' httpx attribute are partly untyped.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false
# pyright: reportUnknownArgumentType=false

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from collections.abc import Iterator
from typing import Any

import httpx
import ollama
import pydantic
import pytest

from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def client(scenario: Scenario) -> Iterator[ollama.Client]:
    with ollama.Client(host=scenario.base_url("ollama"), timeout=10.0) as sdk:
        yield sdk


@pytest.fixture
async def aclient(scenario: Scenario) -> AsyncIterator[ollama.AsyncClient]:
    sdk = ollama.AsyncClient(host=scenario.base_url("ollama"), timeout=10.0)
    yield sdk
    await sdk.close()


def _stream(client: ollama.Client, parts: list[ollama.ChatResponse]) -> None:
    """Collect streamed objects into ``parts`` so they survive an exception."""
    for part in client.chat(model="llama3.1", messages=MESSAGES, stream=True):
        parts.append(part)


def test_text(client: ollama.Client, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="Hello there"))
    response = client.chat(model="llama3.1", messages=MESSAGES)
    assert response.message.role == "assistant"
    assert response.message.content == "Hello there"
    assert response.message.tool_calls is None
    assert response.done is True and response.done_reason == "stop"
    assert response.model == "llama3.1"
    assert (response.prompt_eval_count, response.eval_count) == (10, 5)
    assert response.created_at is not None and response.created_at.endswith("Z")
    [request] = scenario.requests
    assert request.provider == "ollama"
    assert request.path.endswith("/ollama/api/chat")
    assert request.stream is False
    assert request.json["messages"] == MESSAGES
    assert request.headers["user-agent"].startswith("ollama-python/")


def test_default_reply(client: ollama.Client) -> None:
    assert client.chat(model="m", messages=MESSAGES).message.content == "ok"


def test_json_reply_and_format(client: ollama.Client, scenario: Scenario) -> None:
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    scenario.enqueue(Reply(json={"title": "Dune"}))
    response = client.chat(model="m", messages=MESSAGES, format=schema)
    assert json.loads(response.message.content or "") == {"title": "Dune"}
    assert scenario.requests[0].json["format"] == schema


def test_tool_calls_have_object_arguments(client: ollama.Client, scenario: Scenario) -> None:
    calls = [ToolCall("lookup", {"city": "Paris"}), ToolCall("lookup", '{"city": "Rome"}')]
    scenario.enqueue(Reply(tool_calls=calls))
    message = client.chat(model="m", messages=MESSAGES).message
    assert message.content == ""
    assert [(c.function.name, dict(c.function.arguments)) for c in message.tool_calls or []] == [
        ("lookup", {"city": "Paris"}),
        ("lookup", {"city": "Rome"}),
    ]


def test_arguments_that_are_not_an_object_fail_in_the_sdk(
    client: ollama.Client, scenario: Scenario
) -> None:
    scenario.enqueue(Reply(tool_calls=[ToolCall("f", '{"broken": ')]))
    with pytest.raises(pydantic.ValidationError, match="arguments"):
        client.chat(model="m", messages=MESSAGES)


def test_refusal_is_plain_text(client: ollama.Client, scenario: Scenario) -> None:
    scenario.enqueue(Reply(refusal="I can't help with that."))
    assert client.chat(model="m", messages=MESSAGES).message.content == "I can't help with that."


def test_usage_reason_and_model_overrides(client: ollama.Client, scenario: Scenario) -> None:
    scenario.enqueue(
        Reply(
            text="x",
            input_tokens=100,
            output_tokens=40,
            finish_reason="length",
            model="llama-emulated",
            headers={"x-custom": "yes"},
        )
    )
    response = client.chat(model="llama3.1", messages=MESSAGES)
    assert (response.prompt_eval_count, response.eval_count) == (100, 40)
    assert response.done_reason == "length"
    assert response.model == "llama-emulated"
    assert (response.total_duration or 0) > 0


def test_stream(client: ollama.Client, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="Hello there, world", chunk_chars=5, output_tokens=7))
    parts: list[ollama.ChatResponse] = []
    _stream(client, parts)
    assert [p.message.content for p in parts] == ["Hello", " ther", "e, wo", "rld", ""]
    assert [p.done for p in parts] == [False, False, False, False, True]
    assert parts[-1].done_reason == "stop"
    assert (parts[-1].prompt_eval_count, parts[-1].eval_count) == (10, 7)
    assert parts[0].done_reason is None and parts[0].eval_count is None
    [request] = scenario.requests
    assert request.stream is True


def test_stream_content_type(scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="hi"))
    body = {"model": "m", "messages": MESSAGES}  # no "stream": Ollama streams by default
    response = httpx.post(scenario.base_url("ollama") + "/api/chat", json=body)
    assert response.headers["content-type"] == "application/x-ndjson"
    lines = response.text.splitlines()
    assert [json.loads(line)["done"] for line in lines] == [False, True]
    assert response.text.endswith("\n")


def test_stream_tool_calls_arrive_whole(client: ollama.Client, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="Let me look.", tool_calls=[ToolCall("lookup", {"q": "x"})]))
    parts: list[ollama.ChatResponse] = []
    _stream(client, parts)
    with_calls = [p for p in parts if p.message.tool_calls]
    assert len(with_calls) == 1
    [call] = with_calls[0].message.tool_calls or []
    assert (call.function.name, dict(call.function.arguments)) == ("lookup", {"q": "x"})
    assert "".join(p.message.content or "" for p in parts) == "Let me look."


async def test_async_json_and_stream(aclient: ollama.AsyncClient, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="one"), Reply(text="two", chunk_chars=1))
    response = await aclient.chat(model="m", messages=MESSAGES)
    assert response.message.content == "one"
    pieces = [
        p.message.content
        async for p in await aclient.chat(model="m", messages=MESSAGES, stream=True)
    ]
    assert pieces == ["t", "w", "o", ""]


# Faults, and what the SDK raises for each (PROVIDERS.md §5).


def test_error_envelope(client: ollama.Client, scenario: Scenario) -> None:
    scenario.enqueue(Fault(status=404, message="model 'x' not found"))
    with pytest.raises(ollama.ResponseError) as caught:
        client.chat(model="x", messages=MESSAGES)
    assert caught.value.status_code == 404
    assert caught.value.error == "model 'x' not found"


def test_429_headers_reach_the_failed_response(client: ollama.Client, scenario: Scenario) -> None:
    scenario.enqueue(Fault(status=429, headers={"retry-after": "2"}))
    with pytest.raises(ollama.ResponseError) as caught:
        client.chat(model="m", messages=MESSAGES)
    assert caught.value.status_code == 429
    context = caught.value.__context__  # what the backend reads Retry-After from
    assert isinstance(context, httpx.HTTPStatusError)
    assert context.response.headers["retry-after"] == "2"


def test_unscripted_request_gets_the_envelope(client: ollama.Client, scenario: Scenario) -> None:
    scenario.set_default(None)  # strict: nothing queued is an error
    with pytest.raises(ollama.ResponseError) as caught:
        client.chat(model="m", messages=MESSAGES)
    assert caught.value.status_code == 400
    assert caught.value.error.startswith("emulator: no scripted reply left: the queue of")
    assert "set_default" in caught.value.error


@pytest.mark.parametrize(
    ("cut", "expected"),
    [
        ({"error_after": 1}, ollama.ResponseError),
        ({"malformed_after": 1}, json.JSONDecodeError),
        ({"abort_after": 1}, httpx.TransportError),
    ],
)
def test_stream_cuts(
    client: ollama.Client, scenario: Scenario, cut: dict[str, Any], expected: type[Exception]
) -> None:
    scenario.enqueue(Reply(text="abcdef", chunk_chars=2, **cut))
    parts: list[ollama.ChatResponse] = []
    with pytest.raises(expected) as caught:
        _stream(client, parts)
    assert [p.message.content for p in parts] == ["ab"]
    if isinstance(caught.value, ollama.ResponseError):
        assert caught.value.status_code == -1
        assert caught.value.error == "emulator: injected stream error"


def test_truncated_stream_ends_without_done(client: ollama.Client, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="abcdef", chunk_chars=2, truncate_after=2))
    parts: list[ollama.ChatResponse] = []
    _stream(client, parts)  # the SDK is silent about it (PROVIDERS.md §5)
    assert [p.message.content for p in parts] == ["ab", "cd"]
    assert not any(p.done for p in parts)


def test_malformed_body(client: ollama.Client, scenario: Scenario) -> None:
    scenario.enqueue(Fault(malformed=True))
    with pytest.raises(json.JSONDecodeError):
        client.chat(model="m", messages=MESSAGES)


def test_html_502(client: ollama.Client, scenario: Scenario) -> None:
    scenario.enqueue(Fault(status=502, html=True))
    with pytest.raises(ollama.ResponseError) as caught:
        client.chat(model="m", messages=MESSAGES)
    assert caught.value.status_code == 502
    assert "<html>" in str(caught.value.error)


def test_reset(client: ollama.Client, scenario: Scenario) -> None:
    scenario.enqueue(Fault(reset=True))
    with pytest.raises(httpx.TransportError):
        client.chat(model="m", messages=MESSAGES)


def test_slow_headers_time_out(scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="late", delay=2.0))
    with (
        ollama.Client(host=scenario.base_url("ollama"), timeout=0.2) as client,
        pytest.raises(httpx.ReadTimeout),
    ):
        client.chat(model="m", messages=MESSAGES)
