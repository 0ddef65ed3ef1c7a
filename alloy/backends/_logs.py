"""No secret in the log records of the SDKs and their HTTP stacks.

At ``DEBUG`` the HTTP libraries log every response's headers (``httpcore``'s
``receive_response_headers``, anthropic's ``HTTP Response: ...``), and the SDKs log URLs and
request options: a server or proxy that echoes a key, a base URL with ``user:pass@`` or
``?key=``, or a credential header would land in the application's logs. Once a backend has
built an SDK client (so the SDK and its loggers exist), ``guard_sdk_logs`` puts one filter on
each logger of the SDKs and HTTP libraries. The filter rewrites a record whose text holds a
key any live backend knows, URL credentials or a credential header value, with ``***`` in
their place; tracebacks attached to the record are scrubbed the same way. Records are only
made for levels the application enabled, so with logging left alone this costs nothing.

A logger filter sees only the records made on that very logger (not those propagated from
its children), hence one filter per logger, added again to loggers created since.
"""

from __future__ import annotations

import functools
import logging
import re
import weakref

from .._redact import mask_urls
from ._boundary import Secrets
from ._http import scrub

__all__ = ["guard_sdk_logs", "scrub_text"]

_PREFIXES = (
    "openai",
    "anthropic",
    "google_genai",
    "google.genai",
    "ollama",
    "httpx",
    "httpx2",
    "httpcore",
    "httpcore2",
)
"""The loggers (and their children) of the SDKs and the HTTP libraries they use."""

_KNOWN: weakref.WeakSet[Secrets] = weakref.WeakSet()
"""The secrets of every live backend."""


@functools.cache
def _credential_headers() -> re.Pattern[str]:
    # A header name in quotes, then the value in quotes, as dicts, tuples and byte strings
    # print them: 'authorization': 'Bearer ...' or (b'x-api-key', b'...').
    return re.compile(
        r"""(?i)(b?['"](?:authorization|proxy-authorization|x-api-key|x-goog-api-key|"""
        r"""api-key|cookie|set-cookie)['"]\s*[:,]\s*b?['"])[^'"]*"""
    )


@functools.cache
def _base64_runs() -> re.Pattern[str]:
    # Media travel as base64 in request bodies, which the SDKs log at DEBUG: a long run of
    # base64 characters is content, not something to read in a log.
    return re.compile(r"[A-Za-z0-9+/_-]{256,}={0,2}")


def scrub_text(text: str) -> str:
    """``text`` without the keys of live backends, URL credentials, credential headers and
    long base64 runs (media content)."""
    values = [value for secrets in list(_KNOWN) for value in secrets.values]
    text = scrub(text, tuple(values))
    text = _credential_headers().sub(r"\1***", text)
    text = _base64_runs().sub(lambda run: f"<{len(run.group())} base64 characters>", text)
    return mask_urls(text)


class _Scrub(logging.Filter):
    """Rewrites a record's message (and traceback text) without secrets; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a record that cannot format is the handler's problem
            return True
        clean = scrub_text(message)
        if clean != message:
            record.msg, record.args = clean, None
        if record.exc_info and not record.exc_text:
            # Formatted once here, as the handler's formatter would, then kept scrubbed:
            # formatters reuse ``exc_text`` when it is set.
            record.exc_text = scrub_text(logging.Formatter().formatException(record.exc_info))
        return True


_FILTER = _Scrub()


def guard_sdk_logs(secrets: Secrets) -> None:
    """Scrub ``secrets`` (and any credentials) from the SDK and HTTP library loggers."""
    _KNOWN.add(secrets)
    for name, logger in list(logging.Logger.manager.loggerDict.items()):
        if not isinstance(logger, logging.Logger):
            continue  # a placeholder: no records are made on it
        if name.startswith(_PREFIXES) and _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
