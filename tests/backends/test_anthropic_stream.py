"""The SDK's raw Messages stream events → alloy deltas → ``Response``, with no I/O.

Recorded stream bodies are cut into events by a small SSE reader and turned into the SDK's own
event models; the decoder and the shared ``Assembler`` must give what the recording's
``expect`` says, and a streamed reply must decode exactly like the same reply sent whole.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pydantic
import pytest
from anthropic.types import Message as SDKMessage
from anthropic.types import RawMessageStreamEvent

from alloy import ProviderConnectionError
from alloy import ProviderError
from alloy import RateLimitError
from alloy import StreamError
from alloy._deltas import Assembler
from alloy._deltas import Delta
from alloy._deltas import Finish
from alloy._deltas import ReasoningDelta
from alloy._deltas import TextDelta
from alloy._deltas import ToolCallDelta
from alloy._messages import Message
from alloy._messages import ProviderData
from alloy._messages import Response
from alloy.backends import base
from alloy.backends._boundary import broken_stream
from alloy.backends.anthropic._decode import decode_response
from alloy.backends.anthropic._encode import OUTPUT_TOOL
from alloy.backends.anthropic._encode import encode_messages
from alloy.backends.anthropic._errors import in_stream_status
from alloy.backends.anthropic._stream import StreamDecoder
from tests.recorded import check_reply
from tests.recorded import last_body
from tests.recorded import load
from tests.recorded import require_corpus
from tests.recorded import successes

EVENTS: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(RawMessageStreamEvent)


def sse(body: str) -> list[dict[str, Any]]:
    """The JSON of each named SSE event in ``body`` (``ping`` left out, as the SDK does)."""
    found: list[dict[str, Any]] = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        name, data = None, []
        for line in block.split("\n"):
            if line.startswith("event:"):
                name = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data.append(line.removeprefix("data:").strip())
        if name and data and name != "ping":
            found.append(json.loads("\n".join(data)))
    return found


def sdk_events(raw: Iterable[dict[str, Any]]) -> list[Any]:
    return [EVENTS.validate_python(event) for event in raw]


def deltas(events: Iterable[Any], **options: Any) -> list[Delta]:
    decoder = StreamDecoder(**options)
    return [delta for event in events for delta in decoder.feed(event)]


def assemble(events: Iterable[Any], **options: Any) -> Response:
    assembler = Assembler("anthropic")
    for delta in deltas(events, **options):
        assembler.feed(delta)
    return assembler.response()


def recorded_events(name: str) -> list[dict[str, Any]]:
    return sse(last_body(require_corpus() / name))


STREAMS = successes("anthropic__*__stream.json")


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name.split("__")[1])
def test_recorded_stream_matches_its_expectation(path: Path) -> None:
    response = assemble(sdk_events(sse(last_body(path))))
    check_reply(response, load(path)["expect"])
    assert response.model is not None and response.model.startswith("claude-sonnet-4")


def test_the_stream_corpus_was_found(corpus: Path) -> None:
    assert len(STREAMS) == 5


def test_recorded_text_arrives_as_its_pieces(corpus: Path) -> None:
    found = deltas(sdk_events(recorded_events("anthropic__text__stream.json")))
    assert [d.text for d in found if isinstance(d, TextDelta)] == ["4200 + 42 =", " 4242"]
    assert isinstance(found[-1], Finish)
    assert sum(isinstance(d, Finish) for d in found) == 1


def test_recorded_thinking_goes_back_with_its_signature(corpus: Path) -> None:
    raw = recorded_events("anthropic__thinking__stream.json")
    [signature] = [
        e["delta"]["signature"]
        for e in raw
        if e["type"] == "content_block_delta" and e["delta"]["type"] == "signature_delta"
    ]
    response = assemble(sdk_events(raw))
    [_, assistant] = encode_messages((Message.user("q"), response.message()))
    thinking, text = assistant["content"]
    assert thinking == {"type": "thinking", "thinking": response.reasoning, "signature": signature}
    assert text == {"type": "text", "text": response.text}


def test_recorded_forced_tool_as_the_output_tool_is_the_reply_text(corpus: Path) -> None:
    raw = recorded_events("anthropic__structured-forced-tool__stream.json")
    for event in raw:
        if event["type"] == "content_block_start":
            event["content_block"]["name"] = OUTPUT_TOOL
    found = deltas(sdk_events(raw), output_tool=True)
    pieces = [d.text for d in found if isinstance(d, TextDelta)]
    assert len(pieces) > 10  # streamed as it arrives, not at the end
    response = assemble(sdk_events(raw), output_tool=True)
    assert response.tool_calls == ()
    assert json.loads(response.text) == {
        "title": "THE NAME OF THE WIND",
        "author": {"first_name": "Patrick", "last_name": "Rothfuss"},
        "rating": 7,
    }


def test_stream_ending_before_message_stop_is_an_error(corpus: Path) -> None:
    raw = recorded_events("anthropic__text__stream.json")
    assert raw[-1]["type"] == "message_stop"
    for cut in range(len(raw)):
        with pytest.raises(StreamError):
            assemble(sdk_events(raw[:cut]))


# --- a reply sent whole and the same reply streamed decode alike ---------------------------


def stream_of(message: dict[str, Any], piece: int = 3) -> list[dict[str, Any]]:
    """The events the API streams for ``message`` (a whole reply), pieces of ``piece`` chars."""
    start = {**message, "content": [], "stop_reason": None}
    start["usage"] = {**message["usage"], "output_tokens": 1}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}]
    for index, block in enumerate(message["content"]):
        kind = block["type"]
        if kind == "text":
            first, field, text = {**block, "text": ""}, "text_delta", block["text"]
        elif kind == "thinking":
            first, field = {**block, "thinking": "", "signature": ""}, "thinking_delta"
            text = block["thinking"]
        else:
            first, field = {**block, "input": {}}, "input_json_delta"
            text = json.dumps(block["input"])
        events.append({"type": "content_block_start", "index": index, "content_block": first})
        key = {"text_delta": "text", "thinking_delta": "thinking"}.get(field, "partial_json")
        for at in range(0, len(text), piece):
            delta = {"type": field, key: text[at : at + piece]}
            events.append({"type": "content_block_delta", "index": index, "delta": delta})
        if kind == "thinking":
            delta = {"type": "signature_delta", "signature": block["signature"]}
            events.append({"type": "content_block_delta", "index": index, "delta": delta})
        events.append({"type": "content_block_stop", "index": index})
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    events.append({"type": "message_delta", "delta": delta, "usage": message["usage"]})
    events.append({"type": "message_stop"})
    return events


WHOLE = successes("anthropic__*__sync.json")


@pytest.mark.parametrize("path", WHOLE, ids=lambda p: p.name.split("__")[1])
def test_streamed_reply_decodes_like_the_whole_reply(path: Path) -> None:
    message = json.loads(last_body(path))
    whole = decode_response(SDKMessage.model_validate(message))
    streamed = assemble(sdk_events(stream_of(message)))
    assert streamed.text == whole.text
    assert [(c.id, c.name, json.loads(c.arguments)) for c in streamed.tool_calls] == [
        (c.id, c.name, json.loads(c.arguments)) for c in whole.tool_calls
    ]
    assert [c.provider_data for c in streamed.tool_calls] == [
        c.provider_data for c in whole.tool_calls
    ]
    assert streamed.finish_reason == whole.finish_reason
    assert streamed.usage == whole.usage
    assert streamed.reasoning == whole.reasoning
    assert streamed.model == whole.model
    assert streamed.provider_data == whole.provider_data


# --- built events: the edge cases -----------------------------------------------------------


def start(**usage: Any) -> dict[str, Any]:
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-test",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 1, **usage},
    }
    return {"type": "message_start", "message": message}


def block(index: int, **content: Any) -> dict[str, Any]:
    return {"type": "content_block_start", "index": index, "content_block": content}


def piece(index: int, **delta: Any) -> dict[str, Any]:
    return {"type": "content_block_delta", "index": index, "delta": delta}


def stop(index: int) -> dict[str, Any]:
    return {"type": "content_block_stop", "index": index}


def end(reason: str = "end_turn", **usage: Any) -> list[dict[str, Any]]:
    delta = {"type": "message_delta", "delta": {"stop_reason": reason, **usage.pop("delta", {})}}
    return [{**delta, "usage": {"output_tokens": 5, **usage}}, {"type": "message_stop"}]


def text_block(index: int, *texts: str) -> list[dict[str, Any]]:
    return [
        block(index, type="text", text=""),
        *(piece(index, type="text_delta", text=t) for t in texts),
        stop(index),
    ]


def tool_block(index: int, name: str, *json_pieces: str) -> list[dict[str, Any]]:
    return [
        block(index, type="tool_use", id=f"toolu_{index}", name=name, input={}),
        *(piece(index, type="input_json_delta", partial_json=p) for p in json_pieces),
        stop(index),
    ]


def test_finish_only_for_message_stop() -> None:
    events = sdk_events([start(), *text_block(0, "Hel", "lo"), *end()])
    decoder: base.StreamDecoder = StreamDecoder()
    for event in events[:-1]:
        decoder.feed(event)
    assert not decoder.finished
    assert isinstance(decoder.feed(events[-1])[-1], Finish) and decoder.finished
    found = deltas(events)
    assert [type(d).__name__ for d in found] == [
        "UsageDelta",
        "TextDelta",
        "TextDelta",
        "UsageDelta",
        "Finish",
    ]
    assert not any(isinstance(d, Finish) for d in deltas(events[:-1]))


def test_tool_calls_keyed_by_block_index_with_their_pieces() -> None:
    events = sdk_events(
        [
            start(),
            *text_block(0, "Let me look."),
            *tool_block(1, "get_weather", "", '{"ci', 'ty": "Pa', 'ris"}'),
            *tool_block(2, "get_time", '{"city": "Tokyo"}'),
            *end("tool_use"),
        ]
    )
    calls = [d for d in deltas(events) if isinstance(d, ToolCallDelta)]
    assert calls[0] == ToolCallDelta(1, id="toolu_1", name="get_weather")
    assert [c.arguments for c in calls if c.index == 1] == ["", '{"ci', 'ty": "Pa', 'ris"}', ""]
    response = assemble(events)
    assert [(c.id, c.name, json.loads(c.arguments)) for c in response.tool_calls] == [
        ("toolu_1", "get_weather", {"city": "Paris"}),
        ("toolu_2", "get_time", {"city": "Tokyo"}),
    ]
    assert response.tool_calls[0].provider_data == ProviderData(
        "anthropic",
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
    )
    assert response.text == "Let me look."
    assert response.finish_reason == "tool_use"


def test_a_call_without_input_has_empty_object_arguments() -> None:
    response = assemble(sdk_events([start(), *tool_block(0, "now", ""), *end("tool_use")]))
    assert response.tool_calls[0].arguments == "{}"


def test_text_before_the_output_tool_is_dropped_as_complete_drops_it() -> None:
    events = sdk_events(
        [
            start(),
            *text_block(0, "Here it is:"),
            *tool_block(1, OUTPUT_TOOL, '{"a": ', "1}"),
            *text_block(2, "Done."),
            *end("tool_use"),
        ]
    )
    assert [d.text for d in deltas(events, output_tool=True) if isinstance(d, TextDelta)] == [
        '{"a": ',
        "1}",
    ]
    response = assemble(events, output_tool=True)
    assert (response.text, response.tool_calls) == ('{"a": 1}', ())


def test_text_without_the_output_tool_is_released_at_the_end() -> None:
    events = sdk_events([start(), *text_block(0, "I cannot ", "answer that."), *end()])
    found = deltas(events, output_tool=True)
    texts = [(i, d.text) for i, d in enumerate(found) if isinstance(d, TextDelta)]
    assert texts == [(len(found) - 2, "I cannot answer that.")]
    assert assemble(events, output_tool=True).text == "I cannot answer that."


def test_an_output_tool_call_without_input_is_an_empty_object() -> None:
    events = sdk_events([start(), *tool_block(0, OUTPUT_TOOL, ""), *end("tool_use")])
    assert assemble(events, output_tool=True).text == "{}"


def test_thinking_blocks_are_joined_by_a_blank_line_and_keep_their_signatures() -> None:
    def thinking(index: int, text: str) -> list[dict[str, Any]]:
        return [
            block(index, type="thinking", thinking="", signature=""),
            piece(index, type="thinking_delta", thinking=text[:3]),
            piece(index, type="thinking_delta", thinking=text[3:]),
            piece(index, type="signature_delta", signature=f"sig{index}"),
            stop(index),
        ]

    events = sdk_events(
        [
            start(),
            *thinking(0, "First thought."),
            block(1, type="redacted_thinking", data="opaque"),
            stop(1),
            *thinking(2, "Second thought."),
            *text_block(3, "Answer."),
            *end(),
        ]
    )
    found = deltas(events)
    assert [d.text for d in found if isinstance(d, ReasoningDelta)] == [
        "Fir",
        "st thought.",
        "\n\nSec",
        "ond thought.",
    ]
    response = assemble(events)
    assert response.reasoning == "First thought.\n\nSecond thought."
    assert response.text == "Answer."
    assert response.provider_data == ProviderData(
        "anthropic",
        [
            {"type": "thinking", "thinking": "First thought.", "signature": "sig0"},
            {"type": "redacted_thinking", "data": "opaque"},
            {"type": "thinking", "thinking": "Second thought.", "signature": "sig2"},
            {"type": "text", "text": "Answer."},
        ],
    )


def test_usage_comes_from_message_start_and_the_running_totals() -> None:
    events = sdk_events(
        [
            start(cache_read_input_tokens=4000, cache_creation_input_tokens=500),
            *text_block(0, "Hi"),
            *end(output_tokens=42, output_tokens_details={"thinking_tokens": 30}),
        ]
    )
    usage = assemble(events).usage
    # message_start's input (10) and cache counts, message_delta's output, merged: the
    # input counts the cache reads and writes.
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (4510, 42, 4552)
    assert (usage.cached_input_tokens, usage.cache_write_tokens) == (4000, 500)
    assert usage.reasoning_tokens == 30


def test_a_refusal_carries_its_explanation_or_the_text() -> None:
    details = {"type": "refusal", "category": None, "explanation": "Not allowed."}
    explained = sdk_events(
        [start(), *text_block(0, "No."), *end("refusal", delta={"stop_details": details})]
    )
    assert assemble(explained).refusal == "Not allowed."
    bare = sdk_events([start(), *text_block(0, "I won't."), *end("refusal")])
    response = assemble(bare)
    assert (response.refusal, response.finish_reason) == ("I won't.", "refusal")


def test_unknown_events_and_blocks_are_ignored_but_kept() -> None:
    decoder = StreamDecoder()
    assert decoder.feed(object()) == ()
    events = sdk_events(
        [
            start(),
            block(0, type="server_tool_use", id="srvtoolu_1", name="web_search", input={}),
            piece(0, type="input_json_delta", partial_json='{"query": "x"}'),
            stop(0),
            *text_block(1, "Found."),
            *end(),
        ]
    )
    response = assemble(events)
    assert (response.text, response.tool_calls) == ("Found.", ())
    assert response.provider_data is not None
    assert response.provider_data.data[0]["input"] == {"query": "x"}


def test_request_id_and_model_reach_finish() -> None:
    events = sdk_events([start(), *text_block(0, "Hi"), *end()])
    response = assemble(events, request_id="req_42")
    assert (response.request_id, response.model) == ("req_42", "claude-test")


def test_decoding_is_linear_in_the_reply() -> None:
    # A 1 MB reply in 5-character pieces: joining the text on every piece would take minutes.
    pieces = 200_000
    events: list[Any] = sdk_events([start(), block(0, type="text", text="")])
    delta = EVENTS.validate_python(piece(0, type="text_delta", text="abcde"))
    events += [delta] * pieces
    events += sdk_events([stop(0), *end()])
    began = time.perf_counter()
    response = assemble(events)
    assert len(response.text) == 5 * pieces
    # A loose bound: make unit runs under coverage's tracer, which slows this loop about
    # threefold; a quadratic join would still take minutes.
    assert time.perf_counter() - began < 20.0


# --- what failures become ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}, 529),
        ({"type": "error", "error": {"type": "rate_limit_error", "message": "slow"}}, 429),
        ({"type": "error", "error": {"type": "api_error", "message": "oops"}}, 500),
        ({"type": "error", "error": {"type": "brand_new_error"}}, 500),
        ("not json", 500),
    ],
)
def test_in_stream_error_types_stand_for_statuses(body: object, status: int) -> None:
    assert in_stream_status(body) == status


def test_a_broken_stream_is_a_stream_error_keeping_status_and_retryability() -> None:
    overloaded = ProviderError("busy.", provider="anthropic", status_code=529, retryable=True)
    broken = broken_stream(overloaded)
    assert isinstance(broken, StreamError)
    assert (broken.status_code, broken.retryable) == (529, True)
    assert str(broken) == "anthropic: the stream broke off: busy. (HTTP 529)"
    reset = broken_stream(ProviderConnectionError("reset.", provider="anthropic"))
    assert isinstance(reset, StreamError) and reset.retryable
    limited = RateLimitError("slow.", provider="anthropic", status_code=429)
    assert broken_stream(limited) is limited
