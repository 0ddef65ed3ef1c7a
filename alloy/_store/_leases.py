"""Leases, and ``single_flight``: one caller at a time across threads and processes.

A lease is a row naming its holder (a random token) and when it lapses. Taking one is an
``INSERT ... ON CONFLICT DO NOTHING`` inside ``BEGIN IMMEDIATE``, so exactly one caller wins;
a lapsed lease is deleted first, so a holder that was killed blocks the others for at most
its ttl.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import TypeVar

if TYPE_CHECKING:
    from ._db import Store

__all__ = ["Lease", "claim", "release", "single_flight"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Lease:
    """A claim on ``name`` until ``expires_at`` (Unix seconds); ``owner`` is this claim's
    random token, which tells it from a later claim on the same name."""

    name: str
    owner: str
    expires_at: float


def claim(store: Store, name: str, ttl: float, *, now: float | None = None) -> Lease | None:
    """Take the lease ``name`` for ``ttl`` seconds: the ``Lease`` if this caller now holds it,
    ``None`` while someone else's is live.

    A lease past its ttl is taken over: its holder is presumed dead or stuck. Lapsed leases
    of other names are cleared on the way, so the table holds only live ones (and those of
    holders killed since). Expiry is wall-clock time, the only clock processes share.
    """
    import secrets

    if ttl <= 0:
        raise ValueError(f"a lease needs a ttl above 0 seconds, not {ttl!r}")
    at = time.time() if now is None else now
    lease = Lease(name, secrets.token_hex(16), at + ttl)
    with store.transaction() as conn:
        conn.execute("DELETE FROM leases WHERE expires_at <= ?", (at,))
        won = conn.execute(
            "INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)"
            " ON CONFLICT (name) DO NOTHING",
            (lease.name, lease.owner, lease.expires_at),
        ).rowcount
    return lease if won == 1 else None


def release(store: Store, lease: Lease) -> bool:
    """Give ``lease`` up; ``False`` if it had lapsed and was cleared or taken over since."""
    with store.transaction() as conn:
        gone = conn.execute(
            "DELETE FROM leases WHERE name = ? AND owner = ?", (lease.name, lease.owner)
        )
        return gone.rowcount > 0


def single_flight(
    store: Store,
    name: str,
    *,
    find: Callable[[], T | None],
    produce: Callable[[], T],
    ttl: float,
    poll: float = 0.05,
) -> T:
    """What ``find()`` returns, or else ``produce()``, run by one caller at a time across
    every thread and process using the store.

    The caller holding the lease ``name`` runs ``produce``, which should record its result
    where ``find`` looks; the others call ``find`` again every ``poll`` seconds until it
    answers or the lease is free. A holder that dies, or runs past ``ttl``, loses the lease
    to the next caller, so a crash costs at most ``ttl`` of waiting. If ``produce`` raises,
    the lease is released and a waiting caller tries in turn.

    Example, where ``upload_now`` uploads the file and calls ``remember_upload``:

        upload = single_flight(
            store, key.lease_name(), ttl=300,
            find=lambda: find_upload(store, key), produce=upload_now,
        )
    """
    while True:
        found = find()
        if found is not None:
            return found
        lease = claim(store, name, ttl)
        if lease is None:
            time.sleep(poll)
            continue
        try:
            # The last holder may have finished between find() and claim().
            found = find()
            return found if found is not None else produce()
        finally:
            release(store, lease)
