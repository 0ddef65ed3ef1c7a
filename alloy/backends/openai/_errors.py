"""OpenAI SDK and transport exceptions → alloy errors, for both OpenAI backends.

``translate`` is what the shared ``ErrorBoundary`` calls for an exception raised by an SDK
call or while reading a stream. The stream decoders raise ``StreamFault``s of their own (a
chunk that is not JSON, an error event in the stream); ``stream_error`` says what the caller
sees for each.
"""

from __future__ import annotations

import json
from typing import Any
from typing import cast

import httpx2
import openai

from ..._errors import AlloyError
from ..._errors import ConfigurationError
from ..._errors import ProviderError
from ..._errors import StreamError
from .._boundary import Secrets
from .._http import body_message
from .._http import error_for_status
from .._http import error_for_transport
from .._http import scrub

__all__ = [
    "TRANSPORT_ERRORS",
    "ErrorEvent",
    "MalformedChunk",
    "StreamFault",
    "stream_error",
    "translate",
]

TRANSPORT_ERRORS = (
    json.JSONDecodeError,
    httpx2.HTTPError,
    httpx2.InvalidURL,
    httpx2.StreamError,
    OSError,
)
"""Raw exceptions the SDK lets through from its HTTP stack or JSON parsing (PROVIDERS.md §5),
and what reading a streamed body raises."""

# Error codes of an in-stream error that say a new attempt may succeed.
_RETRYABLE_CODES = ("server_error", "overloaded", "rate_limit", "timeout", "unavailable")


def translate(
    exc: Exception,
    secrets: Secrets,
    timeout: float | None,
    *,
    provider: str = "openai",
    key_hint: str = "set OPENAI_API_KEY",
) -> AlloyError | None:
    """The alloy error for ``exc``, or ``None`` when it is not the SDK's or the transport's.

    ``provider`` and ``key_hint`` are the backend's name and how to give it a key (each
    backend binds its own).
    """
    keys = secrets.values
    if isinstance(exc, openai.APIStatusError):
        return error_for_status(
            provider,
            exc.status_code,
            body_message(exc.body, exc.message),
            headers=exc.response.headers,
            request_id=exc.request_id,
            key_hint=key_hint,
            secrets=keys,
        )
    if isinstance(exc, openai.APIConnectionError):
        # The SDK's own message is a bare "Connection error."; the httpx2 cause says what
        # happened (refused, reset, DNS) and whether it was a timeout.
        cause = exc.__cause__
        mapped = error_for_transport(provider, cause, timeout, keys) if cause else None
        return mapped or error_for_transport(provider, exc, timeout, keys)
    if isinstance(exc, openai.OpenAIError):
        # No HTTP error status: an error body inside a 200, a response that failed the SDK's
        # validation, or a client-side SDK error. Trying again would not help.
        detail = body_message(exc.body, str(exc)) if isinstance(exc, openai.APIError) else str(exc)
        return ProviderError(
            scrub(detail, keys),
            provider=provider,
            status_code=getattr(exc, "status_code", None),
            retryable=False,
        )
    if isinstance(exc, TRANSPORT_ERRORS):
        return error_for_transport(provider, exc, timeout, keys) or ProviderError(
            f"{type(exc).__name__}: {scrub(str(exc), keys)}", provider=provider
        )
    if isinstance(exc, TypeError) and "unexpected keyword argument" in str(exc):
        # Raised by the SDK before any I/O for a provider_options key it does not know.
        return ConfigurationError(
            f"{provider}: the OpenAI SDK does not accept a request option ({exc}). Check "
            f"provider_options[{provider!r}]; send fields the SDK does not know as "
            "extra_body={...}."
        )
    return None


class StreamFault(Exception):
    """Raised by a stream decoder; the stream reader turns it into a ``StreamError``."""


class MalformedChunk(StreamFault):
    """An event whose data is not the JSON object the API sends."""


class ErrorEvent(StreamFault):
    """The provider reported an error inside the stream; ``error`` is its error object."""

    def __init__(self, error: Any):
        super().__init__("error event")
        self.error = error


def stream_error(
    fault: StreamFault, provider: str, secrets: Secrets, request_id: str | None
) -> StreamError:
    """What the caller sees for ``fault``: a malformed chunk cannot be retried; an error
    event can when its code says the provider failed on its side."""
    keys = secrets.values
    if not isinstance(fault, ErrorEvent):
        return StreamError(
            f"malformed stream: {scrub(str(fault), keys)}. A proxy or the provider "
            "corrupted the stream; try again later",
            provider=provider,
            request_id=request_id,
            retryable=False,
        )
    error = fault.error
    message = body_message(error, "the provider reported an error")
    fields = cast("dict[str, Any]", error) if isinstance(error, dict) else {}
    code = str(fields.get("code") or fields.get("type") or "")
    return StreamError(
        f"the provider reported an error in the stream: {scrub(message, keys)}"
        + (f" ({code})" if code else "")
        + ". The reply is incomplete",
        provider=provider,
        request_id=request_id,
        retryable=any(word in code for word in _RETRYABLE_CODES),
    )
