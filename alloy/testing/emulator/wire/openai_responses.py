"""OpenAI Responses API (``POST …/v1/responses``), JSON and SSE.

Shapes follow what openai 3.52 validates in strict mode (PROVIDERS.md 3.3), including
``usage.input_tokens_details.cache_write_tokens``, which that version requires (a part of
``input_tokens``, like ``cached_tokens``; ``cache_write_tokens_details`` splits nonzero
writes by TTL: 12 hours when the request asks for ``prompt_cache_options.ttl: "12h"`` or
``prompt_cache_retention: "24h"``, else 30 minutes).

A ``Reply.reasoning`` is a ``reasoning`` output item (``rs_…``) before the message, as in
``openai-responses__thinking__*.json``: ``summary`` holds one ``summary_text`` part (none for
``""``), and ``encrypted_content`` is added when the reply sets ``encrypted_reasoning`` or
the request has ``include: ["reasoning.encrypted_content"]`` (a random Fernet-style token per
answer). Streamed, the item is ``response.output_item.added`` (empty summary, no encrypted
content), ``response.reasoning_summary_part.added``, ``response.reasoning_summary_text.delta``
pieces, ``.done``, ``response.reasoning_summary_part.done``, then ``response.output_item.done``
with the whole item, whose ``encrypted_content`` the SDK says to use.

In-stream errors: the SDK raises nothing for a ``{"type": "error"}`` event (it is yielded as
``ResponseErrorEvent``) nor for ``response.failed`` (yielded as ``ResponseFailedEvent``); the
``responses.stream()`` helper's ``get_final_response()`` then raises
``RuntimeError("Didn't receive a `response.completed` event.")``. Only a data object with a
top-level ``"error"`` key makes the SDK raise ``APIError``, and the real API does not send one
for Responses streams, so ``error_after`` sends the ``error`` event followed by
``response.failed``, as the real API does.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Mapping
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
from .openai_chat import error_body

__all__ = ["WIRE", "error_body", "render"]

_STATUSES = frozenset({"completed", "failed", "in_progress", "cancelled", "queued", "incomplete"})
_INCOMPLETE_REASONS = {
    "incomplete": "max_output_tokens",
    "length": "max_output_tokens",
    "max_output_tokens": "max_output_tokens",
    "content_filter": "content_filter",
}
_TERMINAL_EVENTS = {
    "completed": "response.completed",
    "incomplete": "response.incomplete",
    "failed": "response.failed",
}
_STREAM_ERROR = "emulator: injected stream error"


def render(reply: Reply, ctx: RenderContext) -> Rendered:
    """A ``response`` object, or the typed event stream that builds it."""
    answer = _Answer(reply, ctx)
    if ctx.stream:
        return _stream(answer)
    return JsonBody(answer.response(final=True), turn=answer.output)


WIRE = WireFormat(provider="openai-responses", error_body=error_body, render=render)


def _outcome(finish_reason: str | None) -> tuple[str, str | None]:
    """Map a provider-neutral finish reason onto ``status`` and ``incomplete_details.reason``."""
    if finish_reason is None:
        return "completed", None
    if finish_reason in _INCOMPLETE_REASONS:
        return "incomplete", _INCOMPLETE_REASONS[finish_reason]
    if finish_reason in _STATUSES:
        return finish_reason, None
    raise ValueError(f"finish_reason {finish_reason!r} has no Responses API status")


class _Answer:
    """The final output of one answer, with ids fixed so every event agrees."""

    def __init__(self, reply: Reply, ctx: RenderContext) -> None:
        self.reply = reply
        self.ctx = ctx
        self.id = new_id("resp_")
        self.status, self.reason = _outcome(reply.finish_reason)
        item_status = "incomplete" if self.status == "incomplete" else "completed"
        self.output: list[dict[str, Any]] = []
        if reply.reasoning is not None:
            item: dict[str, Any] = {
                "id": new_id("rs_"),
                "type": "reasoning",
                "summary": (
                    [{"type": "summary_text", "text": reply.reasoning}] if reply.reasoning else []
                ),
            }
            if reply.encrypted_reasoning or _includes_encrypted(ctx.request):
                item["encrypted_content"] = _encrypted_token()
            self.output.append(item)
        parts: list[dict[str, Any]] = []
        text = reply.content
        if text is not None:
            parts.append({"type": "output_text", "text": text, "annotations": [], "logprobs": []})
        if reply.refusal is not None:
            parts.append({"type": "refusal", "refusal": reply.refusal})
        if parts:
            self.output.append(
                {
                    "type": "message",
                    "id": new_id("msg_"),
                    "status": item_status,
                    "role": "assistant",
                    "content": parts,
                }
            )
        for call in reply.tool_calls:
            self.output.append(
                {
                    "type": "function_call",
                    "id": new_id("fc_"),
                    "call_id": call.call_id,
                    "name": call.name,
                    "arguments": call.arguments_text,
                    "status": "completed",
                }
            )

    def usage(self) -> dict[str, Any]:
        reply = self.reply
        details: dict[str, Any] = {
            "cached_tokens": reply.cached_tokens,
            "cache_write_tokens": reply.cache_write_tokens,
        }
        if reply.cache_write_tokens:
            long = _long_retention(self.ctx.request)
            details["cache_write_tokens_details"] = {
                "ttl_30m_tokens": 0 if long else reply.cache_write_tokens,
                "ttl_12h_tokens": reply.cache_write_tokens if long else 0,
            }
        return {
            "input_tokens": reply.input_tokens,
            "input_tokens_details": details,
            "output_tokens": reply.output_tokens,
            "output_tokens_details": {"reasoning_tokens": reply.reasoning_tokens},
            "total_tokens": reply.input_tokens + reply.output_tokens,
        }

    def response(self, *, final: bool, status: str | None = None) -> dict[str, Any]:
        """The response object: final, or the in-progress snapshot streams start with."""
        request = self.ctx.request
        status = status or (self.status if final else "in_progress")
        error = None
        if status == "failed":
            error = {"code": "server_error", "message": _STREAM_ERROR}
        instructions = request.get("instructions")
        text = request.get("text")
        reasoning = request.get("reasoning")
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.ctx.created,
            "status": status,
            "background": False,
            "completed_at": self.ctx.created if final and status == "completed" else None,
            "error": error,
            "incomplete_details": (
                {"reason": self.reason} if final and status == "incomplete" else None
            ),
            "instructions": instructions if isinstance(instructions, str) else None,
            "max_output_tokens": request.get("max_output_tokens"),
            "metadata": request.get("metadata") or {},
            "model": self.ctx.model,
            "output": self.output if final and status != "failed" else [],
            "parallel_tool_calls": request.get("parallel_tool_calls", True),
            "previous_response_id": request.get("previous_response_id"),
            "reasoning": reasoning if isinstance(reasoning, Mapping) else {"effort": None},
            "service_tier": "default",
            "store": request.get("store", True),
            "temperature": request.get("temperature", 1.0),
            "text": text if isinstance(text, Mapping) else {"format": {"type": "text"}},
            "tool_choice": request.get("tool_choice", "auto"),
            "tools": request.get("tools") or [],
            "top_p": request.get("top_p", 1.0),
            "truncation": "disabled",
            "usage": self.usage() if final and status != "failed" else None,
            "user": None,
        }


def _includes_encrypted(request: Mapping[str, Any]) -> bool:
    include: Any = request.get("include")
    return isinstance(include, list) and "reasoning.encrypted_content" in include


def _long_retention(request: Mapping[str, Any]) -> bool:
    options: Any = request.get("prompt_cache_options")
    ttl = cast("Mapping[str, Any]", options).get("ttl") if isinstance(options, Mapping) else None
    return ttl == "12h" or request.get("prompt_cache_retention") == "24h"


def _encrypted_token() -> str:
    """Opaque encrypted reasoning, shaped like the API's Fernet tokens (``gAAAAAB…``)."""
    return "gAAAAAB" + base64.urlsafe_b64encode(secrets.token_bytes(96)).decode()


class _Events:
    """Numbers events as the API does (``sequence_number`` from 0) and frames them."""

    def __init__(self, start: int = 0) -> None:
        self.next = start

    def __call__(self, kind: str, **fields: Any) -> bytes:
        data = {"type": kind, **fields, "sequence_number": self.next}
        self.next += 1
        return sse(data, event=kind)


def _stream(answer: _Answer) -> EventStream:
    size = answer.reply.chunk_chars
    event = _Events()
    events = [
        event("response.created", response=answer.response(final=False)),
        event("response.in_progress", response=answer.response(final=False)),
    ]
    for index, item in enumerate(answer.output):
        if item["type"] == "message":
            events += _message_events(event, index, item, size)
        elif item["type"] == "reasoning":
            events += _reasoning_events(event, index, item, size)
        else:
            events += _call_events(event, index, item, size)
    terminal = [event(_TERMINAL_EVENTS[answer.status], response=answer.response(final=True))]

    reply = answer.reply
    error_at = len(events)
    if reply.error_after is not None:
        error_at = max(0, min(reply.error_after, error_at))
    failure = _Events(error_at)
    error = [
        failure("error", code="server_error", message=_STREAM_ERROR, param=None),
        failure("response.failed", response=answer.response(final=True, status="failed")),
    ]
    malformed = b'event: response.output_text.delta\ndata: {"type": "response.output_text.\n\n'
    return EventStream(
        events=events, terminal=terminal, error=error, malformed=malformed, turn=answer.output
    )


def _reasoning_events(event: _Events, index: int, item: dict[str, Any], size: int) -> list[bytes]:
    item_id = item["id"]
    started: dict[str, Any] = {"id": item_id, "type": "reasoning", "summary": []}
    out = [event("response.output_item.added", item=started, output_index=index)]
    for summary_index, part in enumerate(item["summary"]):
        where = {"item_id": item_id, "output_index": index, "summary_index": summary_index}
        empty = {"type": "summary_text", "text": ""}
        out.append(event("response.reasoning_summary_part.added", **where, part=empty))
        out += [
            event("response.reasoning_summary_text.delta", **where, delta=piece)
            for piece in pieces(part["text"], size)
        ]
        out.append(event("response.reasoning_summary_text.done", **where, text=part["text"]))
        out.append(event("response.reasoning_summary_part.done", **where, part=part))
    out.append(event("response.output_item.done", item=item, output_index=index))
    return out


def _message_events(event: _Events, index: int, item: dict[str, Any], size: int) -> list[bytes]:
    item_id = item["id"]
    out = [
        event(
            "response.output_item.added",
            output_index=index,
            item={**item, "status": "in_progress", "content": []},
        )
    ]
    for part_index, part in enumerate(item["content"]):
        where = {"item_id": item_id, "output_index": index, "content_index": part_index}
        if part["type"] == "output_text":
            empty = {**part, "text": ""}
            out.append(event("response.content_part.added", **where, part=empty))
            out += [
                event("response.output_text.delta", **where, delta=piece, logprobs=[])
                for piece in pieces(part["text"], size)
            ]
            out.append(event("response.output_text.done", **where, text=part["text"], logprobs=[]))
        else:
            out.append(event("response.content_part.added", **where, part={**part, "refusal": ""}))
            out += [
                event("response.refusal.delta", **where, delta=piece)
                for piece in pieces(part["refusal"], size)
            ]
            out.append(event("response.refusal.done", **where, refusal=part["refusal"]))
        out.append(event("response.content_part.done", **where, part=part))
    out.append(event("response.output_item.done", output_index=index, item=item))
    return out


def _call_events(event: _Events, index: int, item: dict[str, Any], size: int) -> list[bytes]:
    where = {"item_id": item["id"], "output_index": index}
    started = {**item, "arguments": "", "status": "in_progress"}
    out = [event("response.output_item.added", output_index=index, item=started)]
    out += [
        event("response.function_call_arguments.delta", **where, delta=piece)
        for piece in pieces(item["arguments"], size)
    ]
    out.append(event("response.function_call_arguments.done", **where, arguments=item["arguments"]))
    out.append(event("response.output_item.done", output_index=index, item=item))
    return out
