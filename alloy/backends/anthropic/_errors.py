"""SDK and transport exceptions of the ``anthropic`` backend → alloy errors.

``translate`` is what the shared ``ErrorBoundary`` calls; the status and transport rules
themselves (which class, whether a retry may help, ``Retry-After``) are in ``_http``.
"""

from __future__ import annotations

import json
from typing import cast

import anthropic
import httpx2

from ..._errors import AlloyError
from ..._errors import ConfigurationError
from ..._errors import ProviderError
from .._boundary import Secrets
from .._http import body_message
from .._http import error_for_status
from .._http import error_for_transport
from .._http import scrub
from ._models import NAME

__all__ = [
    "IN_STREAM_STATUS",
    "KEY_HINT",
    "TRANSPORT",
    "in_stream_status",
    "malformed",
    "translate",
]

KEY_HINT = "set ANTHROPIC_API_KEY or pass provider_options={'anthropic': {'api_key': ...}}"
"""How to fix a missing or rejected key, for the messages that need it."""

TRANSPORT = (
    json.JSONDecodeError,
    httpx2.HTTPError,
    httpx2.InvalidURL,
    httpx2.StreamError,
    OSError,
)
"""Raw exceptions the SDK lets through from its HTTP stack or JSON parsing (PROVIDERS.md §5)."""

IN_STREAM_STATUS = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": 529,
}
"""The HTTP status each error ``type`` of an ``event: error`` would have had outside a
stream (the SDK raises those events as ``APIStatusError`` with the stream's status, 200)."""


def translate(exc: Exception, secrets: Secrets, timeout: float | None) -> AlloyError | None:
    """The alloy error for ``exc``, or ``None`` when it is not the SDK's or the transport's."""
    keys = secrets.values
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        if status == 200:
            # An ``event: error`` inside a stream: the status its error type stands for.
            status = in_stream_status(exc.body)
        return error_for_status(
            NAME,
            status,
            body_message(exc.body, exc.message),
            headers=exc.response.headers,
            # The header, else the ``request_id`` Anthropic also puts in its error bodies.
            request_id=exc.request_id or _body_request_id(exc.body),
            key_hint=KEY_HINT,
            secrets=keys,
        )
    if isinstance(exc, anthropic.APIConnectionError):
        # The SDK's message is a bare "Connection error."; its cause says what happened.
        cause = exc.__cause__
        mapped = error_for_transport(NAME, cause, timeout, keys) if cause else None
        return mapped or error_for_transport(NAME, exc, timeout, keys)
    if isinstance(exc, anthropic.CredentialsError):
        return ConfigurationError(f"{NAME}: {scrub(str(exc), keys)} To fix: {KEY_HINT}.")
    if isinstance(exc, anthropic.AnthropicError):
        # No HTTP error status: a body that failed the SDK's validation, or a client-side
        # SDK error. Trying again would not help.
        detail = (
            body_message(exc.body, str(exc)) if isinstance(exc, anthropic.APIError) else str(exc)
        )
        return ProviderError(scrub(detail, keys), provider=NAME, retryable=False)
    if isinstance(exc, TRANSPORT):
        return error_for_transport(NAME, exc, timeout, keys) or ProviderError(
            f"{type(exc).__name__}: {scrub(str(exc), keys)}", provider=NAME
        )
    if isinstance(exc, TypeError) and "authentication method" in str(exc):
        # Raised before any I/O when no key, token or credentials profile was found.
        return ConfigurationError(f"{NAME}: no API key found. To fix: {KEY_HINT}.")
    if isinstance(exc, TypeError) and "unexpected keyword argument" in str(exc):
        return ConfigurationError(
            f"{NAME}: the Anthropic SDK does not accept a request option ({exc}). Check "
            f"provider_options[{NAME!r}]; send fields the SDK does not know as extra_body={{...}}."
        )
    if isinstance(exc, ValueError):
        # The SDK refuses some requests before sending them, e.g. a max_tokens so large that
        # it wants a stream ("Streaming is required ..."): lower max_tokens or set timeout.
        return ConfigurationError(f"{NAME}: the Anthropic SDK refused the request: {exc}")
    return None


def malformed(exc: BaseException) -> bool:
    """Whether ``exc`` is a stream event that is not JSON: it breaks the stream wherever it
    comes, even before the first delta."""
    return isinstance(exc, json.JSONDecodeError)


def in_stream_status(body: object) -> int:
    """The status an ``event: error`` body stands for (500 for an unknown error type)."""
    kind = _field(_field(body, "error"), "type")
    return IN_STREAM_STATUS.get(kind, 500) if isinstance(kind, str) else 500


def _body_request_id(body: object) -> str | None:
    found = _field(body, "request_id")
    return found if isinstance(found, str) and found else None


def _field(data: object, key: str) -> object:
    return cast("dict[str, object]", data).get(key) if isinstance(data, dict) else None
