"""``generate_content_stream`` chunks → alloy deltas → ``Response``, with no I/O.

Recorded stream bodies are cut at their ``data:`` lines and parsed by the SDK's own
``GenerateContentResponse`` model (JSON mode, so thought signatures become bytes as the SDK
makes them); the decoder and the shared ``Assembler`` must give what the recording's
``expect`` says, and a streamed reply must decode exactly like the same reply sent whole.
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from google.genai import types

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
from alloy._messages import Request
from alloy._messages import Response
from alloy._messages import ToolResult
from alloy._messages import native
from alloy.backends._boundary import broken_stream
from alloy.backends.gemini._decode import decode_response
from alloy.backends.gemini._encode import encode_request
from alloy.backends.gemini._stream import StreamDecoder
from tests.recorded import check_reply
from tests.recorded import last_body
from tests.recorded import load
from tests.recorded import successes


def data_lines(body: str) -> list[str]:
    """The JSON of each SSE ``data:`` event (Gemini separates events with CRLF)."""
    found: list[str] = []
    for event in body.replace("\r\n", "\n").split("\n\n"):
        lines = event.split("\n")
        data = [line.removeprefix("data:").strip() for line in lines if line.startswith("data:")]
        if data:
            found.append("\n".join(data))
    return found


def chunk(data: dict[str, Any] | str) -> types.GenerateContentResponse:
    text = data if isinstance(data, str) else json.dumps(data)
    return types.GenerateContentResponse.model_validate_json(text)


def deltas(chunks: Iterable[types.GenerateContentResponse]) -> list[Delta]:
    decoder = StreamDecoder()
    return [delta for c in chunks for delta in decoder.feed(c)]


def assemble(chunks: Iterable[types.GenerateContentResponse]) -> Response:
    assembler = Assembler("gemini")
    for delta in deltas(chunks):
        assembler.feed(delta)
    return assembler.response()


STREAMS = successes("gemini__*__stream.json")


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name.split("__")[1])
def test_recorded_stream_matches_its_expectation(path: Path) -> None:
    response = assemble(chunk(line) for line in data_lines(last_body(path)))
    check_reply(response, load(path)["expect"])
    assert len({c.id for c in response.tool_calls}) == len(response.tool_calls)
    assert response.model == "gemini-2.5-flash"


def test_the_stream_corpus_was_found(corpus: Path) -> None:
    assert len(STREAMS) == 4


def test_recorded_thinking_streams_thoughts_then_text(corpus: Path) -> None:
    lines = data_lines(last_body(corpus / "gemini__thinking__stream.json"))
    found = deltas(chunk(line) for line in lines)
    kinds = [type(d).__name__ for d in found if isinstance(d, TextDelta | ReasoningDelta)]
    assert kinds == ["ReasoningDelta"] * 4 + ["TextDelta"]
    assert isinstance(found[-1], Finish)
    # No chunk reports candidatesTokenCount: the output is the thoughts alone.
    usage = assemble(chunk(line) for line in lines).usage
    assert usage.output_tokens == usage.reasoning_tokens
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens == 1977  # type: ignore[operator]
    assert usage.details["totalTokenCount"] == 1977


def test_recorded_calls_go_back_with_their_thought_signature(corpus: Path) -> None:
    lines = data_lines(last_body(corpus / "gemini__parallel-tool-calls__stream.json"))
    response = assemble(chunk(line) for line in lines)
    request = Request(
        "gemini-2.5-flash",
        (
            Message.user("secrets"),
            response.message(),
            Message("user", tuple(ToolResult(c.id, c.name, "s") for c in response.tool_calls)),
        ),
    )
    sent = encode_request(request)["contents"]
    recorded = json.loads(lines[0])["candidates"][0]["content"]["parts"]
    assert sent[1] == native(response.provider_data, "gemini")
    assert [p["function_call"]["args"] for p in sent[1]["parts"]] == [
        p["functionCall"]["args"] for p in recorded
    ]
    signature = sent[1]["parts"][0]["thought_signature"]
    assert signature == chunk(lines[0]).candidates[0].content.parts[0].thought_signature  # type: ignore[index,union-attr]


def test_stream_ending_before_the_finish_reason_is_an_error(corpus: Path) -> None:
    lines = data_lines(last_body(corpus / "gemini__text__stream.json"))
    assert len(lines) == 2
    with pytest.raises(StreamError):
        assemble([chunk(lines[0])])
    assert not any(isinstance(d, Finish) for d in deltas([chunk(lines[0])]))


# --- a reply sent whole and the same reply streamed decode alike ---------------------------


def stream_of(whole: dict[str, Any], piece: int = 4) -> list[dict[str, Any]]:
    """The chunks the API streams for ``whole``: text in pieces, calls whole, the finish
    reason and the final usage on the last chunk (earlier chunks with partial usage)."""
    candidate = whole["candidates"][0]
    parts: list[dict[str, Any]] = []
    for part in candidate["content"]["parts"]:
        text = part.get("text")
        if text is None:
            parts.append(part)
            continue
        pieces = [text[at : at + piece] for at in range(0, len(text), piece)] or [""]
        bare = {key: value for key, value in part.items() if key != "thoughtSignature"}
        parts += [{**bare, "text": p} for p in pieces[:-1]]
        parts.append({**part, "text": pieces[-1]})  # the signature, if any, comes last
    top = {k: v for k, v in whole.items() if k not in ("candidates", "usageMetadata")}
    usage = whole.get("usageMetadata", {})
    chunks: list[dict[str, Any]] = []
    for part in parts:
        inner = {"content": {"parts": [part], "role": "model"}, "index": 0}
        early = {"promptTokenCount": usage.get("promptTokenCount", 0)}
        chunks.append({"candidates": [inner], "usageMetadata": early, **top})
    last = {k: v for k, v in candidate.items() if k != "content"}
    last["content"] = {"parts": [{"text": ""}], "role": "model"}
    chunks.append({"candidates": [last], "usageMetadata": usage, **top})
    return chunks


WHOLE = successes("gemini__*__sync.json")


@pytest.mark.parametrize("path", WHOLE, ids=lambda p: p.name.split("__")[1])
def test_streamed_reply_decodes_like_the_whole_reply(path: Path) -> None:
    body = json.loads(last_body(path))
    whole = decode_response(chunk(copy.deepcopy(body)))
    streamed = assemble(chunk(c) for c in stream_of(body))
    assert streamed.text == whole.text
    assert [(c.id, c.name, c.arguments, c.provider_data) for c in streamed.tool_calls] == [
        (c.id, c.name, c.arguments, c.provider_data) for c in whole.tool_calls
    ]
    assert streamed.finish_reason == whole.finish_reason
    assert streamed.usage == whole.usage
    assert streamed.reasoning == whole.reasoning
    assert (streamed.model, streamed.request_id) == (whole.model, whole.request_id)
    assert streamed.refusal == whole.refusal
    assert streamed.provider_data == whole.provider_data


# --- built chunks: the edge cases -----------------------------------------------------------


def built(*parts: dict[str, Any], finish: str | None = None, **top: Any) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": list(parts), "role": "model"}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "modelVersion": "gemini-test", "responseId": "r1", **top}


def test_text_pieces_merge_into_one_part_per_kind() -> None:
    chunks = [
        chunk(built({"text": "Think", "thought": True})),
        chunk(built({"text": "ing.", "thought": True})),
        chunk(built({"text": "Hel"})),
        chunk(built({"text": "lo"})),
        chunk(built({"text": "", "thoughtSignature": "c2ln"}, finish="STOP")),
    ]
    found = deltas(chunks)
    assert [d.text for d in found if isinstance(d, TextDelta)] == ["Hel", "lo"]
    assert [d.text for d in found if isinstance(d, ReasoningDelta)] == ["Think", "ing."]
    response = assemble(chunks)
    assert (response.text, response.reasoning) == ("Hello", "Thinking.")
    assert response.provider_data == ProviderData(
        "gemini",
        {
            "parts": [
                {"text": "Thinking.", "thought": True},
                {"text": "Hello", "thought_signature": b"sig"},
            ],
            "role": "model",
        },
    )


def test_function_calls_arrive_whole_with_ids_as_complete_makes_them() -> None:
    chunks = [
        chunk(built({"text": "Checking."})),
        chunk(built({"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}})),
        chunk(
            built(
                {"functionCall": {"name": "get_time", "args": {"city": "Tokyo"}}},
                {"functionCall": {"name": "now", "id": "fc-9"}},
                finish="STOP",
            )
        ),
    ]
    calls = [d for d in deltas(chunks) if isinstance(d, ToolCallDelta)]
    assert [(c.index, c.id, c.name, c.arguments) for c in calls] == [
        (0, "r1-0", "get_weather", '{"city": "Paris"}'),
        (1, "r1-1", "get_time", '{"city": "Tokyo"}'),
        (2, "fc-9", "now", "{}"),
    ]
    assert calls[0].provider_data == ProviderData(
        "gemini", {"function_call": {"name": "get_weather", "args": {"city": "Paris"}}}
    )
    response = assemble(chunks)
    assert response.text == "Checking."
    assert [p.keys() for p in native(response.provider_data, "gemini")["parts"]] == [
        {"text"},
        {"function_call"},
        {"function_call"},
        {"function_call"},
    ]


def test_usage_on_several_chunks_keeps_the_latest_totals() -> None:
    chunks = [
        chunk(built({"text": "a"}, usageMetadata={"promptTokenCount": 9, "totalTokenCount": 9})),
        chunk(
            built(
                {"text": "b"},
                finish="STOP",
                usageMetadata={
                    "promptTokenCount": 9,
                    "candidatesTokenCount": 2,
                    "thoughtsTokenCount": 5,
                    "cachedContentTokenCount": 4,
                    "totalTokenCount": 16,
                },
            )
        ),
    ]
    usage = assemble(chunks).usage
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (9, 7, 16)
    assert (usage.cached_input_tokens, usage.reasoning_tokens) == (4, 5)


def test_only_the_finish_reason_chunk_finishes() -> None:
    chunks = [chunk(built({"text": "a"})), chunk(built({"text": "b"}, finish="MAX_TOKENS"))]
    found = deltas(chunks)
    assert [isinstance(d, Finish) for d in found] == [False, False, True]
    decoder = StreamDecoder()
    decoder.feed(chunks[0])
    assert not decoder.finished
    decoder.feed(chunks[1])
    assert decoder.finished
    assert assemble(chunks).finish_reason == "MAX_TOKENS"


def test_a_blocked_reply_is_a_refusal() -> None:
    chunks = [chunk(built({"text": "Part"})), chunk(built(finish="SAFETY"))]
    response = assemble(chunks)
    assert (response.finish_reason, response.refusal) == (
        "SAFETY",
        "the reply was blocked (SAFETY)",
    )


def test_a_blocked_prompt_ends_the_stream_with_a_refusal() -> None:
    blocked = {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}, "responseId": "r2"}
    response = assemble([chunk(blocked)])
    assert response.finish_reason == "PROHIBITED_CONTENT"
    assert response.refusal == "the prompt was blocked (PROHIBITED_CONTENT)"
    assert response.provider_data is None


def test_empty_text_parts_are_dropped_and_other_parts_kept() -> None:
    image = {"inlineData": {"mimeType": "image/png", "data": "aW1n"}}
    chunks = [
        chunk(built({"text": ""})),
        chunk(built(image)),
        chunk(built({"text": "Here."}, finish="STOP")),
    ]
    parts = native(assemble(chunks).provider_data, "gemini")["parts"]
    assert parts == [{"inline_data": {"mime_type": "image/png", "data": b"img"}}, {"text": "Here."}]


def test_decoding_is_linear_in_the_reply() -> None:
    # A 1 MB reply in 5-character chunks: joining the text on every chunk would take minutes.
    pieces = 200_000
    one = chunk(built({"text": "abcde"}))
    began = time.perf_counter()
    response = assemble([*([one] * pieces), chunk(built({"text": ""}, finish="STOP"))])
    assert len(response.text) == 5 * pieces
    assert native(response.provider_data, "gemini")["parts"] == [{"text": "abcde" * pieces}]
    # A loose bound: make unit runs under coverage's tracer, which slows this loop about
    # threefold; a quadratic join would still take minutes.
    assert time.perf_counter() - began < 20.0


def test_a_broken_stream_is_a_stream_error_keeping_status_and_retryability() -> None:
    server = ProviderError("boom.", provider="gemini", status_code=500, retryable=True)
    broken = broken_stream(server)
    assert isinstance(broken, StreamError)
    assert (broken.status_code, broken.retryable) == (500, True)
    assert str(broken) == "gemini: the stream broke off: boom. (HTTP 500)"
    reset = broken_stream(ProviderConnectionError("reset.", provider="gemini"))
    assert isinstance(reset, StreamError) and reset.retryable
    limited = RateLimitError("slow.", provider="gemini", status_code=429)
    assert broken_stream(limited) is limited
