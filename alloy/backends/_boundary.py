"""The one error boundary every backend puts around its SDK call and its stream reads.

Each SDK raises its own exceptions, so each provider writes a ``translate(exc)`` that names
the alloy error (``None`` for an exception that is neither the SDK's nor the transport's,
which then propagates unchanged). Everything else is the same for every provider and lives
here: alloy errors pass through, the SDK exception is kept as ``__cause__``, and once a
stream has yielded a delta (``started``), or when a chunk of it is malformed, a failure
breaks the stream instead of looking like a failed call that alloy could simply retry.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from collections.abc import Iterable
from typing import TypeVar
from typing import cast

from .._errors import AlloyError
from .._errors import ProviderConnectionError
from .._errors import ProviderError
from .._errors import StreamError
from ._http import body_message
from ._http import scrub

__all__ = ["ErrorBoundary", "Secrets", "Translate", "broken_stream", "expect"]

_T = TypeVar("_T")

Translate = Callable[[Exception, "Secrets", "float | None"], "AlloyError | None"]
"""``translate(exc, secrets, timeout)``: the alloy error for an SDK or transport exception."""


class Secrets:
    """The keys one backend instance uses, to scrub from every message it builds.

    Shared by the client builder (which adds the keys the SDK found in the environment) and
    the boundary (which scrubs them).
    """

    __slots__ = ("__weakref__", "values")  # weak: the log filter knows the live ones

    def __init__(self, given: Iterable[object] = ()):
        self.values: tuple[str, ...] = ()
        self.add(given)

    def add(self, found: Iterable[object]) -> None:
        """Remember every non-empty string of ``found``."""
        for value in found:
            if isinstance(value, str) and value and value not in self.values:
                self.values = (*self.values, value)


class ErrorBoundary:
    """Context manager mapping SDK and transport exceptions to alloy errors.

    Used around the single SDK call of ``complete``/``acomplete`` (an ``await`` inside a
    plain ``with`` block is covered too), and around the reading of a stream, which sets
    ``started`` once it has yielded a delta.

    Args:
        translate: the provider's exception translation.
        secrets: the keys to scrub.
        timeout: the call's timeout, for the timeout message.
        stream: the block reads a stream.
        malformed: whether an exception is the SDK failing to parse a stream chunk; such a
            chunk breaks the stream wherever it comes, even before the first delta.
    """

    __slots__ = ("_malformed", "_secrets", "_stream", "_timeout", "_translate", "started")

    def __init__(
        self,
        translate: Translate,
        secrets: Secrets,
        timeout: float | None,
        *,
        stream: bool = False,
        malformed: Callable[[BaseException], bool] | None = None,
    ):
        self._translate = translate
        self._secrets = secrets
        self._timeout = timeout
        self._stream = stream
        self._malformed = malformed
        self.started = False

    def __enter__(self) -> ErrorBoundary:
        return self

    def __exit__(self, kind: object, exc: BaseException | None, tb: object) -> None:
        if exc is None or isinstance(exc, AlloyError) or not isinstance(exc, Exception):
            return
        mapped = self._translate(exc, self._secrets, self._timeout)
        if mapped is None:
            return
        if (
            self._stream
            and isinstance(mapped, ProviderError)
            and (self.started or (self._malformed is not None and self._malformed(exc)))
        ):
            mapped = broken_stream(mapped)
        scrub_chain(exc, self._secrets.values)
        raise mapped from exc


def scrub_chain(exc: BaseException, secrets: tuple[str, ...]) -> None:
    """Remove ``secrets`` from ``exc`` and the exceptions behind it, in place.

    The SDK's exception stays as the alloy error's ``__cause__``, and a server that echoes
    the key in its error body (``Incorrect API key provided: sk-...``) would otherwise put
    it in every printed traceback: its message, ``args`` and parsed ``body`` are scrubbed.
    """
    if not secrets:
        return
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        current.args = tuple(_scrubbed(arg, secrets) for arg in current.args)
        for name in ("message", "body", "error", "detail"):
            value: object = getattr(current, name, None)
            # A read-only attribute is left as it is: there is nothing to scrub there.
            if value is not None and not isinstance(value, int | float | bool):
                with contextlib.suppress(AttributeError, TypeError):
                    setattr(current, name, _scrubbed(value, secrets))
        current = current.__cause__ or current.__context__


def _scrubbed(value: object, secrets: tuple[str, ...]) -> object:
    if isinstance(value, str):
        return scrub(value, secrets)
    if isinstance(value, dict):
        items = cast("dict[object, object]", value)
        return {k: _scrubbed(v, secrets) for k, v in items.items()}
    if isinstance(value, list):
        return [_scrubbed(v, secrets) for v in cast("list[object]", value)]
    return value


def broken_stream(error: ProviderError) -> ProviderError:
    """What ``error`` becomes when it interrupts a stream that has already yielded deltas.

    A reset, a malformed chunk or an in-stream error without a class of its own is a
    ``StreamError`` (keeping the status, request id and whether a retry may help); a rate
    limit, a timeout or an authentication failure keeps its own class, and so does an error
    that is already a ``StreamError``.
    """
    if type(error) is not ProviderError and not isinstance(error, ProviderConnectionError):
        return error
    detail = str(error.args[0]) if error.args else str(error)
    detail = detail.removeprefix(f"{error.provider}: ")
    for suffix in (f" [request id {error.request_id}]", f" (HTTP {error.status_code})"):
        detail = detail.removesuffix(suffix)
    return StreamError(
        f"the stream broke off: {detail}",
        provider=error.provider,
        status_code=error.status_code,
        request_id=error.request_id,
        retryable=error.retryable,
        retry_after=error.retry_after,
    )


def expect(raw: object, cls: type[_T], provider: str, secrets: Secrets) -> _T:
    """``raw`` if the SDK parsed the body as ``cls``, else a ``ProviderError``.

    Some SDKs hand back the body as plain text, instead of raising, when a server answers
    200 with a content type that is not JSON (a proxy page, a misconfigured base URL).
    """
    if isinstance(raw, cls):
        return raw
    detail = body_message(raw if isinstance(raw, str) else repr(raw), "an empty body")
    raise ProviderError(
        f"the server answered without a JSON body ({scrub(detail, secrets.values)}). "
        "Check the base URL.",
        provider=provider,
        retryable=False,
    )
