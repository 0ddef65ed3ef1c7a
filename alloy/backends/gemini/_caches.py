"""The Gemini backend's account and explicit caches: ``client.caches`` made from contexts.

A cached content holds what ``_encode.cache_config`` says (the context's documents, the
system text, the tools); a request naming it (``Request.cached_content``) leaves those out.
Creation runs on the blocking client (the driver calls it from a worker thread for async
calls), inside the same error boundary as a model call. A cache under the model's minimum
size is the API's 400 "Cached content is too small": that is reported as None, not raised,
so that the call goes on with the context inline.
"""

from __future__ import annotations

import time
from typing import Protocol

from google import genai
from google.genai import types

from ..._errors import ProviderError
from ..._messages import Request
from ..._store import account_fingerprint
from .._boundary import ErrorBoundary
from ..base import CachedContext
from ._encode import cache_config

__all__ = ["Accounts"]


class _Clients(Protocol):
    """What these methods use of ``backend.GeminiClients``."""

    def sync(self) -> genai.Client: ...

    def errors(self, timeout: float | None, *, stream: bool = False) -> ErrorBoundary: ...


class Accounts:
    """``account``, ``upload_account``, and the ``ContextCacher`` methods, over
    ``self._clients``."""

    @property
    def _sdk(self) -> _Clients:
        # The backend's ``GeminiClients``, looked up by name: importing its class here
        # would make an import circle with ``backend``.
        clients: _Clients = getattr(self, "_clients")  # noqa: B009
        return clients

    def account(self) -> tuple[str, str]:
        """Where requests go and for whom: the same pair as uploads."""
        return self.upload_account()

    def upload_account(self) -> tuple[str, str]:
        """The base URL the blocking client sends to, and the fingerprint of its key."""
        client = self._sdk.sync()
        # genai.Client makes neither public; its API client holds both, as it sends them
        # (the key may come from GOOGLE_API_KEY or GEMINI_API_KEY, in the SDK's order).
        api = client._api_client  # pyright: ignore[reportPrivateUsage]
        base_url = str(api.get_read_only_http_options().get("base_url") or "")
        return base_url, account_fingerprint(api.api_key or "", base_url)

    def cache_account(self) -> tuple[str, str]:
        """Where caches are made and for whom: the same pair as uploads."""
        return self.upload_account()

    def create_cached_context(self, request: Request, *, ttl_seconds: int) -> CachedContext | None:
        """``caches.create`` with what ``request`` shares with its command's other calls; None
        when the API finds it below the model's minimum size."""
        fields = cache_config(request)
        key = request.context.key if request.context is not None else "none"
        fields["display_name"] = f"alloy context {key}"
        fields["ttl"] = f"{ttl_seconds}s"
        config = types.CreateCachedContentConfig.model_validate(fields)
        client = self._sdk.sync()
        try:
            with self._sdk.errors(request.timeout):
                made = client.caches.create(model=request.model, config=config)
        except ProviderError as exc:
            if exc.status_code == 400 and "too small" in str(exc).lower():
                return None
            raise
        if not made.name:
            raise ProviderError("the cached content has no name.", provider="gemini")
        expires = made.expire_time
        expires_at = expires.timestamp() if expires else time.time() + ttl_seconds
        return CachedContext(made.name, expires_at)

    def delete_cached_context(self, name: str) -> bool:
        """``caches.delete``; False when the API no longer had it (404)."""
        client = self._sdk.sync()
        try:
            with self._sdk.errors(None):
                client.caches.delete(name=name)
        except ProviderError as exc:
            if exc.status_code in (403, 404):
                return False
            raise
        return True
