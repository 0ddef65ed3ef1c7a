"""Explicit provider caches made from a ``Context``: created once, named by every request.

Where the provider caches a prefix only as a resource created ahead of the calls
(``PromptCacheSupport.style == "explicit"``: Gemini's cached contents), a call with
``cache=True`` and a ``context`` first finds or creates that resource, then sends each of
its requests with ``Request.cached_content``; the encoder leaves out what the cache holds
(the context's documents, the system text, the tools).

A cache is recorded in the store (``alloy._store``) under the provider, its base URL, a
one-way fingerprint of the account's key, the model, the context's key and ``identity``, a
digest of the rest of what it holds: the system text, the tool declarations and the schema
dialect they are written in. Calls in this process or another reuse it until it is within
``REUSE_MARGIN`` of expiring; concurrent calls create it once (a lease in the store).

A request without tools (the finalize turn that enforces the output schema after a tool
loop) has another identity, so it gets a cache of its own without the tools: a cache holding
tools would let that turn call them, and Gemini 2.x refuses a schema beside them.

If the provider answers that a cache is gone (404, or Gemini's 403 naming the cached
content: it expired early or was deleted), the call forgets it, creates a new one once and
sends that step again; a second failure is the call's error. A cache the provider refuses as
too small (below the model's minimum token count) is not an error: the call sends the
context inline, and this process does not ask again for that cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from dataclasses import replace
from typing import TYPE_CHECKING
from typing import Any

from ._errors import ProviderError
from ._messages import Request

if TYPE_CHECKING:
    from ._config import Config
    from ._context import Context
    from ._plan import Plan
    from ._store import ContextCacheKey
    from ._store import Store
    from .backends.base import Backend
    from .backends.base import ContextCacher

__all__ = ["DEFAULT_TTL", "REUSE_MARGIN", "CallCaches", "close_context", "find_cacher", "for_plan"]

_log = logging.getLogger("alloy")

DEFAULT_TTL = 3600
"""The lifetime (seconds) asked for when ``cache_ttl`` is not set: an hour, Gemini's default."""

REUSE_MARGIN = 60.0
"""A cache is reused only if it stays for at least this long (seconds) more."""

LEASE_TTL = 300.0
"""How long one caller may take to create a cache before another takes over (seconds)."""

_too_small: set[ContextCacheKey] = set()  # caches the provider refused as too small
_too_small_lock = threading.Lock()


def find_cacher(backend: Backend) -> ContextCacher | None:
    """The provider backend inside ``backend``'s wrappers, if it creates context caches."""
    from ._inner import inner_with

    found: ContextCacher | None = inner_with(backend, "create_cached_context", "cache_account")
    return found


def for_plan(p: Plan[Any]) -> CallCaches | None:
    """The cache bookkeeping of a call that uses an explicit context cache, else None."""
    request = p.request
    if not request.cache or request.context is None:
        return None
    if p.capabilities.prompt_cache.style != "explicit":
        return None
    cacher = find_cacher(p.backend)
    if cacher is None:
        return None
    # Explicit caches take their lifetime in seconds ("300s"), which is what the capability
    # row maps each ``cache_ttl`` to (planning refused the others).
    sent = p.capabilities.prompt_cache.ttl(request.cache_ttl) if request.cache_ttl else None
    digits = sent.removesuffix("s") if sent else ""
    ttl = int(digits) if digits.isdigit() else DEFAULT_TTL
    return CallCaches(cacher, p.provider, p.config, ttl, p.capabilities.schema_dialect)


def identity(request: Request, dialect: str) -> str:
    """A digest of what a cache for ``request`` holds besides its context: the system text,
    the tool declarations, a ``tool_config`` option and the schema dialect."""
    layers = request.context.layers if request.context is not None else ()
    system = [[layer.system for layer in layers], request.system]
    tools = [[t.name, t.description, t.parameters] for t in request.tools]
    options = request.options or {}
    tool_config = options.get("tool_config", options.get("toolConfig"))
    shown = [system, tools, tool_config, dialect]
    text = json.dumps(shown, sort_keys=True, separators=(",", ":"), default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


class CallCaches:
    """One call's context caches: each request shape (``identity``) resolved once.

    ``known`` answers without I/O for a shape already resolved; ``apply`` may open the store
    and create a cache, so async drivers call it from a worker thread.
    """

    def __init__(
        self, cacher: ContextCacher, provider: str, cfg: Config, ttl: int, dialect: str
    ) -> None:
        self._cacher = cacher
        self._provider = provider
        self._cfg = cfg
        self._ttl = ttl
        self._dialect = dialect
        self._names: dict[str, str | None] = {}  # identity -> cache name (None: inline)
        self._renewed = False

    def known(self, step: Request) -> Request | None:
        """``step`` naming its cache, if this call already resolved it (no I/O)."""
        if step.context is None:
            return step
        found = self._names.get(identity(step, self._dialect), "")
        if found == "":
            return None
        return step if found is None else replace(step, cached_content=found)

    def apply(self, step: Request) -> Request:
        """``step`` naming its cache, found in the store or created now; ``step`` itself
        when the provider will not cache it (too small)."""
        known = self.known(step)
        if known is not None:
            return known
        assert step.context is not None
        shape = identity(step, self._dialect)
        self._names[shape] = self._resolve(step, self._key(step, step.context, shape))
        known = self.known(step)
        assert known is not None
        return known

    def renew(self, sent: Request, exc: ProviderError) -> Request | None:
        """After ``sent`` failed with ``exc``: ``sent`` naming a new cache, when ``exc`` says
        its cache is gone and this call has not renewed one yet; else None."""
        name = sent.cached_content
        if name is None or self._renewed or not _gone(exc, name):
            return None
        self._renewed = True
        assert sent.context is not None
        from ._store import forget_context_cache

        shape = identity(sent, self._dialect)
        key = self._key(sent, sent.context, shape)
        _log.debug("alloy: the cached content %s is gone (%s); creating it again", name, exc)
        forget_context_cache(self._store(), key, name)
        self._names.pop(shape, None)
        return self.apply(replace(sent, cached_content=None))

    def _key(self, step: Request, context: Context, shape: str) -> ContextCacheKey:
        from ._store import ContextCacheKey

        base_url, account = self._cacher.cache_account()
        return ContextCacheKey(self._provider, base_url, account, step.model, context.key, shape)

    def _store(self) -> Store:
        from ._uploads import shared_store

        return shared_store(self._cfg)

    def _resolve(self, step: Request, key: ContextCacheKey) -> str | None:
        with _too_small_lock:
            if key in _too_small:
                return None
        from ._store import find_context_cache
        from ._store import remember_context_cache
        from ._store import single_flight

        store = self._store()

        def usable() -> Any:
            if key in _too_small:
                return ""  # another call of this process was refused: stop waiting
            found = find_context_cache(store, key, now=time.time() + REUSE_MARGIN)
            return None if found is None else found.name

        def create() -> Any:
            made = self._cacher.create_cached_context(step, ttl_seconds=self._ttl)
            if made is None:
                with _too_small_lock:
                    _too_small.add(key)
                return ""
            remember_context_cache(store, key, name=made.name, expires_at=made.expires_at)
            return made.name

        name: str = single_flight(
            store, key.lease_name(), find=usable, produce=create, ttl=LEASE_TTL
        )
        if not name:
            _log.debug(
                "alloy: %s refused to cache context %s for %s as too small; sending it inline",
                self._provider,
                key.context_key,
                key.model,
            )
            return None
        return name


def _gone(exc: ProviderError, name: str) -> bool:
    """Whether ``exc`` says the cache ``name`` no longer exists."""
    if exc.status_code == 404:
        return True
    text = str(exc).lower()
    return exc.status_code == 403 and ("cachedcontent" in text or name.lower() in text)


def close_context(context: Context, *, store: str | None = None) -> int:
    """Delete the provider caches made from ``context`` (Gemini's cached contents) and forget
    them; how many the providers deleted.

    The caches are those the store records (``store``: its path, else the ``store``
    setting), deleted with the backend the current settings give for their provider when
    its account is theirs; records of another account are only forgotten. Calls made
    afterwards create a cache again. Caches expire on their own at the end of their
    ``cache_ttl``; closing ends their storage cost sooner.

    >>> alloy.close_context(shared)  # doctest: +SKIP
    1
    """
    from ._config import base_config
    from ._plan import select_backend
    from ._store import context_caches
    from ._store import forget_context_cache
    from ._store import open_store

    cfg = base_config()
    deleted = 0
    with open_store(store) as opened:
        for cache in context_caches(opened, context.key):
            # The backend the current settings give for the cache's provider.
            cacher = find_cacher(select_backend(replace(cfg, backend=cache.key.backend))[0])
            if cacher is not None and cacher.cache_account() == (
                cache.key.base_url,
                cache.key.account,
            ):
                deleted += int(cacher.delete_cached_context(cache.name))
            forget_context_cache(opened, cache.key, cache.name)
    return deleted
