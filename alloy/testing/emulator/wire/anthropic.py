"""Anthropic Messages (``POST …/anthropic/v1/messages``), JSON and SSE.

Shapes follow what anthropic 2.11 validates in strict mode (PROVIDERS.md 3.4, 3.7). The SDK
sends its key as ``authorization: Bearer`` (older ones as ``x-api-key``); the emulator checks
neither. ``?beta=true`` on the path (older SDKs' beta calls) changes nothing.

How a ``Reply`` maps onto the wire:

- ``text``/``json`` is a ``text`` block and ``tool_calls`` are ``tool_use`` blocks (their
  arguments must be a JSON object, except in streams, where a string is sent verbatim as
  ``partial_json``). ``refusal`` sets ``stop_reason: "refusal"`` with the refusal as
  ``stop_details.explanation``.
- A request that forces one tool (``tool_choice: {"type": "tool", "name": …}``) gets the
  reply's JSON object as that tool's ``input``, as the model would answer it.
- ``reasoning`` is a ``thinking`` block with its ``signature`` and ``redacted_reasoning`` a
  ``redacted_thinking`` block with that ``data``, both before the text and tool_use blocks.
- Usage follows Anthropic's counting (``anthropic__prompt-caching__sync.json``):
  ``input_tokens`` excludes the cache reads (``cache_read_input_tokens``) and writes
  (``cache_creation_input_tokens``, broken down in ``cache_creation`` by TTL: the 1-hour
  bucket when the request marks any ``cache_control`` with ``ttl: "1h"``, else the 5-minute
  one); ``reasoning_tokens`` fill ``output_tokens_details.thinking_tokens`` (anthropic 2.11's
  ``Usage`` has it; a part of ``output_tokens``).
- Streams need an ``event:`` line on every event (the SDK skips events without one):
  ``message_start``, ``ping``, ``content_block_start``/``_delta``/``_stop`` per block
  (``thinking_delta`` pieces then one ``signature_delta``; a redacted block arrives whole in
  its start event; ``text_delta``, ``input_json_delta``), ``message_delta`` with the stop
  reason and the running usage counts, and ``message_stop`` as the terminal event.
  ``error_after`` sends ``event: error`` with an ``overloaded_error``, which the SDK raises
  as ``APIStatusError`` (status 200).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import cast

from .._items import Reply
from .._items import new_id
from ._base import EventStream
from ._base import JsonBody
from ._base import RenderContext
from ._base import Rendered
from ._base import WireFormat
from ._base import pieces
from ._base import sse

__all__ = ["WIRE", "error_body", "render"]

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
}
_STREAM_ERROR = "emulator: injected stream error"


def error_body(status: int, message: str) -> dict[str, Any]:
    """The ``{"type": "error", "error": {type, message}, "request_id"}`` envelope."""
    kind = _ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": None}


def render(reply: Reply, ctx: RenderContext) -> Rendered:
    """A ``message`` object, or the event stream that builds it."""
    answer = _Answer(reply, ctx)
    if ctx.stream:
        return _stream(answer)
    return JsonBody(answer.message(final=True), turn=answer.turn)


WIRE = WireFormat(provider="anthropic", error_body=error_body, render=render)


class _Answer:
    """The blocks of one answer, with ids fixed so every event agrees."""

    def __init__(self, reply: Reply, ctx: RenderContext) -> None:
        self.reply = reply
        self.ctx = ctx
        self.id = new_id("msg_")
        self.blocks: list[dict[str, Any]] = []
        if reply.reasoning is not None:
            signature = reply.reasoning_signature or ""
            self.blocks.append(
                {"type": "thinking", "thinking": reply.reasoning, "signature": signature}
            )
        if reply.redacted_reasoning is not None:
            self.blocks.append({"type": "redacted_thinking", "data": reply.redacted_reasoning})
        forced = _forced_tool(ctx.request)
        content = reply.content
        obeyed = forced is not None and not reply.tool_calls and _json_object(content) is not None
        if obeyed:
            arguments = cast("str", content)
            self.blocks.append(_tool_use(new_id("toolu_"), cast("str", forced), arguments))
        elif content is not None:
            self.blocks.append({"type": "text", "text": content})
        for call in reply.tool_calls:
            self.blocks.append(_tool_use(call.call_id, call.name, call.arguments_text))
        if reply.refusal is not None:
            self.stop_reason = "refusal"
        elif reply.finish_reason is not None:
            self.stop_reason = _STOP_REASONS.get(reply.finish_reason, reply.finish_reason)
        else:
            calls = any(block["type"] == "tool_use" for block in self.blocks)
            self.stop_reason = "tool_use" if calls else "end_turn"

    def stop_details(self) -> dict[str, Any] | None:
        if self.reply.refusal is None:
            return None
        return {"type": "refusal", "category": None, "explanation": self.reply.refusal}

    def usage(self) -> dict[str, Any]:
        """The usage of a whole message, and of the ``message_start`` snapshot."""
        reply = self.reply
        writes = reply.cache_write_tokens
        hour = _hour_ttl(self.ctx.request)
        usage: dict[str, Any] = {
            **self.counts(),
            "cache_creation": {
                "ephemeral_5m_input_tokens": 0 if hour else writes,
                "ephemeral_1h_input_tokens": writes if hour else 0,
            },
            "service_tier": "standard",
        }
        if reply.reasoning_tokens:
            usage["output_tokens_details"] = {"thinking_tokens": reply.reasoning_tokens}
        return usage

    def counts(self) -> dict[str, Any]:
        """The running counts ``message_delta`` carries (no TTL breakdown, no tier)."""
        reply = self.reply
        spent = reply.cached_tokens + reply.cache_write_tokens
        return {
            "input_tokens": max(reply.input_tokens - spent, 0),
            "cache_creation_input_tokens": reply.cache_write_tokens,
            "cache_read_input_tokens": reply.cached_tokens,
            "output_tokens": reply.output_tokens,
        }

    def message(self, *, final: bool) -> dict[str, Any]:
        """The message object: final, or the empty snapshot ``message_start`` carries."""
        return {
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.ctx.model,
            "content": [_wire_block(block) for block in self.blocks] if final else [],
            "stop_reason": self.stop_reason if final else None,
            "stop_sequence": None,
            "stop_details": self.stop_details() if final else None,
            "usage": self.usage() if final else self.snapshot_usage(),
        }

    def snapshot_usage(self) -> dict[str, Any]:
        """``message_start`` counts the input; the output so far is one token."""
        usage = self.usage()
        usage["output_tokens"] = 1
        usage.pop("output_tokens_details", None)
        return usage

    @property
    def turn(self) -> list[dict[str, Any]]:
        """The content blocks as the client should echo them (tool inputs left out: a stream
        may send arguments that are not an object)."""
        return [{k: v for k, v in block.items() if k != "arguments"} for block in self.blocks]


def _hour_ttl(value: Any) -> bool:
    """Whether the request asks for the 1-hour cache anywhere (a ``cache_control`` marker with
    ``ttl: "1h"``, top-level or on a block): its writes are then counted in that bucket."""
    if isinstance(value, Mapping):
        mapping = cast("Mapping[str, Any]", value)
        control: Any = mapping.get("cache_control")
        if isinstance(control, Mapping) and cast("Mapping[str, Any]", control).get("ttl") == "1h":
            return True
        return any(_hour_ttl(item) for item in mapping.values())
    if isinstance(value, list):
        return any(_hour_ttl(item) for item in cast("Sequence[Any]", value))
    return False


def _forced_tool(request: Mapping[str, Any]) -> str | None:
    choice: Any = request.get("tool_choice")
    if not isinstance(choice, Mapping):
        return None
    choice = cast("Mapping[str, Any]", choice)
    name = choice.get("name")
    return name if choice.get("type") == "tool" and isinstance(name, str) else None


def _json_object(text: str | None) -> dict[str, Any] | None:
    if text is None:
        return None
    try:
        value: Any = json.loads(text)
    except ValueError:
        return None
    return cast("dict[str, Any]", value) if isinstance(value, dict) else None


def _tool_use(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    """A tool_use block; ``arguments`` stays text here, for streams to send verbatim."""
    return {"type": "tool_use", "id": call_id, "name": name, "arguments": arguments}


def _wire_block(block: dict[str, Any]) -> dict[str, Any]:
    if block["type"] != "tool_use":
        return block
    arguments = _json_object(block["arguments"])
    if arguments is None:
        raise ValueError(f"tool {block['name']!r}: arguments must be a JSON object")
    return {"type": "tool_use", "id": block["id"], "name": block["name"], "input": arguments}


def _stream(answer: _Answer) -> EventStream:
    size = answer.reply.chunk_chars
    events = [
        sse({"type": "message_start", "message": answer.message(final=False)}, "message_start"),
        sse({"type": "ping"}, "ping"),
    ]
    for index, block in enumerate(answer.blocks):
        if block["type"] == "text":
            start: dict[str, Any] = {"type": "text", "text": ""}
            deltas = [
                {"type": "text_delta", "text": piece} for piece in pieces(block["text"], size)
            ]
        elif block["type"] == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            deltas = [
                {"type": "thinking_delta", "thinking": piece}
                for piece in pieces(block["thinking"], size)
            ]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        elif block["type"] == "redacted_thinking":
            start, deltas = block, []
        else:
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            deltas = [
                {"type": "input_json_delta", "partial_json": piece}
                for piece in pieces(block["arguments"], size)
            ]
        events.append(_event("content_block_start", index=index, content_block=start))
        events += [_event("content_block_delta", index=index, delta=delta) for delta in deltas]
        events.append(_event("content_block_stop", index=index))
    delta = {
        "stop_reason": answer.stop_reason,
        "stop_sequence": None,
        "stop_details": answer.stop_details(),
    }
    usage = answer.counts()
    if answer.reply.reasoning_tokens:
        usage["output_tokens_details"] = {"thinking_tokens": answer.reply.reasoning_tokens}
    events.append(_event("message_delta", delta=delta, usage=usage))
    error = {"type": "error", "error": {"type": "overloaded_error", "message": _STREAM_ERROR}}
    return EventStream(
        events=events,
        turn=answer.turn,
        terminal=[_event("message_stop")],
        error=[sse(error, "error")],
        malformed=b'event: content_block_delta\ndata: {"type": "content_block_delta", "in\n\n',
    )


def _event(kind: str, **fields: Any) -> bytes:
    return sse({"type": kind, **fields}, kind)
