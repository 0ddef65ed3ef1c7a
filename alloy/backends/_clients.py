"""SDK client reuse for every backend: one sync client, one async client per event loop.

An async SDK client is bound to the loop it first ran on, so each running loop gets its
own, kept in a ``WeakKeyDictionary`` (a finished loop does not stay alive for its client).
Each async client is closed when its loop shuts down its async generators, which
``asyncio.run`` and ``asyncio.Runner`` do before closing: left open, its pooled sockets
outlive the loop and raise ``ResourceWarning`` when collected. A loop may also be closed
without that step (``new_event_loop()``, ``run_until_complete()``, ``close()``), and asyncio
has no callback for a loop's closing, so the cache wraps the ``close`` method of each loop it
serves: the wrapper first finishes the closers still pending on that loop, then closes it.
(Loops whose ``close`` cannot be replaced, such as uvloop's, keep the first behaviour.)
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import weakref
from collections.abc import AsyncGenerator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any
from typing import Generic
from typing import TypeVar

from .._errors import ConfigurationError
from ._boundary import Secrets
from ._http import scrub
from ._logs import guard_sdk_logs

__all__ = ["ClientCache", "build_client", "with_http_client"]

S = TypeVar("S")
A = TypeVar("A")

_Entry = tuple[A, AsyncGenerator[None, None]]
_T = TypeVar("_T")


def build_client(
    make: Callable[[], _T],
    *,
    provider: str,
    secrets: Secrets,
    key_hint: str,
    sdk_errors: tuple[type[Exception], ...] = (),
    key_attributes: Iterable[str] = ("api_key",),
) -> _T:
    """``make()``, an SDK client, with its failures as ``ConfigurationError``s that say what
    to do and show no key; the keys the client found (in the environment, say) are added
    to ``secrets``.

    ``sdk_errors`` are what the SDK raises for a missing key or credentials; ``TypeError``
    and ``ValueError`` mean settings it does not take.
    """
    try:
        client = make()
    except ConfigurationError:
        raise
    except sdk_errors as exc:
        raise ConfigurationError(
            f"{provider}: cannot create the client: {scrub(str(exc), secrets.values)} "
            f"To fix: {key_hint}."
        ) from exc
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"{provider}: invalid client settings in provider_options[{provider!r}]: "
            f"{scrub(str(exc), secrets.values)}"
        ) from exc
    secrets.add(getattr(client, name, None) for name in key_attributes)
    # The SDK is imported by now, and with it the loggers that may print a key.
    guard_sdk_logs(secrets)
    return client


def with_http_client(options: Mapping[str, Any], make: Callable[[], object]) -> dict[str, Any]:
    """``options`` with ``http_client=make()``, unless they hold an HTTP client already (one
    built by the caller, used as it is)."""
    if "http_client" in options:
        return dict(options)
    return {**options, "http_client": make()}


class ClientCache(Generic[S, A]):
    """Lazily built SDK clients: ``sync()`` for threads, ``await aclient()`` per loop.

    Args:
        make_sync / make_async: build a client (called at most once per cache / per loop).
        close_sync: close a sync client.
        close_async: close an async client, on its own loop.
    """

    def __init__(
        self,
        make_sync: Callable[[], S],
        make_async: Callable[[], A],
        close_sync: Callable[[S], object],
        close_async: Callable[[A], Awaitable[object]],
    ):
        self._make_sync = make_sync
        self._make_async = make_async
        self._close_sync = close_sync
        self._close_async = close_async
        self._lock = threading.Lock()
        self._sync: S | None = None
        self._async: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Entry[A]] = (
            weakref.WeakKeyDictionary()
        )

    def sync(self) -> S:
        """The sync client, created on first use (thread-safe)."""
        client = self._sync
        if client is None:
            with self._lock:
                client = self._sync
                if client is None:
                    client = self._sync = self._make_sync()
        return client

    async def aclient(self) -> A:
        """The async client of the running event loop, created on first use on that loop."""
        loop = asyncio.get_running_loop()
        entry = self._async.get(loop)
        if entry is not None:
            return entry[0]
        client = self._make_async()
        closer = self._close_with_loop(client, loop)
        with self._lock:
            # A loop closed without shutting down its async generators never ran its closer:
            # drop its entry, or the client (which references the loop) keeps it alive.
            for stale in [lp for lp in self._async if lp.is_closed()]:
                del self._async[stale]
            self._async[loop] = (client, closer)
        # Advance the closer to its ``yield``: the loop now tracks it and runs its ``finally``
        # in ``shutdown_asyncgens``. Nothing is awaited before the yield, so no other task
        # can interleave here.
        await anext(closer)
        _finish_before_close(loop, closer)
        return client

    async def _close_with_loop(
        self, client: A, loop: asyncio.AbstractEventLoop
    ) -> AsyncGenerator[None, None]:
        try:
            yield
        finally:
            with self._lock:
                entry = self._async.get(loop)
                if entry is not None and entry[0] is client:  # not a newer one after close()
                    del self._async[loop]
            await self._close_async(client)

    def close(self) -> None:
        """Close the sync client now and the async clients on their own loops.

        Clients are created again on next use. Dropping a closer hands it to its loop's
        async-generator finalizer, which schedules its ``finally`` on the loop that owns the
        client, from whatever thread this runs in.
        """
        with self._lock:
            client, self._sync = self._sync, None
            dropped = list(self._async.values())
            self._async.clear()
        if client is not None:
            self._close_sync(client)
        del dropped


_Closers = weakref.WeakSet[AsyncGenerator[None, None]]
# The closers pending on each loop whose ``close`` the cache has wrapped. Weakly: a closer
# the cache drops goes to the loop's finalizer as before.
_PENDING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Closers] = (
    weakref.WeakKeyDictionary()
)


def _finish_before_close(
    loop: asyncio.AbstractEventLoop, closer: AsyncGenerator[None, None]
) -> None:
    """Have ``loop.close()`` run ``closer``'s ``finally`` first, if nothing did by then.

    One closer per client the loop got (a client per backend), so the set stays small;
    closing a closer that has finished already does nothing.
    """
    pending = _PENDING.get(loop)
    if pending is not None:
        pending.add(closer)
        return
    close = loop.close

    def close_after_closers() -> None:
        if not loop.is_running() and not loop.is_closed():
            for waiting in list(_PENDING.pop(loop, ())):
                # A failed close must not keep the loop from closing.
                with contextlib.suppress(Exception):
                    loop.run_until_complete(waiting.aclose())
        close()

    try:
        # An instance attribute in front of the class's method, for this loop only.
        object.__setattr__(loop, "close", close_after_closers)
    except AttributeError:
        return  # a loop type without instance attributes (uvloop): shutdown_asyncgens only
    _PENDING[loop] = weakref.WeakSet([closer])
