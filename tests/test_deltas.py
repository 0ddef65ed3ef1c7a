import asyncio
from typing import Any

import pytest

from alloy import StreamError
from alloy import Usage
from alloy._deltas import Assembler
from alloy._deltas import Finish
from alloy._deltas import ReasoningDelta
from alloy._deltas import RefusalDelta
from alloy._deltas import TextDelta
from alloy._deltas import ToolCallDelta
from alloy._deltas import UsageDelta
from alloy._deltas import as_deltas
from alloy.backends import Message
from alloy.backends import ProviderData
from alloy.backends import Request
from alloy.backends import Response
from alloy.backends import ToolCall
from alloy.backends.fake import FakeBackend


def test_assembles_text_tools_usage_and_finish() -> None:
    a = Assembler("p")
    for delta in (
        TextDelta("Hel"),
        ReasoningDelta("think"),
        ToolCallDelta(1, "call_b", "second", '{"x"'),
        ToolCallDelta(0, "call_a", "first", "{}"),
        TextDelta("lo"),
        ToolCallDelta(1, arguments=": 1}"),
        UsageDelta(Usage(input_tokens=10, output_tokens=1)),
        UsageDelta(Usage(output_tokens=7)),
        Finish("tool_calls", "m-1", "req-9", provider_data=ProviderData("p", ["raw"])),
    ):
        a.feed(delta)
    r = a.response()
    assert r.text == "Hello" and r.reasoning == "think"
    assert [(c.id, c.name, c.arguments) for c in r.tool_calls] == [
        ("call_a", "first", "{}"),
        ("call_b", "second", '{"x": 1}'),
    ]
    assert r.usage == Usage(10, 7, None, None, 17)
    assert (r.finish_reason, r.model, r.request_id, r.provider_data) == (
        "tool_calls",
        "m-1",
        "req-9",
        ProviderData("p", ["raw"]),
    )


def test_missing_terminal_event_is_a_stream_error() -> None:
    a = Assembler("openai")
    a.feed(TextDelta("partial"))
    with pytest.raises(StreamError, match="terminal event") as info:
        a.response()
    assert info.value.provider == "openai"


def test_refusal_pieces_join() -> None:
    a = Assembler("p")
    for delta in (RefusalDelta("I can't "), RefusalDelta("help."), Finish("stop")):
        a.feed(delta)
    assert a.response().refusal == "I can't help."


@pytest.mark.parametrize(
    ("deltas", "finish"),
    [
        ((TextDelta("Hi"), Finish("stop", finish="stop")), "stop"),
        ((ToolCallDelta(0, "c1", "f", "{}"), Finish("STOP", finish="stop")), "tool_calls"),
        ((TextDelta('{"a": 1}'), Finish("tool_use", finish="tool_calls")), "stop"),
        ((RefusalDelta("No."), Finish("stop", finish="stop")), "refusal"),
        ((TextDelta("Hel"), Finish("length", finish="length")), "length"),
        ((TextDelta("Hi"), Finish("OTHER")), None),
    ],
)
def test_the_finish_is_settled_against_what_came(deltas: tuple[Any, ...], finish: Any) -> None:
    a = Assembler("p")
    for delta in deltas:
        a.feed(delta)
    response = a.response()
    assert response.finish == finish
    assert response.finish_reason == deltas[-1].reason  # the provider's own, as it came


def test_fake_stream_round_trips_to_the_same_response() -> None:
    reply = Response(
        "a longer reply text",
        (ToolCall("c1", "lookup", '{"q": "tea"}'),),
        "tool_calls",
        Usage.of(3, 4),
        "m",
        finish="tool_calls",
    )
    a = Assembler("fake")
    for delta in as_deltas(reply, chunk_chars=3):
        a.feed(delta)
    assert a.response() == reply


def test_fake_backend_streams_sync_and_async() -> None:
    fake = FakeBackend(chunk_chars=2)
    fake.add_reply("streamed words")
    fake.add_reply("again")
    request = Request("m", (Message.user("hi"),))
    pieces = [d.text for d in fake.stream(request) if isinstance(d, TextDelta)]
    assert pieces[:2] == ["st", "re"] and "".join(pieces) == "streamed words"

    async def collect() -> str:
        a = Assembler("fake")
        async for delta in fake.astream(request):
            a.feed(delta)
        return a.response().text

    assert asyncio.run(collect()) == "again"
