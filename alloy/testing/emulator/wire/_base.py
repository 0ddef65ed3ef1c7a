"""The contract between the core and the per-provider renderer modules."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from .._items import Reply

__all__ = [
    "EventStream",
    "JsonBody",
    "RenderContext",
    "Rendered",
    "WireFormat",
    "cut_point",
    "dumps",
    "html_page",
    "pieces",
    "sse",
]


@dataclass(frozen=True)
class RenderContext:
    """What a renderer may know about the request it answers."""

    request: Mapping[str, Any]
    """The parsed JSON body (empty when the body was not a JSON object)."""
    stream: bool
    model: str
    created: int
    """Unix seconds, shared by every object of one answer."""


@dataclass(frozen=True)
class JsonBody:
    """A complete JSON answer.

    ``turn`` (here and on ``EventStream``) is the assistant turn as a client would echo it
    back (Anthropic content blocks, Responses output items, Gemini parts; empty for formats
    with nothing signed), which strict replay checks remember.
    """

    body: Any
    status: int = 200
    turn: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])


@dataclass(frozen=True)
class EventStream:
    """A streamed answer, already framed, that the core may cut at any event.

    ``events`` are counted by the ``Reply.*_after`` options; ``terminal`` is what marks a
    complete stream (``[DONE]``, ``response.completed``); ``error`` is the provider's
    in-stream error, sent in place of the rest when ``error_after`` is set; ``malformed`` is
    a framed line whose payload is not JSON.
    """

    events: list[bytes]
    terminal: list[bytes]
    error: list[bytes] = field(default_factory=list[bytes])
    malformed: bytes = b"data: {not json\n\n"
    content_type: str = "text/event-stream; charset=utf-8"
    turn: list[dict[str, Any]] = field(default_factory=list[dict[str, Any]])


Rendered = JsonBody | EventStream


@dataclass(frozen=True)
class WireFormat:
    """One provider wire format.

    ``render`` turns a ``Reply`` into the provider's answer; ``error_body`` builds the
    provider's error envelope for a status and message.
    """

    provider: str
    error_body: Callable[[int, str], Any]
    render: Callable[[Reply, RenderContext], Rendered]


def dumps(value: Any) -> str:
    """Compact JSON, as providers send it."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def html_page(title: str, footer: str = "emulator") -> str:
    """The bare error page a proxy (nginx, Cloudflare) answers with, in place of JSON."""
    shown = html.escape(title)
    return (
        f"<html>\r\n<head><title>{shown}</title></head>\r\n<body>\r\n"
        f"<center><h1>{shown}</h1></center>\r\n<hr><center>{html.escape(footer)}</center>\r\n"
        "</body>\r\n</html>\r\n"
    )


def sse(data: Any, event: str | None = None) -> bytes:
    """One server-sent event; ``data`` that is a str is sent as is."""
    payload = data if isinstance(data, str) else dumps(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {payload}\n\n".encode()


def pieces(text: str, size: int) -> list[str]:
    """Split ``text`` into chunks of ``size`` characters (one chunk when size < 1)."""
    if not text:
        return []
    if size < 1:
        return [text]
    return [text[i : i + size] for i in range(0, len(text), size)]


def cut_point(reply: Reply, available: int) -> tuple[int, str] | None:
    """Where and how ``reply`` cuts a stream of ``available`` events, if it does.

    Returns the number of events to send and one of ``abort``, ``malformed``, ``error`` or
    ``truncate``; the earliest option wins, ties in that order.
    """
    options = (
        ("abort", reply.abort_after),
        ("malformed", reply.malformed_after),
        ("error", reply.error_after),
        ("truncate", reply.truncate_after),
    )
    marks = [
        (min(max(0, after), available), order, kind)
        for order, (kind, after) in enumerate(options)
        if after is not None
    ]
    if not marks:
        return None
    at, _, kind = min(marks)
    return at, kind
