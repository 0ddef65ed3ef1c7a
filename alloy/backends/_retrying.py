"""Alloy's transport retries, as the innermost-but-one wrapper around every backend.

The SDKs' own retries are switched off (they differ per SDK, and two do not retry at all).
A call that fails with a retryable ``ProviderError`` is made again, at most ``max_retries``
times, after the wait ``alloy._retry.delay_for`` chooses. A stream is retried only until its
first delta: after that the reader has seen part of the reply, and a failure is the
stream's (``StreamError``, or the error's own class).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import AsyncIterator
from collections.abc import Iterator

from .. import _retry
from .._deltas import Delta
from .._deltas import Finish
from .._deltas import aclose_deltas
from .._deltas import close_deltas
from .._errors import ProviderError
from .._errors import ProviderTimeout
from .._messages import Request
from .._messages import Response
from .._observe import retried
from .base import Backend
from .base import WrapperBackend

__all__ = ["Retrying"]

_log = logging.getLogger("alloy")
_log.addHandler(logging.NullHandler())  # silent unless the application configures logging


class Retrying(WrapperBackend):
    """``inner`` with transport retries.

    ``_retry.delay_for`` is looked up on its module at each retry (not imported by name), so
    a test can watch the waits alloy chooses.
    """

    def __init__(self, inner: Backend, max_retries: int, max_wait: float):
        super().__init__(inner)
        self.max_retries = max_retries
        self.max_wait = max_wait

    def _wait(self, error: ProviderError, retries: int, started: float) -> float:
        try:
            wait = _retry.delay_for(error, retries, self.max_retries, self.max_wait)
        except ProviderTimeout as final:
            _note_attempts(final, retries + 1, started)
            raise
        _log.info(
            "%s: attempt %d failed (%s%s); retrying in %.2fs (%d of %d retries)",
            error.provider,
            retries + 1,
            type(error).__name__,
            f", HTTP {error.status_code}" if error.status_code is not None else "",
            wait,
            retries + 1,
            self.max_retries,
        )
        retried(error, wait)
        return wait

    def complete(self, request: Request) -> Response:
        """``inner.complete``, tried again on retryable failures."""
        retries, started = 0, time.monotonic()
        while True:
            try:
                response = self.inner.complete(request)
            except ProviderError as error:
                time.sleep(self._wait(error, retries, started))
                retries += 1
                continue
            return _counted(response, retries)

    async def acomplete(self, request: Request) -> Response:
        """The async twin of ``complete``."""
        retries, started = 0, time.monotonic()
        while True:
            try:
                response = await self.inner.acomplete(request)
            except ProviderError as error:
                # Imported only to wait: it costs ~50 ms once, and sync-only code never needs it.
                import asyncio

                await asyncio.sleep(self._wait(error, retries, started))
                retries += 1
                continue
            return _counted(response, retries)

    def stream(self, request: Request) -> Iterator[Delta]:
        """``inner.stream``, started again on failures before the first delta."""
        retries, started = 0, time.monotonic()
        while True:
            source = self.inner.stream(request)
            try:
                try:
                    first = next(source)
                except StopIteration:
                    return
                except ProviderError as error:
                    wait = self._wait(error, retries, started)
                    retries += 1
                    time.sleep(wait)
                    continue
                yield _finish_counted(first, retries)
                try:
                    if not retries:
                        yield from source
                        return
                    for delta in source:
                        yield _finish_counted(delta, retries)
                except ProviderTimeout as error:
                    _note_attempts(error, retries + 1, started)
                    raise
                return
            finally:
                close_deltas(source)

    async def astream(self, request: Request) -> AsyncIterator[Delta]:
        """The async twin of ``stream``."""
        retries, started = 0, time.monotonic()
        while True:
            source = self.inner.astream(request)
            try:
                try:
                    first = await anext(source)
                except StopAsyncIteration:
                    return
                except ProviderError as error:
                    import asyncio

                    wait = self._wait(error, retries, started)
                    retries += 1
                    await asyncio.sleep(wait)
                    continue
                yield _finish_counted(first, retries)
                try:
                    async for delta in source:
                        yield _finish_counted(delta, retries) if retries else delta
                except ProviderTimeout as error:
                    _note_attempts(error, retries + 1, started)
                    raise
                return
            finally:
                await aclose_deltas(source)


def _note_attempts(error: ProviderTimeout, attempts: int, started: float) -> None:
    """Add to a timeout that ends the call how many attempts it made and the time they
    took in all (the message said only the limit of one attempt)."""
    elapsed = time.monotonic() - started
    plural = "s" if attempts != 1 else ""
    note = f"Gave up after {attempts} attempt{plural}, {elapsed:.1f}s in all."
    if error.args and isinstance(error.args[0], str) and note not in error.args[0]:
        error.args = (f"{error.args[0]} {note}", *error.args[1:])


def _counted(response: Response, retries: int) -> Response:
    return dataclasses.replace(response, http_attempts=retries + 1) if retries else response


def _finish_counted(delta: Delta, retries: int) -> Delta:
    if retries and isinstance(delta, Finish):
        return dataclasses.replace(delta, http_attempts=retries + 1)
    return delta
