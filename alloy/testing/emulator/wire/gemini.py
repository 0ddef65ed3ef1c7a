"""Gemini ``generateContent`` / ``streamGenerateContent?alt=sse``, JSON and SSE.

Shapes follow the real API as recorded (PROVIDERS.md 3.5, ``shared/recorded/gemini__*``) and
parse under google-genai 3.4:

* function calls carry no ``id`` and their ``args`` are a JSON object; parallel calls are
  several ``functionCall`` parts, the first with a ``thoughtSignature`` (as Gemini 2.5 sends
  them);
* a turn with ``Reply.reasoning`` is signed as Gemini 3 signs it: the thoughts come first
  as a ``{"text": …, "thought": true}`` part (none for ``""``), and the first part and every
  ``functionCall`` part carry the reply's ``reasoning_signature`` as ``thoughtSignature``
  (which must be base64: the SDK decodes it to bytes, and sends it back URL-safe); streamed,
  a signed text part's signature comes with its last piece;
* ``finishReason`` is ``STOP`` for tool calls too (with ``finishMessage``);
* ``usageMetadata.candidatesTokenCount`` excludes thinking, reported separately as
  ``thoughtsTokenCount`` (so it is the reply's ``output_tokens - reasoning_tokens``, and
  ``totalTokenCount`` is prompt + candidates + thoughts); ``cachedContentTokenCount`` (part
  of ``promptTokenCount``) and ``thoughtsTokenCount`` are absent when zero, as the API leaves
  them out; Gemini reports no cache writes;
* a stream is ``data: <complete GenerateContentResponse>`` events separated by CRLF, with no
  terminator: the last event carries ``finishReason`` and ``usageMetadata``. An in-stream
  error is ``data: {"error": {code, message, status}}``, which the SDK raises as
  ``errors.ServerError``; a malformed event raises ``errors.UnknownApiResponseError``.

A refusal is rendered the way Gemini blocks a reply: ``finishReason: SAFETY``, the text in
``finishMessage`` (which google-genai drops when it parses a Gemini Developer API reply).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from .._items import Reply
from .._items import ToolCall
from .._items import new_id
from ._base import EventStream
from ._base import JsonBody
from ._base import RenderContext
from ._base import Rendered
from ._base import WireFormat
from ._base import dumps
from ._base import pieces

__all__ = ["WIRE", "error_body", "render"]

_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    499: "CANCELLED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
# Provider-neutral spellings a test may script, and Gemini's own values (any other value
# would make the SDK warn that it is not a valid FinishReason).
_FINISH = {
    "stop": "STOP",
    "tool_calls": "STOP",
    "length": "MAX_TOKENS",
    "max_tokens": "MAX_TOKENS",
    "content_filter": "SAFETY",
    "refusal": "SAFETY",
}
_GEMINI_FINISH = frozenset(
    {
        "STOP",
        "MAX_TOKENS",
        "SAFETY",
        "RECITATION",
        "LANGUAGE",
        "OTHER",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "MALFORMED_FUNCTION_CALL",
        "UNEXPECTED_TOOL_CALL",
        "TOO_MANY_TOOL_CALLS",
    }
)
_CALLS_MESSAGE = "Model generated function call(s)."
_STREAM_ERROR = "emulator: injected stream error"


def error_body(status: int, message: str) -> dict[str, Any]:
    """The ``{"error": {code, message, status}}`` envelope Google APIs use for non-2xx."""
    name = _STATUSES.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
    return {"error": {"code": status, "message": message, "status": name}}


def render(reply: Reply, ctx: RenderContext) -> Rendered:
    """A ``GenerateContentResponse``, or its SSE stream of partial responses."""
    return _stream(reply, ctx) if ctx.stream else _response(reply, ctx)


WIRE = WireFormat(provider="gemini", error_body=error_body, render=render)


def _finish_reason(reply: Reply) -> str:
    if reply.finish_reason is None:
        return "SAFETY" if reply.refusal else "STOP"
    value = _FINISH.get(reply.finish_reason, reply.finish_reason.upper())
    if value not in _GEMINI_FINISH:
        raise ValueError(f"finish_reason {reply.finish_reason!r} is not a Gemini FinishReason")
    return value


def _usage(reply: Reply) -> dict[str, Any]:
    candidates = max(reply.output_tokens - reply.reasoning_tokens, 0)
    usage: dict[str, Any] = {
        "promptTokenCount": reply.input_tokens,
        "candidatesTokenCount": candidates,
        "totalTokenCount": reply.input_tokens + candidates + reply.reasoning_tokens,
        "promptTokensDetails": [{"modality": "TEXT", "tokenCount": reply.input_tokens}],
    }
    if reply.cached_tokens:
        usage["cachedContentTokenCount"] = reply.cached_tokens
        usage["cacheTokensDetails"] = [{"modality": "TEXT", "tokenCount": reply.cached_tokens}]
    if reply.reasoning_tokens:
        usage["thoughtsTokenCount"] = reply.reasoning_tokens
    return usage


def _call_part(call: ToolCall, first: bool) -> dict[str, Any]:
    args: Any = call.arguments
    if isinstance(args, str):
        # Gemini sends arguments as an object, so a malformed string cannot be rendered.
        try:
            args = json.loads(args)
        except ValueError:
            args = None
    if not isinstance(args, Mapping):
        raise ValueError(f"Gemini function call arguments must be a JSON object: {call.name}")
    part: dict[str, Any] = {"functionCall": {"name": call.name, "args": dict(args)}}  # pyright: ignore[reportUnknownArgumentType]
    if first:
        # The API signs the first call of a turn; clients must echo it back.
        signature = f"emulator-signature:{call.name}".encode()
        part["thoughtSignature"] = base64.b64encode(signature).decode()
    return part


def _candidate(parts: list[dict[str, Any]], finish: str | None, reply: Reply) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}}
    if finish is not None:
        candidate["finishReason"] = finish
        if reply.refusal:
            candidate["finishMessage"] = reply.refusal
        elif reply.tool_calls:
            candidate["finishMessage"] = _CALLS_MESSAGE
    candidate["index"] = 0
    return candidate


def _envelope(candidate: dict[str, Any], ctx: RenderContext, response_id: str) -> dict[str, Any]:
    return {"candidates": [candidate], "modelVersion": ctx.model, "responseId": response_id}


def _parts(reply: Reply) -> list[dict[str, Any]]:
    """The parts of the answer, signed as the model signs them."""
    parts: list[dict[str, Any]] = []
    if reply.reasoning:
        parts.append({"text": reply.reasoning, "thought": True})
    if reply.content is not None:
        parts.append({"text": reply.content})
    signed = reply.reasoning is not None
    parts += [_call_part(call, i == 0 and not signed) for i, call in enumerate(reply.tool_calls)]
    for index, part in enumerate(parts if signed else []):
        if index == 0 or "functionCall" in part:
            part["thoughtSignature"] = reply.reasoning_signature
    return parts


def _response(reply: Reply, ctx: RenderContext) -> JsonBody:
    parts = _parts(reply)
    body = _envelope(_candidate(parts, _finish_reason(reply), reply), ctx, new_id(""))
    body["usageMetadata"] = _usage(reply)
    return JsonBody(body, turn=parts)


def _split(part: dict[str, Any], size: int) -> list[dict[str, Any]]:
    """A part as streamed: text in pieces, its signature on the last one; function calls
    whole, never as partial arguments."""
    if "text" not in part:
        return [part]
    texts = pieces(part["text"], size) or ([""] if "thoughtSignature" in part else [])
    plain = {key: value for key, value in part.items() if key != "thoughtSignature"}
    split = [{**plain, "text": text} for text in texts]
    if split and "thoughtSignature" in part:
        split[-1]["thoughtSignature"] = part["thoughtSignature"]
    return split


def _event(body: Mapping[str, Any]) -> bytes:
    return f"data: {dumps(body)}\r\n\r\n".encode()


def _stream(reply: Reply, ctx: RenderContext) -> EventStream:
    response_id = new_id("")

    def chunk(parts: list[dict[str, Any]]) -> bytes:
        return _event(_envelope(_candidate(parts, None, reply), ctx, response_id))

    parts = _parts(reply)
    events = [chunk([piece]) for part in parts for piece in _split(part, reply.chunk_chars)]
    # A text answer ends with an empty text part; an answer of calls alone has none (as
    # recorded: shared/recorded/gemini__parallel-tool-calls__stream.json).
    closing = [] if reply.tool_calls and not reply.content else [{"text": ""}]
    last = _envelope(_candidate(closing, _finish_reason(reply), reply), ctx, response_id)
    last["usageMetadata"] = _usage(reply)
    return EventStream(
        events=events,
        turn=parts,
        terminal=[_event(last)],
        error=[_event(error_body(500, _STREAM_ERROR))],
        malformed=b'data: {"candidates": [{"content": {"parts": [\r\n\r\n',
        content_type="text/event-stream",
    )
