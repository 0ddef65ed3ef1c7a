"""Responses API stream events → deltas → ``Assembler``, on real recorded bodies and on the
edge cases of the wire; and the server-sent-events decoder both OpenAI backends share."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openai.types.responses import Response as SDKResponse

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
from alloy._messages import ProviderData
from alloy._messages import Request
from alloy._messages import Response
from alloy.backends.openai._errors import ErrorEvent
from alloy.backends.openai._errors import MalformedChunk
from alloy.backends.openai._sse import SSEDecoder
from alloy.backends.openai._stream_responses import StreamDecoder
from alloy.backends.openai.responses import decode_response
from alloy.backends.openai.responses import encode_request
from alloy.backends.openai.responses import stream_params
from tests.recorded import check_reply
from tests.recorded import last_body
from tests.recorded import load
from tests.recorded import recorded
from tests.recorded import sse_data


def decoder(request_id: str | None = None) -> StreamDecoder:
    return StreamDecoder(decode_response, request_id)


def assemble(events: list[dict[str, Any]] | list[bytes], request_id: str | None = None) -> Response:
    events_in = decoder(request_id)
    assembler = Assembler("openai")
    for event in events:
        out = events_in.feed(event) if isinstance(event, bytes) else events_in.feed_event(event)
        for delta in out:
            assembler.feed(delta)
    return assembler.response()


STREAMS = recorded("openai-responses__*__stream.json")


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name.removesuffix(".json"))
def test_recorded_stream_assembles_to_expect(path: Path) -> None:
    response = assemble(sse_data(last_body(path)), "req_1")
    check_reply(response, load(path)["expect"])
    assert response.request_id == "req_1"


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name.removesuffix(".json"))
def test_recorded_stream_equals_decoding_its_final_response(path: Path) -> None:
    """What the stream assembles is what ``complete`` decodes from the same reply, including
    the output items kept to echo the turn back."""
    events = sse_data(last_body(path))
    final = json.loads(events[-1])["response"]
    whole = decode_response(SDKResponse.model_construct(**final))
    streamed = assemble(events)
    assert streamed == whole
    assert streamed.provider_data == ProviderData("openai", final["output"])


def test_the_recorded_streams_were_found(corpus: Path) -> None:
    assert len(STREAMS) >= 4


# --- edge cases of the Responses stream ---------------------------------------------------


def final(
    status: str = "completed", output: list[Any] | None = None, **extra: Any
) -> dict[str, Any]:
    return {
        "id": "resp_1",
        "object": "response",
        "status": status,
        "model": "gpt-test",
        "output": output or [],
        "usage": {
            "input_tokens": 5,
            "input_tokens_details": {"cached_tokens": 1},
            "output_tokens": 3,
            "output_tokens_details": {"reasoning_tokens": 2},
            "total_tokens": 8,
        },
        **extra,
    }


MESSAGE: dict[str, Any] = {
    "type": "message",
    "id": "msg_1",
    "status": "completed",
    "role": "assistant",
    "content": [{"type": "output_text", "text": "Hello", "annotations": []}],
}
CALL: dict[str, Any] = {
    "type": "function_call",
    "id": "fc_1",
    "call_id": "call_1",
    "name": "f",
    "arguments": '{"x": 1}',
    "status": "completed",
}
REASONING: dict[str, Any] = {
    "type": "reasoning",
    "id": "rs_1",
    "summary": [{"type": "summary_text", "text": "one"}, {"type": "summary_text", "text": "two"}],
}


def test_text_call_and_finish() -> None:
    events_in = decoder("req")
    out: list[Delta] = []
    for event in [
        {"type": "response.created", "response": final("in_progress")},
        {"type": "response.output_text.delta", "output_index": 0, "delta": "Hel"},
        {"type": "response.output_text.delta", "output_index": 0, "delta": "lo"},
        {
            "type": "response.output_item.added",
            "output_index": 1,
            "item": {**CALL, "arguments": ""},
        },
        {"type": "response.function_call_arguments.delta", "output_index": 1, "delta": '{"x": '},
        {"type": "response.function_call_arguments.delta", "output_index": 1, "delta": "1}"},
        {"type": "response.function_call_arguments.done", "output_index": 1, "arguments": "x"},
        {"type": "response.output_text.done", "output_index": 0, "text": "x"},
    ]:
        out += events_in.feed_event(event)
    assert out == [
        TextDelta("Hel"),
        TextDelta("lo"),
        ToolCallDelta(1, "call_1", "f"),
        ToolCallDelta(1, arguments='{"x": '),
        ToolCallDelta(1, arguments="1}"),
    ]
    assert not events_in.finished
    end = events_in.feed_event(
        {"type": "response.completed", "response": final(output=[MESSAGE, CALL])}
    )
    assert events_in.finished
    assert end == [
        ToolCallDelta(1, "call_1", "f", "", ProviderData("openai", CALL)),
        UsageDelta(Usage(5, 3, 1, 2, 8)),
        Finish(
            "completed",
            "gpt-test",
            "req",
            ProviderData("openai", [MESSAGE, CALL]),
            finish="tool_calls",
        ),
    ]


def test_incomplete_is_terminal_with_its_reason() -> None:
    response = assemble(
        [
            {"type": "response.output_text.delta", "output_index": 0, "delta": "Hel"},
            {
                "type": "response.incomplete",
                "response": final(
                    "incomplete",
                    [{**MESSAGE, "status": "incomplete"}],
                    incomplete_details={"reason": "max_output_tokens"},
                ),
            },
        ]
    )
    assert response.finish_reason == "max_output_tokens"
    assert response.text == "Hel"


def test_a_stream_cut_before_completed_is_incomplete() -> None:
    with pytest.raises(StreamError, match="terminal event"):
        assemble([{"type": "response.output_text.delta", "output_index": 0, "delta": "Hi"}])


def test_only_the_terminal_event_still_gives_the_whole_reply() -> None:
    refusal = {
        "type": "message",
        "id": "msg_2",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "refusal", "refusal": "No."}],
    }
    output: list[dict[str, Any]] = [REASONING, MESSAGE, refusal, CALL]
    response = assemble([{"type": "response.completed", "response": final(output=output)}])
    assert response == decode_response(SDKResponse.model_construct(**final(output=output)))
    assert (response.text, response.refusal, response.reasoning) == ("Hello", "No.", "one\n\ntwo")
    assert [(c.id, c.name, c.arguments) for c in response.tool_calls] == [
        ("call_1", "f", '{"x": 1}')
    ]


def test_reasoning_summaries_are_joined_like_complete() -> None:
    def summary(index: int, delta: str) -> dict[str, Any]:
        return {
            "type": "response.reasoning_summary_text.delta",
            "output_index": 0,
            "summary_index": index,
            "delta": delta,
        }

    events = [summary(0, "o"), summary(0, "ne"), summary(1, "two")]
    events_in = decoder()
    out = [d for e in events for d in events_in.feed_event(e)]
    assert out == [ReasoningDelta("o"), ReasoningDelta("ne"), ReasoningDelta("\n\ntwo")]
    done = {"type": "response.completed", "response": final(output=[REASONING])}
    assert assemble([*events, done]).reasoning == "one\n\ntwo"


def test_refusal_pieces() -> None:
    out = decoder().feed_event({"type": "response.refusal.delta", "output_index": 0, "delta": "No"})
    assert out == [RefusalDelta("No")]


def test_argument_pieces_without_output_index_go_to_the_last_call() -> None:
    events_in = decoder()
    events_in.feed_event({"type": "response.output_item.added", "output_index": 2, "item": CALL})
    out = events_in.feed_event({"type": "response.function_call_arguments.delta", "delta": "{}"})
    assert out == [ToolCallDelta(2, arguments="{}")]


def test_error_event() -> None:
    event = {"type": "error", "code": "server_error", "message": "boom", "param": None}
    with pytest.raises(ErrorEvent) as info:
        decoder().feed(json.dumps(event).encode())
    assert info.value.error == event


def test_failed_response() -> None:
    error = {"code": "server_error", "message": "boom"}
    with pytest.raises(ErrorEvent) as info:
        decoder().feed_event({"type": "response.failed", "response": final("failed", error=error)})
    assert info.value.error == error


def test_data_with_an_error_key() -> None:
    with pytest.raises(ErrorEvent) as info:
        decoder().feed_event({"error": {"message": "boom", "type": "server_error"}})
    assert info.value.error == {"message": "boom", "type": "server_error"}


@pytest.mark.parametrize(
    "data",
    [
        b'{"type": "response.output_text.',
        b'"text"',
        b'{"type": "response.completed"}',
        b'{"type": "response.completed", "response": {"output": "x"}}',
        b'{"type": "response.incomplete", "response": {"output": [1]}}',
    ],
)
def test_malformed_events(data: bytes) -> None:
    with pytest.raises(MalformedChunk):
        decoder().feed(data)


def test_other_events_carry_nothing() -> None:
    events_in = decoder()
    events: list[dict[str, Any]] = [
        {"type": "response.in_progress", "response": final("in_progress")},
        {"type": "response.content_part.added", "part": {"type": "output_text", "text": ""}},
        {"type": "response.output_item.added", "output_index": 0, "item": MESSAGE},
        {"type": "response.output_text.delta", "delta": ""},
        {"type": "response.something_new", "delta": "x"},
        {"type": ["odd"]},
        {},
    ]
    for event in events:
        assert events_in.feed_event(event) == []


def test_stream_params_share_the_request_encoding() -> None:
    request = Request("gpt-test", (Message.user("hi"),), max_tokens=5)
    params = stream_params(request)
    assert params.pop("stream") is True
    assert params == encode_request(request)


def test_the_output_tool_arguments_stream_as_the_reply_text() -> None:
    output_call = {**CALL, "call_id": "call_0", "name": "alloy_output", "arguments": "{}"}
    events: list[dict[str, Any]] = [
        {"type": "response.output_item.added", "output_index": 0, "item": output_call},
        {"type": "response.function_call_arguments.delta", "output_index": 0, "delta": "{"},
        {"type": "response.function_call_arguments.delta", "delta": "}"},
        {"type": "response.output_item.added", "output_index": 1, "item": CALL},
        {"type": "response.function_call_arguments.delta", "output_index": 1, "delta": '{"x": 1}'},
    ]
    events_in = decoder()
    assert [d for e in events for d in events_in.feed_event(e)] == [
        TextDelta("{"),
        TextDelta("}"),
        ToolCallDelta(1, "call_1", "f"),
        ToolCallDelta(1, arguments='{"x": 1}'),
    ]
    done = {"type": "response.completed", "response": final(output=[output_call, CALL])}
    whole = decode_response(SDKResponse.model_construct(**done["response"]))
    assert (whole.text, [c.id for c in whole.tool_calls]) == ("{}", ["call_1"])
    assert assemble([*events, done]) == whole
    assert assemble([done]) == whole


# --- the shared server-sent-events decoder -------------------------------------------------


def decode(body: bytes, size: int) -> list[bytes]:
    decoder = SSEDecoder()
    out: list[bytes] = []
    for start in range(0, len(body), size):
        out += decoder.feed(body[start : start + size])
    return out + decoder.end()


SSE_BODIES = (
    recorded("openai-*__stream.json")
    + recorded("ollama__openai-compat-*__stream.json")
    + recorded("gemini__text__stream.json")  # CRLF framing
)


@pytest.mark.parametrize("path", SSE_BODIES, ids=lambda p: p.name.removesuffix(".json"))
@pytest.mark.parametrize("size", [1, 7, 4096])
def test_recorded_bodies_decode_the_same_in_any_pieces(path: Path, size: int) -> None:
    body = last_body(path)
    if path.name.endswith("model-not-found__stream.json"):
        assert decode(body.encode(), size) == []
        return
    assert decode(body.encode(), size) == sse_data(body)


@pytest.mark.parametrize("size", [1, 2, 3, 100])
def test_line_endings_fields_and_comments(size: int) -> None:
    body = (
        b": comment\r\n"
        b"event: message\r\nid: 1\r\nretry: 5\r\ndata: one\r\n\r\n"
        b"data:two\rdata:  three\r\r"
        b"data: \xe2\x80\xa8four\n\n"
        b"event: only-a-name\n\n"
        b"data: last"
    )
    assert decode(body, size) == [b"one", b"two\n three", "\u2028four".encode(), b"last"]


def test_events_are_counted_and_a_half_crlf_waits_for_its_lf() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n\r") == [b"a"]
    assert decoder.feed(b"\ndata: b\n\n") == [b"b"]
    assert decoder.end() == []
    assert decoder.events == 2
