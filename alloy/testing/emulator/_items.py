"""Script items: what the emulator answers with, in provider-neutral form."""

from __future__ import annotations

import base64
import json as _json
import secrets
import uuid
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any

__all__ = [
    "Fault",
    "Item",
    "Reply",
    "ToolCall",
    "Verbatim",
    "item_from_json",
    "item_to_json",
]


def new_id(prefix: str) -> str:
    """A random identifier in the style providers use (``call_…``, ``resp_…``)."""
    return prefix + uuid.uuid4().hex[:24]


def new_signature() -> str:
    """A random signature in the providers' style: opaque base64 bytes."""
    return base64.b64encode(b"emulator-signature:" + secrets.token_bytes(32)).decode()


@dataclass(frozen=True)
class ToolCall:
    """One tool (function) call the emulated model makes.

    ``arguments`` is a dict (serialised with ``json.dumps``) or a string sent verbatim, which
    is how tests produce malformed arguments. ``id`` is generated when not given, so a test
    can read it back from the ``ToolCall`` it scripted.
    """

    name: str
    arguments: Mapping[str, Any] | str = field(default_factory=dict[str, Any])
    id: str | None = None

    def __post_init__(self) -> None:
        if self.id is None:
            object.__setattr__(self, "id", new_id("call_"))

    @property
    def call_id(self) -> str:
        """The id, never None after construction."""
        assert self.id is not None
        return self.id

    @property
    def arguments_text(self) -> str:
        """The arguments as they go on the wire."""
        if isinstance(self.arguments, str):
            return self.arguments
        return _json.dumps(dict(self.arguments))


@dataclass(frozen=True)
class Reply:
    """A successful model answer, rendered into whichever wire format the request used.

    ``text`` and ``json`` both fill the text channel (``json`` through ``json.dumps``), so only
    one may be given. ``finish_reason=None`` means the provider's natural value. The
    ``*_after`` options cut a stream after N events (data chunks before the terminal event):
    ``truncate_after`` ends cleanly without the terminal event, ``abort_after`` resets the
    TCP connection, ``malformed_after`` sends a line that is not JSON, ``error_after`` sends
    the provider's in-stream error, and ``stall_after`` pauses ``stall`` seconds and goes on.
    ``delay`` waits before the response headers; ``chunk_delay`` waits between events, and
    sends a reply that is not streamed ``chunk_chars`` bytes at a time, ``chunk_delay`` apart
    (a trickled body).

    In-stream errors as the openai SDK sees them: Chat Completions sends
    ``data: {"error": {…}}``, which raises ``openai.APIError``; Responses sends an ``error``
    event then ``response.failed``, which the SDK yields without raising (the
    ``responses.stream()`` helper's ``get_final_response()`` raises ``RuntimeError``).

    Reasoning: ``reasoning`` is the model's reasoning text (``""``: it reasoned but shows
    none), sent before the answer in each provider's own shape (Anthropic ``thinking``
    block, Responses ``reasoning`` item, Chat ``reasoning_content``, Gemini ``thought``
    parts, Ollama ``message.thinking``). ``reasoning_signature`` signs it (Anthropic
    ``signature``, Gemini ``thoughtSignature``); when not given, a random base64 one is made
    here, so a test can read it back. ``redacted_reasoning`` adds an Anthropic
    ``redacted_thinking`` block with that ``data`` (other formats have none);
    ``encrypted_reasoning`` makes the Responses ``reasoning`` item carry
    ``encrypted_content``, as a request's ``include: ["reasoning.encrypted_content"]``
    also does.

    Usage is scripted in alloy's portable counting: ``input_tokens`` includes the cache
    reads (``cached_tokens``) and writes (``cache_write_tokens``), ``output_tokens`` includes
    ``reasoning_tokens``. Each format converts to the provider's own: Anthropic's
    ``input_tokens`` leaves reads and writes out, Gemini's ``candidatesTokenCount`` leaves
    the thoughts out.
    """

    text: str | None = None
    json: Any = None
    tool_calls: Sequence[ToolCall] = ()
    refusal: str | None = None
    reasoning: str | None = None
    reasoning_signature: str | None = None
    redacted_reasoning: str | None = None
    encrypted_reasoning: bool = False
    finish_reason: str | None = None
    input_tokens: int = 10
    output_tokens: int = 5
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    model: str | None = None
    headers: Mapping[str, str] = field(default_factory=dict[str, str])
    delay: float = 0.0
    chunk_chars: int = 8
    chunk_delay: float = 0.0
    truncate_after: int | None = None
    abort_after: int | None = None
    malformed_after: int | None = None
    error_after: int | None = None
    stall_after: int | None = None
    stall: float = 0.0

    def __post_init__(self) -> None:
        if self.text is not None and self.json is not None:
            raise ValueError("Reply takes text= or json=, not both")
        object.__setattr__(self, "tool_calls", tuple(self.tool_calls))
        if self.reasoning is not None and self.reasoning_signature is None:
            object.__setattr__(self, "reasoning_signature", new_signature())

    @property
    def content(self) -> str | None:
        """The text channel: ``text``, or ``json`` serialised."""
        if self.json is not None:
            return _json.dumps(self.json)
        return self.text


@dataclass(frozen=True)
class Fault:
    """A failure instead of an answer.

    ``body=None`` sends the provider's own error envelope carrying ``message``; a dict is sent
    as JSON and a string raw. ``reset`` closes the connection with a TCP RST before any
    response, ``malformed`` answers 200 with a body that is not JSON, ``hang`` never answers
    (until the client goes away or the emulator stops) and ``html`` sends a proxy-style HTML
    error page (pair it with ``status=502``). ``headers`` such as ``retry-after-ms`` are sent
    with every kind of HTTP answer.
    """

    status: int = 500
    headers: Mapping[str, str] = field(default_factory=dict[str, str])
    body: Any = None
    message: str = "emulated failure"
    delay: float = 0.0
    reset: bool = False
    malformed: bool = False
    hang: bool = False
    html: bool = False


@dataclass(frozen=True)
class Verbatim:
    """A recorded HTTP answer served byte for byte (see ``Emulator.replay``).

    When ``method``/``path`` are set the request must match them, ignoring the query string
    and the API version segment (``/v1beta/…`` matches ``/v1/…``); otherwise any request
    takes it.

    ``chunk_sizes`` (byte counts adding up to the body's length) sends the body as that many
    HTTP chunks, each flushed on its own, with no ``content-length``: the chunk boundaries a
    proxy recording kept. None sends it whole, with a ``content-length``. A ``str`` body that
    holds surrogate escapes (a non-UTF-8 recording) goes out as the bytes they stand for.
    """

    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict[str, str])
    body: str | bytes = b""
    method: str | None = None
    path: str | None = None
    chunk_sizes: Sequence[int] | None = None

    def __post_init__(self) -> None:
        if self.chunk_sizes is None:
            return
        # Typed as ints, but control-plane JSON may send anything.
        sizes = tuple(self.chunk_sizes)
        valid = all(type(n) is int and n > 0 for n in sizes)
        if not valid or sum(sizes) != len(self.body_bytes):
            raise ValueError(
                f"chunk_sizes must be positive byte counts adding up to the body's "
                f"{len(self.body_bytes)} bytes, not {list(sizes)!r}"
            )
        object.__setattr__(self, "chunk_sizes", sizes)

    @property
    def body_bytes(self) -> bytes:
        """The body as sent."""
        if isinstance(self.body, str):
            return self.body.encode("utf-8", "surrogateescape")
        return self.body

    def chunks(self) -> list[bytes]:
        """The body cut at ``chunk_sizes`` (one piece when it is None)."""
        body = self.body_bytes
        if self.chunk_sizes is None:
            return [body]
        pieces: list[bytes] = []
        start = 0
        for size in self.chunk_sizes:
            pieces.append(body[start : start + size])
            start += size
        return pieces


Item = Reply | Fault | Verbatim
"""Anything that can be queued."""


def item_to_json(item: Item) -> dict[str, Any]:
    """Encode an item for the control plane (``{"kind": …, fields…}``)."""
    if isinstance(item, Reply):
        data: dict[str, Any] = {"kind": "reply"}
        for name in Reply.__dataclass_fields__:
            value = getattr(item, name)
            if name == "tool_calls":
                value = [
                    {
                        "name": call.name,
                        "arguments": (
                            call.arguments
                            if isinstance(call.arguments, str)
                            else dict(call.arguments)
                        ),
                        "id": call.id,
                    }
                    for call in item.tool_calls
                ]
            elif name == "headers":
                value = dict(value)
            data[name] = value
        return data
    if isinstance(item, Fault):
        data = {"kind": "fault"}
        data.update({name: getattr(item, name) for name in Fault.__dataclass_fields__})
        data["headers"] = dict(item.headers)
        return data
    raw = item.body_bytes
    try:
        body: dict[str, str] = {"body": raw.decode("utf-8")}
    except UnicodeDecodeError:
        body = {"body_base64": base64.b64encode(raw).decode("ascii")}
    return {
        "kind": "verbatim",
        "status": item.status,
        "headers": dict(item.headers),
        **body,
        "method": item.method,
        "path": item.path,
        "chunk_sizes": None if item.chunk_sizes is None else list(item.chunk_sizes),
    }


def item_from_json(data: Mapping[str, Any]) -> Item:
    """Decode a control-plane item; raises ``ValueError`` or ``TypeError`` when invalid."""
    fields = dict(data)
    kind = fields.pop("kind", None)
    if kind == "reply":
        calls: list[Mapping[str, Any]] = fields.pop("tool_calls", None) or []
        tool_calls = [ToolCall(**call) for call in calls]
        return Reply(tool_calls=tool_calls, **fields)
    if kind == "fault":
        return Fault(**fields)
    if kind == "verbatim":
        encoded = fields.pop("body_base64", None)
        if encoded is not None:
            fields["body"] = base64.b64decode(str(encoded), validate=True)
        return Verbatim(**fields)
    raise ValueError(f"unknown item kind {kind!r} (expected reply, fault or verbatim)")
