"""Gemini explicit caches (``…/gemini/{version}/cachedContents``), kept in memory per scenario.

What google-genai 3.4 sends (``client.caches``; the emulator answers whatever version the
path names):

* ``create``: ``POST cachedContents`` with ``{"model": "models/…", "contents",
  "systemInstruction", "tools", "toolConfig", "ttl": "300s" | "expireTime", "displayName"}``;
* ``get`` / ``delete``: ``GET`` / ``DELETE cachedContents/{id}``; ``update``: ``PATCH
  cachedContents/{id}`` with ``{"ttl"}`` or ``{"expireTime"}``; ``list``: ``GET
  cachedContents?pageSize=&pageToken=`` answering ``{"cachedContents": [...],
  "nextPageToken"}``.

A ``CachedContent`` carries ``name`` (``cachedContents/`` and 12 lowercase letters and
digits), ``model``, ``displayName`` (when given), RFC 3339 ``createTime``, ``updateTime`` and
``expireTime``, and ``usageMetadata.totalTokenCount``: one token per four bytes of the
compact JSON of its contents, system instruction and tools (the emulator's estimate, as in
``_prompt_cache``). Without a ``ttl`` or ``expireTime`` a cache lives an hour, the API's
default.

Expiry runs on the scenario's cache clock, wall time plus what ``advance(seconds)`` added, so
a test can age caches without sleeping; ``expire_all`` ends every cache at once. An unknown,
deleted or expired cache is 404 ``NOT_FOUND``, on ``get`` and when a ``generateContent``
names it in ``cachedContent``. A ``generateContent`` naming a live cache must not also send
``systemInstruction``, ``tools`` or ``toolConfig`` (400 ``INVALID_ARGUMENT`` in the Gemini
API's words) and must use the cache's model. With a minimum set (``set_minimum``), creating a
smaller cache is the API's 400 "Cached content is too small".
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from datetime import datetime
from typing import Any
from typing import cast

from .files._base import LOWER36
from .files._base import FileAnswer
from .files._base import FileRequest
from .files._base import json_answer
from .files._base import random_id
from .files._base import rfc3339
from .files.gemini import error

__all__ = ["CacheStore", "CachedContent"]

_PATH = re.compile(r"/(?P<version>v[^/]+)/cachedContents(?:/(?P<id>[^/:]+))?")
_TTL = re.compile(r"(\d+(?:\.\d{1,9})?)s")
_DEFAULT_TTL = 3600.0
_DEFAULT_PAGE, _MAX_PAGE = 10, 1000
_FORBIDDEN = ("systemInstruction", "tools", "toolConfig")
_CACHED_WITH_CONFIG = (
    "Tool config, tools and system instruction should not be set in the request when using "
    "cached content."
)


@dataclass(frozen=True)
class CachedContent:
    """One cached content the scenario holds, as it was created (``deleted`` once deleted).

    Times are Unix seconds on the scenario's cache clock.
    """

    name: str
    model: str
    display_name: str | None
    contents: Any
    system_instruction: Any
    tools: Any
    tool_config: Any
    tokens: int
    created_at: float
    updated_at: float
    expires_at: float
    deleted: bool = False

    def resource(self) -> dict[str, Any]:
        """The ``CachedContent`` JSON the API answers with."""
        body: dict[str, Any] = {"name": self.name, "model": self.model}
        if self.display_name:
            body["displayName"] = self.display_name
        body.update(
            {
                "createTime": rfc3339(self.created_at),
                "updateTime": rfc3339(self.updated_at),
                "expireTime": rfc3339(self.expires_at),
                "usageMetadata": {"totalTokenCount": self.tokens},
            }
        )
        return body


class CacheStore:
    """One scenario's cached contents, its cache clock and its minimum cache size."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._caches: dict[str, CachedContent] = {}
        self._offset = 0.0
        self._minimum = 0

    def now(self) -> float:
        """The cache clock: wall time plus what ``advance`` added."""
        return time.time() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the cache clock on by ``seconds`` (caches expire on it)."""
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ValueError(f"the cache clock moves on by seconds >= 0, not {seconds!r}")
        with self._lock:
            self._offset += float(seconds)

    def expire_all(self) -> None:
        """End every live cache now, as if its TTL had run out."""
        with self._lock:
            at = self.now()
            for name, cache in self._caches.items():
                if not cache.deleted and cache.expires_at > at:
                    self._caches[name] = replace(cache, expires_at=at)

    def set_minimum(self, tokens: int) -> None:
        """Refuse to create caches of fewer than ``tokens`` tokens (0: any size)."""
        if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 0:  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ValueError(f"the minimum cache size is a token count >= 0, not {tokens!r}")
        self._minimum = tokens

    def snapshot(self) -> list[CachedContent]:
        """Every cache created since the last ``clear``, in order, deleted ones included."""
        with self._lock:
            return list(self._caches.values())

    def clear(self) -> None:
        with self._lock:
            self._caches.clear()
            self._offset = 0.0
            self._minimum = 0

    def live(self, name: str) -> CachedContent | None:
        with self._lock:
            cache = self._caches.get(name)
        if cache is None or cache.deleted or cache.expires_at <= self.now():
            return None
        return cache

    def handle(self, request: FileRequest) -> FileAnswer:
        """Answer one request below ``{version}/cachedContents``."""
        match = _PATH.fullmatch(request.api_path)
        if match is None:
            return _no_endpoint(request)
        cache_id, method = match["id"], request.method
        if cache_id is None:
            if method == "POST":
                return self._create(request.json)
            return self._list(request) if method == "GET" else _no_endpoint(request)
        name = "cachedContents/" + cache_id
        if method == "GET":
            cache = self.live(name)
            return _missing(name) if cache is None else json_answer(200, cache.resource())
        if method == "PATCH":
            return self._update(name, request.json)
        if method == "DELETE":
            with self._lock:
                cache = self._caches.get(name)
                if cache is not None and not cache.deleted:
                    self._caches[name] = replace(cache, deleted=True)
            if cache is None or cache.deleted or cache.expires_at <= self.now():
                return _missing(name)
            return json_answer(200, {})
        return _no_endpoint(request)

    def check(self, model: str | None, body: Any) -> tuple[FileAnswer | None, int]:
        """For a ``generateContent`` body: the API's refusal (or None), and the tokens the
        cache it names holds (0 when it names none)."""
        named = _get(body, "cachedContent")
        if named is None:
            return None, 0
        if not isinstance(named, str):
            return error(400, "Invalid value at 'cached_content' (TYPE_STRING)."), 0
        cache = self.live(named)
        if cache is None:
            return _missing(named), 0
        if any(_get(body, key) is not None for key in _FORBIDDEN):
            return error(400, _CACHED_WITH_CONFIG), 0
        asked = f"models/{model}" if model and not model.startswith("models/") else model
        if asked and asked != cache.model:
            return error(
                400,
                f"Model used by GenerateContent request ({asked}) and CachedContent "
                f"({cache.model}) has to be the same.",
            ), 0
        return None, cache.tokens

    def _create(self, body: Any) -> FileAnswer:
        if not isinstance(body, Mapping):
            return error(400, "Invalid JSON payload: expected a CachedContent object.")
        data = cast("Mapping[str, Any]", body)
        model = data.get("model")
        if not isinstance(model, str) or not model:
            return error(400, "CachedContent.model is required.")
        model = model if model.startswith("models/") else f"models/{model}"
        now = self.now()
        expires = _expiry(data, now)
        if isinstance(expires, FileAnswer):
            return expires
        held = {key: data.get(key) for key in ("contents", "systemInstruction", "tools")}
        text = json.dumps({k: v for k, v in held.items() if v}, separators=(",", ":"))
        tokens = -(-len(text.encode()) // 4)
        if tokens < self._minimum:
            return error(
                400,
                f"Cached content is too small. total_token_count={tokens}, "
                f"min_total_token_count={self._minimum}",
            )
        display = data.get("displayName")
        cache = CachedContent(
            name="cachedContents/" + random_id(LOWER36, 12),
            model=model,
            display_name=display if isinstance(display, str) else None,
            contents=data.get("contents"),
            system_instruction=data.get("systemInstruction"),
            tools=data.get("tools"),
            tool_config=data.get("toolConfig"),
            tokens=tokens,
            created_at=now,
            updated_at=now,
            expires_at=expires,
        )
        with self._lock:
            self._caches[cache.name] = cache
        return json_answer(200, cache.resource())

    def _update(self, name: str, body: Any) -> FileAnswer:
        cache = self.live(name)
        if cache is None:
            return _missing(name)
        data: Mapping[str, Any] = (
            cast("Mapping[str, Any]", body) if isinstance(body, Mapping) else {}
        )
        if data.get("ttl") is None and data.get("expireTime") is None:
            return error(400, "Only ttl or expireTime can be updated.")
        now = self.now()
        expires = _expiry(data, now)
        if isinstance(expires, FileAnswer):
            return expires
        updated = replace(cache, updated_at=now, expires_at=expires)
        with self._lock:
            self._caches[name] = updated
        return json_answer(200, updated.resource())

    def _list(self, request: FileRequest) -> FileAnswer:
        at = self.now()
        caches = [c for c in self.snapshot() if not c.deleted and c.expires_at > at]
        size_text = request.param("pageSize") or str(_DEFAULT_PAGE)
        token = request.param("pageToken") or "0"
        if not size_text.isdigit() or not token.isdigit():
            return error(400, "Invalid pageSize or pageToken.")
        size = min(max(int(size_text), 1), _MAX_PAGE)
        first = int(token)
        body: dict[str, Any] = {}
        page = caches[first : first + size]
        if page:
            body["cachedContents"] = [cache.resource() for cache in page]
        if first + size < len(caches):
            body["nextPageToken"] = str(first + size)
        return json_answer(200, body)


def _expiry(data: Mapping[str, Any], now: float) -> float | FileAnswer:
    """When a cache created or updated ``now`` with ``data`` expires, or the API's 400."""
    ttl, expire_time = data.get("ttl"), data.get("expireTime")
    if ttl is not None and expire_time is not None:
        return error(400, "Only one of ttl and expireTime may be set.")
    if ttl is not None:
        match = _TTL.fullmatch(ttl) if isinstance(ttl, str) else None
        if match is None:
            return error(
                400,
                f"Invalid value at 'cached_content.ttl' (Duration), {ttl!r}",
            )
        return now + float(match.group(1))
    if expire_time is not None:
        try:
            parsed = datetime.fromisoformat(str(expire_time).replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            return error(400, f"Invalid value at 'cached_content.expire_time', {expire_time!r}")
        return parsed.timestamp()
    return now + _DEFAULT_TTL


def _get(value: Any, key: str) -> Any:
    return cast("Mapping[str, Any]", value).get(key) if isinstance(value, Mapping) else None


def _missing(name: str) -> FileAnswer:
    return error(404, f"CachedContent not found (or permission denied): {name}")


def _no_endpoint(request: FileRequest) -> FileAnswer:
    return error(404, f"emulator: no endpoint {request.method} {request.api_path}")
