"""Ollama's native chat (``POST …/api/chat``), JSON and NDJSON streams.

Ollama streams unless the body says ``"stream": false`` (the SDK always says which). A
stream is one JSON object per line (``application/x-ndjson``): text pieces with
``done: false``, tool calls whole in one line, then the final line with ``done: true``,
``done_reason`` and the counts; an error inside a stream is a line ``{"error": "..."}``.
Shapes follow what ollama 0.6.3's ``ChatResponse`` accepts (PROVIDERS.md 3.6).

Ollama has no refusal field (a refusal is ordinary text there), no cached, cache-write or
reasoning token counts, and tool calls without ids whose arguments are JSON objects: a
``Reply``'s ``refusal`` is sent as the text when it has no other, and tool-call arguments
given as a string that is not a JSON object are sent as that string, which the SDK then
rejects. A ``Reply.reasoning`` is ``message.thinking`` (left out when empty, as Ollama does),
streamed as ``thinking`` pieces in lines before the content.
"""

from __future__ import annotations

import json
import time
from typing import Any
from typing import cast

from .._items import Reply
from .._items import ToolCall
from ._base import EventStream
from ._base import JsonBody
from ._base import RenderContext
from ._base import Rendered
from ._base import WireFormat
from ._base import dumps
from ._base import pieces

__all__ = ["WIRE", "error_body", "render"]

_NDJSON = "application/x-ndjson"


def error_body(status: int, message: str) -> dict[str, Any]:
    """The ``{"error": "..."}`` envelope Ollama uses for every error status."""
    return {"error": message}


def render(reply: Reply, ctx: RenderContext) -> Rendered:
    """A chat response object, or its NDJSON stream."""
    return _stream(reply, ctx) if ctx.stream else JsonBody(_final(reply, ctx, _message(reply)))


WIRE = WireFormat(provider="ollama", error_body=error_body, render=render)


def _text(reply: Reply) -> str:
    content = reply.content
    if content is None:
        content = reply.refusal
    return content or ""


def _arguments(call: ToolCall) -> Any:
    if not isinstance(call.arguments, str):
        return dict(call.arguments)
    try:
        parsed: object = json.loads(call.arguments)
    except ValueError:
        return call.arguments
    return cast("dict[str, Any]", parsed) if isinstance(parsed, dict) else call.arguments


def _calls(reply: Reply) -> list[dict[str, Any]]:
    return [
        {"function": {"name": call.name, "arguments": _arguments(call)}}
        for call in reply.tool_calls
    ]


def _message(reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": _text(reply)}
    if reply.reasoning:
        message["thinking"] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = _calls(reply)
    return message


def _created_at(ctx: RenderContext) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime(ctx.created))


def _final(reply: Reply, ctx: RenderContext, message: dict[str, Any]) -> dict[str, Any]:
    """The complete answer, or a stream's last line: ``done`` with the reason and counts.

    Durations are nanoseconds, as Ollama sends them; their values are made up.
    """
    return {
        "model": ctx.model,
        "created_at": _created_at(ctx),
        "message": message,
        "done": True,
        "done_reason": reply.finish_reason or "stop",
        "total_duration": 1_000_000 * (reply.input_tokens + reply.output_tokens + 1),
        "load_duration": 1_000_000,
        "prompt_eval_count": reply.input_tokens,
        "prompt_eval_duration": 1_000_000 * reply.input_tokens,
        "eval_count": reply.output_tokens,
        "eval_duration": 1_000_000 * reply.output_tokens,
    }


def _line(body: Any) -> bytes:
    return (dumps(body) + "\n").encode()


def _stream(reply: Reply, ctx: RenderContext) -> EventStream:
    def chunk(message: dict[str, Any]) -> bytes:
        return _line(
            {
                "model": ctx.model,
                "created_at": _created_at(ctx),
                "message": {"role": "assistant", **message},
                "done": False,
            }
        )

    events = [
        chunk({"content": "", "thinking": piece})
        for piece in pieces(reply.reasoning or "", reply.chunk_chars)
    ]
    events += [chunk({"content": piece}) for piece in pieces(_text(reply), reply.chunk_chars)]
    if reply.tool_calls:
        events.append(chunk({"content": "", "tool_calls": _calls(reply)}))
    last = _final(reply, ctx, {"role": "assistant", "content": ""})
    return EventStream(
        events=events,
        terminal=[_line(last)],
        error=[_line({"error": "emulator: injected stream error"})],
        malformed=b'{"model": "broken", "message": {\n',
        content_type=_NDJSON,
    )
