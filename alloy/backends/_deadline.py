"""``timeout`` as a deadline for each HTTP attempt, not a limit on each read.

httpx's timeouts bound each network operation: a server that sends a byte every half second,
or a stream that never ends, keeps a call alive for as long as it likes under a 1 s read
timeout. Every HTTP client alloy builds for an SDK carries the event hooks made here, so each
request has a deadline: its read timeout, which every backend sets to the call's
``timeout``, counted from when the request is sent. The response hook wraps the body, before
anything reads it: a chunk that arrives after the deadline, or a read still waiting at it,
ends the attempt with the HTTP library's own ``ReadTimeout``, which the SDKs and alloy
already treat as a timeout. Hooks rather than a transport keep each SDK's own transport
(its connection limits, keep-alive options and proxies).

A read waiting at the deadline is woken by one watchdog thread for the whole process, which
shuts the response's socket down (never the socket of an HTTP/2 connection, which other
requests share; those end at the next chunk, or at the read timeout). The module works for
both ``httpx`` (ollama) and ``httpx2`` (the other SDKs): the hooks are made for the HTTP
library's module, whose ``ReadTimeout`` they raise and whose byte-stream classes the wrapped
bodies must be (the libraries check).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from types import ModuleType
from typing import Any
from typing import Protocol
from typing import cast

__all__ = ["async_hooks", "hooks", "start", "with_hooks"]

_KEY = "alloy.deadline"
"""The request extension that carries the deadline from the request hook to the response's."""


class _Request(Protocol):
    extensions: dict[str, Any]


class _Response(Protocol):
    stream: Any
    extensions: dict[str, Any]


def _deadline_of(request: _Request) -> float | None:
    """The monotonic time by which ``request`` must be done, or None (no read timeout)."""
    timeouts: object = request.extensions.get("timeout")
    seconds = (
        cast("dict[str, object]", timeouts).get("read") if isinstance(timeouts, dict) else None
    )
    if not isinstance(seconds, (int, float)) or seconds <= 0:
        return None
    return time.monotonic() + seconds


class _Socket(Protocol):
    def shutdown(self, how: int, /) -> None: ...


class _Watch:
    """One response under watch: its socket is shut down at ``when`` unless it ends first."""

    __slots__ = ("done", "fired", "sock", "when")

    def __init__(self, when: float, sock: _Socket):
        self.when = when
        self.sock = sock
        self.done = False
        self.fired = False


class _Watchdog:
    """A daemon thread that shuts down the sockets of responses past their deadline."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int, _Watch]] = []
        self._order = itertools.count()
        self._finished = 0  # entries in the heap whose response has ended
        self._thread: threading.Thread | None = None

    def watch(self, when: float, sock: _Socket) -> _Watch:
        entry = _Watch(when, sock)
        with self._cond:
            earliest = not self._heap or when < self._heap[0][0]
            heapq.heappush(self._heap, (when, next(self._order), entry))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="alloy-deadlines", daemon=True
                )
                self._thread.start()
            elif earliest:
                self._cond.notify()
        return entry

    def finish(self, entry: _Watch) -> None:
        """``entry``'s response ended: never shut its socket (it may serve the next request)."""
        if entry.done:
            return  # ``done`` only ever turns true: no lock needed to see that
        with self._cond:
            if entry.done:
                return
            entry.done = True
            self._finished += 1
            # Finished entries wait in the heap until their time; with long timeouts and many
            # calls that is a lot of them, so rebuild the heap once most are finished.
            if self._finished > 64 and self._finished * 2 > len(self._heap):
                self._heap = [item for item in self._heap if not item[2].done]
                heapq.heapify(self._heap)
                self._finished = 0

    def _run(self) -> None:
        with self._cond:
            while True:
                if not self._heap:
                    self._cond.wait()
                    continue
                when, _, entry = self._heap[0]
                wait = when - time.monotonic()
                if wait > 0:
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
                if entry.done:
                    self._finished -= 1
                    continue
                entry.done = entry.fired = True
                # The plain socket's shutdown, also for a TLS socket (whose own shutdown would
                # unwrap it under the reading thread): the blocked read sees EOF. An OSError
                # means the socket is closed already: its read has ended by itself.
                with contextlib.suppress(OSError):
                    if isinstance(entry.sock, socket.socket):
                        socket.socket.shutdown(entry.sock, socket.SHUT_RDWR)
                    else:
                        entry.sock.shutdown(socket.SHUT_RDWR)


_WATCHDOG = _Watchdog()


def _watch(response: _Response, deadline: float) -> _Watch | None:
    """Put ``response``'s socket under the watchdog, unless it shares its connection."""
    extensions = response.extensions
    # The raw extension, not ``response.http_version`` (a property that decodes it each time).
    if extensions.get("http_version", b"HTTP/1.1") not in (b"HTTP/1.1", b"HTTP/1.0"):
        return None
    stream = extensions.get("network_stream")
    get_info = getattr(stream, "get_extra_info", None)
    sock = get_info("socket") if callable(get_info) else None
    # A plain socket in sync clients; asyncio hands out a ``TransportSocket`` wrapper.
    if not callable(getattr(sock, "shutdown", None)):
        return None
    return _WATCHDOG.watch(deadline, cast("_Socket", sock))


class _Body:
    """What both response-body wrappers share: the deadline and the error it raises."""

    def __init__(
        self,
        inner: Any,
        request: Any,
        deadline: float,
        watch: _Watch | None,
        error: type[BaseException],
    ):
        self._inner = inner
        self._request = request
        self._deadline = deadline
        self._watch = watch
        self._error = error

    def _in_time(self, failure: Exception | None = None) -> None:
        """Raise the HTTP library's ``ReadTimeout`` if the deadline has passed (in place of
        ``failure``, the read's own error once the watchdog has shut its socket)."""
        if isinstance(failure, self._error):
            return
        if (self._watch is not None and self._watch.fired) or time.monotonic() >= self._deadline:
            # The HTTP library's exceptions take the request as a keyword.
            make: Any = self._error
            raise make(
                "the response did not finish within the request's timeout",
                request=self._request,
            ) from failure

    def _finish(self) -> None:
        if self._watch is not None:
            _WATCHDOG.finish(self._watch)


class _SyncBody(_Body):
    def __iter__(self) -> Iterator[bytes]:
        try:
            for chunk in self._inner:
                self._in_time()
                yield chunk
        except Exception as exc:
            self._in_time(exc)
            raise
        finally:
            self._finish()

    def close(self) -> None:
        self._finish()
        self._inner.close()


class _AsyncBody(_Body):
    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._inner:
                self._in_time()
                yield chunk
        except Exception as exc:
            self._in_time(exc)
            raise
        finally:
            self._finish()

    async def aclose(self) -> None:
        self._finish()
        await self._inner.aclose()


_HOOKS: dict[tuple[str, bool], dict[str, list[Any]]] = {}
"""The hooks made so far, per HTTP library and sync/async: made once, shared by clients
(which copy them)."""


def start(request: _Request) -> None:
    """Request hook: note ``request``'s deadline, from now."""
    deadline = _deadline_of(request)
    if deadline is not None:
        request.extensions[_KEY] = deadline


def _wrap(response: Any, body: type[_Body], error: type[BaseException]) -> None:
    request = response.request
    deadline = request.extensions.get(_KEY)
    if isinstance(deadline, float):
        watch = _watch(response, deadline)
        response.stream = body(response.stream, request, deadline, watch, error)


def hooks(http: ModuleType) -> dict[str, list[Callable[[Any], None]]]:
    """The ``event_hooks`` of a sync ``http.Client`` that give each request its deadline."""
    made = _HOOKS.get((http.__name__, False))
    if made is None:
        # The wrapped body must be one of the library's own sync byte streams.
        body: type[_Body] = type("SyncBody", (_SyncBody, http.SyncByteStream), {})
        error: type[BaseException] = http.ReadTimeout

        def watch(response: Any) -> None:
            _wrap(response, body, error)

        made = _HOOKS[http.__name__, False] = {"request": [start], "response": [watch]}
    return made


def async_hooks(http: ModuleType) -> dict[str, list[Callable[[Any], Awaitable[None]]]]:
    """The ``event_hooks`` of an async ``http.AsyncClient``: the async twin of ``hooks``."""
    made = _HOOKS.get((http.__name__, True))
    if made is None:
        body: type[_Body] = type("AsyncBody", (_AsyncBody, http.AsyncByteStream), {})
        error: type[BaseException] = http.ReadTimeout

        async def astart(request: Any) -> None:
            start(request)

        async def watch(response: Any) -> None:
            _wrap(response, body, error)

        made = _HOOKS[http.__name__, True] = {"request": [astart], "response": [watch]}
    return made


def with_hooks(
    given: Mapping[str, Sequence[Any]] | None, added: Mapping[str, Sequence[Any]]
) -> dict[str, list[Any]]:
    """``event_hooks`` ``given`` by the user with ``added`` after them."""
    merged = {name: list(items) for name, items in (given or {}).items()}
    for name, items in added.items():
        merged[name] = [*merged.get(name, ()), *items]
    return merged
