"""Chat Completions through the real openai SDK (strict validation), JSON and SSE."""

from __future__ import annotations

import json

import pytest
from openai import AsyncOpenAI
from openai import OpenAI
from openai.types.chat import ChatCompletionMessage
from openai.types.chat import ChatCompletionMessageFunctionToolCall
from openai.types.chat import ChatCompletionMessageParam
from pydantic import BaseModel

from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]


def _calls(message: ChatCompletionMessage) -> list[tuple[str, str, str]]:
    """(id, name, arguments) of each function call."""
    return [
        (call.id, call.function.name, call.function.arguments)
        for call in message.tool_calls or []
        if isinstance(call, ChatCompletionMessageFunctionToolCall)
    ]


class Book(BaseModel):
    title: str
    rating: int


def test_text(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="Hello there"))
    completion = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    choice = completion.choices[0]
    assert choice.message.content == "Hello there"
    assert choice.message.refusal is None
    assert choice.finish_reason == "stop"
    assert completion.model == "gpt-4o"
    assert completion.object == "chat.completion"
    [request] = scenario.requests
    assert request.provider == "openai-chat"
    assert request.path.endswith("/openai/v1/chat/completions")
    assert request.json["messages"] == MESSAGES
    assert request.stream is False
    assert request.attempt == 0
    assert request.headers["authorization"] == "Bearer ***"
    assert request.carries_key("test")
    assert request.status == 200
    assert request.item == Reply(text="Hello there")


def test_default_reply_is_ok(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content == "ok"


def test_json_reply_parses_into_model(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(json={"title": "Dune", "rating": 9}))
    completion = client.chat.completions.parse(
        model="gpt-4o", messages=MESSAGES, response_format=Book
    )
    assert completion.choices[0].message.parsed == Book(title="Dune", rating=9)
    assert scenario.requests[0].json["response_format"]["type"] == "json_schema"


def test_parallel_tool_calls(client: OpenAI, scenario: Scenario) -> None:
    calls = [ToolCall("lookup", {"city": "Paris"}), ToolCall("lookup", {"city": "Rome"}, id="c2")]
    scenario.enqueue(Reply(tool_calls=calls))
    completion = client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    message = completion.choices[0].message
    assert completion.choices[0].finish_reason == "tool_calls"
    assert message.content is None
    assert message.tool_calls is not None
    assert _calls(message) == [
        (calls[0].id, "lookup", '{"city": "Paris"}'),
        ("c2", "lookup", '{"city": "Rome"}'),
    ]


def test_raw_string_arguments_are_sent_verbatim(client: OpenAI, scenario: Scenario) -> None:
    call = ToolCall("f", '{"broken": ')
    scenario.enqueue(Reply(tool_calls=[call]))
    message = client.chat.completions.create(model="m", messages=MESSAGES).choices[0].message
    assert _calls(message) == [(call.id, "f", '{"broken": ')]


def test_refusal(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(refusal="I can't help with that."))
    message = client.chat.completions.create(model="m", messages=MESSAGES).choices[0].message
    assert message.refusal == "I can't help with that."
    assert message.content is None


def test_usage_and_overrides(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(
        Reply(
            text="x",
            input_tokens=100,
            output_tokens=40,
            cached_tokens=64,
            reasoning_tokens=30,
            finish_reason="length",
            model="gpt-emulated",
            headers={"x-custom": "yes"},
        )
    )
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES)
    assert raw.headers["x-custom"] == "yes"
    completion = raw.parse()
    assert completion.model == "gpt-emulated"
    assert completion.choices[0].finish_reason == "length"
    usage = completion.usage
    assert usage is not None
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (100, 40, 140)
    assert usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 64
    assert usage.completion_tokens_details is not None
    assert usage.completion_tokens_details.reasoning_tokens == 30


def test_stream_text_reassembles(client: OpenAI, scenario: Scenario) -> None:
    text = "The quick brown fox jumps over the lazy dog."
    scenario.enqueue(Reply(text=text, chunk_chars=5))
    with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
        chunks = list(stream)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices]
    assert "".join(p for p in pieces if p) == text
    assert len([p for p in pieces if p]) == 9
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert len({c.id for c in chunks}) == 1
    assert scenario.requests[0].stream is True


def test_stream_usage_chunk_and_done(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="abc", input_tokens=7, output_tokens=3, cached_tokens=2))
    with client.chat.completions.with_streaming_response.create(
        model="m", messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]
    assert lines[-1] == "data: [DONE]"
    last = json.loads(lines[-2].removeprefix("data: "))
    assert last["choices"] == []
    assert last["usage"]["prompt_tokens"] == 7
    assert last["usage"]["prompt_tokens_details"]["cached_tokens"] == 2


def test_stream_without_usage_option_has_no_usage_chunk(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="abc"))
    with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
        chunks = list(stream)
    assert all(c.choices and c.usage is None for c in chunks)


def test_stream_tool_calls_via_helper(client: OpenAI, scenario: Scenario) -> None:
    calls = [
        ToolCall("get_weather", {"city": "Paris", "unit": "celsius"}),
        ToolCall("get_time", {"zone": "Europe/Rome"}),
    ]
    scenario.enqueue(Reply(text="Checking.", tool_calls=calls, chunk_chars=4))
    with client.chat.completions.stream(
        model="m", messages=MESSAGES, stream_options={"include_usage": True}
    ) as stream:
        kinds = {event.type for event in stream}
        final = stream.get_final_completion()
    assert "tool_calls.function.arguments.delta" in kinds
    message = final.choices[0].message
    assert message.content == "Checking."
    assert final.choices[0].finish_reason == "tool_calls"
    got = _calls(message)
    assert [(call_id, name) for call_id, name, _ in got] == [
        (calls[0].id, "get_weather"),
        (calls[1].id, "get_time"),
    ]
    assert json.loads(got[0][2]) == calls[0].arguments
    assert final.usage is not None
    assert final.usage.total_tokens == 15


def test_stream_refusal_via_helper(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(refusal="No, sorry.", chunk_chars=3))
    with client.chat.completions.stream(model="m", messages=MESSAGES) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.refusal == "No, sorry."


def test_model_in_request_path_is_echoed(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="a"), Reply(text="b"))
    first = client.chat.completions.create(model="model-one", messages=MESSAGES)
    second = client.chat.completions.create(model="model-two", messages=MESSAGES)
    assert (first.model, second.model) == ("model-one", "model-two")


async def test_async_client(aclient: AsyncOpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="async hi"), Reply(text="streamed", chunk_chars=2))
    completion = await aclient.chat.completions.create(model="m", messages=MESSAGES)
    assert completion.choices[0].message.content == "async hi"
    stream = await aclient.chat.completions.create(model="m", messages=MESSAGES, stream=True)
    async with stream:
        pieces = [c.choices[0].delta.content or "" async for c in stream if c.choices]
    assert "".join(pieces) == "streamed"
    assert [r.headers["x-stainless-async"] for r in scenario.requests] == ["async:asyncio"] * 2


@pytest.mark.parametrize("chunk_chars", [0, 1, 1000])
def test_chunk_sizes(client: OpenAI, scenario: Scenario, chunk_chars: int) -> None:
    scenario.enqueue(Reply(text="chunky", chunk_chars=chunk_chars))
    with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
        text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == "chunky"
