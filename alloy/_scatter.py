"""``map`` on an executor: the items shipped in chunks to worker processes or a cluster.

``map(items, executor=...)`` takes any ``concurrent.futures.Executor`` (a
``ProcessPoolExecutor``, Dask's ``client.get_executor()``).
The items go in chunks (``chunk_size``); each chunk is one task that runs a local async map
of the command in the worker, with the worker's own SDK clients (clients never travel), and
returns its items' ``Outcome``s (results and alloy errors pickle). What a task carries: the
command (by reference: its module and name, and its ``with_config`` layer), the chunk's items
with their indexes, the fixed arguments, and the caller's effective settings, without keys
(``provider_options`` entries named like a secret are left out unless ``ship_secrets=True``:
a worker reads its keys from its own environment).

Outcomes come back in input order, with usage and cost summed as for a local map. A task
that fails as a whole (its worker died, the cluster lost it) fails only its chunk's items,
each with a ``ProviderError`` saying so. With ``return_exceptions=False`` no new chunk is
started once an item has failed, and the lowest-index error is raised.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable
from collections.abc import Iterator
from typing import TYPE_CHECKING
from typing import Any

from ._errors import ConfigurationError
from ._errors import ProviderError
from ._map import MapResult
from ._map import Outcome

if TYPE_CHECKING:
    from concurrent.futures import Executor
    from concurrent.futures import Future

    from ._progress import ProgressOption

__all__ = ["Chunk", "run_chunk", "scatter_map"]


@dataclasses.dataclass(frozen=True)
class Chunk:
    """One task: ``command`` over ``items`` (``(index, item)`` pairs) under ``settings``."""

    command: Any
    items: tuple[tuple[int, Any], ...]
    fixed: dict[str, Any]
    settings: dict[str, Any]
    concurrency: int
    star: bool = False


def run_chunk(chunk: Chunk) -> list[Outcome[Any]]:
    """Run one chunk where it lands (a worker): a local async map, its outcomes indexed as
    in the whole map."""
    import asyncio

    from ._config import use_config
    from ._map import amap_all
    from ._map import single
    from ._map import spread

    one = chunk.command._aone()
    call = (spread if chunk.star else single)(one, chunk.fixed)
    with use_config(**chunk.settings):
        found = asyncio.run(
            amap_all(call, [item for _, item in chunk.items], concurrency=chunk.concurrency)
        )
    for outcome in found:
        if outcome.error is not None:
            _bare(outcome.error)
    return [Outcome(chunk.items[o.index][0], o.input, o.result, error=o.error) for o in found]


def _bare(error: BaseException) -> None:
    """Drop what an error leaving a worker must not carry: the SDK exception behind it (its
    request holds the key) and the traceback. Alloy errors pickle without them anyway, but a
    cluster may pickle exceptions its own way (Dask installs tblib's pickling, which keeps
    both)."""
    error.__cause__ = None
    error.__context__ = None
    error.__traceback__ = None


def _travelling(ship_secrets: bool) -> dict[str, Any]:
    """The caller's effective settings, as keyword arguments for ``use_config`` in a worker."""
    from ._config import base_config

    cfg = base_config()
    found = {
        f.name: value
        for f in dataclasses.fields(cfg)
        if (value := getattr(cfg, f.name)) is not None
    }
    options = found.get("provider_options")
    if options and not ship_secrets:
        from ._config import has_secret

        found["provider_options"] = {
            name: {k: v for k, v in dict(per).items() if not has_secret({k: v})}
            for name, per in dict(options).items()
        }
    return found


def _chunks(items: Iterable[Any], size: int) -> Iterator[tuple[tuple[int, Any], ...]]:
    batch: list[tuple[int, Any]] = []
    for pair in enumerate(items):
        batch.append(pair)
        if len(batch) == size:
            yield tuple(batch)
            batch = []
    if batch:
        yield tuple(batch)


def _lost(chunk: Chunk, error: BaseException) -> list[Outcome[Any]]:
    """Every item of a chunk whose task failed as a whole."""
    message = f"the worker running this item's chunk failed: {type(error).__name__}: {error}"
    return [
        Outcome(index, item, error=ProviderError(message[:500], provider="executor"))
        for index, item in chunk.items
    ]


def scatter_map(
    command: Any,
    items: Iterable[Any],
    executor: Executor,
    *,
    fixed: dict[str, Any],
    concurrency: int | None,
    chunk_size: int | None,
    return_exceptions: bool,
    progress: ProgressOption,
    ship_secrets: bool,
    star: bool = False,
) -> MapResult[Any]:
    """``map`` over ``executor`` (see the module docs)."""
    from concurrent.futures import FIRST_COMPLETED
    from concurrent.futures import wait

    from ._progress import reporter

    size = 32 if chunk_size is None else chunk_size
    if not isinstance(size, int) or isinstance(size, bool) or size < 1:  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ConfigurationError(f"chunk_size={chunk_size!r} is invalid: expected 1 or more.")
    settings = _travelling(ship_secrets)
    per_task = concurrency or 8
    started = time.perf_counter()
    shown = reporter(progress, items)
    source = _chunks(items, size)
    # A few chunks ahead of the workers, so none waits; the rest are read as chunks finish.
    window = max(2, getattr(executor, "_max_workers", 4) * 2)
    pending: dict[Future[list[Outcome[Any]]], Chunk] = {}
    found: list[Outcome[Any]] = []
    failed = False
    try:
        while True:
            while not failed and len(pending) < window:
                nxt = next(source, None)
                if nxt is None:
                    break
                chunk = Chunk(command, nxt, fixed, settings, per_task, star)
                pending[executor.submit(run_chunk, chunk)] = chunk
            if not pending:
                break
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in done:
                chunk = pending.pop(future)
                error = future.exception()
                outcomes = _lost(chunk, error) if error is not None else future.result()
                found.extend(outcomes)
                if shown is not None:
                    for outcome in outcomes:
                        shown.update(outcome.ok)
                if not return_exceptions and any(not o.ok for o in outcomes):
                    failed = True
    finally:
        for future in pending:
            future.cancel()
        if shown is not None:
            shown.close()
    found.sort(key=lambda o: o.index)
    if failed:
        raise next(o.error for o in found if o.error is not None)
    return MapResult(tuple(found), time.perf_counter() - started)
