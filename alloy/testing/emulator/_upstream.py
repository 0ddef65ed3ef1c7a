"""The proxy's way to the real provider: a small HTTP/1.1 client on asyncio streams.

Standard library only. Each request has its own connection (``connection: close``), so there
is no pool to keep. The body comes back in the pieces the upstream framed it in: one per
chunk of a chunked body (however TCP cut it), one per read of any other body. Those are the
pieces the proxy relays and records, so a replay can send the same chunks.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import urllib.parse
from collections.abc import Awaitable
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

__all__ = ["Upstream", "UpstreamError", "UpstreamResponse", "send_request"]

T = TypeVar("T")

_READ = 65536
_MAX_HEADERS = 256
_BROKEN = (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError)


class UpstreamError(Exception):
    """No usable answer from the upstream. The message says what went wrong; it is built
    from the upstream's address and the error only, never from a request header."""


@dataclass(frozen=True)
class Upstream:
    """Where the proxy forwards to: a scheme, host and port, and a base path that every
    forwarded path is appended to."""

    scheme: str
    host: str
    port: int
    base_path: str

    @classmethod
    def parse(cls, url: str) -> Upstream:
        """``https://api.openai.com`` and the like; ``ValueError`` for anything else."""
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the upstream must be an http:// or https:// URL, not {url!r}")
        if parts.username is not None or parts.password is not None:
            raise ValueError("the upstream URL must not carry credentials")
        if parts.query or parts.fragment:
            raise ValueError("the upstream URL must not have a query or a fragment")
        default = 443 if parts.scheme == "https" else 80
        return cls(parts.scheme, parts.hostname, parts.port or default, parts.path.rstrip("/"))

    @property
    def netloc(self) -> str:
        """``host[:port]`` as a Host header says it (the port only when not the default)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.netloc}{self.base_path}"


class UpstreamResponse:
    """A response whose head has been read; ``next_piece()`` reads the body."""

    def __init__(
        self,
        status: int,
        headers: list[tuple[str, str]],
        framing: str,
        length: int | None,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        timeout: float,
        origin: str,
    ) -> None:
        self.status = status
        self.headers = headers
        self.framing = framing
        """``chunked``, ``length`` (a content-length), ``close`` (read to the end) or
        ``none`` (no body, as for a 204)."""
        self.length = length
        self._left = length or 0
        self._reader = reader
        self._writer = writer
        self._timeout = timeout
        self._origin = origin
        self._done = framing == "none" or (framing == "length" and not length)

    @property
    def finished(self) -> bool:
        """Whether the whole body has been read."""
        return self._done

    async def next_piece(self) -> bytes | None:
        """The next piece of the body, or None at its end; ``UpstreamError`` when the body
        breaks off, is malformed, or nothing arrives for the timeout."""
        if self._done:
            return None
        try:
            piece = await self._read_piece()
        except asyncio.IncompleteReadError:
            raise UpstreamError(f"{self._origin} broke off the body of its answer") from None
        except (ValueError, asyncio.LimitOverrunError) as exc:
            raise UpstreamError(f"{self._origin} sent a malformed body: {exc}") from None
        except OSError as exc:
            raise UpstreamError(f"the connection to {self._origin} broke: {exc}") from None
        if piece is None:
            self._done = True
        return piece

    async def _read_piece(self) -> bytes | None:
        if self.framing == "chunked":
            line = await self._timed(self._reader.readuntil(b"\n"))
            size = int(line.split(b";", 1)[0].strip(), 16)
            if size < 0:
                raise ValueError("negative chunk size")
            if size == 0:
                while (await self._timed(self._reader.readuntil(b"\n"))).strip():
                    pass  # trailers: nothing of them is kept
                return None
            data = await self._timed(self._reader.readexactly(size))
            if await self._timed(self._reader.readexactly(2)) != b"\r\n":
                raise ValueError("a chunk does not end with CRLF")
            return data
        want = min(self._left, _READ) if self.framing == "length" else _READ
        data = await self._timed(self._reader.read(want))
        if self.framing == "length":
            if not data:
                raise asyncio.IncompleteReadError(b"", self._left)
            self._left -= len(data)
            self._done = self._left == 0
        return data or None

    async def _timed(self, step: Awaitable[T]) -> T:
        try:
            return await asyncio.wait_for(step, self._timeout)
        except asyncio.TimeoutError:
            raise UpstreamError(
                f"{self._origin} sent nothing for {self._timeout:g} s in the middle of its answer"
            ) from None

    def close(self) -> None:
        self._writer.close()


async def send_request(
    upstream: Upstream,
    method: str,
    target: str,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    *,
    timeout: float,
    tls: ssl.SSLContext | None,
) -> UpstreamResponse:
    """Connect, send the request and read the response head. ``timeout`` bounds the
    connection (TLS included), the wait for the head, and later each read of the body."""
    origin = f"{upstream.host}:{upstream.port}"
    reader, writer = await _connect(upstream, origin, timeout, tls)
    lines = [f"{method} {target} HTTP/1.1", f"host: {upstream.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers]
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"content-length: {len(body)}")
    lines += ["accept-encoding: identity", "connection: close", "", ""]
    try:
        writer.write("\r\n".join(lines).encode("latin-1") + body)
        await asyncio.wait_for(writer.drain(), timeout)
        status, response_headers = await asyncio.wait_for(_read_head(reader, origin), timeout)
        framing, length = _framing(method, status, response_headers, origin)
    except BaseException as exc:  # the connection is not handed on: close it, whatever came
        writer.close()
        if isinstance(exc, asyncio.TimeoutError):
            raise UpstreamError(f"{origin} did not answer within {timeout:g} s") from None
        if isinstance(exc, _BROKEN):
            raise UpstreamError(f"{origin} did not answer: {_reason(exc)}") from None
        raise
    return UpstreamResponse(
        status, response_headers, framing, length, reader, writer, timeout, origin
    )


async def _connect(
    upstream: Upstream, origin: str, timeout: float, tls: ssl.SSLContext | None
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    try:
        return await asyncio.wait_for(
            asyncio.open_connection(
                upstream.host,
                upstream.port,
                ssl=tls,
                server_hostname=upstream.host if tls is not None else None,
            ),
            timeout,
        )
    except asyncio.TimeoutError:
        raise UpstreamError(f"connecting to {origin} timed out after {timeout:g} s") from None
    except ssl.SSLError as exc:  # before OSError: SSLError is one
        raise UpstreamError(f"the TLS handshake with {origin} failed: {_reason(exc)}") from None
    except socket.gaierror as exc:
        raise UpstreamError(f"cannot resolve {upstream.host}: {_reason(exc)}") from None
    except ConnectionRefusedError:
        raise UpstreamError(f"cannot connect to {origin}: connection refused") from None
    except OSError as exc:
        raise UpstreamError(f"cannot connect to {origin}: {_reason(exc)}") from None


async def _read_head(
    reader: asyncio.StreamReader, origin: str
) -> tuple[int, list[tuple[str, str]]]:
    """The status and headers of the final response (interim 1xx answers are skipped)."""
    while True:
        line = await reader.readline()
        if not line:
            raise UpstreamError(f"{origin} closed the connection without answering")
        version, _, rest = line.decode("latin-1").rstrip("\r\n").partition(" ")
        code = rest[:3]
        if not version.startswith("HTTP/1.") or len(code) != 3 or not code.isdigit():
            raise UpstreamError(f"{origin} did not answer in HTTP/1.x: {line[:80]!r}")
        status = int(code)
        headers: list[tuple[str, str]] = []
        while (header := (await reader.readline()).decode("latin-1").rstrip("\r\n")) != "":
            name, sep, value = header.partition(":")
            if not sep or not name or name != name.strip() or len(headers) >= _MAX_HEADERS:
                raise UpstreamError(f"{origin} sent a malformed header: {header[:80]!r}")
            headers.append((name.lower(), value.strip()))
        if status == 101:
            raise UpstreamError(f"{origin} switched protocols, which the proxy cannot relay")
        if status >= 200:
            return status, headers


def _framing(
    method: str, status: int, headers: list[tuple[str, str]], origin: str
) -> tuple[str, int | None]:
    """How the body is delimited (RFC 9112 §6.3), and its length when it has one."""
    if method == "HEAD" or status in (204, 304):
        return "none", None
    codings = [
        coding.strip().lower()
        for name, value in headers
        if name == "transfer-encoding"
        for coding in value.split(",")
    ]
    if codings:
        return ("chunked" if codings[-1] == "chunked" else "close"), None
    lengths = {value.strip() for name, value in headers if name == "content-length"}
    if not lengths:
        return "close", None
    if len(lengths) != 1 or not next(iter(lengths)).isdigit():
        raise UpstreamError(f"{origin} sent a malformed content-length: {sorted(lengths)!r}")
    return "length", int(next(iter(lengths)))


def _reason(exc: BaseException) -> str:
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None)
    return str(reason or exc or type(exc).__name__)
