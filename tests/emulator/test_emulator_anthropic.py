"""Anthropic Messages through the real anthropic SDK (strict validation), JSON and SSE."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import AsyncIterator
from collections.abc import Iterator
from typing import Any

import anthropic
import pytest
from anthropic import Anthropic
from anthropic import AsyncAnthropic
from anthropic.types import Message
from anthropic.types import MessageParam
from anthropic.types import TextBlock
from anthropic.types import ToolUseBlock
from pydantic import BaseModel

from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall

MESSAGES: list[MessageParam] = [{"role": "user", "content": "hi"}]
MODEL = "claude-sonnet-4-6"


class Book(BaseModel):
    title: str
    rating: int


def _options(scenario: Scenario) -> dict[str, Any]:
    return {
        "base_url": scenario.base_url("anthropic"),
        "api_key": "test-key",
        "max_retries": 0,
        "timeout": 10.0,
        "_strict_response_validation": True,
    }


@pytest.fixture
def client(scenario: Scenario) -> Iterator[Anthropic]:
    with Anthropic(**_options(scenario)) as sdk:
        yield sdk


@pytest.fixture
async def aclient(scenario: Scenario) -> AsyncIterator[AsyncAnthropic]:
    async with AsyncAnthropic(**_options(scenario)) as sdk:
        yield sdk


def _create(client: Anthropic, **kwargs: object) -> Message:
    return client.messages.create(model=MODEL, max_tokens=100, messages=MESSAGES, **kwargs)  # type: ignore[arg-type]


def _texts(message: Message) -> str:
    return "".join(block.text for block in message.content if isinstance(block, TextBlock))


def _calls(message: Message) -> list[tuple[str, str, object]]:
    return [(b.id, b.name, b.input) for b in message.content if isinstance(b, ToolUseBlock)]


def test_text(client: Anthropic, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="Hello there"))
    message = _create(client, system="Be brief.")
    assert _texts(message) == "Hello there"
    assert message.stop_reason == "end_turn"
    assert message.model == MODEL
    assert (message.usage.input_tokens, message.usage.output_tokens) == (10, 5)
    assert message.usage.output_tokens_details is None
    [request] = scenario.requests
    assert request.provider == "anthropic"
    assert request.path.endswith("/anthropic/v1/messages")
    assert request.json["system"] == "Be brief."
    assert request.headers["authorization"] == "Bearer ***"
    assert request.carries_key("test-key") and not request.carries_key("other-key")
    assert request.stream is False


def test_x_api_key_and_beta_query_are_accepted(scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="old style"))
    request = urllib.request.Request(
        scenario.base_url("anthropic") + "/v1/messages?beta=true",
        data=json.dumps({"model": MODEL, "max_tokens": 5, "messages": MESSAGES}).encode(),
        headers={"content-type": "application/json", "x-api-key": "test-key"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=5) as response:
        body = json.loads(response.read())
    assert body["content"] == [{"type": "text", "text": "old style"}]
    [recorded] = scenario.requests
    assert recorded.query == "beta=true"
    assert recorded.headers["x-api-key"] == "***"
    assert recorded.carries_key("test-key")


def test_parallel_tool_calls(client: Anthropic, scenario: Scenario) -> None:
    calls = [ToolCall("lookup", {"city": "Paris"}), ToolCall("lookup", {"city": "Rome"}, id="t2")]
    scenario.enqueue(Reply(text="Looking.", tool_calls=calls))
    message = _create(client)
    assert message.stop_reason == "tool_use"
    assert _texts(message) == "Looking."
    assert _calls(message) == [
        (calls[0].id, "lookup", {"city": "Paris"}),
        ("t2", "lookup", {"city": "Rome"}),
    ]


def test_forced_tool_choice_gets_the_json_as_input(client: Anthropic, scenario: Scenario) -> None:
    scenario.enqueue(Reply(json={"title": "Dune", "rating": 9}))
    tool = {"name": "book", "input_schema": {"type": "object", "properties": {}}}
    message = _create(client, tools=[tool], tool_choice={"type": "tool", "name": "book"})
    assert message.stop_reason == "tool_use"
    [(_, name, arguments)] = _calls(message)
    assert (name, arguments) == ("book", {"title": "Dune", "rating": 9})
    assert _texts(message) == ""


def test_native_structured_output_parses(client: Anthropic, scenario: Scenario) -> None:
    scenario.enqueue(Reply(json={"title": "Dune", "rating": 9}))
    parsed = client.messages.parse(
        model=MODEL, max_tokens=100, messages=MESSAGES, output_format=Book
    )
    assert parsed.parsed_output == Book(title="Dune", rating=9)
    body = scenario.requests[0].json
    assert body["output_config"]["format"]["type"] == "json_schema"
    assert "anthropic-beta" not in scenario.requests[0].headers


def test_usage_reasoning_refusal_and_finish(client: Anthropic, scenario: Scenario) -> None:
    scenario.enqueue(
        Reply(text="x", input_tokens=100, output_tokens=40, cached_tokens=64, reasoning_tokens=30),
        Reply(refusal="I can't help with that."),
        Reply(text="trunc", finish_reason="length"),
    )
    usage = _create(client).usage
    assert (usage.input_tokens, usage.cache_read_input_tokens, usage.output_tokens) == (36, 64, 40)
    assert usage.output_tokens_details is not None
    assert usage.output_tokens_details.thinking_tokens == 30
    refused = _create(client)
    assert refused.stop_reason == "refusal"
    assert refused.stop_details is not None
    assert refused.stop_details.explanation == "I can't help with that."
    assert _create(client).stop_reason == "max_tokens"


def test_error_envelope(client: Anthropic, scenario: Scenario) -> None:
    scenario.enqueue(Fault(status=529, message="overloaded"), Fault(status=401, message="bad"))
    with pytest.raises(anthropic.OverloadedError) as overloaded:
        _create(client)
    assert overloaded.value.body == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": "overloaded"},
        "request_id": None,
    }
    with pytest.raises(anthropic.AuthenticationError):
        _create(client)


def test_stream_text_reassembles(client: Anthropic, scenario: Scenario) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    scenario.enqueue(Reply(text=text, chunk_chars=5, input_tokens=12, output_tokens=9))
    with client.messages.stream(model=MODEL, max_tokens=100, messages=MESSAGES) as stream:
        pieces = list(stream.text_stream)
        final = stream.get_final_message()
    assert "".join(pieces) == text and len(pieces) == 9
    assert _texts(final) == text
    assert final.stop_reason == "end_turn"
    assert (final.usage.input_tokens, final.usage.output_tokens) == (12, 9)
    [request] = scenario.requests
    assert request.stream is True
    assert request.headers["x-stainless-helper-method"] == "stream"


def test_stream_events_have_names(client: Anthropic, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="ab", chunk_chars=1))
    with client.messages.with_streaming_response.create(
        model=MODEL, max_tokens=10, messages=MESSAGES, stream=True
    ) as response:
        lines = [line for line in response.iter_lines() if line.startswith("event: ")]
    assert lines == [
        "event: message_start",
        "event: ping",
        "event: content_block_start",
        "event: content_block_delta",
        "event: content_block_delta",
        "event: content_block_stop",
        "event: message_delta",
        "event: message_stop",
    ]


def test_stream_tool_calls_via_helper(client: Anthropic, scenario: Scenario) -> None:
    calls = [
        ToolCall("get_weather", {"city": "Paris", "unit": "celsius"}),
        ToolCall("get_time", {"zone": "Europe/Rome"}),
    ]
    scenario.enqueue(Reply(text="Checking.", tool_calls=calls, chunk_chars=4))
    with client.messages.stream(model=MODEL, max_tokens=100, messages=MESSAGES) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    assert _texts(final) == "Checking."
    assert _calls(final) == [(c.id, c.name, c.arguments) for c in calls]


def test_stream_in_band_error(client: Anthropic, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="partial answer", chunk_chars=3, error_after=4))
    with (
        pytest.raises(anthropic.APIStatusError, match="injected stream error") as caught,
        client.messages.stream(model=MODEL, max_tokens=100, messages=MESSAGES) as stream,
    ):
        stream.get_final_message()
    assert caught.value.status_code == 200


def test_stream_truncated_has_no_stop_reason(client: Anthropic, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="abcdef", chunk_chars=2, truncate_after=5))
    with client.messages.stream(model=MODEL, max_tokens=100, messages=MESSAGES) as stream:
        final = stream.get_final_message()
    assert _texts(final) == "abcd"
    assert final.stop_reason is None


def test_stream_malformed_event(client: Anthropic, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="abcdef", chunk_chars=2, malformed_after=3))
    with (
        pytest.raises(json.JSONDecodeError),
        client.messages.stream(model=MODEL, max_tokens=100, messages=MESSAGES) as stream,
    ):
        stream.get_final_message()


async def test_async_client(aclient: AsyncAnthropic, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="async hi"), Reply(text="streamed", chunk_chars=2))
    message = await aclient.messages.create(model=MODEL, max_tokens=10, messages=MESSAGES)
    assert _texts(message) == "async hi"
    async with aclient.messages.stream(model=MODEL, max_tokens=10, messages=MESSAGES) as stream:
        pieces = [piece async for piece in stream.text_stream]
    assert "".join(pieces) == "streamed"
    assert [r.headers["x-stainless-async"] for r in scenario.requests] == ["async:asyncio"] * 2
