"""The ollama SDK's and the transport's exceptions → alloy errors (pure).

The SDK wraps little (PROVIDERS.md §5): HTTP errors are ``ResponseError`` with the status
(the ``HTTPStatusError`` stays the context, with the headers), an ``{"error": ...}`` line in
a stream is ``ResponseError`` with status -1, and the rest is raw ``httpx``, ``json`` or
pydantic exceptions, or a builtin ``ConnectionError``. ``translate`` maps each of them for
a call, and ``translate_read`` for a read of a stream, where the same parse failures mean a
malformed line. The shared ``ErrorBoundary`` does the rest (a broken stream once started).
"""

from __future__ import annotations

import json
import re

import httpx
import ollama
import pydantic

from ..._errors import AlloyError
from ..._errors import ConfigurationError
from ..._errors import ProviderConnectionError
from ..._errors import ProviderError
from ..._errors import StreamError
from .._boundary import Secrets
from .._http import body_message
from .._http import error_for_status
from .._http import error_for_transport
from .._http import scrub
from ._models import NAME

__all__ = ["KEY_HINT", "malformed_line", "translate", "translate_read"]

KEY_HINT = (
    "set OLLAMA_API_KEY (sent as a Bearer token) or pass "
    "provider_options={'ollama': {'headers': {'Authorization': 'Bearer ...'}}}"
)
"""How to give the backend a key, for authentication failures."""

# Raw exceptions the SDK lets through from httpx or JSON parsing (PROVIDERS.md §5).
_TRANSPORT = (json.JSONDecodeError, httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError)

# An auth failure's message may echo the credential the server received, which alloy does
# not always know (a proxy's key): anything shaped like a token is masked in those.
_TOKEN = re.compile(
    r"(?i)\bbearer\s+\S+|\b(?=[\w.-]*\d)(?=[\w.-]*[a-z])[a-z0-9][\w.-]{15,}",
)


def translate(exc: Exception, secrets: Secrets, timeout: float | None) -> AlloyError | None:
    """The alloy error for ``exc``, raised by a call, or ``None`` when it is not the SDK's or
    the transport's."""
    keys, failed = secrets.values, _failed_response(exc)
    if isinstance(exc, ollama.ResponseError):
        if exc.status_code < 0 and failed is None:
            # An ``{"error": ...}`` line inside a stream (the HTTP status was already 200).
            return StreamError(
                f"the stream reported an error: {scrub(str(exc.error), keys)}",
                provider=NAME,
                retryable=False,
            )
        status = failed.status_code if failed is not None else exc.status_code
        return _status_error(status, exc.error, failed, keys)
    if failed is not None:
        # Raised by the SDK while it read an odd error body (a JSON list, say): the same
        # HTTP error.
        return _status_error(failed.status_code, failed.text, failed, keys)
    if isinstance(exc, httpx.ConnectError):  # what a stream raises (its first read)
        return _not_reachable(exc, keys)
    if type(exc) is ConnectionError:
        # The SDK's own "Failed to connect to Ollama" for httpx's ConnectError (refused, DNS),
        # raised ``from None``: the httpx error is the context and says where and why.
        return _not_reachable(exc.__context__, keys)
    if isinstance(exc, pydantic.ValidationError):
        if exc.title == "ChatResponse":
            return ProviderError(
                f"the reply is not an Ollama chat response: {scrub(str(exc), keys)}",
                provider=NAME,
                retryable=False,
            )
        return ConfigurationError(
            f"{NAME}: the ollama SDK refused the request ({exc.title}): {exc}. "
            "Check provider_options['ollama']."
        )
    if isinstance(exc, TypeError) and "unexpected keyword argument" in str(exc):
        return ConfigurationError(
            f"{NAME}: Client.chat() does not take an option ({exc}). provider_options"
            "['ollama'] takes host and headers, chat() arguments (keep_alive, "
            "logprobs, top_logprobs) and model options as options={...}."
        )
    if isinstance(exc, TypeError) and "must be a mapping" in str(exc):
        return ProviderError(
            "the reply body is JSON but not an object. Check the host.",
            provider=NAME,
            retryable=False,
        )
    if isinstance(exc, _TRANSPORT):
        return error_for_transport(NAME, exc, timeout, keys) or ProviderError(
            f"{type(exc).__name__}: {scrub(str(exc), keys)}", provider=NAME
        )
    return None


def _status_error(
    status: int, body: object, failed: httpx.Response | None, secrets: tuple[str, ...]
) -> ProviderError:
    message = body_message(body, f"HTTP {status}")
    if status in (401, 403):
        message = _TOKEN.sub(_mask, message)
    headers = failed.headers if failed is not None else None
    return error_for_status(
        NAME,
        status,
        message,
        headers=headers,
        request_id=headers.get("x-request-id") if headers is not None else None,
        key_hint=KEY_HINT,
        secrets=secrets,
    )


def _failed_response(exc: BaseException) -> httpx.Response | None:
    """The HTTP response of the ``HTTPStatusError`` that ``exc`` was raised while handling.

    ``ResponseError`` keeps no headers, but the SDK raises it (``from None``) while handling
    httpx's ``HTTPStatusError``, which stays its ``__context__``: the headers there carry
    Retry-After and the request id.
    """
    context = exc.__context__
    while context is not None:
        if isinstance(context, httpx.HTTPStatusError):
            return context.response
        context = context.__context__
    return None


def _not_reachable(cause: BaseException | None, secrets: tuple[str, ...]) -> ProviderError:
    where = ""
    if isinstance(cause, httpx.RequestError):
        try:
            url = cause.request.url
            where = f" at {url.scheme}://{url.netloc.decode()}"
        except RuntimeError:  # no request attached
            pass
    why = f" ({scrub(str(cause), secrets)})" if cause is not None and str(cause) else ""
    return ProviderConnectionError(
        f"cannot connect to Ollama{where}{why}. Start it (`ollama serve`), or point alloy at "
        "it with OLLAMA_HOST or provider_options={'ollama': {'host': ...}}.",
        provider=NAME,
    )


def _mask(match: re.Match[str]) -> str:
    return "Bearer ***" if match.group(0).lower().startswith("bearer") else "***"


# What the SDK raises for a line that is not a chat chunk: not JSON, JSON but not an object
# (``part.get`` fails on it), or an object that ``ChatResponse`` rejects.
_MALFORMED = (json.JSONDecodeError, pydantic.ValidationError, AttributeError, TypeError)


def malformed_line(exc: BaseException) -> bool:
    """Whether ``exc``, raised by the SDK while it read a stream, means a malformed line."""
    return isinstance(exc, _MALFORMED)


def translate_read(exc: Exception, secrets: Secrets, timeout: float | None) -> AlloyError | None:
    """The alloy error for ``exc``, raised by the SDK while it read a stream.

    A malformed line is a ``StreamError`` that a retry will not fix, wherever it comes; the
    rest maps as for a call (the boundary turns a broken connection into a ``StreamError``
    once the stream has yielded a delta).
    """
    if not malformed_line(exc):
        return translate(exc, secrets, timeout)
    detail = f"{exc.msg} at position {exc.pos}" if isinstance(exc, json.JSONDecodeError) else ""
    return StreamError(
        f"a line of the stream is not an Ollama chat chunk ({type(exc).__name__}"
        f"{': ' + detail if detail else ''}). A proxy or an outage can cause this; "
        "try again later.",
        provider=NAME,
        retryable=False,
    )
