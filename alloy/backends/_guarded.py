"""The innermost wrapper: whatever a server sends, a backend call ends in a value or an
alloy error.

Each backend maps its SDK's exceptions (``_boundary``), but a 200 whose body is nearly the
right shape gets past the SDKs (they build their reply objects leniently) and breaks in the
decoder instead: an attribute missing, a string where a list belongs, bytes that are not
UTF-8, JSON nested deeper than Python recurses. Those become a ``ProviderError`` (a
``StreamError`` once a stream has yielded), with the original as ``__cause__``; and a 200
that is not a reply at all (no text, no tool call, no refusal, no finish reason) is an
error too, never an empty successful value.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Iterator
from typing import NoReturn

from .._deltas import Delta
from .._deltas import aclose_deltas
from .._deltas import close_deltas
from .._errors import AlloyError
from .._errors import ProviderError
from .._errors import StreamError
from .._messages import Request
from .._messages import Response
from .base import WrapperBackend

__all__ = ["Guarded", "UNREADABLE"]

UNREADABLE = (
    AttributeError,
    TypeError,
    KeyError,
    IndexError,
    ValueError,  # UnicodeDecodeError and json.JSONDecodeError among them
    RecursionError,
)
"""What a decoder raises on a reply it cannot read."""


class Guarded(WrapperBackend):
    """``inner`` whose unreadable replies are provider errors."""

    def complete(self, request: Request) -> Response:
        """``inner.complete``, its reply checked."""
        try:
            response = self.inner.complete(request)
        except UNREADABLE as exc:
            self._fail(exc)
        return self._checked(response)

    async def acomplete(self, request: Request) -> Response:
        """The async twin of ``complete``."""
        try:
            response = await self.inner.acomplete(request)
        except UNREADABLE as exc:
            self._fail(exc)
        return self._checked(response)

    def stream(self, request: Request) -> Iterator[Delta]:
        """``inner.stream``; an unreadable event breaks the stream."""
        started = False
        source = self.inner.stream(request)
        try:
            for delta in source:
                started = True
                yield delta
        except UNREADABLE as exc:
            self._fail(exc, started)
        finally:
            close_deltas(source)

    async def astream(self, request: Request) -> AsyncIterator[Delta]:
        """The async twin of ``stream``."""
        started = False
        source = self.inner.astream(request)
        try:
            async for delta in source:
                started = True
                yield delta
        except UNREADABLE as exc:
            self._fail(exc, started)
        finally:
            await aclose_deltas(source)

    def _fail(self, exc: BaseException, started: bool = False) -> NoReturn:
        if isinstance(exc, AlloyError):  # some alloy errors are ValueErrors too
            raise exc
        raise self._unreadable(exc, started) from exc

    def _unreadable(self, exc: BaseException, started: bool) -> ProviderError:
        detail = f"{type(exc).__name__}: {exc}"
        if len(detail) > 200:
            detail = detail[:200] + "..."
        cls = StreamError if started else ProviderError
        return cls(
            f"the server's reply could not be read as a {self.name} reply ({detail}). "
            "A proxy, a wrong base URL or an outage can cause this; check the base URL or "
            "try again later.",
            provider=self.name,
            retryable=False,
        )

    def _checked(self, response: Response) -> Response:
        if (
            response.finish_reason is None
            and not response.text
            and not response.tool_calls
            and response.refusal is None
        ):
            raise ProviderError(
                "the server answered without a reply (no text, no tool call and no finish "
                "reason). A proxy or a wrong base URL can cause this; check the base URL.",
                provider=self.name,
                retryable=False,
            )
        return response
