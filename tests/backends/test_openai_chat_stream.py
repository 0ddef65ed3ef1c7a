"""Chat Completions stream events → deltas → ``Assembler``, on real recorded bodies and on
the edge cases of the wire (no I/O except the last few tests, which use a mock transport)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from alloy import ProviderConnectionError
from alloy import StreamError
from alloy import Usage
from alloy._deltas import Assembler
from alloy._deltas import Delta
from alloy._deltas import Finish
from alloy._deltas import ReasoningDelta
from alloy._deltas import RefusalDelta
from alloy._deltas import TextDelta
from alloy._deltas import ToolCallDelta
from alloy._deltas import UsageDelta
from alloy._messages import Message
from alloy._messages import Request
from alloy._messages import Response
from alloy.backends.openai import OpenAIChatBackend
from alloy.backends.openai._errors import ErrorEvent
from alloy.backends.openai._errors import MalformedChunk
from alloy.backends.openai._stream_chat import StreamDecoder
from alloy.backends.openai.chat import encode_request
from alloy.backends.openai.chat import stream_params
from tests.recorded import check_reply
from tests.recorded import last_body
from tests.recorded import load
from tests.recorded import recorded
from tests.recorded import sse_data


def assemble(events: list[bytes], request_id: str | None = None) -> Response:
    chunks = StreamDecoder(request_id)
    assembler = Assembler("openai-chat")
    for data in events:
        for delta in chunks.feed(data):
            assembler.feed(delta)
    return assembler.response()


def deltas(*chunks: dict[str, Any]) -> list[Delta]:
    decoder = StreamDecoder()
    return [d for chunk in chunks for d in decoder.feed_event(chunk)]


def choice(delta: dict[str, Any], finish: str | None = None, index: int = 0) -> dict[str, Any]:
    return {"choices": [{"index": index, "delta": delta, "finish_reason": finish}]}


STREAMS = [
    p
    for p in recorded("openai-chat__*__stream.json", "ollama__openai-compat-*__stream.json")
    if not load(p)["expect"]["error"]
]


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name.removesuffix(".json"))
def test_recorded_stream_assembles_to_expect(path: Path) -> None:
    response = assemble(sse_data(last_body(path)), "req_1")
    check_reply(response, load(path)["expect"])
    assert all(c.id.startswith("call_") for c in response.tool_calls)
    assert response.request_id == "req_1"
    assert response.model


def test_the_recorded_streams_were_found(corpus: Path) -> None:
    assert len(STREAMS) >= 6


def test_only_done_finishes_the_stream() -> None:
    chunks = StreamDecoder("req")
    assert chunks.feed_event({"model": "m", **choice({"content": "Hi"})}) == [TextDelta("Hi")]
    assert chunks.feed_event(choice({}, "stop")) == []
    usage = {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}
    assert chunks.feed_event({"choices": [], "usage": usage}) == [
        UsageDelta(Usage(3, 1, None, None, 4))
    ]
    assert not chunks.finished
    assert chunks.feed(b" [DONE] ") == [Finish("stop", "m", "req", finish="stop")]
    assert chunks.finished


def test_a_stream_cut_after_finish_reason_is_incomplete() -> None:
    events = [json.dumps(choice({"content": "Hi"}, "stop")).encode()]
    with pytest.raises(StreamError, match="terminal event"):
        assemble(events)
    assert assemble([*events, b"[DONE]"]).text == "Hi"


def test_usage_details() -> None:
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 7,
        "total_tokens": 17,
        "prompt_tokens_details": {"cached_tokens": 4},
        "completion_tokens_details": {"reasoning_tokens": 5},
    }
    assert deltas({"choices": [], "usage": usage}) == [UsageDelta(Usage(10, 7, 4, 5, 17))]
    assert deltas({"choices": [], "usage": None}) == []


def test_parallel_fragments_are_keyed_by_index() -> None:
    head = {"type": "function", "function": {"name": "f", "arguments": ""}}
    events = [
        choice({"tool_calls": [{"index": 0, "id": "call_a", **head}]}),
        choice({"tool_calls": [{"index": 1, "id": "call_b", **head}]}),
        choice({"tool_calls": [{"index": 1, "function": {"arguments": '{"x": '}}]}),
        choice({"tool_calls": [{"index": 0, "function": {"arguments": '{"x": 1}'}}]}),
        choice({"tool_calls": [{"index": 1, "function": {"arguments": "2}"}}]}),
        choice({}, "tool_calls"),
    ]
    response = assemble([json.dumps(e).encode() for e in events] + [b"[DONE]"])
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("call_a", "f", '{"x": 1}'),
        ("call_b", "f", '{"x": 2}'),
    ]
    assert response.finish_reason == "tool_calls"


def test_fragments_without_index_are_keyed_by_id_then_position() -> None:
    out = deltas(
        choice({"tool_calls": [{"id": "call_a", "function": {"name": "f", "arguments": "{"}}]}),
        choice({"tool_calls": [{"function": {"arguments": "}"}}]}),  # continues the last call
        choice({"tool_calls": [{"id": "call_a", "function": {"arguments": ""}}]}),
        choice({"tool_calls": [{"function": {"name": "g", "arguments": {"y": True}}}]}),
        choice({"tool_calls": [{"id": "call_c", "function": {"name": "h", "arguments": "{}"}}]}),
    )
    assert [(d.index, d.id, d.name, d.arguments) for d in out if isinstance(d, ToolCallDelta)] == [
        (0, "call_a", "f", "{"),
        (0, None, None, "}"),
        (0, "call_a", None, ""),
        (1, None, "g", '{"y": true}'),
        (2, "call_c", "h", "{}"),
    ]


def test_index_and_id_mix() -> None:
    out = deltas(
        choice({"tool_calls": [{"index": 3, "id": "call_a", "function": {"name": "f"}}]}),
        choice({"tool_calls": [{"id": "call_a", "function": {"arguments": "{}"}}]}),
        choice({"tool_calls": [{"id": "call_b", "function": {"name": "g"}}]}),
    )
    assert [d.index for d in out if isinstance(d, ToolCallDelta)] == [3, 3, 4]


def test_custom_tool_calls_and_other_choices_are_ignored() -> None:
    custom = {"index": 0, "id": "c", "type": "custom", "custom": {"name": "x", "input": "y"}}
    assert deltas(choice({"tool_calls": [custom]})) == []
    assert deltas(choice({"content": "second choice"}, index=1)) == []
    assert deltas(choice({"role": "assistant", "content": "", "refusal": None})) == []


def test_text_refusal_and_reasoning_pieces() -> None:
    out = deltas(
        choice({"reasoning_content": "think", "reasoning": "think"}),
        choice({"reasoning": "more"}),
        choice({"content": "Hel"}),
        choice({"content": "lo"}),
        choice({"refusal": "No."}),
    )
    assert out == [
        ReasoningDelta("think"),
        ReasoningDelta("more"),
        TextDelta("Hel"),
        TextDelta("lo"),
        RefusalDelta("No."),
    ]


def test_in_stream_error_object() -> None:
    error = {"message": "The server had an error", "type": "server_error", "code": None}
    with pytest.raises(ErrorEvent) as info:
        StreamDecoder().feed(json.dumps({"error": error}).encode())
    assert info.value.error == error
    assert StreamDecoder().feed_event({"error": None, **choice({"content": "ok"})}) == [
        TextDelta("ok")
    ]


@pytest.mark.parametrize("data", [b'{"id": "x", "choices": [', b"[1, 2]", b"\xff\xfe", b""])
def test_malformed_chunks(data: bytes) -> None:
    with pytest.raises(MalformedChunk):
        StreamDecoder().feed(data)


def test_odd_shapes_are_tolerated() -> None:
    assert deltas({"choices": "x", "usage": 3, "model": 5}) == []
    assert deltas({"choices": [None, {"delta": "x", "finish_reason": 1}]}) == []
    assert deltas(choice({"tool_calls": [None, {"function": None}], "content": 7})) == []


def test_the_output_tool_arguments_stream_as_the_reply_text() -> None:
    def call(fragment: dict[str, Any]) -> dict[str, Any]:
        return choice({"tool_calls": [fragment]})

    out = deltas(
        call({"index": 0, "id": "call_a", "function": {"name": "alloy_output", "arguments": ""}}),
        call({"index": 0, "function": {"arguments": '{"value": '}}),
        call({"index": 1, "id": "call_b", "function": {"name": "f", "arguments": "{}"}}),
        call({"index": 0, "function": {"arguments": "4}"}}),
    )
    assert out == [
        TextDelta('{"value": '),
        ToolCallDelta(1, "call_b", "f", "{}"),
        TextDelta("4}"),
    ]


def test_stream_params_share_the_request_encoding() -> None:
    request = Request("gpt-test", (Message.user("hi"),), max_tokens=5)
    params = stream_params(request)
    assert params.pop("stream") is True
    assert params.pop("stream_options") == {"include_usage": True}
    assert params == encode_request(request)
    given = Request(
        "gpt-test", (Message.user("hi"),), options={"stream_options": {"include_usage": False}}
    )
    assert stream_params(given)["stream_options"] == {"include_usage": False}


# --- through the backend, with a mock transport ---------------------------------------


def backend_answering(
    body: Any, content_type: str = "text/event-stream", api_key: str = "sk-test"
) -> OpenAIChatBackend:
    def handler(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(
            200, headers={"content-type": content_type, "x-request-id": "req_9"}, content=body
        )

    client = httpx2.Client(transport=httpx2.MockTransport(handler))
    return OpenAIChatBackend({"api_key": api_key, "base_url": "http://t/v1", "http_client": client})


REQUEST = Request("gpt-test", (Message.user("hi"),), timeout=5)


def test_backend_stream_reads_raw_events() -> None:
    body = (
        b": keep-alive\r\n\r\n"
        b'data: {"model": "m", "choices": [{"index": 0, "delta": {"content": "Hi"}}]}\r\n\r\n'
        b'data: {"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}\r\n\r\n'
        b"data: [DONE]\r\n\r\n"
    )
    backend = backend_answering(body)
    out = list(backend.stream(REQUEST))
    assert out == [TextDelta("Hi"), Finish("stop", "m", "req_9", finish="stop")]
    backend.close()


def test_a_body_that_is_not_an_event_stream() -> None:
    backend = backend_answering(b'{"id": "x", "choices": []}', "application/json")
    with pytest.raises(StreamError, match="instead of an event stream"):
        list(backend.stream(REQUEST))
    backend.close()


def broken_body(pieces: list[bytes]) -> Iterator[bytes]:
    yield from pieces
    raise httpx2.ReadError("connection reset")


def test_reset_before_any_delta_is_a_connection_error() -> None:
    role = b'data: {"choices": [{"index": 0, "delta": {"role": "assistant"}}]}\n\n'
    backend = backend_answering(broken_body([role]))
    with pytest.raises(ProviderConnectionError) as info:
        list(backend.stream(REQUEST))
    assert info.value.retryable
    assert isinstance(info.value.__cause__, httpx2.ReadError)
    backend.close()


def test_reset_after_a_delta_is_a_stream_error() -> None:
    text = b'data: {"choices": [{"index": 0, "delta": {"content": "Hi"}}]}\n\n'
    backend = backend_answering(broken_body([text]))
    seen: list[Delta] = []
    with pytest.raises(StreamError, match="broke off") as info:
        seen.extend(backend.stream(REQUEST))
    assert seen == [TextDelta("Hi")]
    assert info.value.retryable and info.value.request_id == "req_9"
    backend.close()


def test_in_stream_error_message_is_scrubbed() -> None:
    error = (
        b'data: {"error": {"message": "bad key sk-test-secret-123", "type": "server_error"}}\n\n'
    )
    backend = backend_answering(error, api_key="sk-test-secret-123")
    with pytest.raises(StreamError, match="server_error") as info:
        list(backend.stream(REQUEST))
    assert "sk-test-secret-123" not in str(info.value)
    assert info.value.retryable
    backend.close()
