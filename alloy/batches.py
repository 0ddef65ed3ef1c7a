"""Every batch job in the store: ``list``, ``get``, ``resume`` and ``purge``.

``cmd.batch(items)`` makes a job and ``cmd.batch_job(id)`` re-attaches one with its typed
command; these functions work on the store alone, without the command: to see what is
there, to carry every unfinished job on after a crash (submit what was not submitted,
adopt what was, poll, collect), and to forget jobs. A job's backend is the one its model
names, with the key from the environment (the store holds none).
"""

from __future__ import annotations

import builtins
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from os import PathLike

    from ._messages import Prompt
    from ._plan import Plan
    from ._store import Store
    from ._store._batches import JobRecord

__all__ = ["BatchInfo", "cancel", "get", "list", "purge", "resume", "wait"]


@dataclass(frozen=True, slots=True)
class BatchInfo:
    """A job as the store records it: alloy's ``id``, its ``name``, the ``backend`` and
    ``model``, the ``command`` that made it, its ``state`` (``running``, ``ambiguous`` or
    ``ended``) and when it was made and last moved (Unix seconds)."""

    id: str
    name: str | None
    backend: str
    model: str
    command: str
    state: str
    created_at: float
    updated_at: float


def _info(record: JobRecord) -> BatchInfo:
    return BatchInfo(
        record.id,
        record.name,
        record.backend,
        record.model,
        record.command,
        record.state,
        record.created_at,
        record.updated_at,
    )


def _store(store: str | PathLike[str] | None) -> Store:
    from ._store import open_store

    return open_store(store)


def list(
    *, state: str | None = None, store: str | PathLike[str] | None = None
) -> builtins.list[BatchInfo]:
    """Every job in the store (or those in ``state``), oldest first."""
    from ._store._batches import job_records

    return [_info(r) for r in job_records(_store(store), state)]


def get(job_id: str, *, store: str | PathLike[str] | None = None) -> BatchInfo:
    """The job ``job_id``; ``ConfigurationError`` when the store has none."""
    from ._errors import ConfigurationError
    from ._store._batches import find_job

    found = find_job(_store(store), job_id)
    if found is None:
        raise ConfigurationError(f"no batch job {job_id!r} in the store.")
    return _info(found)


class _Model:
    """What a job needs of a command to move on (not to read its results): plans of its
    model, for its backend."""

    def __init__(self, record: JobRecord, store: str | PathLike[str] | None):
        from ._config import effective
        from ._config import make_config

        settings: dict[str, Any] = {"model": f"{record.backend}:{record.model}"}
        if store is not None:
            settings["store"] = store
        self._cfg = effective(make_config("alloy.batches", settings))

    def _plan(self, prompt: Prompt) -> Plan[Any]:
        from ._output import output_spec
        from ._plan import plan

        return plan(prompt, output_spec(str, "alloy.batches"), self._cfg)


def resume(*, store: str | PathLike[str] | None = None) -> builtins.list[BatchInfo]:
    """Carry every job that has not ended one step further each (submit, adopt, poll,
    collect, clean up); the jobs afterwards. A job that cannot move (its provider refuses,
    its account is not this one) is left as it is, with its error in the log."""
    import logging

    from ._batch import BatchJob
    from ._errors import AlloyError
    from ._store._batches import find_job
    from ._store._batches import job_records

    opened = _store(store)
    moved: builtins.list[BatchInfo] = []
    for record in job_records(opened):
        if record.state != "ended":
            job: BatchJob[Any] = BatchJob(_Model(record, store), record.id, opened, None, {})
            try:
                job.advance()
            except AlloyError as exc:
                logging.getLogger("alloy").warning("batch job %s: %s", record.id, exc)
        found = find_job(opened, record.id)
        if found is not None:
            moved.append(_info(found))
    return moved


def _job(job_id: str, store: str | PathLike[str] | None) -> Any:
    """The job ``job_id`` of the store, moved by its model alone (no typed results)."""
    from ._batch import BatchJob
    from ._errors import ConfigurationError
    from ._store._batches import find_job

    opened = _store(store)
    record = find_job(opened, job_id)
    if record is None:
        raise ConfigurationError(f"no batch job {job_id!r} in the store.")
    job: BatchJob[Any] = BatchJob(_Model(record, store), record.id, opened, None, {})
    return job


def wait(
    job_id: str,
    *,
    poll: float = 30.0,
    timeout: float | None = None,
    store: str | PathLike[str] | None = None,
) -> BatchInfo:
    """Move the job ``job_id`` on every ``poll`` seconds until every outcome is collected;
    the job then. A ``TimeoutError`` after ``timeout`` seconds (the job goes on at the
    provider), a ``ConfigurationError`` for an ambiguous job (see ``BatchJob.wait``)."""
    _job(job_id, store).wait(poll=poll, timeout=timeout)
    return get(job_id, store=store)


def cancel(job_id: str, *, store: str | PathLike[str] | None = None) -> BatchInfo:
    """Ask the provider to stop the job ``job_id`` (what already ran is still collected by
    the next ``resume`` or ``wait``); the job then."""
    _job(job_id, store).cancel()
    return get(job_id, store=store)


def purge(job_id: str | None = None, *, store: str | PathLike[str] | None = None) -> int:
    """Forget the job ``job_id``, or (without one) every job that has ended; how many. The
    provider's copies are not touched (ended jobs' files are deleted already)."""
    from ._store._batches import job_records
    from ._store._batches import purge_job

    opened = _store(store)
    if job_id is not None:
        return int(purge_job(opened, job_id))
    return sum(purge_job(opened, r.id) for r in job_records(opened, "ended"))
