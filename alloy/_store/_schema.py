"""The store's tables, as an ordered list of migration steps, and ``migrate``.

The file's ``PRAGMA user_version`` is the number of steps applied. Opening a store applies
the missing ones, each in its own transaction; a store from a newer alloy is refused rather
than guessed at. A released step never changes (``tests/test_store_migrations.py`` pins
them): a new table or column is a new step at the end.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._errors import ConfigurationError

if TYPE_CHECKING:
    import sqlite3

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "migrate"]

MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 1: the provider's id for each file uploaded to an account, and until when it is valid.
    (
        """CREATE TABLE uploads (
            backend TEXT NOT NULL,
            base_url TEXT NOT NULL,
            account TEXT NOT NULL,
            sha256 TEXT NOT NULL,
            media_type TEXT NOT NULL,
            file_id TEXT NOT NULL,
            uri TEXT,
            size INTEGER NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL,
            metadata TEXT NOT NULL DEFAULT '{}',
            PRIMARY KEY (backend, base_url, account, sha256, media_type)
        ) WITHOUT ROWID""",
        "CREATE INDEX uploads_by_expiry ON uploads (expires_at)",
    ),
    # 2: leases, so one caller at a time does a piece of work across threads and processes.
    (
        """CREATE TABLE leases (
            name TEXT PRIMARY KEY,
            owner TEXT NOT NULL,
            expires_at REAL NOT NULL
        ) WITHOUT ROWID""",
    ),
    # 3: the provider's name for each cached context (Gemini cached contents), per account.
    (
        """CREATE TABLE context_caches (
            backend TEXT NOT NULL,
            base_url TEXT NOT NULL,
            account TEXT NOT NULL,
            model TEXT NOT NULL,
            context_key TEXT NOT NULL,
            identity TEXT NOT NULL,
            name TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            PRIMARY KEY (backend, base_url, account, model, context_key, identity)
        ) WITHOUT ROWID""",
        "CREATE INDEX context_caches_by_context ON context_caches (context_key)",
    ),
    # 4: the response cache: a model's reply as the codec's JSON, under a digest of the
    # request and where it went (never the key, never a header).
    (
        """CREATE TABLE responses (
            key TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL,
            body TEXT NOT NULL
        ) WITHOUT ROWID""",
        "CREATE INDEX responses_by_expiry ON responses (expires_at)",
    ),
    # 5: batch jobs, their provider batches and their items (``_batches``).
    (
        """CREATE TABLE batch_jobs (
            id TEXT PRIMARY KEY,
            name TEXT,
            backend TEXT NOT NULL,
            base_url TEXT NOT NULL,
            account TEXT NOT NULL,
            model TEXT NOT NULL,
            command TEXT NOT NULL,
            schema TEXT NOT NULL,
            state TEXT NOT NULL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL,
            detail TEXT NOT NULL DEFAULT '{}'
        ) WITHOUT ROWID""",
        """CREATE TABLE batch_parts (
            job_id TEXT NOT NULL REFERENCES batch_jobs (id) ON DELETE CASCADE,
            part INTEGER NOT NULL,
            state TEXT NOT NULL,
            marker TEXT NOT NULL,
            provider_id TEXT,
            files TEXT NOT NULL DEFAULT '[]',
            provider_state TEXT,
            owner TEXT,
            updated_at REAL NOT NULL,
            PRIMARY KEY (job_id, part)
        ) WITHOUT ROWID""",
        """CREATE TABLE batch_items (
            job_id TEXT NOT NULL REFERENCES batch_jobs (id) ON DELETE CASCADE,
            idx INTEGER NOT NULL,
            part INTEGER NOT NULL,
            key TEXT NOT NULL,
            input TEXT NOT NULL,
            line TEXT NOT NULL,
            outcome TEXT,
            PRIMARY KEY (job_id, idx)
        ) WITHOUT ROWID""",
        "CREATE INDEX batch_jobs_by_state ON batch_jobs (state)",
        "CREATE UNIQUE INDEX batch_items_by_key ON batch_items (job_id, key)",
    ),
)
"""Step ``n`` (``MIGRATIONS[n - 1]``) takes a store from version ``n - 1`` to ``n``."""
SCHEMA_VERSION = len(MIGRATIONS)
"""The version this alloy writes."""


def migrate(conn: sqlite3.Connection, steps: tuple[tuple[str, ...], ...] = MIGRATIONS) -> int:
    """Bring the database to version ``len(steps)``, one transaction per step; the version.

    Each step runs in ``BEGIN IMMEDIATE`` and reads the version again inside it, so processes
    opening an old store at once apply each step exactly once, and a failed step leaves the
    store at the version before it. ``conn`` must be in autocommit mode
    (``isolation_level=None``), as ``connect`` makes it.

    Raises:
        ConfigurationError: the store has a newer version than ``steps`` reach (a newer alloy
            wrote it).
    """
    for number in range(_version(conn) + 1, len(steps) + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            if _version(conn) < number:
                for statement in steps[number - 1]:
                    conn.execute(statement)
                conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    version = _version(conn)
    if version > len(steps):
        file = conn.execute("PRAGMA database_list").fetchone()[2]
        raise ConfigurationError(
            f"The alloy store at {file} has schema version {version}, but this alloy knows "
            f"versions up to {len(steps)}: a newer alloy wrote it. Upgrade alloy "
            "(pip install -U alloy-llm), or set ALLOY_STORE to another file."
        )
    return version


def _version(conn: sqlite3.Connection) -> int:
    version: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return version
