"""Gemini ``generateContent`` through the real google-genai SDK, JSON and SSE, and faults.

google-genai has no strict-validation switch (it drops fields it does not know), so the
rendered bodies are also validated directly against its pydantic models, which forbid
unknown fields: emulator drift fails loudly either way.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator
from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from google import genai
from google.genai import errors
from google.genai import types

from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall
from alloy.testing.emulator.wire import EventStream
from alloy.testing.emulator.wire import JsonBody
from alloy.testing.emulator.wire import RenderContext
from alloy.testing.emulator.wire import gemini as wire

MODEL = "gemini-2.5-flash"


def _client(scenario: Scenario) -> genai.Client:
    options = types.HttpOptions(base_url=scenario.base_url("gemini"), timeout=10_000)
    return genai.Client(api_key="test-key", http_options=options)


@pytest.fixture
def client(scenario: Scenario) -> Iterator[genai.Client]:
    sdk = _client(scenario)
    yield sdk
    sdk.close()


@pytest.fixture
async def aclient(scenario: Scenario) -> AsyncIterator[genai.Client]:
    sdk = _client(scenario)
    yield sdk
    await sdk.aio.aclose()
    sdk.close()


def _ask(client: genai.Client, **config: Any) -> types.GenerateContentResponse:
    settings = types.GenerateContentConfig(**config)
    return client.models.generate_content(model=MODEL, contents="hi", config=settings)


def _parts(response: types.GenerateContentResponse) -> list[types.Part]:
    assert response.candidates and response.candidates[0].content
    return response.candidates[0].content.parts or []


def _finish(response: types.GenerateContentResponse) -> str | None:
    assert response.candidates
    reason = response.candidates[0].finish_reason
    return None if reason is None else reason.value


# --- JSON -------------------------------------------------------------------------------


def test_text(client: genai.Client, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="Hello there", input_tokens=12, output_tokens=3))
    response = _ask(client)
    assert response.text == "Hello there"
    assert _finish(response) == "STOP"
    assert response.model_version == MODEL
    assert response.response_id
    usage = response.usage_metadata
    assert usage is not None
    assert (usage.prompt_token_count, usage.candidates_token_count) == (12, 3)
    assert usage.total_token_count == 15
    # Zero counts are left out, as the API does.
    assert usage.thoughts_token_count is None and usage.cached_content_token_count is None
    [request] = scenario.requests
    assert request.provider == "gemini"
    assert request.path.endswith(f"/gemini/v1/models/{MODEL}:generateContent")
    assert request.stream is False
    assert request.json["contents"] == [{"parts": [{"text": "hi"}], "role": "user"}]
    assert request.headers["x-goog-api-key"] == "***"
    assert request.carries_key("test-key")
    assert request.status == 200


def test_thinking_and_cache_counts(client: genai.Client, scenario: Scenario) -> None:
    scenario.enqueue(
        Reply(text="x", input_tokens=100, output_tokens=45, cached_tokens=80, reasoning_tokens=40)
    )
    usage = _ask(client).usage_metadata
    assert usage is not None
    assert usage.prompt_token_count == 100
    assert usage.cached_content_token_count == 80  # a part of the prompt
    # The scripted output includes the thoughts; Gemini counts them apart.
    assert (usage.candidates_token_count, usage.thoughts_token_count) == (5, 40)
    assert usage.total_token_count == 145  # prompt + candidates + thoughts


def test_json_reply_parses_against_the_schema(client: genai.Client, scenario: Scenario) -> None:
    scenario.enqueue(Reply(json={"title": "Dune", "rating": 9}))
    schema = {
        "type": "object",
        "properties": {"title": {"type": "string"}, "rating": {"type": "integer"}},
    }
    response = _ask(client, response_mime_type="application/json", response_json_schema=schema)
    assert response.parsed == {"title": "Dune", "rating": 9}
    generation = scenario.requests[0].json["generationConfig"]
    assert generation["responseJsonSchema"] == schema


def test_parallel_function_calls(client: genai.Client, scenario: Scenario) -> None:
    calls = [ToolCall("lookup", {"city": "Paris"}), ToolCall("lookup", '{"city": "Rome"}')]
    scenario.enqueue(Reply(tool_calls=calls))
    response = _ask(client)
    assert _finish(response) == "STOP"  # Gemini's finish reason for calls too
    first, second = _parts(response)
    assert first.function_call is not None and second.function_call is not None
    assert (first.function_call.name, first.function_call.args) == ("lookup", {"city": "Paris"})
    assert second.function_call.args == {"city": "Rome"}
    assert first.function_call.id is None  # the Gemini API sends no call ids
    assert first.thought_signature == b"emulator-signature:lookup"
    assert second.thought_signature is None
    assert response.text is None


def test_text_before_a_call(client: genai.Client, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="Let me check.", tool_calls=[ToolCall("lookup", {})]))
    text, call = _parts(_ask(client))
    assert text.text == "Let me check."
    assert call.function_call is not None and call.function_call.name == "lookup"


def test_refusal_is_a_safety_block(client: genai.Client, scenario: Scenario) -> None:
    scenario.enqueue(Reply(refusal="I can't help with that."))
    response = _ask(client)
    assert _finish(response) == "SAFETY"
    assert response.text is None


@pytest.mark.parametrize(
    ("scripted", "sent"),
    [
        ("length", "MAX_TOKENS"),
        ("stop", "STOP"),
        ("MAX_TOKENS", "MAX_TOKENS"),
        ("recitation", "RECITATION"),
    ],
)
def test_finish_reasons(client: genai.Client, scenario: Scenario, scripted: str, sent: str) -> None:
    scenario.enqueue(Reply(text="cut", finish_reason=scripted))
    assert _finish(_ask(client)) == sent


@pytest.mark.parametrize(
    "reply",
    [Reply(text="x", finish_reason="weird"), Reply(tool_calls=[ToolCall("f", "{not json")])],
    ids=["unknown-finish", "malformed-arguments"],
)
def test_what_gemini_cannot_send_is_an_emulator_error(
    client: genai.Client, scenario: Scenario, reply: Reply
) -> None:
    scenario.enqueue(reply)
    with pytest.raises(errors.ServerError, match="cannot render reply") as caught:
        _ask(client)
    assert caught.value.code == 500


async def test_async(aclient: genai.Client, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="async hello"))
    response = await aclient.aio.models.generate_content(model=MODEL, contents="hi")
    assert response.text == "async hello"


# --- SSE --------------------------------------------------------------------------------


def test_stream(client: genai.Client, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="hello world", chunk_chars=4, tool_calls=[ToolCall("f", {"a": 1})]))
    chunks = list(client.models.generate_content_stream(model=MODEL, contents="hi"))
    texts = [p.text for c in chunks for p in _parts(c) if p.text]
    assert texts == ["hell", "o wo", "rld"]
    calls = [p.function_call for c in chunks for p in _parts(c) if p.function_call]
    assert [(c.name, c.args) for c in calls] == [("f", {"a": 1})]
    assert [_finish(c) for c in chunks] == [None] * 4 + ["STOP"]
    assert [c.usage_metadata is not None for c in chunks] == [False] * 4 + [True]
    assert len({c.response_id for c in chunks}) == 1
    [request] = scenario.requests
    assert request.path.endswith(f"/models/{MODEL}:streamGenerateContent")
    assert request.query == "alt=sse"
    assert request.stream is True


async def test_stream_async(aclient: genai.Client, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="abcdef", chunk_chars=3))
    stream = await aclient.aio.models.generate_content_stream(model=MODEL, contents="hi")
    texts = [chunk.text async for chunk in stream]
    assert texts == ["abc", "def", ""]


def test_stream_is_crlf_framed_without_terminator(scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="ab", chunk_chars=1))
    url = f"{scenario.base_url('gemini')}/v1beta/models/{MODEL}:streamGenerateContent?alt=sse"
    with httpx2.Client() as http:
        body = http.post(url, json={"contents": []}).text
    events = body.split("\r\n\r\n")
    assert events[-1] == ""
    assert [e.startswith("data: {") for e in events[:-1]] == [True] * 3
    assert json.loads(events[-2].removeprefix("data: "))["candidates"][0]["finishReason"] == "STOP"


def test_truncated_stream_has_no_finish_reason(client: genai.Client, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="hello world", chunk_chars=4, truncate_after=2))
    chunks = list(client.models.generate_content_stream(model=MODEL, contents="hi"))
    assert [c.text for c in chunks] == ["hell", "o wo"]
    assert all(_finish(c) is None and c.usage_metadata is None for c in chunks)


def _stream_texts(client: genai.Client, pieces: list[str]) -> None:
    for chunk in client.models.generate_content_stream(model=MODEL, contents="hi"):
        pieces.append(chunk.text or "")


def test_error_after_raises_server_error(client: genai.Client, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="hello world", chunk_chars=4, error_after=1))
    pieces: list[str] = []
    with pytest.raises(errors.ServerError) as caught:
        _stream_texts(client, pieces)
    assert pieces == ["hell"]
    assert (caught.value.code, caught.value.status) == (500, "INTERNAL")
    assert caught.value.message == "emulator: injected stream error"


def test_malformed_after_raises_unknown_api_response(
    client: genai.Client, scenario: Scenario
) -> None:
    scenario.enqueue(Reply(text="hello world", chunk_chars=4, malformed_after=2))
    pieces: list[str] = []
    with pytest.raises(errors.UnknownApiResponseError):
        _stream_texts(client, pieces)
    assert pieces == ["hell", "o wo"]


def test_abort_after_is_a_raw_read_error(client: genai.Client, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="hello world", chunk_chars=4, abort_after=1))
    pieces: list[str] = []
    with pytest.raises(httpx2.ReadError):
        _stream_texts(client, pieces)
    assert pieces == ["hell"]


def test_stall_pauses_mid_stream(client: genai.Client, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="abcdef", chunk_chars=2, stall_after=1, stall=0.25))
    arrivals: list[float] = []
    for _ in client.models.generate_content_stream(model=MODEL, contents="hi"):
        arrivals.append(time.monotonic())
    assert arrivals[1] - arrivals[0] >= 0.2


# --- faults -----------------------------------------------------------------------------


def test_error_envelope_and_retry_headers(client: genai.Client, scenario: Scenario) -> None:
    scenario.enqueue(Fault(status=429, message="Quota exceeded", headers={"retry-after": "7"}))
    with pytest.raises(errors.ClientError) as caught:
        _ask(client)
    error = caught.value
    assert (error.code, error.status, error.message) == (
        429,
        "RESOURCE_EXHAUSTED",
        "Quota exceeded",
    )
    assert error.response is not None
    assert error.response.headers["retry-after"] == "7"
    assert scenario.requests[0].status == 429


@pytest.mark.parametrize(
    ("status", "name", "cls"),
    [
        (400, "INVALID_ARGUMENT", errors.ClientError),
        (401, "UNAUTHENTICATED", errors.ClientError),
        (404, "NOT_FOUND", errors.ClientError),
        (500, "INTERNAL", errors.ServerError),
        (503, "UNAVAILABLE", errors.ServerError),
    ],
)
def test_status_faults(
    client: genai.Client, scenario: Scenario, status: int, name: str, cls: type[errors.APIError]
) -> None:
    scenario.enqueue(Fault(status=status, message="nope"))
    with pytest.raises(cls) as caught:
        _ask(client)
    assert (caught.value.code, caught.value.status) == (status, name)


def test_html_502(client: genai.Client, scenario: Scenario) -> None:
    scenario.enqueue(Fault(status=502, html=True))
    with pytest.raises(errors.ServerError) as caught:
        _ask(client)
    assert caught.value.code == 502
    assert "<h1>502 Bad Gateway</h1>" in str(caught.value.message)


def test_reset_and_malformed_body_are_raw(client: genai.Client, scenario: Scenario) -> None:
    scenario.enqueue(Fault(reset=True), Fault(malformed=True))
    with pytest.raises(httpx2.ReadError):
        _ask(client)
    with pytest.raises(json.JSONDecodeError):
        _ask(client)


def test_hang_times_out_with_a_per_request_timeout(
    client: genai.Client, scenario: Scenario
) -> None:
    scenario.enqueue(Fault(hang=True))
    started = time.monotonic()
    with pytest.raises(httpx2.ReadTimeout):
        _ask(client, http_options={"timeout": 300})  # milliseconds
    assert time.monotonic() - started < 3


def test_unknown_path_answers_in_gemini_envelope(scenario: Scenario) -> None:
    with httpx2.Client() as http:
        response = http.get(f"{scenario.base_url('gemini')}/v1/models")
    assert response.status_code == 404
    assert response.json()["error"]["status"] == "NOT_FOUND"


# --- the rendered bodies fit the SDK's models exactly -------------------------------------

CONTEXT = RenderContext(request={}, stream=False, model=MODEL, created=0)
REPLIES = [
    Reply(text="hi"),
    Reply(json={"a": [1, 2]}, cached_tokens=3, reasoning_tokens=4),
    Reply(text="x", tool_calls=[ToolCall("f", {"a": 1}), ToolCall("g", {})]),
    Reply(refusal="no"),
    Reply(text="cut", finish_reason="length"),
]


@pytest.mark.parametrize("reply", REPLIES)
def test_json_bodies_validate(reply: Reply) -> None:
    rendered = wire.render(reply, CONTEXT)
    assert isinstance(rendered, JsonBody)
    types.GenerateContentResponse.model_validate(rendered.body)


@pytest.mark.parametrize("reply", REPLIES)
def test_stream_events_validate(reply: Reply) -> None:
    rendered = wire.render(reply, RenderContext(request={}, stream=True, model=MODEL, created=0))
    assert isinstance(rendered, EventStream)
    for event in [*rendered.events, *rendered.terminal, *rendered.error]:
        text = event.decode()
        assert text.startswith("data: ") and text.endswith("\r\n\r\n")
        data = json.loads(text.removeprefix("data: "))
        if "error" in data:
            assert data == wire.error_body(500, "emulator: injected stream error")
        else:
            types.GenerateContentResponse.model_validate(data)
