"""Proxy recordings: the exchanges the proxy relayed, kept in a recording file.

The file is in the format ``load_recording`` reads (``shared/recorded/README.md``), with two
additions to a response: ``chunk_sizes``, the byte counts of the chunks a chunked body came
in, and ``body_base64`` in place of ``body`` for a body that is not UTF-8. Every exchange
is in the file before its response ends, in the order the requests arrived: the whole file
is written to a temporary file beside it and renamed over it, so whatever happens to the
process, the file is a complete recording of the exchanges finished so far.
"""

from __future__ import annotations

import asyncio
import base64
import email.utils
import json
import os
import tempfile
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ._record import body_summary
from ._scrub import Secrets
from ._scrub import mask_pieces
from ._scrub import scrub_headers
from ._scrub import scrub_query

__all__ = ["HOP_BY_HOP", "Captured", "Recorder", "interaction_json"]

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
"""Headers that describe one connection, not the message (RFC 9110 §7.6.1)."""
_REQUEST_DROP = HOP_BY_HOP | {"host", "content-length", "expect"}
_RESPONSE_DROP = HOP_BY_HOP | {"content-length"}


@dataclass(frozen=True)
class Captured:
    """One relayed exchange as the proxy saw it, credentials still in.

    ``path`` is the path below the provider prefix (what a replay matches), ``provider``
    the wire format of a model call (``""`` for any other endpoint), ``pieces`` the body
    as it arrived, and ``chunked`` whether its boundaries are worth keeping (a chunked or
    read-to-the-end body; a ``content-length`` body is replayed whole).
    """

    method: str
    path: str
    query: str
    request_headers: Sequence[tuple[str, str]]
    request_body: bytes
    provider: str
    stream: bool
    status: int
    response_headers: Sequence[tuple[str, str]]
    pieces: Sequence[bytes]
    chunked: bool


def interaction_json(captured: Captured) -> dict[str, Any]:
    """The exchange as a recording's interaction, without a credential in it."""
    secrets = Secrets()
    query = scrub_query(captured.query, secrets)
    request_headers = scrub_headers(captured.request_headers, secrets, drop=_REQUEST_DROP)
    response_headers = scrub_headers(captured.response_headers, secrets, drop=_RESPONSE_DROP)
    path = captured.path + (f"?{query}" if query else "")
    request: dict[str, Any] = {
        "method": captured.method,
        "path": secrets.mask_text(path),
        "headers": {name: secrets.mask_text(v) for name, v in request_headers.items()},
    }
    request_body = secrets.mask(captured.request_body)
    request["body"] = _parsed(request_body)
    if request["body"] is None and request_body:
        # Not JSON (an upload, say): only its size and digest, as the request log shows it.
        request["body_summary"] = body_summary(request_body)
    pieces = mask_pieces(captured.pieces, secrets)
    body = b"".join(pieces)
    response: dict[str, Any] = {
        "status": captured.status,
        "headers": {name: secrets.mask_text(v) for name, v in response_headers.items()},
    }
    try:
        response["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        response["body_base64"] = base64.b64encode(body).decode("ascii")
    if captured.chunked:
        response["chunk_sizes"] = [len(piece) for piece in pieces]
    return {"request": request, "response": response}


@dataclass(frozen=True)
class _Entry:
    interaction: dict[str, Any]
    provider: str
    stream: bool
    recorded_at: str


class Recorder:
    """The recording file of one proxy session, rewritten as each exchange finishes.

    ``reserve()`` gives a request its place when it arrives; ``add()`` fills it. Places
    never filled (upstream failures, which are not recorded) leave no gap.
    """

    def __init__(self, path: str | os.PathLike[str], upstream: str) -> None:
        self.path = Path(path)
        self._upstream = upstream
        self._lock = threading.Lock()
        self._write_lock = threading.Lock()
        self._next = 0
        self._entries: dict[int, _Entry] = {}

    def start(self) -> None:
        """Write the empty recording now, so an unwritable path fails before serving."""
        with self._lock:
            self._next = 0
            self._entries.clear()
        self.write()

    def reserve(self) -> int:
        with self._lock:
            self._next += 1
            return self._next

    async def add(self, slot: int, captured: Captured) -> None:
        """Keep the exchange in the place reserved for it, and rewrite the file."""
        interaction = interaction_json(captured)
        date = interaction["response"]["headers"].get("date")
        entry = _Entry(
            interaction,
            captured.provider,
            captured.stream,
            date or email.utils.formatdate(usegmt=True),
        )
        with self._lock:
            self._entries[slot] = entry
        await asyncio.to_thread(self.write)

    def write(self) -> None:
        """Replace the file with the recording of every exchange kept so far."""
        with self._write_lock:
            with self._lock:
                entries = [self._entries[slot] for slot in sorted(self._entries)]
            document = self._document(entries)
            try:
                text = json.dumps(document, indent=2, ensure_ascii=False).encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate escaped in a request's JSON
                text = json.dumps(document, indent=2).encode("ascii")
            _replace(self.path, text + b"\n")

    def _document(self, entries: list[_Entry]) -> dict[str, Any]:
        providers = [entry.provider for entry in entries if entry.provider]
        last = entries[-1] if entries else None
        source: dict[str, Any] = {"upstream": self._upstream}
        if last is not None:
            agent = last.interaction["request"]["headers"].get("user-agent")
            if agent is not None:
                source["recorded_with"] = agent
            source["recorded_at"] = last.recorded_at
        return {
            "provider": providers[0] if providers else "unknown",
            "scenario": self.path.stem,
            "mode": "stream" if any(entry.stream for entry in entries) else "sync",
            "description": f"Traffic recorded through the emulator's proxy to {self._upstream}.",
            "source": source,
            "interactions": [entry.interaction for entry in entries],
        }


def _parsed(body: bytes) -> Any:
    """The body as JSON, or None: not JSON, or nested too deep to be written back out."""
    if not body:
        return None
    try:
        value = json.loads(body)
        json.dumps(value, indent=2)
    except (ValueError, RecursionError):
        return None
    return value


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` all at once: a temporary file beside it, renamed over it."""
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
