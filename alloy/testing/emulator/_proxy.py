"""Proxy mode: every request forwarded to the upstream, its answer relayed as it arrives.

The path below the emulator's own prefixes (``/_s/{scenario}``, ``/openai`` and the like)
is appended to the upstream URL's path, with the query as sent, the body, and every header
but the hop-by-hop ones and ``host``; ``accept-encoding`` becomes ``identity``, so that what
is relayed, and recorded, is the body itself. The answer goes back piece by piece, each
piece flushed as its own chunk, so a server-sent event stream stays live.

When the upstream cannot be reached, or gives no answer in time, the client gets a 502 in
the provider's error envelope saying what happened; if the upstream breaks off once its
answer has started, the client's connection is reset. Neither is recorded: a replay then
has the successful retry only. An answer the client leaves, or the emulator stops, in the
middle is recorded as far as it came.
"""

from __future__ import annotations

import logging
import os
import ssl
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass

from ._exchange import Exchange
from ._exchange import Gone
from ._recorder import HOP_BY_HOP
from ._recorder import Captured
from ._recorder import Recorder
from ._upstream import Upstream
from ._upstream import UpstreamError
from ._upstream import UpstreamResponse
from ._upstream import send_request
from .wire import WireFormat
from .wire._base import dumps

__all__ = ["Outgoing", "Proxy", "target_path"]

_LOG = logging.getLogger(__name__)
_NOT_FORWARDED = HOP_BY_HOP | {"host", "content-length", "accept-encoding", "expect"}
_NOT_RELAYED = HOP_BY_HOP | {"content-length"}


@dataclass(frozen=True)
class Outgoing:
    """A request to forward, as the client sent it: credentials in, since the upstream
    needs them (they are kept out of the recording, not out of the request).

    ``target`` is the path below the emulator's prefixes as sent (percent-encoding kept),
    ``path`` the same decoded (what a replay matches).
    """

    method: str
    target: str
    path: str
    query: str
    headers: Sequence[tuple[str, str]]
    body: bytes
    provider: str
    stream: bool


class Proxy:
    """Forwards to ``url``; with ``record``, keeps each exchange in that file."""

    def __init__(
        self, url: str, *, timeout: float, record: str | os.PathLike[str] | None = None
    ) -> None:
        if not timeout > 0:
            raise ValueError(f"the upstream timeout must be positive, not {timeout!r}")
        self.upstream = Upstream.parse(url)
        self.timeout = timeout
        self.recorder = None if record is None else Recorder(record, self.upstream.url)
        self._tls = ssl.create_default_context() if self.upstream.scheme == "https" else None

    async def forward(self, exchange: Exchange, outgoing: Outgoing, wire: WireFormat) -> None:
        slot = self.recorder.reserve() if self.recorder is not None else 0
        exchange.watch()
        query = f"?{outgoing.query}" if outgoing.query else ""
        step = send_request(
            self.upstream,
            outgoing.method,
            self.upstream.base_path + outgoing.target + query,
            _without(outgoing.headers, _NOT_FORWARDED),
            outgoing.body,
            timeout=self.timeout,
            tls=self._tls,
        )
        try:
            response = await exchange.until_gone(step)
        except Gone:
            await exchange.abandon()
            return
        except UpstreamError as exc:
            body = dumps(wire.error_body(502, f"emulator proxy: {exc}")).encode()
            await exchange.respond(502, [("content-type", "application/json")], body)
            return
        try:
            await self._relay(exchange, outgoing, response, slot)
        finally:
            response.close()

    async def _relay(
        self, exchange: Exchange, outgoing: Outgoing, response: UpstreamResponse, slot: int
    ) -> None:
        headers = _without(response.headers, _NOT_RELAYED)
        if response.framing == "length":
            headers.append(("content-length", str(response.length)))
        await exchange.start(response.status, headers)
        pieces: list[bytes] = []
        last = b""
        while True:
            try:
                piece = await exchange.until_gone(response.next_piece())
            except Gone:
                await self._keep(slot, outgoing, response, pieces)
                await exchange.abandon()
                return
            except UpstreamError:
                await exchange.reset()
                return
            if piece is None:
                break
            if self.recorder is not None:
                pieces.append(piece)
            if response.finished:
                # The client holds the whole answer with this piece: record it first, so
                # that once a call returns, its exchange is in the file.
                last = piece
                break
            await exchange.body(piece, more=True)
        await self._keep(slot, outgoing, response, pieces)
        await exchange.body(last, more=False)

    async def _keep(
        self, slot: int, outgoing: Outgoing, response: UpstreamResponse, pieces: list[bytes]
    ) -> None:
        if self.recorder is None:
            return
        captured = Captured(
            method=outgoing.method,
            path=outgoing.path,
            query=outgoing.query,
            request_headers=outgoing.headers,
            request_body=outgoing.body,
            provider=outgoing.provider,
            stream=outgoing.stream,
            status=response.status,
            response_headers=response.headers,
            pieces=pieces,
            chunked=response.framing in ("chunked", "close"),
        )
        try:
            await self.recorder.add(slot, captured)
        except OSError as exc:  # the exchange itself went well: relay it all the same
            _LOG.error("emulator proxy: cannot record to %s: %s", self.recorder.path, exc)


def target_path(raw_path: str, path: str, api_path: str) -> str:
    """The part of the request path below the emulator's prefixes, as the client sent it
    (``raw_path``, still percent-encoded); ``path`` is it decoded, ``api_path`` its part
    below the prefixes."""
    if not path.endswith(api_path):
        return "/"  # a bare prefix, such as /openai
    prefix = path[: len(path) - len(api_path)]
    below = raw_path[len(prefix) :]
    if raw_path.startswith(prefix) and urllib.parse.unquote(below) == api_path:
        return below
    return urllib.parse.quote(api_path, safe="/:@!$&'()*+,;=~")


def _without(headers: Sequence[tuple[str, str]], names: frozenset[str]) -> list[tuple[str, str]]:
    """``headers`` without ``names`` and without those the ``connection`` header lists."""
    listed = {
        token.strip().lower()
        for name, value in headers
        if name.lower() == "connection"
        for token in value.split(",")
    }
    return [(n, v) for n, v in headers if n.lower() not in names and n.lower() not in listed]
