"""Batch job records: every step of a provider batch job, written before the next one.

A job (``batch_jobs``) is one ``cmd.batch(items)``: alloy's id, the command and output schema
it was made for, the backend and account (a fingerprint, never a key). Its items
(``batch_items``) hold each input, the provider line sent for it, and, once collected, its
outcome as JSON. Its parts (``batch_parts``) are the provider batches it spans: each part's
state, the marker it was submitted with, the provider's id for it and the files it owns.

Part states, in order: ``planned`` (lines recorded), ``submitting`` (about to create the
provider batch, by the process its ``owner`` names: a crash here leaves it unknown whether
the provider has it), ``submitted``
(the provider's id recorded), ``ambiguous`` (submitting, and the provider cannot say whether
it has it), ``ended`` (every line has an outcome at the provider), ``collected`` (outcomes
stored here), ``cleaned`` (provider files deleted).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any

if TYPE_CHECKING:
    from ._db import Store

__all__ = [
    "ItemRecord",
    "JobRecord",
    "PartRecord",
    "add_job",
    "find_job",
    "item_records",
    "job_records",
    "part_records",
    "purge_job",
    "set_job",
    "set_outcomes",
    "set_part",
    "take_part",
]


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: str
    name: str | None
    backend: str
    base_url: str
    account: str
    model: str
    command: str
    schema: str
    state: str
    created_at: float
    updated_at: float
    detail: dict[str, Any]


@dataclass(frozen=True, slots=True)
class PartRecord:
    part: int
    state: str
    marker: str
    provider_id: str | None
    files: tuple[str, ...]
    provider_state: str | None
    owner: str | None
    updated_at: float


@dataclass(frozen=True, slots=True)
class ItemRecord:
    idx: int
    part: int
    key: str
    input: Any
    line: dict[str, Any]
    outcome: dict[str, Any] | None


def add_job(store: Store, job: JobRecord, parts: int, items: list[ItemRecord]) -> None:
    """Record a planned job, its parts and its items, in one transaction."""
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO batch_jobs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                job.id,
                job.name,
                job.backend,
                job.base_url,
                job.account,
                job.model,
                job.command,
                job.schema,
                job.state,
                job.created_at,
                job.updated_at,
                json.dumps(job.detail),
            ),
        )
        conn.executemany(
            "INSERT INTO batch_parts (job_id, part, state, marker, updated_at) "
            "VALUES (?, ?, 'planned', ?, ?)",
            [(job.id, n, f"{job.id}:{n}", job.created_at) for n in range(parts)],
        )
        conn.executemany(
            "INSERT INTO batch_items VALUES (?, ?, ?, ?, ?, ?, NULL)",
            [
                (job.id, i.idx, i.part, i.key, json.dumps(i.input), json.dumps(i.line))
                for i in items
            ],
        )


def _job(row: Any) -> JobRecord:
    values = tuple(row)
    return JobRecord(
        values[0],
        values[1],
        values[2],
        values[3],
        values[4],
        values[5],
        values[6],
        values[7],
        values[8],
        values[9],
        values[10],
        json.loads(values[11]),
    )


def find_job(store: Store, job_id: str) -> JobRecord | None:
    with store.read() as conn:
        row = conn.execute("SELECT * FROM batch_jobs WHERE id = ?", (job_id,)).fetchone()
    return None if row is None else _job(row)


def job_records(store: Store, state: str | None = None) -> list[JobRecord]:
    """Every job (or those in ``state``), oldest first."""
    with store.read() as conn:
        if state is None:
            rows = conn.execute("SELECT * FROM batch_jobs ORDER BY created_at, id").fetchall()
        else:
            rows = conn.execute(
                "SELECT * FROM batch_jobs WHERE state = ? ORDER BY created_at, id", (state,)
            ).fetchall()
    return [_job(r) for r in rows]


def set_job(store: Store, job_id: str, state: str, **detail: Any) -> None:
    """Move a job to ``state``, adding ``detail`` to what it records."""
    with store.transaction() as conn:
        row = conn.execute("SELECT detail FROM batch_jobs WHERE id = ?", (job_id,)).fetchone()
        before: dict[str, Any] = json.loads(row[0]) if row else {}
        merged = {**before, **detail}
        conn.execute(
            "UPDATE batch_jobs SET state = ?, updated_at = ?, detail = ? WHERE id = ?",
            (state, time.time(), json.dumps(merged), job_id),
        )


def part_records(store: Store, job_id: str) -> list[PartRecord]:
    with store.read() as conn:
        rows = conn.execute(
            "SELECT part, state, marker, provider_id, files, provider_state, owner, updated_at "
            "FROM batch_parts WHERE job_id = ? ORDER BY part",
            (job_id,),
        ).fetchall()
    return [
        PartRecord(r[0], r[1], r[2], r[3], tuple(json.loads(r[4])), r[5], r[6], r[7]) for r in rows
    ]


def take_part(store: Store, job_id: str, part: int, seen: PartRecord, owner: str) -> bool:
    """Move a part to ``submitting`` for ``owner``, only if it is still as ``seen`` (no other
    process has moved it since): whether this caller now submits it."""
    with store.transaction() as conn:
        taken = conn.execute(
            "UPDATE batch_parts SET state = 'submitting', owner = ?, updated_at = ? "
            "WHERE job_id = ? AND part = ? AND state = ? AND updated_at = ?",
            (owner, time.time(), job_id, part, seen.state, seen.updated_at),
        )
        return taken.rowcount == 1


def set_part(
    store: Store,
    job_id: str,
    part: int,
    state: str,
    *,
    provider_id: str | None = None,
    files: tuple[str, ...] | None = None,
    provider_state: str | None = None,
) -> None:
    """Move a part to ``state``; the given fields replace the recorded ones."""
    with store.transaction() as conn:
        conn.execute(
            "UPDATE batch_parts SET state = ?, updated_at = ?, "
            "provider_id = COALESCE(?, provider_id), files = COALESCE(?, files), "
            "provider_state = COALESCE(?, provider_state) WHERE job_id = ? AND part = ?",
            (
                state,
                time.time(),
                provider_id,
                None if files is None else json.dumps(list(files)),
                provider_state,
                job_id,
                part,
            ),
        )


def item_records(store: Store, job_id: str) -> list[ItemRecord]:
    """Every item of a job, in input order."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT idx, part, key, input, line, outcome FROM batch_items WHERE job_id = ? "
            "ORDER BY idx",
            (job_id,),
        ).fetchall()
    return [
        ItemRecord(r[0], r[1], r[2], json.loads(r[3]), json.loads(r[4]), r[5] and json.loads(r[5]))
        for r in rows
    ]


def set_outcomes(store: Store, job_id: str, part: int, outcomes: dict[str, Any]) -> None:
    """Store a part's outcomes by item key and mark it collected, in one transaction: a crash
    either keeps all of them or none."""
    with store.transaction() as conn:
        conn.executemany(
            "UPDATE batch_items SET outcome = ? WHERE job_id = ? AND key = ?",
            [(json.dumps(value), job_id, key) for key, value in outcomes.items()],
        )
        conn.execute(
            "UPDATE batch_parts SET state = 'collected', updated_at = ? "
            "WHERE job_id = ? AND part = ?",
            (time.time(), job_id, part),
        )


def purge_job(store: Store, job_id: str) -> bool:
    """Forget a job and everything recorded for it; whether there was one."""
    with store.transaction() as conn:
        conn.execute("DELETE FROM batch_items WHERE job_id = ?", (job_id,))
        conn.execute("DELETE FROM batch_parts WHERE job_id = ?", (job_id,))
        gone = conn.execute("DELETE FROM batch_jobs WHERE id = ?", (job_id,)).rowcount
    return gone > 0
