"""Messages as the GenAI conventions' JSON, for the opt-in content attributes.

Media go in as placeholders (kind, type, size and digest; never their bytes), and nothing
here reads a client, so no key or header can reach a span. A value longer than
``MAX_CONTENT_CHARS`` is cut (the span says so), as collectors refuse huge attributes.
"""

from __future__ import annotations

import json
from typing import Any

from .._messages import MediaPart
from .._messages import Message
from .._messages import Part
from .._messages import Request
from .._messages import Response
from .._messages import TextPart
from .._messages import ToolCall
from .._messages import ToolResult
from .._messages import ToolSpec
from .._messages import describe

__all__ = [
    "MAX_CONTENT_CHARS",
    "capped",
    "input_messages",
    "output_messages",
    "system_instructions",
    "tool_definitions",
]

MAX_CONTENT_CHARS = 750_000
"""The longest content attribute kept whole (the Anthropic SDK's default cap, in bytes)."""


def capped(value: Any) -> tuple[str, bool]:
    """``value`` as JSON text, and whether it had to be cut to ``MAX_CONTENT_CHARS``."""
    text = json.dumps(value, ensure_ascii=False, default=str)
    if len(text) <= MAX_CONTENT_CHARS:
        return text, False
    return text[:MAX_CONTENT_CHARS], True


def _media(part: MediaPart) -> dict[str, Any]:
    media = part.media
    found: dict[str, Any] = {
        "type": "blob",
        "modality": media.kind,
        "mime_type": media.media_type,
        "content": media.placeholder(),
    }
    size, digest = media.size, media.sha256
    if size is not None:
        found["size"] = size
    if digest is not None:
        found["sha256"] = digest
    return found


def _arguments(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return text


def part_json(part: Part) -> dict[str, Any]:
    """One message part in the conventions' shape."""
    if isinstance(part, TextPart):
        return {"type": "text", "content": part.text}
    if isinstance(part, MediaPart):
        return _media(part)
    if isinstance(part, ToolCall):
        return {
            "type": "tool_call",
            "id": part.id,
            "name": part.name,
            "arguments": _arguments(part.arguments),
        }
    assert isinstance(part, ToolResult)
    return {"type": "tool_call_response", "id": part.call_id, "response": describe(part.content)}


def message_json(message: Message) -> dict[str, Any]:
    return {"role": message.role, "parts": [part_json(p) for p in message.parts]}


def input_messages(request: Request) -> list[dict[str, Any]]:
    """The request's messages (the system prompt is ``system_instructions``)."""
    return [message_json(m) for m in request.messages]


def system_instructions(request: Request) -> list[dict[str, Any]] | None:
    return None if request.system is None else [{"type": "text", "content": request.system}]


def tool_definitions(request: Request) -> list[dict[str, Any]] | None:
    return [_tool(t) for t in request.tools] or None


def _tool(spec: ToolSpec) -> dict[str, Any]:
    return {
        "type": "function",
        "name": spec.name,
        "description": spec.description,
        "parameters": dict(spec.parameters),
    }


def output_messages(response: Response) -> list[dict[str, Any]]:
    """The reply as one assistant message with its finish reason."""
    found = message_json(response.message())
    found["finish_reason"] = response.finish or response.finish_reason or "stop"
    return [found]
