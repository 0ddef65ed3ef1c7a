"""Opening the store's file, and ``Store``: its connection and transactions.

Every connection is set up the same way (``connect``): WAL, a busy timeout, ``synchronous``
NORMAL and foreign keys on, with the file made private before SQLite first opens it.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Generator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from .._errors import ConfigurationError
from ._location import store_path
from ._schema import migrate

if TYPE_CHECKING:
    import sqlite3
    from pathlib import Path
    from types import TracebackType

__all__ = ["BUSY_TIMEOUT", "Store", "connect", "open_store", "shared"]

BUSY_TIMEOUT = 10.0
"""Seconds a statement waits for another connection's write lock before it fails."""


def connect(path: Path) -> sqlite3.Connection:
    """A connection to ``path`` set up as every store connection is, without migrating.

    The file and its directory are made first if missing: the directory 0o700 and the file
    0o600. Left to itself SQLite creates the file with the umask's mode (readable by others
    on most systems); its ``-wal`` and ``-shm`` files copy the database file's mode.
    """
    import sqlite3

    if not path.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.close(os.open(path, os.O_RDWR | os.O_CREAT, 0o600))
    # isolation_level=None: alloy writes its own BEGIN/COMMIT, the sqlite3 module none.
    # timeout= is SQLite's busy_timeout: wait for another writer instead of failing at once.
    # check_same_thread=False: a Store's lock, not the thread, keeps uses apart.
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
    )
    try:
        # WAL: readers never block the writer nor the writer readers, across processes too.
        conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL instead of FULL skips an fsync per commit. Under WAL it cannot corrupt the
        # file, and a commit survives the process being killed the moment it returns; only a
        # power cut or OS crash can lose the last few commits, which for records of uploads,
        # jobs and cached replies means redoing a little work, not losing the store.
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


class Store:
    """An open store: one SQLite connection, which one thread at a time uses.

    Threads share a ``Store``; its lock keeps their transactions apart. Processes share the
    file; SQLite's locks keep theirs apart. Make one with ``open_store``.
    """

    def __init__(self, path: Path) -> None:
        import sqlite3

        self.path = path
        self._lock = threading.Lock()
        self._pid = os.getpid()
        # Connections inherited through fork: never used nor closed (closing one could touch
        # the parent's transaction), only kept from being garbage-collected.
        self._inherited: list[sqlite3.Connection] = []
        try:
            conn = connect(path)
            try:
                migrate(conn)
            except BaseException:
                conn.close()
                raise
        except (sqlite3.DatabaseError, OSError) as exc:
            raise ConfigurationError(
                f"Cannot open the alloy store at {path}: {exc}. Check the path, or set "
                "ALLOY_STORE (or the store setting) to another file."
            ) from exc
        self._conn: sqlite3.Connection | None = conn

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    @contextmanager
    def transaction(self) -> Generator[sqlite3.Connection, None, None]:
        """The connection inside a write transaction, committed when the block ends and
        rolled back if it raises.

        ``BEGIN IMMEDIATE`` takes the write lock at the start, waiting up to
        ``BUSY_TIMEOUT`` for other writers. A deferred transaction that reads, then writes,
        can instead fail at once with "database is locked" when another connection wrote in
        between, whatever the busy timeout. Keep network calls out of the block: every other
        thread and process waits for it.
        """
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

    @contextmanager
    def read(self) -> Generator[sqlite3.Connection, None, None]:
        """The connection inside a read transaction: one consistent snapshot of the store."""
        with self._connection() as conn:
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                conn.execute("COMMIT")

    def close(self) -> None:
        """Close the connection. Using the store afterwards raises ``ConfigurationError``."""
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def _connection(self) -> Generator[sqlite3.Connection, None, None]:
        if self._pid != os.getpid():
            self._after_fork()
        with self._lock:
            if self._conn is None:
                raise ConfigurationError(f"The alloy store at {self.path} is closed.")
            yield self._conn

    def _after_fork(self) -> None:
        # SQLite forbids using a connection in a forked child, and the parent's lock may be
        # held by a thread that does not exist here: the child starts both afresh.
        self._lock = threading.Lock()
        if self._conn is not None:
            self._inherited.append(self._conn)
            self._conn = connect(self.path)
        self._pid = os.getpid()


def open_store(path: str | os.PathLike[str] | None = None) -> Store:
    """Open the store, creating the file or migrating it to this alloy's schema as needed.

    The file is ``path``; else the ``store`` setting (``configure(store=...)``,
    ``use_config``, ``ALLOY_STORE``); else ``default_path()``.

    Raises:
        ConfigurationError: a newer alloy wrote the file, it is not an alloy store, or it
            cannot be created or opened.
    """
    return Store(store_path(path))


_shared: dict[str, Store] = {}
_shared_lock = threading.Lock()


def shared(path: str | os.PathLike[str] | None = None) -> Store:
    """The store ``open_store(path)`` opens, opened once per file for the life of the
    process and shared by every feature that uses it."""
    file = str(store_path(path))
    with _shared_lock:
        found = _shared.get(file)
        if found is None:
            found = _shared[file] = open_store(file)
        return found
