"""Cached-context records: which provider cache holds a context's prefix, for which account.

A record is keyed by ``ContextCacheKey``: the backend, its base URL, the account (a one-way
fingerprint of the API key, never the key), the model, the context's key and ``identity``,
a digest of what else the cache holds (system text, tool declarations). It keeps the
provider's name for the cache and when the provider drops it. Expired records are never
returned.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ._db import Store

__all__ = [
    "ContextCache",
    "ContextCacheKey",
    "find_context_cache",
    "forget_context_cache",
    "remember_context_cache",
    "context_caches",
]


@dataclass(frozen=True, slots=True)
class ContextCacheKey:
    """What a cached context is filed under.

    Attributes:
        backend: the backend name (``"gemini"``).
        base_url: the API base URL the cache was created at.
        account: ``account_fingerprint(api_key, base_url)``; never the key itself.
        model: the model the cache was created for (a cache serves one model).
        context_key: ``Context.key``.
        identity: a digest of the rest of what the cache holds (system text, tools).
    """

    backend: str
    base_url: str
    account: str
    model: str
    context_key: str
    identity: str

    def lease_name(self) -> str:
        """The ``single_flight`` name under which this cache is created."""
        import json

        return "context-cache:" + json.dumps(
            [self.backend, self.base_url, self.account, self.model, self.context_key, self.identity]
        )

    def values(self) -> tuple[str, str, str, str, str, str]:
        return (
            self.backend,
            self.base_url,
            self.account,
            self.model,
            self.context_key,
            self.identity,
        )


@dataclass(frozen=True, slots=True)
class ContextCache:
    """A remembered cache: the provider's name for it, and until when it lives.

    Attributes:
        key: what the cache is filed under.
        name: the provider's name (``cachedContents/...``).
        created_at: when it was created, in Unix seconds.
        expires_at: when the provider drops it, in Unix seconds.
    """

    key: ContextCacheKey
    name: str
    created_at: float
    expires_at: float


_KEY_WHERE = (
    "backend = ? AND base_url = ? AND account = ? AND model = ? AND context_key = ?"
    " AND identity = ?"
)


def remember_context_cache(
    store: Store, key: ContextCacheKey, *, name: str, expires_at: float, now: float | None = None
) -> ContextCache:
    """Record that ``key``'s cache is ``name`` until ``expires_at``, replacing an older one."""
    cache = ContextCache(key, name, time.time() if now is None else now, expires_at)
    with store.transaction() as conn:
        conn.execute(
            "INSERT INTO context_caches (backend, base_url, account, model, context_key,"
            " identity, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (backend, base_url, account, model, context_key, identity)"
            " DO UPDATE SET name = excluded.name, created_at = excluded.created_at,"
            " expires_at = excluded.expires_at",
            (*key.values(), name, cache.created_at, expires_at),
        )
    return cache


def find_context_cache(
    store: Store, key: ContextCacheKey, *, now: float | None = None
) -> ContextCache | None:
    """The record for ``key``, unless there is none or it has expired by ``now`` (pass a
    ``now`` ahead of the clock to leave a margin)."""
    at = time.time() if now is None else now
    with store.read() as conn:
        row = conn.execute(
            "SELECT name, created_at, expires_at FROM context_caches"
            f" WHERE {_KEY_WHERE} AND expires_at > ?",
            (*key.values(), at),
        ).fetchone()
    return None if row is None else ContextCache(key, row[0], row[1], row[2])


def forget_context_cache(store: Store, key: ContextCacheKey, name: str | None = None) -> bool:
    """Delete the record for ``key`` (only if it still names ``name``, when given); whether
    there was one. Naming the cache keeps a caller that saw it fail from deleting the record
    another caller has just made for its replacement."""
    where, values = _KEY_WHERE, key.values()
    with store.transaction() as conn:
        if name is not None:
            gone = conn.execute(
                f"DELETE FROM context_caches WHERE {where} AND name = ?", (*values, name)
            )
        else:
            gone = conn.execute(f"DELETE FROM context_caches WHERE {where}", values)
        return gone.rowcount > 0


def context_caches(store: Store, context_key: str) -> list[ContextCache]:
    """Every record of the context ``context_key``, expired ones included."""
    with store.read() as conn:
        rows = conn.execute(
            "SELECT backend, base_url, account, model, context_key, identity, name, created_at,"
            " expires_at FROM context_caches WHERE context_key = ? ORDER BY created_at",
            (context_key,),
        ).fetchall()
    return [ContextCache(ContextCacheKey(*row[:6]), row[6], row[7], row[8]) for row in rows]
