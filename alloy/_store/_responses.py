"""Cached responses: a model's reply as JSON, filed under a digest of the request.

A row holds the key (``alloy._response_cache`` makes it: a SHA-256 over the request's
fingerprint, the provider, its base URL and an account fingerprint), the provider and model
for people looking at the file, when the reply was stored, when it expires (``None``: never)
and the reply as the codec's JSON (``alloy._codec.dumps``). No key, no header and no pickle
is stored. An expired row is never returned, and the next reply stored under its key
replaces it.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._db import Store

__all__ = [
    "StoredResponse",
    "clear_responses",
    "find_response",
    "purge_expired_responses",
    "remember_response",
    "response_stats",
]


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """One cached reply.

    Attributes:
        key: what it is filed under.
        provider / model: where it came from (the model as the request named it).
        created_at: when it was stored, in Unix seconds.
        expires_at: when it stops being served, in Unix seconds; ``None`` if never.
        body: the reply, as ``alloy._codec.dumps`` wrote it.
    """

    key: str
    provider: str
    model: str
    created_at: float
    expires_at: float | None
    body: str


def remember_response(
    store: Store,
    key: str,
    *,
    provider: str,
    model: str,
    body: str,
    expires_at: float | None,
    now: float | None = None,
) -> StoredResponse:
    """Store ``body`` under ``key``, replacing what was there."""
    row = StoredResponse(
        key, provider, model, time.time() if now is None else now, expires_at, body
    )
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO responses (key, provider, model, created_at, expires_at, body)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET"
            " provider = excluded.provider, model = excluded.model,"
            " created_at = excluded.created_at, expires_at = excluded.expires_at,"
            " body = excluded.body",
            (key, provider, model, row.created_at, expires_at, body),
        )
    return row


def find_response(
    store: Store, key: str, *, now: float | None = None, newer_than: float | None = None
) -> StoredResponse | None:
    """The reply stored under ``key``, unless there is none, it has expired by ``now``, or it
    was stored at or before ``newer_than`` (a reader's own time to live)."""
    at = time.time() if now is None else now
    with store.read() as conn:
        row = conn.execute(
            "SELECT provider, model, created_at, expires_at, body FROM responses"
            " WHERE key = ? AND (expires_at IS NULL OR expires_at > ?) AND created_at > ?",
            (key, at, float("-inf") if newer_than is None else newer_than),
        ).fetchone()
    return None if row is None else StoredResponse(key, *row)


def purge_expired_responses(store: Store, now: float | None = None) -> int:
    """Delete the replies expired by ``now``; how many there were."""
    at = time.time() if now is None else now
    with store.transaction() as conn:
        return conn.execute("DELETE FROM responses WHERE expires_at <= ?", (at,)).rowcount


def clear_responses(store: Store) -> int:
    """Delete every cached reply; how many there were."""
    with store.transaction() as conn:
        return conn.execute("DELETE FROM responses").rowcount


def response_stats(store: Store) -> tuple[int, int, float | None, float | None]:
    """How many replies are cached, their bodies' size in bytes, and when the oldest and
    the newest were stored (Unix seconds; None when there are none)."""
    with store.read() as conn:
        row = conn.execute(
            "SELECT COUNT(*), COALESCE(SUM(LENGTH(CAST(body AS BLOB))), 0),"
            " MIN(created_at), MAX(created_at) FROM responses"
        ).fetchone()
    return int(row[0]), int(row[1]), row[2], row[3]
