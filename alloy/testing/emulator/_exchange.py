"""Per-request ASGI I/O: sending, interruptible pauses, disconnect detection, TCP resets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import struct
import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import MutableMapping
from typing import Any
from typing import TypeVar

from ._record import RecordedRequest

__all__ = ["DeliberateAbort", "Exchange", "Gone", "Receive", "Scope", "Send", "quiet_uvicorn"]

T = TypeVar("T")

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class DeliberateAbort(Exception):
    """Raised to make uvicorn drop a connection when the RST trick is unavailable."""


class Gone(Exception):
    """The client left, or the server is stopping, before an awaited step finished."""


class _QuietFaults(logging.Filter):
    """Drops uvicorn's complaints about responses the emulator breaks on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], DeliberateAbort):
            return False
        return not str(record.msg).startswith("ASGI callable returned without")


_FILTER = _QuietFaults()


def quiet_uvicorn() -> None:
    """Install the log filter once per process."""
    logger = logging.getLogger("uvicorn.error")
    if _FILTER not in logger.filters:
        logger.addFilter(_FILTER)


def _consume(task: asyncio.Future[Any]) -> None:
    """Retrieve a cancelled step's outcome, so asyncio does not log it as never retrieved."""
    if not task.cancelled():
        task.exception()


def encode_headers(headers: Iterable[tuple[str, str]]) -> list[tuple[bytes, bytes]]:
    return [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers]


class Exchange:
    """The response side of one request.

    ``stopping`` resolves when the emulator shuts down; pauses end early then (and when the
    client disconnects) so that hung or slow answers never hold up ``Emulator.stop()``.
    """

    def __init__(
        self,
        receive: Receive,
        send: Send,
        record: RecordedRequest,
        stopping: asyncio.Future[None],
    ) -> None:
        self._receive = receive
        self._send = send
        self.record = record
        self._stopping = stopping
        self._watcher: asyncio.Task[None] | None = None
        self._complete = False
        self.started = False

    async def _wait_disconnect(self) -> None:
        while (await self._receive())["type"] != "http.disconnect":
            pass
        if not self._complete:
            self.record.disconnected = True

    def watch(self) -> asyncio.Task[None]:
        """Start noticing client disconnects (a pending ``receive()`` sees them)."""
        if self._watcher is None:
            self._watcher = asyncio.ensure_future(self._wait_disconnect())
        return self._watcher

    @property
    def client_gone(self) -> bool:
        return self._watcher is not None and self._watcher.done()

    @property
    def gone(self) -> bool:
        """The client left or the server is stopping: stop producing output."""
        return self.client_gone or self._stopping.done()

    async def pause(self, seconds: float) -> bool:
        """Sleep; False when cut short because the client left or the server is stopping."""
        if seconds <= 0:
            return not self.gone
        waiters: set[asyncio.Future[Any]] = {self.watch(), self._stopping}
        done, _ = await asyncio.wait(waiters, timeout=seconds)
        return not done

    async def until_gone(self, awaitable: Awaitable[T]) -> T:
        """The result of ``awaitable``, unless the client leaves or the server stops first:
        then it is cancelled and ``Gone`` raised (a result that is ready wins)."""
        task = asyncio.ensure_future(awaitable)
        waiters: set[asyncio.Future[Any]] = {task, self.watch(), self._stopping}
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
        if task.done():
            return task.result()
        task.cancel()
        task.add_done_callback(_consume)
        raise Gone

    async def wait_gone(self) -> None:
        """Block until the client leaves or the server stops."""
        waiters: set[asyncio.Future[Any]] = {self.watch(), self._stopping}
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)

    async def abandon(self) -> None:
        """Give up on the response; at shutdown, actively drop the connection."""
        if not self.client_gone:
            await self.reset()

    async def start(self, status: int, headers: Iterable[tuple[str, str]]) -> None:
        self.record.first_byte_at = time.monotonic()
        self.record.status = status
        self.started = True
        await self._send(
            {"type": "http.response.start", "status": status, "headers": encode_headers(headers)}
        )

    async def body(self, data: bytes, *, more: bool) -> None:
        if not more:
            self._complete = True
        await self._send({"type": "http.response.body", "body": data, "more_body": more})

    async def respond(self, status: int, headers: Iterable[tuple[str, str]], body: bytes) -> None:
        """A complete response with a content-length."""
        await self.start(status, [*headers, ("content-length", str(len(body)))])
        await self.body(body, more=False)

    async def reset(self) -> None:
        """Drop the connection with a TCP RST.

        uvicorn's ``send`` is a bound method of the protocol cycle, whose ``transport`` is
        the asyncio transport; SO_LINGER(1, 0) turns its close into an RST.
        """
        self._complete = True
        owner = getattr(self._send, "__self__", None)
        transport = getattr(owner, "transport", None)
        if isinstance(transport, asyncio.Transport):
            sock = transport.get_extra_info("socket")
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()
            # Let uvicorn's connection_lost run before the app returns, so it does not try
            # to answer the dead connection with a 500 of its own.
            await asyncio.sleep(0)
            return
        if not self.started:
            # Promise more body than will come, so the client sees a broken response.
            await self.start(200, [("content-length", "1048576")])
        raise DeliberateAbort("emulated connection reset")

    def finish(self) -> None:
        if self._watcher is not None and not self._watcher.done():
            self._watcher.cancel()
        self.record.finished_at = time.monotonic()
