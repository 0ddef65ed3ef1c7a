"""Answering model calls from stored replies: the wrapper behind the response cache and
cassettes (``alloy._replay``).

``Replaying`` sits outside alloy's retries. For each call it asks its ``ReplyStore`` for a
reply kept under the call's key: a reply found is returned as it was stored, marked
``cached`` and counted as no HTTP request, or streamed as the deltas a provider would send
for it (``as_deltas``), so a stream and a plain call of one stored reply agree. A miss is
sent to the backend inside; its reply is kept only when it came back normally (a stream:
only once it ended with its terminal event). Errors are never kept.

With a store that asks for it (the response cache), identical calls in flight at once in
this process, from threads or asyncio tasks, make one request: the first leads, the others
wait for its reply and return it, marked ``cached``. If the leader fails, each waiter makes
its own request. Only a plain call leads (a stream may wait for one): a stream's reader sets
its pace, and could itself be waiting for the call that would wait for it. Nor does a
blocking call wait for a flight led from its own thread, which it would block.

The driver (``alloy._run``) asks ``recall`` before telling observers a call starts, so a
budget or a rate limit is not charged for a call no request is made for.
"""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import AsyncIterator
from collections.abc import Iterator
from typing import TYPE_CHECKING

from .._deltas import Assembler
from .._deltas import Delta
from .._deltas import Finish
from .._deltas import aclose_deltas
from .._deltas import as_deltas
from .._deltas import close_deltas
from .._messages import Request
from .._messages import Response
from .._replay import REPLAY_CHUNK
from .._replay import ReplyKey
from .._replay import ReplyStore
from .base import Accounted
from .base import Backend
from .base import WrapperBackend

if TYPE_CHECKING:
    import asyncio

__all__ = ["Replaying", "stored"]


def stored(response: Response) -> Response:
    """``response`` as a stored reply returns it: marked ``cached``, no HTTP request."""
    return dataclasses.replace(response, cached=True, http_attempts=0)


class _Flight:
    """One request in flight that identical calls wait for: its reply, once it has come."""

    __slots__ = ("_done", "_lock", "_waiters", "leader", "response")

    def __init__(self, leader: tuple[int, object]) -> None:
        self.leader = leader
        self.response: Response | None = None
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []

    def land(self, response: Response | None) -> None:
        """The leader's reply (None: it failed); every waiter wakes."""
        with self._lock:
            self.response = response
            self._done.set()
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            loop.call_soon_threadsafe(_wake, future)

    def wait(self) -> Response | None:
        self._done.wait()
        return self.response

    async def await_(self) -> Response | None:
        import asyncio

        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if self._done.is_set():
                return self.response
            self._waiters.append((loop, future))
        await future
        return self.response


def _wake(future: asyncio.Future[None]) -> None:
    if not future.done():  # a waiter cancelled meanwhile
        future.set_result(None)


_flights: dict[tuple[str, str], _Flight] = {}
_flights_lock = threading.Lock()


def _me() -> tuple[int, object]:
    """This thread, and the asyncio task running in it (None for a blocking call)."""
    import sys

    task: object = None
    if "asyncio" in sys.modules:  # blocking code that never loaded asyncio runs in no task
        import asyncio
        import contextlib

        with contextlib.suppress(RuntimeError):  # no running loop in this thread
            task = asyncio.current_task()
    return threading.get_ident(), task


def _may_wait(me: tuple[int, object], leader: tuple[int, object]) -> bool:
    """Whether ``me`` can wait for a flight ``leader`` leads without blocking it: from
    another thread, or from another asyncio task of the same loop."""
    if me[0] != leader[0]:
        return True
    return me[1] is not None and leader[1] is not None and me[1] is not leader[1]


class Replaying(WrapperBackend):
    """``inner`` answered from ``store`` where it holds the reply (see the module)."""

    def __init__(self, inner: Backend, store: ReplyStore) -> None:
        super().__init__(inner)
        self.store = store
        self._where: tuple[str, str] | None = None

    # --- keys -----------------------------------------------------------------------

    def key(self, request: Request) -> ReplyKey:
        """The key ``request`` is filed under in this wrapper's store."""
        if not self.store.per_account:
            return ReplyKey.of(self.name, request)
        return ReplyKey.of(self.name, request, self._account())

    def _account(self) -> tuple[str, str]:
        # The provider backend's clients are built once per backend instance, and so is
        # this wrapper: its account cannot change under it.
        where = self._where
        if where is None:
            from .._inner import inner_with

            owner: Accounted | None = inner_with(self.inner, "account")
            where = self._where = owner.account() if owner is not None else ("", "")
        return where

    def _lookup(self, request: Request) -> tuple[ReplyKey, Response | None]:
        key = self.key(request)
        return key, self.store.find(key)

    # --- answers without a request ----------------------------------------------------

    def recall(self, request: Request) -> Response | None:
        """The stored reply for ``request``, if there is one (no request is made)."""
        found = self.store.find(self.key(request))
        return None if found is None else stored(found)

    async def arecall(self, request: Request) -> Response | None:
        """``recall`` from a worker thread: the store may wait on its file."""
        import asyncio

        return await asyncio.to_thread(self.recall, request)

    # --- calls ------------------------------------------------------------------------

    def complete(self, request: Request) -> Response:
        """The stored reply, or the inner backend's (then kept)."""
        key = self.key(request)
        found = self.store.find(key)
        if found is not None:
            return stored(found)
        flight, leading = self._board(key)
        if flight is not None and not leading:
            landed = flight.wait()
            if landed is not None:
                return stored(landed)
        return self._send(key, request, flight if leading else None)

    async def acomplete(self, request: Request) -> Response:
        """The async twin of ``complete``; the store is read and written from a worker
        thread."""
        import asyncio

        key, found = await asyncio.to_thread(self._lookup, request)
        if found is not None:
            return stored(found)
        flight, leading = self._board(key)
        if flight is not None and not leading:
            landed = await flight.await_()
            if landed is not None:
                return stored(landed)
            flight = None
        response: Response | None = None
        try:
            if flight is not None:
                # A flight that landed between the look-up and boarding left its reply.
                response = await asyncio.to_thread(self.store.find, key)
                if response is not None:
                    return stored(response)
            await asyncio.to_thread(self.store.sending, key)
            response = await self.inner.acomplete(request)
            await asyncio.to_thread(self.store.keep, key, response)
            return response
        finally:
            if flight is not None:
                self._land(key, flight, response)

    def stream(self, request: Request) -> Iterator[Delta]:
        """The stored reply as deltas, or the inner backend's stream (kept once it ends)."""
        key = self.key(request)
        found = self.store.find(key)
        if found is None:
            flight, _ = self._board(key, lead=False)
            if flight is not None:
                found = flight.wait()
            if found is None:
                yield from self._record(key, request)
                return
        yield from as_deltas(stored(found), REPLAY_CHUNK)

    async def astream(self, request: Request) -> AsyncIterator[Delta]:
        """The async twin of ``stream``."""
        import asyncio

        key, found = await asyncio.to_thread(self._lookup, request)
        if found is None:
            flight, _ = self._board(key, lead=False)
            if flight is not None:
                found = await flight.await_()
            if found is None:
                async for delta in self._arecord(key, request):
                    yield delta
                return
        for delta in as_deltas(stored(found), REPLAY_CHUNK):
            yield delta

    # --- misses -----------------------------------------------------------------------

    def _send(self, key: ReplyKey, request: Request, flight: _Flight | None) -> Response:
        response: Response | None = None
        try:
            if flight is not None:
                # A flight that landed between the look-up and boarding left its reply.
                response = self.store.find(key)
                if response is not None:
                    return stored(response)
            self.store.sending(key)
            response = self.inner.complete(request)
            self.store.keep(key, response)
            return response
        finally:
            if flight is not None:
                self._land(key, flight, response)

    def _record(self, key: ReplyKey, request: Request) -> Iterator[Delta]:
        self.store.sending(key)
        assembler = Assembler(self.name)
        deltas = self.inner.stream(request)
        try:
            ended = False
            for delta in deltas:
                assembler.feed(delta)
                ended = ended or isinstance(delta, Finish)
                yield delta
        finally:
            close_deltas(deltas)
        if ended:
            self.store.keep(key, assembler.response())

    async def _arecord(self, key: ReplyKey, request: Request) -> AsyncIterator[Delta]:
        import asyncio

        await asyncio.to_thread(self.store.sending, key)
        assembler = Assembler(self.name)
        deltas = self.inner.astream(request)
        try:
            ended = False
            async for delta in deltas:
                assembler.feed(delta)
                ended = ended or isinstance(delta, Finish)
                yield delta
        finally:
            await aclose_deltas(deltas)
        if ended:
            await asyncio.to_thread(self.store.keep, key, assembler.response())

    # --- single flight ----------------------------------------------------------------

    def _board(self, key: ReplyKey, *, lead: bool = True) -> tuple[_Flight | None, bool]:
        """``(the flight of key, whether this call leads it)``, a new flight when there is
        none and ``lead``; ``(None, False)`` when calls are not single-flighted, there is no
        flight to join, or this call must not wait for it."""
        if not self.store.single_flight:
            return None, False
        me = _me()
        name = (self.store.scope, key.digest)
        with _flights_lock:
            flight = _flights.get(name)
            if flight is None:
                if not lead:
                    return None, False
                _flights[name] = flight = _Flight(me)
                return flight, True
        return (flight, False) if _may_wait(me, flight.leader) else (None, False)

    def _land(self, key: ReplyKey, flight: _Flight, response: Response | None) -> None:
        with _flights_lock:
            name = (self.store.scope, key.digest)
            if _flights.get(name) is flight:
                del _flights[name]
        flight.land(response)

    def __repr__(self) -> str:
        return f"Replaying({self.inner!r}, {self.store!r})"
