"""Many calls of one command at once: ``map`` and its family, and what they return.

One engine per I/O style. The threaded one (``imap``) runs each item's call in a worker
thread, with the blocking SDK client, so it also works inside a running event loop (a
notebook); the asyncio one (``aimap``) runs each as a task on the SDK's async client. Both:

- take the items lazily: at most ``concurrency`` calls are in flight, and the next item is
  read only when one finishes, so a generator of a million items never sits in memory;
- give each item an ``Outcome``: its ``Result``, or the alloy error that ended its call (a
  bug, or Ctrl-C, still stops the whole map);
- with ``return_exceptions=False``, stop starting new calls at the first error, let the ones
  in flight finish, and raise the error of the lowest index;
- run every call in a copy of the caller's context: ``use_config`` scopes, a forced test
  backend and observers apply to each item as to a single call.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterable
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from typing import Generic
from typing import Literal
from typing import TypeVar
from typing import overload

from ._errors import AlloyError
from ._errors import ConfigurationError
from ._progress import ProgressOption
from ._progress import reporter
from ._result import Result
from ._usage import Usage

if TYPE_CHECKING:
    from decimal import Decimal

__all__ = [
    "MapResult",
    "Outcome",
    "aimap",
    "amap_all",
    "imap",
    "map_all",
    "blocking",
    "blocking_iter",
    "single",
    "spread",
]

T = TypeVar("T")
Status = Literal["ok", "partial", "error"]


@dataclass(frozen=True, slots=True)
class Outcome(Generic[T]):
    """What one item of a map gave.

    Attributes:
        index: the item's place among the inputs, from 0.
        input: the item as given.
        result: the call's ``Result``, or None when it failed.
        error: the alloy error that ended the call, or None when it succeeded.
    """

    index: int
    input: Any
    result: Result[T] | None = None
    error: AlloyError | None = None

    @property
    def ok(self) -> bool:
        """Whether the call succeeded."""
        return self.error is None

    @property
    def value(self) -> T:
        """The call's value; raises its error when it failed."""
        if self.error is not None:
            raise self.error
        assert self.result is not None
        return self.result.value


@dataclass(frozen=True, slots=True)
class MapResult(Sequence[Outcome[T]]):
    """Every item's ``Outcome``, in input order.

    Attributes:
        outcomes: the outcomes, in input order (also reachable by index and iteration).
        duration_s: wall time of the whole map.
    """

    outcomes: tuple[Outcome[T], ...]
    duration_s: float = 0.0

    @overload
    def __getitem__(self, index: int) -> Outcome[T]: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Outcome[T]]: ...
    def __getitem__(self, index: int | slice) -> Outcome[T] | Sequence[Outcome[T]]:
        return self.outcomes[index]

    def __len__(self) -> int:
        return len(self.outcomes)

    def values(self) -> list[T]:
        """The values of the items that succeeded, in input order (see ``errors`` for the
        rest)."""
        return [o.result.value for o in self.outcomes if o.result is not None]

    @property
    def errors(self) -> dict[int, AlloyError]:
        """The error of each item that failed, by index."""
        return {o.index: o.error for o in self.outcomes if o.error is not None}

    @property
    def status(self) -> Status:
        """``"ok"`` when every item succeeded (or there were none), ``"error"`` when every
        one failed, else ``"partial"``."""
        failed = sum(1 for o in self.outcomes if o.error is not None)
        if failed == 0:
            return "ok"
        return "error" if failed == len(self.outcomes) else "partial"

    @property
    def usage(self) -> Usage:
        """Tokens summed over the items that succeeded."""
        total = Usage()
        for o in self.outcomes:
            if o.result is not None:
                total = total + o.result.usage
        return total

    @property
    def cost(self) -> Decimal | None:
        """The US dollars of the items that succeeded, summed; None when any of them has no
        known cost (see ``Result.cost_unknown_reason``)."""
        from decimal import Decimal

        total = Decimal(0)
        for o in self.outcomes:
            if o.result is not None:
                cost = o.result.cost
                if cost is None:
                    return None
                total += cost.usd
        return total


def _concurrency(value: int | None) -> int:
    if value is None:
        return 8
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ConfigurationError(
            f"concurrency={value!r} is invalid: expected an integer, 1 or more."
        )
    return value


def imap(
    call: Callable[[Any], Result[T]],
    items: Iterable[Any],
    *,
    concurrency: int | None = None,
    return_exceptions: bool = True,
    progress: ProgressOption = None,
) -> Iterator[Outcome[T]]:
    """The outcome of ``call(item)`` for each item, as each call finishes, in threads."""
    import queue
    from concurrent.futures import Future
    from concurrent.futures import ThreadPoolExecutor
    from contextvars import copy_context

    limit = _concurrency(concurrency)
    shown = reporter(progress, items)
    source = enumerate(items)
    pending: dict[Future[Result[T]], tuple[int, Any]] = {}
    # Finished calls queue themselves: one step per completion, whatever the concurrency.
    finished: queue.SimpleQueue[Future[Result[T]]] = queue.SimpleQueue()
    failed: list[Outcome[T]] = []
    pool = ThreadPoolExecutor(max_workers=limit, thread_name_prefix="alloy-map")
    try:
        exhausted = False
        while True:
            while not exhausted and not failed and len(pending) < limit:
                nxt = next(source, None)
                if nxt is None:
                    exhausted = True
                    break
                future = pool.submit(copy_context().run, call, nxt[1])
                pending[future] = nxt
                future.add_done_callback(finished.put)
            if not pending:
                break
            done = [finished.get()]
            while not finished.empty():
                done.append(finished.get_nowait())
            for future in done:
                index, item = pending.pop(future)
                outcome = _outcome(index, item, future)
                if outcome.error is not None and not return_exceptions:
                    failed.append(outcome)
                if shown is not None:
                    shown.update(outcome.ok)
                yield outcome
        if failed:
            raise min(failed, key=lambda o: o.index).error  # type: ignore[misc]
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        if shown is not None:
            shown.close()


def _outcome(index: int, item: Any, future: Any) -> Outcome[Any]:
    error = future.exception()
    if error is None:
        return Outcome(index, item, future.result())
    if isinstance(error, AlloyError):
        return Outcome(index, item, error=error)
    raise error


def map_all(
    call: Callable[[Any], Result[T]],
    items: Iterable[Any],
    *,
    concurrency: int | None = None,
    return_exceptions: bool = True,
    progress: ProgressOption = None,
) -> MapResult[T]:
    """Every item's outcome of ``call(item)``, in input order (see ``imap``)."""
    started = time.perf_counter()
    found = list(
        imap(
            call,
            items,
            concurrency=concurrency,
            return_exceptions=return_exceptions,
            progress=progress,
        )
    )
    found.sort(key=lambda o: o.index)
    return MapResult(tuple(found), time.perf_counter() - started)


async def aimap(
    call: Callable[[Any], Awaitable[Result[T]]],
    items: Iterable[Any] | AsyncIterable[Any],
    *,
    concurrency: int | None = None,
    return_exceptions: bool = True,
    progress: ProgressOption = None,
) -> AsyncIterator[Outcome[T]]:
    """The async twin of ``imap``: each call a task on the running loop. Leaving early (or
    cancelling) cancels the calls in flight, which closes their responses."""
    import asyncio

    limit = _concurrency(concurrency)
    shown = reporter(progress, items)
    source = _aenumerate(items)
    pending: dict[asyncio.Future[Result[T]], tuple[int, Any]] = {}
    # Finished calls queue themselves: one step per completion, whatever the concurrency
    # (``asyncio.wait`` would visit every pending task each time).
    finished: asyncio.Queue[asyncio.Future[Result[T]]] = asyncio.Queue()
    failed: list[Outcome[T]] = []
    try:
        exhausted = False
        while True:
            while not exhausted and not failed and len(pending) < limit:
                try:
                    index, item = await anext(source)
                except StopAsyncIteration:
                    exhausted = True
                    break
                started: asyncio.Future[Result[T]] = asyncio.ensure_future(call(item))
                pending[started] = (index, item)
                started.add_done_callback(finished.put_nowait)
            if not pending:
                break
            done = [await finished.get()]
            while not finished.empty():
                done.append(finished.get_nowait())
            for ended in done:
                index, item = pending.pop(ended)
                outcome = _outcome(index, item, ended)
                if outcome.error is not None and not return_exceptions:
                    failed.append(outcome)
                if shown is not None:
                    shown.update(outcome.ok)
                yield outcome
        if failed:
            raise min(failed, key=lambda o: o.index).error  # type: ignore[misc]
    finally:
        for left in pending:
            left.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        if shown is not None:
            shown.close()


async def _aenumerate(items: Iterable[Any] | AsyncIterable[Any]) -> AsyncIterator[tuple[int, Any]]:
    index = 0
    if isinstance(items, AsyncIterable):
        async for item in items:
            yield index, item
            index += 1
        return
    for item in items:
        yield index, item
        index += 1


async def amap_all(
    call: Callable[[Any], Awaitable[Result[T]]],
    items: Iterable[Any] | AsyncIterable[Any],
    *,
    concurrency: int | None = None,
    return_exceptions: bool = True,
    progress: ProgressOption = None,
) -> MapResult[T]:
    """The async twin of ``map_all``."""
    started = time.perf_counter()
    found = [
        o
        async for o in aimap(
            call,
            items,
            concurrency=concurrency,
            return_exceptions=return_exceptions,
            progress=progress,
        )
    ]
    found.sort(key=lambda o: o.index)
    return MapResult(tuple(found), time.perf_counter() - started)


def single(run: Callable[..., T], fixed: dict[str, Any]) -> Callable[[Any], T]:
    """``map``'s call: an item is the call's one positional argument, with ``fixed``."""
    return lambda item: run(item, **fixed)


def spread(run: Callable[..., T], fixed: dict[str, Any]) -> Callable[[Any], T]:
    """``starmap``'s call: an item is the call's positional arguments (a tuple or list) or
    its keyword arguments (a mapping), with ``fixed`` on top."""
    from collections.abc import Mapping

    def call(item: Any) -> T:
        if isinstance(item, Mapping):
            return run(**{**item, **fixed})
        if isinstance(item, tuple | list):
            return run(*item, **fixed)
        raise ConfigurationError(
            f"starmap() takes tuples (positional arguments) or mappings (keyword arguments) "
            f"as items, not {type(item).__name__}; use map() for single arguments."
        )

    return call


def blocking(awaitable: Awaitable[T]) -> T:
    """Run ``awaitable`` to its end from sync code: on a new event loop, in a worker thread
    when this thread already runs one (a notebook)."""
    import asyncio

    async def wait() -> T:
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wait())
    from concurrent.futures import ThreadPoolExecutor
    from contextvars import copy_context

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(copy_context().run, asyncio.run, wait()).result()


def blocking_iter(make: Callable[[], AsyncIterator[T]], window: int) -> Iterator[T]:
    """Iterate the async iterator ``make()`` from sync code, on an event loop in a worker
    thread (which works inside a running loop too). At most ``window`` items wait to be
    taken; leaving early cancels the iteration (and the calls it has in flight)."""
    import asyncio
    import contextlib
    import queue
    import threading
    from contextvars import copy_context

    taken: queue.SimpleQueue[tuple[bool, Any]] = queue.SimpleQueue()
    ready = threading.Event()
    held: dict[str, Any] = {}

    async def pump() -> None:
        room = asyncio.Semaphore(window)
        held["loop"], held["room"], held["task"] = (
            asyncio.get_running_loop(),
            room,
            asyncio.current_task(),
        )
        ready.set()
        source = make()
        try:
            async for item in source:
                await room.acquire()
                taken.put((True, item))
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            taken.put((False, exc))
        else:
            taken.put((False, None))
        finally:
            close = getattr(source, "aclose", None)
            if close is not None:
                await close()

    def run() -> None:
        # Cancelled when the consumer leaves early: nobody waits for the outcome then.
        with contextlib.suppress(asyncio.CancelledError):
            asyncio.run(pump())

    def tell(act: Callable[[], object]) -> None:
        # The loop is closed once the iteration has ended: there is nothing left to tell.
        with contextlib.suppress(RuntimeError):
            held["loop"].call_soon_threadsafe(act)

    worker = threading.Thread(target=copy_context().run, args=(run,), name="alloy-map")
    worker.start()
    ready.wait()
    try:
        while True:
            more, value = taken.get()
            if not more:
                if value is not None:
                    raise value
                return
            tell(held["room"].release)
            yield value
    finally:
        tell(held["task"].cancel)
        worker.join()
