"""Batch jobs: a command over many items through the provider's batch API, durably.

``cmd.batch(items)`` plans every item as the realtime call it would be, builds each line with
the backend (``Batcher.batch_line``: the realtime body, built by the SDK), records the job,
its parts and its items in the store, then submits. Every step is written before the next
one is taken (``alloy._store._batches`` lists the part states), so a process that dies
anywhere leaves a job that ``resume()`` (in any process on the same store) carries on:

- a part recorded as ``submitting`` may or may not be at the provider. Where the provider
  keeps the marker alloy tags each batch with (OpenAI metadata, Gemini display names), the
  batch is looked for and adopted when found, resubmitted when not: never submitted twice.
  Where it cannot be asked (Anthropic), the part becomes ``ambiguous``; ``adopt(id)`` or
  ``resubmit()`` settles it.
- once a part has ended at the provider, every outcome is stored here in one transaction,
  then the provider's files are deleted. Collecting again downloads nothing, and results
  outlive the provider's retention.

No API key is stored: the job records the account's fingerprint, and a backend that reaches
another account cannot collect it. Results decode with the realtime decoders and the same
output parsing as a call (no re-asks: a re-ask would be another request).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import secrets
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from typing import Generic
from typing import TypeVar
from typing import cast

from ._batch_outcomes import loaded_error as _loaded_error
from ._batch_outcomes import stored as _stored
from ._errors import AlloyError
from ._errors import CapabilityError
from ._errors import ConfigurationError
from ._errors import ProviderError
from ._inner import inner_with
from ._map import MapResult
from ._map import Outcome

if TYPE_CHECKING:
    from ._plan import Plan
    from ._store import Store
    from ._store._batches import JobRecord
    from ._store._batches import PartRecord
    from .backends.base import Batcher

__all__ = ["BatchJob", "BatchStatus", "attach", "submit"]

T = TypeVar("T")

_DONE = frozenset({"collected", "cleaned"})


@dataclass(frozen=True, slots=True)
class BatchStatus:
    """Where a batch job is.

    Attributes:
        state: ``running`` (at the provider), ``ambiguous`` (a part may or may not have been
            submitted: ``adopt`` or ``resubmit`` it), ``ended`` (every outcome collected).
        total / succeeded / failed / pending: item counts (``failed`` counts errored,
            expired and cancelled items once collected).
        provider_states: each part's state in the provider's words.
    """

    state: str
    total: int
    succeeded: int
    failed: int
    pending: int
    provider_states: tuple[str | None, ...]


def _schema_of(p: Plan[Any]) -> str:
    output = p.request.output
    shape = None if output is None else output.schema
    text = json.dumps([p.output.expected, shape], sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _batcher(p: Plan[Any]) -> Batcher:
    found = inner_with(p.backend, "batch_submit", "batch_line")
    if found is None:
        raise CapabilityError(
            "batch API", p.provider, p.request.model, hint="Use cmd.map() for this backend."
        )
    batcher: Batcher = found
    return batcher


def _account(batcher: object) -> tuple[str, str]:
    account: Any = getattr(batcher, "account", None)
    if not callable(account):
        return ("", "")
    base_url, fingerprint = cast("tuple[str, str]", account())
    return base_url, fingerprint


def _input(item: Any) -> Any:
    from ._codec import to_json

    try:
        return to_json(item)
    except TypeError:
        return {"$repr": repr(item)[:200]}


def submit(command: Any, items: Iterable[Any], name: str | None, fixed: dict[str, Any]) -> Any:
    """Plan, record and submit ``command`` over ``items``: the job (see ``BatchJob``)."""
    from ._store import open_store
    from ._store._batches import ItemRecord
    from ._store._batches import JobRecord
    from ._store._batches import add_job

    given = list(items)
    if not given:
        raise ConfigurationError("batch() needs at least one item.")
    plans = [command._turn_plan((item,), fixed, None) for item in given]
    first = plans[0]
    if any(p.tools for p in plans):
        raise ConfigurationError(
            "batch(): commands with tools cannot run as a batch (each tool turn would be "
            "another request); use map() for them."
        )
    if any(p.uploads for p in plans):
        raise ConfigurationError(
            "batch(): media that needs uploading is not sent in batches yet; pass it inline "
            "(media_upload='never') or use map()."
        )
    batcher = _batcher(first)
    keys = [f"alloy-{n:06d}" for n in range(len(given))]
    lines = [batcher.batch_line(p.request, key) for p, key in zip(plans, keys, strict=True)]
    parts = _split(lines, batcher)
    base_url, account = _account(batcher)
    now = time.time()
    job_id = f"ab_{int(now * 1000):012x}{secrets.token_hex(4)}"
    record = JobRecord(
        job_id,
        name,
        first.provider,
        base_url,
        account,
        first.request.model,
        first.name or "",
        _schema_of(first),
        "running",
        now,
        now,
        {},
    )
    rows = [
        ItemRecord(n, parts[n], keys[n], _input(item), lines[n], None)
        for n, item in enumerate(given)
    ]
    store = open_store(first.config.store)
    add_job(store, record, max(parts) + 1, rows)
    job: BatchJob[Any] = BatchJob(command, job_id, store, given, fixed)
    job.advance()
    return job


def _split(lines: list[dict[str, Any]], batcher: Batcher) -> list[int]:
    """Each line's part: consecutive lines, each part within the provider's limits."""
    limits = batcher.batch_limits()
    part, count, size = 0, 0, 0
    found: list[int] = []
    for line in lines:
        length = len(json.dumps(line, ensure_ascii=False).encode()) + 1
        if count and (count >= limits.max_requests or size + length > limits.max_bytes):
            part, count, size = part + 1, 0, 0
        count, size = count + 1, size + length
        found.append(part)
    return found


def attach(command: Any, job_id: str, store_path: Any = None) -> Any:
    """The job ``job_id`` of the store, for ``command`` (``cmd.batch_job(id)``)."""
    from ._store import open_store
    from ._store._batches import find_job

    store = open_store(store_path)
    record = find_job(store, job_id)
    if record is None:
        raise ConfigurationError(f"no batch job {job_id!r} in {store!r}.")
    job: BatchJob[Any] = BatchJob(command, job_id, store, None, {})
    probe = job.probe()
    if record.schema != _schema_of(probe):
        raise ConfigurationError(
            f"batch job {job_id} was made for another output type than "
            f"{probe.output.expected}: re-attach it with the command it was made with."
        )
    return job


class BatchJob(Generic[T]):
    """A durable batch job (see the module docs, and docs/batch.md).

    ``id`` is alloy's, stable across processes. ``status()`` polls the provider and
    collects what has ended; ``wait()`` polls until everything has; ``results()`` is the
    ``MapResult`` in input order; ``cancel()`` asks the provider to stop (what already ran is
    still collected).
    """

    def __init__(
        self,
        command: Any,
        job_id: str,
        store: Store,
        items: list[Any] | None,
        fixed: dict[str, Any],
    ) -> None:
        self.id = job_id
        self._command = command
        self._store = store
        self._items = items
        self._fixed = fixed

    def __repr__(self) -> str:
        return f"<BatchJob {self.id}>"

    def _record(self) -> JobRecord:
        from ._store._batches import find_job

        found = find_job(self._store, self.id)
        if found is None:
            raise ConfigurationError(f"batch job {self.id} is no longer in the store.")
        return found

    def probe(self) -> Plan[T]:
        """A plan of the job's command (with a placeholder prompt): its backend and output."""
        from ._messages import TextPart

        plan: Plan[T] = self._command._plan((TextPart("(a batch item)"),))
        return plan

    def _plan_for(self, item: Any) -> Plan[T]:
        if item is None:
            return self.probe()
        plan: Plan[T] = self._command._turn_plan((item,), self._fixed, None)
        return plan

    def _batcher(self) -> Batcher:
        record = self._record()
        batcher = _batcher(self.probe())
        if _account(batcher) != (record.base_url, record.account):
            raise ConfigurationError(
                f"batch job {self.id} was submitted to another account or server than this "
                "command's backend reaches now: use the same key and base URL to collect it."
            )
        return batcher

    # --- moving the job on --------------------------------------------------------------------

    def advance(self) -> BatchStatus:
        """Take every step that can be taken now (submit, poll, collect, clean up)."""
        from ._store._batches import item_records
        from ._store._batches import part_records
        from ._store._batches import set_job
        from ._store._batches import set_part
        from ._store._batches import take_part

        batcher = self._batcher()
        record = self._record()
        for part in part_records(self._store, self.id):
            state = part.state
            if state == "submitting":
                if _submitting_elsewhere(part):
                    continue
                found = batcher.batch_find(part.marker)
                if found == "unknown":
                    set_part(self._store, self.id, part.part, "ambiguous")
                    continue
                if found is not None:
                    set_part(
                        self._store,
                        self.id,
                        part.part,
                        "submitted",
                        provider_id=found.id,
                        files=found.files,
                    )
                    state = "submitted"
                else:
                    state = "planned"
            if state == "planned":
                if not take_part(self._store, self.id, part.part, part, _OWNER):
                    continue  # another process got there first
                lines = [i.line for i in item_records(self._store, self.id) if i.part == part.part]
                made = batcher.batch_submit(record.model, lines, part.marker)
                set_part(
                    self._store,
                    self.id,
                    part.part,
                    "submitted",
                    provider_id=made.id,
                    files=made.files,
                )
                continue  # just created: nothing to poll yet
            if state in ("submitted", "ended") and part.provider_id is not None:
                poll = batcher.batch_poll(part.provider_id)
                if not poll.ended:
                    set_part(
                        self._store, self.id, part.part, state, provider_state=poll.provider_state
                    )
                    continue
                set_part(
                    self._store, self.id, part.part, "ended", provider_state=poll.provider_state
                )
                self._collect(batcher, part.provider_id, part.part, poll.error)
                state = "collected"
            if state == "collected" and part.provider_id is not None:
                batcher.batch_cleanup(part.provider_id, part.files)
                set_part(self._store, self.id, part.part, "cleaned")
        status = self.status(advance=False)
        set_job(self._store, self.id, status.state)
        return status

    def _collect(self, batcher: Batcher, batch_id: str, part: int, failure: str | None) -> None:
        from ._store._batches import item_records
        from ._store._batches import set_outcomes

        keys = [i.key for i in item_records(self._store, self.id) if i.part == part]
        found = {} if failure else batcher.batch_results(batch_id)
        outcomes: dict[str, Any] = {}
        for key in keys:
            outcome = found.get(key)
            if outcome is None:
                reason = failure or "the provider returned no result for this item"
                outcome = ProviderError(
                    f"batch: {reason}", provider=self._record().backend, retryable=False
                )
            outcomes[key] = _stored(outcome)
        set_outcomes(self._store, self.id, part, outcomes)

    # --- what users call ----------------------------------------------------------------------

    def status(self, *, advance: bool = True) -> BatchStatus:
        """The job's state now (after taking the steps that can be taken, unless
        ``advance=False``)."""
        from ._store._batches import item_records
        from ._store._batches import part_records

        if advance and self._record().state not in ("ended",):
            return self.advance()
        parts = part_records(self._store, self.id)
        items = item_records(self._store, self.id)
        done = [i for i in items if i.outcome is not None]
        good = sum(1 for i in done if "response" in (i.outcome or {}))
        if any(p.state == "ambiguous" for p in parts):
            state = "ambiguous"
        elif all(p.state in _DONE for p in parts):
            state = "ended"
        else:
            state = "running"
        return BatchStatus(
            state,
            len(items),
            good,
            len(done) - good,
            len(items) - len(done),
            tuple(p.provider_state for p in parts),
        )

    def wait(self, *, poll: float = 30.0, timeout: float | None = None) -> BatchJob[T]:
        """Poll every ``poll`` seconds until every outcome is collected; a ``TimeoutError``
        after ``timeout`` seconds (the job goes on at the provider)."""
        started = time.monotonic()
        while (status := self.status()).state != "ended":
            if status.state == "ambiguous":
                raise ConfigurationError(
                    f"batch job {self.id} may or may not have been submitted (the process "
                    "stopped while submitting, and the provider cannot be asked): adopt(id) "
                    "the provider's batch if it has it, or resubmit()."
                )
            if timeout is not None and time.monotonic() - started >= timeout:
                raise TimeoutError(f"batch job {self.id} had not ended after {timeout} s")
            time.sleep(poll)
        return self

    def results(self) -> MapResult[T]:
        """Every item's outcome in input order, once the job has ended."""
        from ._store._batches import item_records

        if self.status(advance=False).state != "ended":
            raise ConfigurationError(
                f"batch job {self.id} has not ended: wait() for it (or check status())."
            )
        record = self._record()
        found: list[Outcome[T]] = []
        for item in item_records(self._store, self.id):
            given = self._items[item.idx] if self._items is not None else item.input
            found.append(self._outcome(item.idx, given, item.outcome or {}, record.backend))
        return MapResult(tuple(found), record.updated_at - record.created_at)

    def _outcome(self, idx: int, given: Any, stored: dict[str, Any], backend: str) -> Outcome[T]:
        from ._codec import load_response
        from ._run import Call

        if "response" not in stored:
            return Outcome(idx, given, error=_loaded_error(stored, backend))
        raw = given if self._items is not None or not isinstance(given, dict) else None
        p = self._plan_for(raw)
        call = Call(p)
        try:
            call.send(load_response(stored["response"]))
        except AlloyError as error:
            return Outcome(idx, given, error=error)
        if call.result is None:  # it asked for another turn (a re-ask): not in a batch
            from ._errors import OutputValidationError

            return Outcome(
                idx,
                given,
                error=OutputValidationError(p.output.expected, "", ["the reply did not validate"]),
            )
        return Outcome(idx, given, dataclasses.replace(call.result, batch=True))

    def cancel(self) -> None:
        """Ask the provider to stop every part still running; what already ran is kept and
        collected by the next ``status()`` or ``wait()``."""
        from ._store._batches import part_records

        batcher = self._batcher()
        for part in part_records(self._store, self.id):
            if part.state == "submitted" and part.provider_id is not None:
                batcher.batch_cancel(part.provider_id)

    def adopt(self, provider_id: str) -> None:
        """Settle an ambiguous part: the provider has it, as ``provider_id``."""
        from ._store._batches import part_records
        from ._store._batches import set_part

        for part in part_records(self._store, self.id):
            if part.state == "ambiguous":
                set_part(self._store, self.id, part.part, "submitted", provider_id=provider_id)
                return
        raise ConfigurationError(f"batch job {self.id} has no ambiguous part to adopt.")

    def resubmit(self) -> None:
        """Settle an ambiguous part: the provider does not have it; submit it again."""
        from ._store._batches import part_records
        from ._store._batches import set_part

        for part in part_records(self._store, self.id):
            if part.state == "ambiguous":
                set_part(self._store, self.id, part.part, "planned")
        self.advance()


_OWNER = f"{socket.gethostname()}:{os.getpid()}"
"""Who takes a part to submit it: this host and process."""

_STUCK = 15 * 60.0
"""How long a part another host is submitting may stay ``submitting`` before it is taken
for dead (a process on this host is asked directly)."""


def _submitting_elsewhere(part: PartRecord) -> bool:
    """Whether a live process (not this one) may be submitting ``part`` right now."""
    host, _, pid = (part.owner or "").rpartition(":")
    if part.owner == _OWNER or not pid.isdigit():
        return False
    if host != socket.gethostname():
        return time.time() - part.updated_at < _STUCK
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # alive, another user's
    return True
