"""What the emulator saw (``RecordedRequest``) and what real providers sent (``Recording``)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields
from pathlib import Path
from typing import Any

from ._items import Item
from ._items import Verbatim
from ._items import item_from_json
from ._items import item_to_json
from ._multipart import FormPart
from ._multipart import MultipartError
from ._multipart import is_multipart
from ._multipart import parse_form

__all__ = [
    "Interaction",
    "RecordedRequest",
    "Recording",
    "load_recording",
    "request_from_json",
    "request_to_json",
]


@dataclass(repr=False)
class RecordedRequest:
    """One request as the emulator received it, and how it was answered.

    Times are ``time.monotonic()`` seconds. ``attempt`` comes from the SDK's
    ``x-stainless-retry-count`` header (0 on the first try) when present. ``disconnected`` is
    True when the client went away before the response was complete. ``item`` is the script
    item used, or None (unknown path, replay mismatch, nothing scripted in strict mode, a
    Files API request, a request over the size limit). ``status`` is the HTTP status sent,
    or None when none was (reset, hang).

    A ``multipart/form-data`` body is also parsed into ``form`` (empty otherwise). Uploads
    are never printed: the repr shows the body, and every file part, as its size and
    SHA-256; ``body`` and ``FormPart.data`` keep the bytes for assertions. ``json`` is None
    for an upload's bytes even when the file itself is JSON.

    Credentials are never kept: the ``authorization``, ``x-api-key`` and ``x-goog-api-key``
    headers and a ``key=`` query parameter are recorded as ``***`` (``Bearer ***``), and
    ``carries_key(key)`` tells whether the request sent a given key, from digests.
    """

    provider: str
    scenario: str
    method: str
    path: str
    query: str
    headers: dict[str, str]
    body: bytes
    json: Any
    stream: bool
    attempt: int | None
    arrived_at: float
    first_byte_at: float | None = None
    finished_at: float | None = None
    disconnected: bool = False
    item: Item | None = None
    status: int | None = field(default=None)
    key_digests: frozenset[str] = field(default=frozenset[str](), repr=False)
    form: tuple[FormPart, ...] = ()

    def carries_key(self, key: str) -> bool:
        """Whether this request sent ``key`` (in a credential header or ``key=``)."""
        return _digest(key) in self.key_digests

    def form_field(self, name: str) -> FormPart | None:
        """The first form part called ``name``, if the body had one."""
        return next((part for part in self.form if part.name == name), None)

    def __repr__(self) -> str:
        shown: list[str] = []
        for item in fields(self):
            if item.repr:
                name = item.name
                text = body_summary(self.body) if name == "body" else repr(getattr(self, name))
                shown.append(f"{name}={text}")
        return f"{type(self).__name__}({', '.join(shown)})"


def body_summary(body: bytes) -> str:
    """How a body appears in reprs: its size and SHA-256, never its bytes."""
    return f"<{len(body)} bytes sha256={hashlib.sha256(body).hexdigest()}>"


def form_of(headers: Mapping[str, str], body: bytes) -> tuple[FormPart, ...]:
    """The parsed parts of a ``multipart/form-data`` body; empty for any other body, or a
    malformed one (the endpoint that reads the form answers that with its own error)."""
    content_type = headers.get("content-type", "")
    if not is_multipart(content_type):
        return ()
    try:
        return parse_form(body, content_type)
    except MultipartError:
        return ()


_CREDENTIAL_HEADERS = frozenset(
    {"authorization", "proxy-authorization", "x-api-key", "x-goog-api-key"}
)
_KEY_QUERY = re.compile(r"(?<![^&?])(key|api_key|access_token)=([^&]*)", re.IGNORECASE)


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def masked(headers: Mapping[str, str], query: str) -> tuple[dict[str, str], str, frozenset[str]]:
    """``(headers, query, digests)`` with every credential replaced by ``***`` and only the
    digests of the credentials kept."""
    digests: set[str] = set()
    shown: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in _CREDENTIAL_HEADERS:
            scheme, sep, token = value.partition(" ")
            schemed = bool(sep) and scheme.lower() in ("bearer", "basic", "token")
            digests.add(_digest(token if schemed else value))
            shown[name] = f"{scheme} ***" if schemed else "***"
        else:
            shown[name] = value

    def hide(match: re.Match[str]) -> str:
        digests.add(_digest(urllib.parse.unquote(match.group(2))))
        return f"{match.group(1)}=***"

    return shown, _KEY_QUERY.sub(hide, query), frozenset(digests)


def request_to_json(request: RecordedRequest) -> dict[str, Any]:
    """Encode for the control plane; a body that is not UTF-8 (an upload) travels as
    ``body_base64``, so the bytes arrive intact."""
    try:
        body: dict[str, str] = {"body": request.body.decode("utf-8")}
    except UnicodeDecodeError:
        body = {"body_base64": base64.b64encode(request.body).decode("ascii")}
    return {
        "provider": request.provider,
        "scenario": request.scenario,
        "method": request.method,
        "path": request.path,
        "query": request.query,
        "headers": request.headers,
        **body,
        "json": request.json,
        "stream": request.stream,
        "attempt": request.attempt,
        "arrived_at": request.arrived_at,
        "first_byte_at": request.first_byte_at,
        "finished_at": request.finished_at,
        "disconnected": request.disconnected,
        "item": None if request.item is None else item_to_json(request.item),
        "status": request.status,
        "key_digests": sorted(request.key_digests),
    }


def request_from_json(data: Mapping[str, Any]) -> RecordedRequest:
    """Inverse of ``request_to_json``."""
    values = dict(data)
    encoded = values.pop("body_base64", None)
    try:
        body = (
            base64.b64decode(str(encoded), validate=True)
            if encoded is not None
            else str(values.pop("body")).encode()
        )
    except binascii.Error as exc:
        raise ValueError(f"body_base64 is not base64: {exc}") from None
    values.pop("body", None)
    values["key_digests"] = frozenset(values.get("key_digests") or ())
    headers: dict[str, str] = dict(values.pop("headers"))
    item = values.pop("item", None)
    return RecordedRequest(
        headers=headers,
        body=body,
        form=form_of(headers, body),
        item=None if item is None else item_from_json(item),
        **values,
    )


# Framing and the date are the replaying server's own, whatever the recorded server sent.
_SERVERS_OWN = frozenset(
    {"content-length", "transfer-encoding", "connection", "keep-alive", "date"}
)


@dataclass(frozen=True)
class Interaction:
    """One recorded request/response pair.

    ``body`` is the response body as text; a body that was not UTF-8 (recorded as
    ``body_base64``) holds surrogate escapes, and ``body_bytes`` gives its bytes back.
    ``chunk_sizes`` are the byte counts of the chunks the body arrived in, when the
    recording kept them (a proxy recording of a chunked answer), else None.
    """

    method: str
    path: str
    request_headers: Mapping[str, str]
    request_body: Any
    status: int
    headers: Mapping[str, str]
    body: str
    chunk_sizes: tuple[int, ...] | None = None

    @property
    def body_bytes(self) -> bytes:
        """The response body as it was received."""
        return self.body.encode("utf-8", "surrogateescape")

    def item(self) -> Verbatim:
        """The response as a script item bound to this request's method and path: its
        status, its headers (but framing and ``date``; ``content-type`` defaults to JSON),
        its body, in its recorded chunks when there are any."""
        headers = {k: v for k, v in self.headers.items() if k not in _SERVERS_OWN}
        headers.setdefault("content-type", "application/json")
        return Verbatim(
            status=self.status,
            headers=headers,
            body=self.body,
            method=self.method,
            path=self.path,
            chunk_sizes=self.chunk_sizes,
        )


@dataclass(frozen=True)
class Recording:
    """One file of recorded provider traffic (see ``/work/shared/recorded/README.md``)."""

    provider: str
    scenario: str
    mode: str
    description: str
    interactions: tuple[Interaction, ...]
    expect: Mapping[str, Any]
    source: Mapping[str, Any]
    path: Path | None = None

    def items(self) -> list[Verbatim]:
        """The responses, in order, ready to be enqueued."""
        return [interaction.item() for interaction in self.interactions]

    @property
    def last_request(self) -> Interaction:
        """The interaction that ``expect`` describes."""
        return self.interactions[-1]


def load_recording(path: str | Path) -> Recording:
    """Read one recording file: the corpus format of ``shared/recorded/README.md``, where a
    response may also carry ``body_base64`` (instead of ``body``) and ``chunk_sizes``, as
    the emulator's proxy writes them. A malformed file raises ``ValueError``, ``KeyError``
    or ``TypeError``."""
    file = Path(path)
    data = json.loads(file.read_text(encoding="utf-8"))
    interactions = tuple(_interaction(raw) for raw in data["interactions"])
    return Recording(
        provider=str(data["provider"]),
        scenario=str(data["scenario"]),
        mode=str(data["mode"]),
        description=str(data.get("description", "")),
        interactions=interactions,
        expect=dict(data.get("expect") or {}),
        source=dict(data.get("source") or {}),
        path=file,
    )


def _interaction(raw: Mapping[str, Any]) -> Interaction:
    request, response = raw["request"], raw["response"]
    encoded = response.get("body_base64")
    if encoded is not None:
        try:
            data = base64.b64decode(str(encoded), validate=True)
        except binascii.Error as exc:
            raise ValueError(f"body_base64 is not base64: {exc}") from None
        body = data.decode("utf-8", "surrogateescape")
    else:
        body = str(response["body"])
    sizes = response.get("chunk_sizes")
    interaction = Interaction(
        method=str(request["method"]).upper(),
        path=str(request["path"]),
        request_headers=dict(request.get("headers") or {}),
        request_body=request.get("body"),
        status=int(response["status"]),
        headers={str(k).lower(): str(v) for k, v in response["headers"].items()},
        body=body,
        chunk_sizes=None if sizes is None else tuple(int(n) for n in sizes),
    )
    interaction.item()  # checks that the chunk sizes fit the body
    return interaction
