"""The Responses API through the real openai SDK (strict validation), JSON and SSE."""

from __future__ import annotations

import json

import openai
import pytest
from openai import AsyncOpenAI
from openai import OpenAI
from openai.types.responses import FunctionToolParam
from openai.types.responses import ResponseFunctionToolCall
from openai.types.responses import ResponseOutputMessage
from openai.types.responses import ResponseOutputRefusal
from pydantic import BaseModel

from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall

TOOL: FunctionToolParam = {
    "type": "function",
    "name": "lookup",
    "description": "Look a city up.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}


class Book(BaseModel):
    title: str
    rating: int


def test_text(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="Hello from responses"))
    response = client.responses.create(model="gpt-4o", input="hi", instructions="Be brief.")
    assert response.output_text == "Hello from responses"
    assert response.status == "completed"
    assert response.model == "gpt-4o"
    assert response.instructions == "Be brief."
    assert response.usage is not None
    assert response.usage.input_tokens_details.cache_write_tokens == 0
    [request] = scenario.requests
    assert request.provider == "openai-responses"
    assert request.json["input"] == "hi"


def test_tool_calls_and_usage(client: OpenAI, scenario: Scenario) -> None:
    calls = [ToolCall("lookup", {"city": "Paris"}), ToolCall("lookup", {"city": "Oslo"})]
    scenario.enqueue(
        Reply(
            tool_calls=calls,
            input_tokens=50,
            output_tokens=20,
            cached_tokens=32,
            reasoning_tokens=8,
        )
    )
    response = client.responses.create(model="m", input="weather?", tools=[TOOL])
    items = [item for item in response.output if isinstance(item, ResponseFunctionToolCall)]
    assert [(i.call_id, i.name, json.loads(i.arguments)) for i in items] == [
        (calls[0].id, "lookup", {"city": "Paris"}),
        (calls[1].id, "lookup", {"city": "Oslo"}),
    ]
    assert response.tools[0].type == "function"
    usage = response.usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (50, 20, 70)
    assert usage.input_tokens_details.cached_tokens == 32
    assert usage.output_tokens_details.reasoning_tokens == 8


def test_refusal(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(refusal="I won't."))
    response = client.responses.create(model="m", input="bad")
    [message] = response.output
    assert isinstance(message, ResponseOutputMessage)
    [part] = message.content
    assert isinstance(part, ResponseOutputRefusal)
    assert part.refusal == "I won't."
    assert response.output_text == ""


def test_length_finish_is_incomplete(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="cut sho", finish_reason="length"))
    response = client.responses.create(model="m", input="long")
    assert response.status == "incomplete"
    assert response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"


def test_unknown_finish_reason_is_a_render_error(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="x", finish_reason="no-such-status"))
    with pytest.raises(openai.InternalServerError, match="cannot render reply"):
        client.responses.create(model="m", input="x")


def test_parse_structured_output(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(json={"title": "Emma", "rating": 8}))
    response = client.responses.parse(model="m", input="book", text_format=Book)
    assert response.output_parsed == Book(title="Emma", rating=8)


def test_stream_helper_final_response(client: OpenAI, scenario: Scenario) -> None:
    calls = [ToolCall("lookup", {"city": "Lima"})]
    scenario.enqueue(Reply(text="Looking it up.", tool_calls=calls, chunk_chars=4, output_tokens=9))
    with client.responses.stream(model="m", input="hi", tools=[TOOL]) as stream:
        deltas = [e.delta for e in stream if e.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == "Looking it up."
    assert final.output_text == "Looking it up."
    assert final.usage is not None
    assert final.usage.output_tokens == 9
    function_calls = [i for i in final.output if isinstance(i, ResponseFunctionToolCall)]
    assert [(c.call_id, c.name, c.arguments) for c in function_calls] == [
        (calls[0].id, "lookup", '{"city": "Lima"}')
    ]


def test_stream_event_sequence(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="abcdef", chunk_chars=3))
    with client.responses.create(model="m", input="hi", stream=True) as stream:
        events = list(stream)
    assert [e.type for e in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [e.sequence_number for e in events] == list(range(len(events)))


def test_stream_refusal_and_incomplete(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="partial", refusal="nope", finish_reason="length"))
    with client.responses.create(model="m", input="hi", stream=True) as stream:
        events = list(stream)
    assert events[-1].type == "response.incomplete"
    assert "response.refusal.delta" in {e.type for e in events}


def test_stream_raw_sse_framing(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="x"))
    with client.responses.with_streaming_response.create(
        model="m", input="hi", stream=True
    ) as response:
        lines = [line for line in response.iter_lines() if line]
    assert lines[0] == "event: response.created"
    assert lines[-2] == "event: response.completed"
    assert json.loads(lines[-1].removeprefix("data: "))["type"] == "response.completed"
    assert "data: [DONE]" not in lines


async def test_async_client(aclient: AsyncOpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="async"), Reply(text="async stream", chunk_chars=3))
    response = await aclient.responses.create(model="m", input="hi")
    assert response.output_text == "async"
    async with aclient.responses.stream(model="m", input="hi") as stream:
        final = await stream.get_final_response()
    assert final.output_text == "async stream"
