"""``ResponseCache``: identical requests answered from replies kept in alloy's store.

``configure(response_cache=ResponseCache())`` puts a replaying wrapper
(``alloy.backends._replaying``) around every model call: a request whose reply is stored is
answered without a model call; any other is sent, and its reply stored if it came back
normally. A reply is filed under a digest of the provider, the base URL, a one-way
fingerprint of the API key and the request's fingerprint (model, messages, media by their
SHA-256, system text, output schema, tools, every generation setting; not the timeout), so
a reply is served only to the account and server it came from. It is kept as the codec's
JSON (``alloy._codec``) in the store's ``responses`` table: no key, no header, no pickle.

``ttl`` (seconds) bounds how old a reply may be: an older one is a miss, and the new reply
replaces it. A reply that cannot be read back (written by a newer alloy) is a miss too. The
cache never fails a call: a read the store cannot answer is a miss, and a reply it cannot
keep is returned all the same (both logged on the ``alloy`` logger).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TYPE_CHECKING
from typing import Any

from ._errors import ConfigurationError

if TYPE_CHECKING:
    from pathlib import Path

    from ._messages import Response
    from ._replay import ReplyKey
    from ._store import Store

__all__ = ["ResponseCache"]

_log = logging.getLogger("alloy")


class ResponseCache:
    """Answers a request alloy has seen before with the reply it got then, from the store.

    Turn it on for the process, a scope or one command, and off per call with
    ``response_cache=False``:

    >>> import alloy
    >>> alloy.configure(response_cache=alloy.ResponseCache(ttl=7 * 24 * 3600))
    >>> alloy.configure(response_cache=False)

    Args:
        path: the SQLite file to keep replies in; None (the default) is the store the call
            uses (the ``store`` setting, ``ALLOY_STORE``, else the per-user store).
        ttl: seconds a reply is served for; None (the default) keeps it until deleted.

    Only replies that came back normally are kept (a stream: once it ended); errors never
    are. Identical calls in flight at once make one request. A call answered from the cache
    reports the usage recorded with the reply, costs nothing (``Result.cost`` is zero) and is
    not charged to budgets or rate limits; ``Result.cached`` says so.
    """

    __slots__ = ("_lock", "_stores", "path", "ttl")

    def __init__(self, path: str | os.PathLike[str] | None = None, *, ttl: float | None = None):
        if path is not None and not isinstance(path, str | os.PathLike):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ConfigurationError(f"ResponseCache(path={path!r}): expected a file path.")
        if ttl is not None and (
            not isinstance(ttl, int | float) or isinstance(ttl, bool) or ttl <= 0  # pyright: ignore[reportUnnecessaryIsInstance]
        ):
            raise ConfigurationError(
                f"ResponseCache(ttl={ttl!r}): expected a number of seconds above 0, or None "
                "to keep replies until they are deleted."
            )
        self.path = path
        self.ttl = None if ttl is None else float(ttl)
        self._stores: dict[str, _CacheAt] = {}
        self._lock = threading.Lock()

    def at(self, store: str | os.PathLike[str] | None) -> _CacheAt:
        """This cache for a call whose ``store`` setting is ``store`` (used when ``path`` is
        None)."""
        from ._store import store_path

        path = store_path(self.path if self.path is not None else store)
        with self._lock:
            found = self._stores.get(str(path))
            if found is None:
                found = self._stores[str(path)] = _CacheAt(self, path)
            return found

    def clear(self) -> int:
        """Delete every reply in this cache's store (``path``, else the ``store`` setting
        of ``configure`` and the environment); how many there were."""
        from ._store import clear_responses

        return clear_responses(self.at(None).store())

    def stats(self) -> dict[str, Any]:
        """What this cache's store holds: ``entries``, ``bytes`` (of the kept replies), and
        ``oldest`` / ``newest`` (when they were stored, Unix seconds; None when empty)."""
        from ._store import response_stats

        entries, size, oldest, newest = response_stats(self.at(None).store())
        return {"entries": entries, "bytes": size, "oldest": oldest, "newest": newest}

    def __repr__(self) -> str:
        path = None if self.path is None else os.fspath(self.path)
        return f"ResponseCache(path={path!r}, ttl={self.ttl!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (_unpickled, (self.path, self.ttl))

    # One cache object stands for its file: a copy (a command's deep copy) is the same cache.
    def __copy__(self) -> ResponseCache:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> ResponseCache:
        return self


def _unpickled(path: str | os.PathLike[str] | None, ttl: float | None) -> ResponseCache:
    """A pickled ``ResponseCache``, read back."""
    return ResponseCache(path, ttl=ttl)


class _CacheAt:
    """A ``ResponseCache`` on one store file: the ``ReplyStore`` the wrapper uses."""

    per_account = True
    single_flight = True

    def __init__(self, cache: ResponseCache, path: Path) -> None:
        self.cache = cache
        self.path = path
        self.scope = str(path)
        self._store: Store | None = None

    def store(self) -> Store:
        """The open store (one per file for the process)."""
        if self._store is None:
            from ._store import shared

            self._store = shared(self.path)
        return self._store

    def find(self, key: ReplyKey) -> Response | None:
        import sqlite3

        from ._codec import loads
        from ._messages import Response
        from ._store import find_response

        ttl = self.cache.ttl
        now = time.time()
        store = self.store()
        try:
            row = find_response(
                store, key.digest, now=now, newer_than=None if ttl is None else now - ttl
            )
        except sqlite3.Error as exc:
            _log.warning("response cache at %s: read failed (%s); calling the model", self, exc)
            return None
        if row is None:
            return None
        try:
            found = loads(row.body)
        except ValueError:
            return None  # written by a newer alloy, or damaged: answered afresh, replaced
        return found if isinstance(found, Response) else None

    def sending(self, key: ReplyKey) -> None:
        """Every miss may be sent."""

    def keep(self, key: ReplyKey, response: Response) -> None:
        import sqlite3

        from ._codec import dumps
        from ._store import remember_response

        ttl = self.cache.ttl
        now = time.time()
        store = self.store()
        try:
            remember_response(
                store,
                key.digest,
                provider=key.provider,
                model=key.request.model,
                body=dumps(response),
                expires_at=None if ttl is None else now + ttl,
                now=now,
            )
        except (sqlite3.Error, TypeError, ValueError) as exc:
            _log.warning("response cache at %s: reply not kept (%s)", self, exc)

    def __repr__(self) -> str:
        return f"{self.cache!r} at {self.scope!r}"
