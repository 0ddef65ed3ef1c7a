"""Turning HTTP statuses and transport failures into alloy errors, the same for every backend.

The SDKs disagree on what they raise (typed status errors, raw ``httpx``/``httpx2``
exceptions, ``json.JSONDecodeError``, builtin ``ConnectionError``), so each backend maps its
own SDK's exceptions to a status and headers, and this module decides the alloy class,
whether alloy may retry, and how long the provider asked to wait.
"""

from __future__ import annotations

import email.utils
import json
import math
import time
from collections.abc import Mapping
from typing import Any

from .._errors import AuthenticationError
from .._errors import ProviderConnectionError
from .._errors import ProviderError
from .._errors import ProviderTimeout
from .._errors import RateLimitError

__all__ = ["body_message", "error_for_status", "error_for_transport", "retry_after", "scrub"]

_RETRYABLE_STATUS = frozenset({408, 409, 429})


def retry_after(headers: Mapping[str, str] | None) -> float | None:
    """Seconds the server asked to wait: ``retry-after-ms``, else ``retry-after``.

    ``retry-after`` may be seconds (a float is accepted) or an HTTP date.
    """
    if not headers:
        return None
    lowered = {k.lower(): v for k, v in headers.items()}
    raw_ms = lowered.get("retry-after-ms")
    if raw_ms is not None:
        seconds = _seconds(raw_ms, 1000.0)
        if seconds is not None:
            return seconds
    raw = lowered.get("retry-after")
    if raw is None:
        return None
    seconds = _seconds(raw, 1.0)
    if seconds is not None:
        return seconds
    try:
        parsed = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    return max(parsed.timestamp() - time.time(), 0.0)


def _seconds(raw: str, per_second: float) -> float | None:
    """A wait the server gave as a number, or ``None``; ``nan``, ``inf`` and values no
    sleep accepts are ignored, as a header that says nothing."""
    try:
        value = float(raw) / per_second
    except (ValueError, TypeError):
        return None
    return max(value, 0.0) if math.isfinite(value) else None


def error_for_status(
    provider: str,
    status: int,
    message: str,
    *,
    headers: Mapping[str, str] | None = None,
    request_id: str | None = None,
    key_hint: str = "",
    secrets: tuple[str, ...] = (),
) -> ProviderError:
    """The alloy error for an HTTP error ``status`` from ``provider``.

    ``key_hint`` completes the authentication message, e.g.
    ``"set OPENAI_API_KEY or pass provider_options={'openai': {'api_key': ...}}"``.
    """
    wait = retry_after(headers)
    message = scrub(message, secrets)
    if status in (401, 403):
        what = "rejected the credentials" if status == 401 else "refused access"
        fix = f" To fix: {key_hint}." if key_hint else ""
        return AuthenticationError(
            f"the provider {what}: {message}.{fix}",
            provider=provider,
            status_code=status,
            request_id=request_id,
            retry_after=wait,
        )
    if status == 429:
        return RateLimitError(
            f"rate limited: {message}. Slow down, or raise max_retries / max_retry_wait.",
            provider=provider,
            status_code=status,
            request_id=request_id,
            retry_after=wait,
        )
    retryable = status in _RETRYABLE_STATUS or status >= 500
    hint = " The provider had a problem; alloy retries these." if status >= 500 else ""
    return ProviderError(
        f"{message}.{hint}",
        provider=provider,
        status_code=status,
        request_id=request_id,
        retryable=retryable,
        retry_after=wait,
    )


# Names of the transport exception classes, matched along the MRO, so that both ``httpx``
# and ``httpx2`` (and their ``httpcore`` twins) map without importing either.
_TIMEOUTS = frozenset({"TimeoutException", "APITimeoutError", "TimeoutError"})
_CONNECTION = frozenset(
    {
        "NetworkError",
        "TransportError",
        "RemoteProtocolError",
        "ProtocolError",
        "APIConnectionError",
        "ConnectionError",
        "OSError",
    }
)


def scrub(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every occurrence of each secret replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def error_for_transport(
    provider: str, exc: BaseException, timeout: float | None, secrets: tuple[str, ...] = ()
) -> ProviderError | None:
    """The alloy error for a transport-level failure, or ``None`` if ``exc`` is not one."""
    names = {cls.__name__ for cls in type(exc).__mro__}
    if isinstance(exc, json.JSONDecodeError):
        return ProviderError(
            f"the response body was not valid JSON ({exc.msg} at position {exc.pos}). "
            "A proxy or a provider outage can cause this; try again later.",
            provider=provider,
            status_code=None,
            retryable=False,
        )
    if names & _TIMEOUTS:
        limit = f" within {timeout:g}s" if timeout else ""
        return ProviderTimeout(
            f"no complete answer{limit}. Raise `timeout` if the model needs longer.",
            provider=provider,
        )
    if names & _CONNECTION:
        return ProviderConnectionError(
            f"connection failed ({type(exc).__name__}: {scrub(_brief(exc), secrets)}). "
            "Check the base URL and the network.",
            provider=provider,
        )
    return None


def _brief(exc: BaseException) -> str:
    text = str(exc) or repr(exc)
    return text if len(text) < 200 else text[:200] + "…"


def body_message(body: Any, fallback: str) -> str:
    """The human message inside a provider error body, whatever envelope it uses."""
    if isinstance(body, Mapping):
        inner: Any = body.get("error", body)  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
        if isinstance(inner, Mapping) and inner.get("message"):  # pyright: ignore[reportUnknownMemberType]
            return str(inner["message"])  # pyright: ignore[reportUnknownArgumentType]
        if isinstance(inner, str) and inner:
            return inner
        if body.get("message"):  # pyright: ignore[reportUnknownMemberType]
            return str(body["message"])  # pyright: ignore[reportUnknownArgumentType]
    if isinstance(body, str) and body.strip():
        text = body.strip()
        if text.lstrip().startswith("<"):
            return "the server answered with an HTML page instead of JSON (a proxy error?)"
        return text if len(text) < 300 else text[:300] + "…"
    return fallback
