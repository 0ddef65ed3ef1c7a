"""Batch jobs on the scenario clock: one provider-neutral state machine for all three APIs.

A job's lines get their answers when it is created (in input order, from the scenario's
per-key scripts, then its queue or default), but a line's answer only shows once the clock
has passed its finishing time: line ``i`` of ``n`` finishes at ``running * (i + 1) / n``
seconds into the run. The phases, in OpenAI's words (each API module maps them to its own):

* ``validating`` for ``timing.validating`` seconds, then ``failed`` when the input was bad;
* ``in_progress`` for ``timing.running`` seconds, then ``finalizing`` for
  ``timing.finalizing``, then ``completed``;
* ``expired`` when ``timing.expires_after`` seconds from creation pass first: lines not
  finished by then are expired;
* ``cancelling`` for ``timing.cancel_lag`` seconds after a cancel, then ``cancelled``; lines
  finished before the cancel keep their answers, the others are cancelled;
* ``failed`` at once after ``fail()``; lines not finished by then failed.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Any
from typing import cast

from .._items import Item
from .._items import Reply

__all__ = [
    "DEFAULT_LIMITS",
    "TERMINAL",
    "BatchLimits",
    "BatchLine",
    "BatchStore",
    "BatchTiming",
    "Job",
    "Outcome",
    "SubmittedBatch",
    "batch_from_json",
    "mapping",
]

TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
_DAY = 24 * 3600.0


@dataclass(frozen=True)
class BatchTiming:
    """How long each phase of batches created from now on lasts, in clock seconds."""

    validating: float = 0.0
    running: float = 60.0
    finalizing: float = 0.0
    cancel_lag: float = 0.0
    expires_after: float = _DAY


@dataclass(frozen=True)
class BatchLimits:
    """One API's batch limits: requests per batch, and bytes (Gemini: of an inline batch)."""

    max_requests: int
    max_bytes: int


DEFAULT_LIMITS = {
    "openai": BatchLimits(50_000, 200 * 1024 * 1024),
    "anthropic": BatchLimits(100_000, 256 * 1024 * 1024),
    "gemini": BatchLimits(1_000_000, 20_000_000),
}
"""The providers' published limits (Gemini has no request count; its bytes are inline)."""


@dataclass(frozen=True)
class BatchLine:
    """One request of a submitted batch: its key (``custom_id``, or Gemini's ``key``; the
    index as a string for an inline Gemini request without ``metadata.key``) and its body
    as received (the OpenAI line's ``body``, Anthropic's ``params``, Gemini's ``request``)."""

    key: str
    body: Any


@dataclass(frozen=True)
class SubmittedBatch:
    """A batch a client created in this scenario, as the test may assert on it.

    ``provider`` is ``openai``, ``anthropic`` or ``gemini``; ``id`` is the provider's id
    (``batch_…``, ``msgbatch_…``, ``batches/…``); ``endpoint`` is OpenAI's (None
    elsewhere); ``model`` is the one model of the batch when there is one; ``source`` is
    ``file`` or ``inline``; ``status`` is the phase when the snapshot was taken, in
    OpenAI's words (``validating``, ``in_progress``, ``finalizing``, ``completed``,
    ``failed``, ``expired``, ``cancelling``, ``cancelled``).
    """

    provider: str
    id: str
    created_at: float
    lines: tuple[BatchLine, ...]
    model: str | None
    endpoint: str | None
    source: str
    status: str
    deleted: bool = False


def batch_from_json(data: dict[str, Any]) -> SubmittedBatch:
    """Inverse of ``dataclasses.asdict`` on a ``SubmittedBatch``, for the control plane."""
    values = dict(data)
    lines: list[dict[str, Any]] = values.pop("lines", [])
    return SubmittedBatch(lines=tuple(BatchLine(**line) for line in lines), **values)


@dataclass(frozen=True)
class Outcome:
    """One line's answer: HTTP status and JSON body as a realtime call would have had them;
    ``reply`` is the scripted ``Reply`` it was rendered from (for usage), if any."""

    status: int
    body: Any
    reply: Reply | None = None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class Job:
    """One batch and its answers; the phase is computed from the clock, never stored."""

    provider: str
    id: str
    created_at: float
    timing: BatchTiming
    lines: tuple[BatchLine, ...]
    outcomes: tuple[Outcome, ...]
    line_ids: tuple[str, ...]
    order: tuple[int, ...]
    """The shuffled order result lines come in (never the input order, for two or more)."""
    model: str | None = None
    endpoint: str | None = None
    source: str = "inline"
    errors: tuple[dict[str, Any], ...] = ()
    """Validation errors: the batch fails once validating is over."""
    extra: dict[str, Any] = field(default_factory=dict[str, Any])
    cancel_at: float | None = None
    failed_at: float | None = None
    fail_message: str = ""
    deleted: bool = False
    files: dict[str, str] = field(default_factory=dict[str, str])
    """Output files made at the end, by role (``output``, ``error``)."""

    @property
    def run_start(self) -> float:
        return self.created_at + self.timing.validating

    @property
    def run_end(self) -> float:
        return self.run_start + self.timing.running

    @property
    def done_at(self) -> float:
        return self.run_end + self.timing.finalizing

    @property
    def expires_at(self) -> float:
        return self.created_at + self.timing.expires_after

    @property
    def cutoff(self) -> float:
        """When lines stop finishing: the first of cancel, failure and expiry."""
        marks = [self.expires_at, self.cancel_at, self.failed_at]
        return min(mark for mark in marks if mark is not None)

    def finish_time(self, index: int) -> float:
        return self.run_start + self.timing.running * (index + 1) / max(1, len(self.lines))

    def phase(self, now: float) -> str:
        """Where the batch stands at ``now``, in OpenAI's words."""
        if self.errors:
            return "failed" if now >= self.run_start else "validating"
        if self.done_at <= self.cutoff and now >= self.done_at:
            return "completed"
        if self.failed_at is not None and self.failed_at <= self.cutoff and now >= self.failed_at:
            return "failed"
        if self.cancel_at is not None and self.cancel_at <= self.cutoff and now >= self.cancel_at:
            return "cancelled" if now >= self.cancel_at + self.timing.cancel_lag else "cancelling"
        if now >= self.expires_at:
            return "expired"
        if now >= self.run_end:
            return "finalizing"
        return "in_progress" if now >= self.run_start else "validating"

    def line_state(self, index: int, now: float) -> str:
        """``succeeded``, ``errored`` (a non-2xx answer), ``processing``, or, once the batch
        has ended without running it, the phase that ended it (``cancelled``…)."""
        if self.errors:
            return "failed"
        if self.finish_time(index) <= min(now, self.cutoff):
            return "succeeded" if self.outcomes[index].ok else "errored"
        phase = self.phase(now)
        if phase in TERMINAL:
            return "cancelled" if phase == "cancelled" else phase
        return "processing"

    def counts(self, now: float) -> dict[str, int]:
        found: dict[str, int] = {}
        for index in range(len(self.lines)):
            state = self.line_state(index, now)
            found[state] = found.get(state, 0) + 1
        return found

    def usage(self, now: float) -> tuple[int, int, int, int]:
        """Input, cached, output and reasoning tokens of the lines answered so far."""
        totals = [0, 0, 0, 0]
        for index, outcome in enumerate(self.outcomes):
            reply = outcome.reply
            if reply is None or self.line_state(index, now) != "succeeded":
                continue
            totals[0] += reply.input_tokens
            totals[1] += reply.cached_tokens
            totals[2] += reply.output_tokens
            totals[3] += reply.reasoning_tokens
        return totals[0], totals[1], totals[2], totals[3]

    def snapshot(self, now: float) -> SubmittedBatch:
        return SubmittedBatch(
            provider=self.provider,
            id=self.id,
            created_at=self.created_at,
            lines=self.lines,
            model=self.model,
            endpoint=self.endpoint,
            source=self.source,
            status=self.phase(now),
            deleted=self.deleted,
        )


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` as a JSON object; empty when it is not one."""
    return cast("Mapping[str, Any]", value) if isinstance(value, Mapping) else {}


def shuffled(count: int, seed: str) -> tuple[int, ...]:
    """A permutation of ``range(count)`` that is not the identity when ``count`` > 1, so a
    client that relies on input order fails every time, not one time in ``count!``."""
    order = list(range(count))
    random.Random(seed).shuffle(order)
    if count > 1 and order == sorted(order):
        order = order[1:] + order[:1]
    return tuple(order)


class BatchStore:
    """One scenario's batches, their timing, limits and per-key scripts; ``now`` is the
    scenario clock."""

    def __init__(self, now: Callable[[], float]) -> None:
        self.now = now
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._timing = BatchTiming()
        self._limits = dict(DEFAULT_LIMITS)
        self._scripted: dict[str, Item] = {}

    def clear(self) -> None:
        with self._lock:
            self._jobs.clear()
            self._timing = BatchTiming()
            self._limits = dict(DEFAULT_LIMITS)
            self._scripted.clear()

    @property
    def timing(self) -> BatchTiming:
        return self._timing

    def set_timing(self, **seconds: object) -> None:
        """Replace the timing of batches created from now on; unnamed phases keep theirs."""
        for name, value in seconds.items():
            if name not in BatchTiming.__dataclass_fields__:
                raise ValueError(f"unknown batch phase {name!r}")
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise ValueError(f"batch {name} must be seconds >= 0, not {value!r}")
        floats = {name: float(value) for name, value in seconds.items()}  # type: ignore[arg-type]
        with self._lock:
            self._timing = replace(self._timing, **floats)

    def limits(self, api: str) -> BatchLimits:
        return self._limits[api]

    def set_limits(self, api: str, max_requests: object, max_bytes: object) -> None:
        """Patch one API's limits; None restores the provider's own."""
        if api not in DEFAULT_LIMITS:
            raise ValueError(f"no batch API {api!r}; expected openai, anthropic or gemini")
        for name, value in (("max_requests", max_requests), ("max_bytes", max_bytes)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
                raise ValueError(f"{name} must be a positive integer or None, not {value!r}")
            if isinstance(value, int) and value < 1:
                raise ValueError(f"{name} must be a positive integer or None, not {value!r}")
        base = DEFAULT_LIMITS[api]
        requests = max_requests if isinstance(max_requests, int) else base.max_requests
        size = max_bytes if isinstance(max_bytes, int) else base.max_bytes
        with self._lock:
            self._limits[api] = BatchLimits(requests, size)

    def script(self, key: str, item: Item) -> None:
        with self._lock:
            self._scripted[key] = item

    def scripted(self, key: str) -> Item | None:
        with self._lock:
            return self._scripted.get(key)

    def add(self, job: Job) -> Job:
        with self._lock:
            self._jobs[job.id] = job
        return job

    def get(self, provider: str, job_id: str) -> Job | None:
        """A batch of ``provider`` that exists (was created and not deleted)."""
        with self._lock:
            job = self._jobs.get(job_id)
        if job is None or job.deleted or job.provider != provider:
            return None
        return job

    def listing(self, provider: str) -> list[Job]:
        """The provider's batches, newest first."""
        with self._lock:
            jobs = [j for j in self._jobs.values() if j.provider == provider and not j.deleted]
        return jobs[::-1]

    def cancel(self, job: Job) -> None:
        with self._lock:
            if job.cancel_at is None:
                job.cancel_at = self.now()

    def fail(self, job_id: str | None, message: str) -> str:
        """Fail a running batch now (the newest not ended when ``job_id`` is None)."""
        now = self.now()
        with self._lock:
            jobs = [self._jobs[job_id]] if job_id in self._jobs else []
            if job_id is None:
                jobs = [j for j in self._jobs.values() if j.phase(now) not in TERMINAL][-1:]
            if not jobs:
                raise ValueError(f"no batch {job_id!r} to fail")
            job = jobs[0]
            if job.phase(now) in TERMINAL:
                raise ValueError(f"batch {job.id} has already ended ({job.phase(now)})")
            job.failed_at, job.fail_message = now, message
            return job.id

    def delete(self, job: Job) -> None:
        with self._lock:
            job.deleted = True

    def snapshot(self) -> list[SubmittedBatch]:
        """Every batch created since the last ``clear``, oldest first, deleted ones too."""
        now = self.now()
        with self._lock:
            jobs = list(self._jobs.values())
        return [job.snapshot(now) for job in jobs]
