"""Error mapping for the ``gemini`` backend: google-genai and transport exceptions → alloy errors.

Pure, no I/O. The shared ``ErrorBoundary`` applies ``translate`` around every SDK call and
stream read, and asks ``malformed_chunk`` whether a failure is a chunk the SDK could not
parse (which breaks a stream even before its first delta).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from typing import cast

import pydantic
from google.genai import errors as genai_errors

from ..._errors import AlloyError
from ..._errors import AuthenticationError
from ..._errors import ConfigurationError
from ..._errors import ProviderConnectionError
from ..._errors import ProviderError
from .._boundary import Secrets
from .._http import body_message
from .._http import error_for_status
from .._http import error_for_transport
from .._http import scrub
from ._models import NAME

__all__ = ["KEY_HINT", "TRANSPORT_PACKAGES", "malformed_chunk", "translate"]

KEY_HINT = "set GEMINI_API_KEY or pass provider_options={'gemini': {'api_key': ...}}"
TRANSPORT_PACKAGES = frozenset({"httpx", "httpx2", "httpcore", "httpcore2", "aiohttp", "h11"})
"""Packages whose exceptions are transport failures the SDK lets through unwrapped. Named by
package rather than by class: the SDK's HTTP stack (httpx2, or httpx and aiohttp when given
as clients) decides which ones reach alloy, and none of them need be installed."""


def translate(exc: Exception, secrets: Secrets, timeout: float | None) -> AlloyError | None:
    """The alloy error for ``exc``, or ``None`` when it is not the SDK's or the transport's."""
    if isinstance(exc, genai_errors.APIError):
        return _status_error(exc, secrets)
    cause = exc.__cause__
    if isinstance(exc, genai_errors.UnknownApiResponseError):
        # Its message quotes the whole unparsable body; the JSON error it wraps is enough.
        invalid = error_for_transport(NAME, cause, timeout) if cause is not None else None
        return invalid or ProviderError("the response was not valid JSON.", provider=NAME)
    if isinstance(exc, genai_errors.ContinuationInterruptedError):
        # A follow-up request of the SDK's automatic continuation failed: report that failure.
        hop = translate(cause, secrets, timeout) if isinstance(cause, Exception) else None
        return hop or ProviderError(scrub(str(exc), secrets.values), provider=NAME)
    if isinstance(exc, (json.JSONDecodeError, OSError)) or _from_transport(exc):
        return error_for_transport(NAME, exc, timeout, secrets.values) or ProviderError(
            f"{type(exc).__name__}: {scrub(str(exc), secrets.values)}", provider=NAME
        )
    if isinstance(exc, RuntimeError) and "client has been closed" in str(exc):
        # The backend was closed while this call was starting; a retry gets a new client.
        return ProviderConnectionError("the HTTP client was closed during the call.", provider=NAME)
    if isinstance(exc, pydantic.ValidationError):
        return ProviderError(
            f"the response did not fit the SDK's model: {scrub(str(exc), secrets.values)}",
            provider=NAME,
        )
    if isinstance(exc, ValueError):
        # Raised by the SDK before any I/O, for a request it cannot send.
        return ConfigurationError(
            f"{NAME}: the SDK refused the request: {scrub(str(exc), secrets.values)}"
        )
    return None


def malformed_chunk(exc: BaseException) -> bool:
    """Whether ``exc`` is the SDK failing to parse a streamed chunk as JSON."""
    return isinstance(exc, (json.JSONDecodeError, genai_errors.UnknownApiResponseError))


def _from_transport(exc: Exception) -> bool:
    return any(cls.__module__.split(".")[0] in TRANSPORT_PACKAGES for cls in type(exc).__mro__)


def _status_error(exc: genai_errors.APIError, secrets: Secrets) -> ProviderError:
    response: Any = getattr(exc, "response", None)
    raw_headers: Any = getattr(response, "headers", None)
    headers = cast("Mapping[str, str]", raw_headers) if isinstance(raw_headers, Mapping) else None
    body: Any = getattr(exc, "details", None)
    # Twice: the first pass finds the message in Google's envelope, the second describes an
    # HTML error page (a proxy's) instead of quoting it.
    fallback = exc.message or str(exc)
    message = body_message(body_message(body, fallback), fallback).rstrip(".")
    request_id = headers.get("x-request-id") if headers else None
    status = exc.code if isinstance(exc.code, int) else None  # pyright: ignore[reportUnnecessaryIsInstance]
    if status is None:
        return ProviderError(scrub(message, secrets.values), provider=NAME, retryable=False)
    if status == 400 and _rejected_key(body):
        # Gemini answers an invalid key with 400 INVALID_ARGUMENT, reason API_KEY_INVALID.
        return AuthenticationError(
            f"the provider rejected the credentials: {scrub(message, secrets.values)}. "
            f"To fix: {KEY_HINT}.",
            provider=NAME,
            status_code=status,
            request_id=request_id,
        )
    return error_for_status(
        NAME,
        status,
        message,
        headers=headers,
        request_id=request_id,
        key_hint=KEY_HINT,
        secrets=secrets.values,
    )


def _rejected_key(body: Any) -> bool:
    """Whether a Google error body says the API key is bad (``google.rpc.ErrorInfo``)."""
    error = _field(body, "error") or body
    details = _field(error, "details")
    items: list[Any] = details if isinstance(details, list) else []  # pyright: ignore[reportUnknownVariableType]
    reasons = [_field(item, "reason") for item in items]
    return any(isinstance(r, str) and r.startswith("API_KEY_") for r in reasons)


def _field(data: Any, key: str) -> Any:
    return cast("Mapping[str, Any]", data).get(key) if isinstance(data, Mapping) else None
