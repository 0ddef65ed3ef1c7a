"""The map family as methods of commands (the engines are in ``alloy._map``).

``FanOut`` gives a sync command ``map``, ``imap``, ``starmap``, ``amap``, ``aimap`` and
``astarmap``; ``AsyncFanOut`` gives an ``async def`` command the same names, its sync ones
(``map``, ``imap``, ``starmap``) running the async engine on a loop of their own. A command
supplies its one-call functions (``_one`` and ``_aone``), the settings in force
(``_config``), which hold the ``map_concurrency`` default, and ``with_config``, through
which a map's ``rate_limit`` reaches its calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterable
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import Generic
from typing import TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from ._batch import BatchJob
    from ._config import Config
    from ._map import MapResult
    from ._map import Outcome
    from ._progress import ProgressOption
    from ._result import Result

__all__ = ["AsyncFanOut", "FanOut"]

R = TypeVar("R")


class _Base(Generic[R]):
    def _config(self) -> Config:
        raise NotImplementedError

    def _aone(self) -> Callable[..., Awaitable[Result[R]]]:
        """The command's one async call, taking its arguments."""
        raise NotImplementedError

    def with_config(self, **overrides: Any) -> Any:
        raise NotImplementedError

    def _limited(self, rate_limit: float | Mapping[str, float] | None) -> Any:
        """This command, or with ``rate_limit`` on top for the map's calls."""
        return self if rate_limit is None else self.with_config(rate_limit=rate_limit)

    def _concurrency(self, given: int | None) -> int | None:
        return given if given is not None else self._config().map_concurrency

    async def amap(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        *,
        concurrency: int | None = None,
        return_exceptions: bool = True,
        progress: ProgressOption = None,
        rate_limit: float | Mapping[str, float] | None = None,
        **fixed: Any,
    ) -> MapResult[R]:
        """Call the command once per item (its one positional argument, with ``fixed``
        keyword arguments), ``concurrency`` tasks at once on the running loop, with the
        SDK's async client; every item's ``Outcome`` in input order (docs/fan-out.md)."""
        from ._map import amap_all
        from ._map import single

        return await amap_all(
            single(self._limited(rate_limit)._aone(), fixed),
            items,
            concurrency=self._concurrency(concurrency),
            return_exceptions=return_exceptions,
            progress=progress,
        )

    def aimap(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        *,
        concurrency: int | None = None,
        return_exceptions: bool = True,
        progress: ProgressOption = None,
        rate_limit: float | Mapping[str, float] | None = None,
        **fixed: Any,
    ) -> AsyncIterator[Outcome[R]]:
        """``amap``'s outcomes as each call finishes (``async for``); ``aclose()`` it (or
        cancel its task) to stop early: the calls in flight are cancelled."""
        from ._map import aimap
        from ._map import single

        return aimap(
            single(self._limited(rate_limit)._aone(), fixed),
            items,
            concurrency=self._concurrency(concurrency),
            return_exceptions=return_exceptions,
            progress=progress,
        )

    async def astarmap(
        self,
        items: Iterable[Any] | AsyncIterable[Any],
        *,
        concurrency: int | None = None,
        return_exceptions: bool = True,
        progress: ProgressOption = None,
        rate_limit: float | Mapping[str, float] | None = None,
        **fixed: Any,
    ) -> MapResult[R]:
        """``amap`` for items that are each call's arguments: a tuple (positional) or a
        mapping (keyword), with ``fixed`` on top."""
        from ._map import amap_all
        from ._map import spread

        return await amap_all(
            spread(self._limited(rate_limit)._aone(), fixed),
            items,
            concurrency=self._concurrency(concurrency),
            return_exceptions=return_exceptions,
            progress=progress,
        )

    def _scattered(
        self,
        items: Iterable[Any],
        executor: Executor,
        concurrency: int | None,
        chunk_size: int | None,
        return_exceptions: bool,
        progress: ProgressOption,
        rate_limit: float | Mapping[str, float] | None,
        ship_secrets: bool,
        fixed: dict[str, Any],
        *,
        star: bool,
    ) -> MapResult[R]:
        from ._scatter import scatter_map

        found: MapResult[R] = scatter_map(
            self._limited(rate_limit),
            items,
            executor,
            fixed=fixed,
            concurrency=self._concurrency(concurrency),
            chunk_size=chunk_size,
            return_exceptions=return_exceptions,
            progress=progress,
            ship_secrets=ship_secrets,
            star=star,
        )
        return found

    def batch(self, items: Iterable[Any], *, name: str | None = None, **fixed: Any) -> BatchJob[R]:
        """Run the command over ``items`` through the provider's batch API (its one
        positional argument per item, with ``fixed``): a durable ``BatchJob``, submitted
        before this returns (docs/batch.md)."""
        from ._batch import submit

        job: BatchJob[R] = submit(self, items, name, fixed)
        return job

    def batch_job(self, job_id: str) -> BatchJob[R]:
        """The batch job ``job_id`` of the store, re-attached to this command (which must
        have the output type the job was made with)."""
        from ._batch import attach

        job: BatchJob[R] = attach(self, job_id, self._config().store)
        return job


class FanOut(_Base[R]):
    """The map family of a sync command."""

    def _one(self) -> Callable[..., Result[R]]:
        """The command's one blocking call, taking its arguments."""
        raise NotImplementedError

    def map(
        self,
        items: Iterable[Any],
        *,
        concurrency: int | None = None,
        return_exceptions: bool = True,
        progress: ProgressOption = None,
        rate_limit: float | Mapping[str, float] | None = None,
        executor: Executor | None = None,
        chunk_size: int | None = None,
        ship_secrets: bool = False,
        **fixed: Any,
    ) -> MapResult[R]:
        """Call the command once per item (its one positional argument, with ``fixed``
        keyword arguments), ``concurrency`` calls at once in threads; every item's
        ``Outcome`` in input order (docs/fan-out.md). With an ``executor`` the items go to
        its workers in chunks of ``chunk_size``, each chunk ``concurrency`` at a time
        (docs/scale-out.md)."""
        if executor is not None:
            return self._scattered(
                items, executor, concurrency, chunk_size, return_exceptions, progress,
                rate_limit, ship_secrets, fixed, star=False,
            )  # fmt: skip
        from ._map import map_all
        from ._map import single

        return map_all(
            single(self._limited(rate_limit)._one(), fixed),
            items,
            concurrency=self._concurrency(concurrency),
            return_exceptions=return_exceptions,
            progress=progress,
        )

    def imap(
        self,
        items: Iterable[Any],
        *,
        concurrency: int | None = None,
        return_exceptions: bool = True,
        progress: ProgressOption = None,
        rate_limit: float | Mapping[str, float] | None = None,
        **fixed: Any,
    ) -> Iterator[Outcome[R]]:
        """``map``'s outcomes as each call finishes."""
        from ._map import imap
        from ._map import single

        return imap(
            single(self._limited(rate_limit)._one(), fixed),
            items,
            concurrency=self._concurrency(concurrency),
            return_exceptions=return_exceptions,
            progress=progress,
        )

    def starmap(
        self,
        items: Iterable[Any],
        *,
        concurrency: int | None = None,
        return_exceptions: bool = True,
        progress: ProgressOption = None,
        rate_limit: float | Mapping[str, float] | None = None,
        **fixed: Any,
    ) -> MapResult[R]:
        """``map`` for items that are each call's arguments: a tuple (positional) or a
        mapping (keyword), with ``fixed`` on top."""
        from ._map import map_all
        from ._map import spread

        return map_all(
            spread(self._limited(rate_limit)._one(), fixed),
            items,
            concurrency=self._concurrency(concurrency),
            return_exceptions=return_exceptions,
            progress=progress,
        )


class AsyncFanOut(_Base[R]):
    """The map family of an ``async def`` command."""

    def map(
        self,
        items: Iterable[Any],
        *,
        concurrency: int | None = None,
        return_exceptions: bool = True,
        progress: ProgressOption = None,
        rate_limit: float | Mapping[str, float] | None = None,
        executor: Executor | None = None,
        chunk_size: int | None = None,
        ship_secrets: bool = False,
        **fixed: Any,
    ) -> MapResult[R]:
        """``amap`` from sync code, on an event loop of its own (in a worker thread when
        this thread already runs one); with an ``executor``, on its workers in chunks (as
        ``Command.map``)."""
        if executor is not None:
            return self._scattered(
                items, executor, concurrency, chunk_size, return_exceptions, progress,
                rate_limit, ship_secrets, fixed, star=False,
            )  # fmt: skip
        from ._map import blocking

        return blocking(
            self.amap(
                items,
                concurrency=concurrency,
                return_exceptions=return_exceptions,
                progress=progress,
                rate_limit=rate_limit,
                **fixed,
            )
        )

    def imap(
        self,
        items: Iterable[Any],
        *,
        concurrency: int | None = None,
        return_exceptions: bool = True,
        progress: ProgressOption = None,
        rate_limit: float | Mapping[str, float] | None = None,
        **fixed: Any,
    ) -> Iterator[Outcome[R]]:
        """``aimap`` from sync code: the outcomes as each call finishes, the calls running
        on an event loop in a worker thread; leaving early cancels the calls in flight."""
        from ._map import blocking_iter

        return blocking_iter(
            lambda: self.aimap(
                items,
                concurrency=concurrency,
                return_exceptions=return_exceptions,
                progress=progress,
                rate_limit=rate_limit,
                **fixed,
            ),
            self._concurrency(concurrency) or 8,
        )

    def starmap(
        self,
        items: Iterable[Any],
        *,
        concurrency: int | None = None,
        return_exceptions: bool = True,
        progress: ProgressOption = None,
        rate_limit: float | Mapping[str, float] | None = None,
        **fixed: Any,
    ) -> MapResult[R]:
        """``astarmap`` from sync code, on an event loop of its own (in a worker thread when
        this thread already runs one)."""
        from ._map import blocking

        return blocking(
            self.astarmap(
                items,
                concurrency=concurrency,
                return_exceptions=return_exceptions,
                progress=progress,
                rate_limit=rate_limit,
                **fixed,
            )
        )
