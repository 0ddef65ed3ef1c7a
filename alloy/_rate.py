"""Rate limits: requests and tokens per minute, shared by every call to one account's model.

The ``rate_limit`` setting (``{"requests_per_minute": 500, "tokens_per_minute": 200_000}``,
or a number of requests per minute) puts one limiter per (provider, account, model) in front
of every model call made under it, a map's items, tool turns and re-asks included: every
command and map of the process that uses that model with the same key draws on the same
buckets, as the provider counts them. The account is the backend's base URL and a one-way
fingerprint of its key (``Accounted.account``; Ollama's is its host, with no key).

Each bucket holds a tenth of a minute's allowance (at least one request, or one call's
tokens) and refills continuously, so calls are spread out instead of sent in a burst that
the provider would answer with 429s. A call takes one request and its estimated tokens (the
budget's estimate: its text at four characters a token plus its ``max_tokens``); when it
ends, the estimate is corrected by what it really used. A 429 seen by one call (its
``Retry-After``) pauses every call on that limiter until the retry time.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ._errors import ConfigurationError
from ._errors import RateLimitError
from ._observe import ModelCall
from ._observe import Observer

if TYPE_CHECKING:
    from ._messages import Response

__all__ = ["Limits", "Limiter", "limiter_for", "limits_of"]


@dataclass(frozen=True, slots=True)
class Limits:
    """Requests and tokens per minute (None: not limited)."""

    requests_per_minute: float | None = None
    tokens_per_minute: float | None = None


def limits_of(value: object) -> Limits:
    """The ``rate_limit`` setting as ``Limits``; ``ConfigurationError`` when it is not one."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return Limits(requests_per_minute=float(value))
    if isinstance(value, Mapping):
        given: dict[str, object] = {str(k): v for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]
        unknown = sorted(set(given) - {"requests_per_minute", "tokens_per_minute"})
        rpm, tpm = given.get("requests_per_minute"), given.get("tokens_per_minute")
        if (
            not unknown
            and (rpm is not None or tpm is not None)
            and all(
                v is None or (isinstance(v, int | float) and not isinstance(v, bool) and v > 0)
                for v in (rpm, tpm)
            )
        ):
            return Limits(_rate(rpm), _rate(tpm))
    raise ConfigurationError(
        f"rate_limit={value!r} is invalid: expected a number of requests per minute, or "
        '{"requests_per_minute": N, "tokens_per_minute": M} (either may be left out).'
    )


def _rate(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) else None


class _Bucket:
    """Allowance per minute, held a tenth of a minute at a time."""

    __slots__ = ("capacity", "level", "rate", "updated")

    def __init__(self, per_minute: float, least: float, now: float) -> None:
        self.rate = per_minute / 60.0
        self.capacity = max(least, per_minute / 10.0)
        self.level = self.capacity
        self.updated = now

    def wait_for(self, amount: float, now: float) -> float:
        """Seconds until ``amount`` can be taken (0: take it now)."""
        self.level = min(self.capacity, self.level + (now - self.updated) * self.rate)
        self.updated = now
        # More than the bucket holds is taken once it is full (it goes into debt).
        need = min(amount, self.capacity)
        return 0.0 if self.level >= need else (need - self.level) / self.rate


class Limiter(Observer):
    """The buckets of one (provider, model): an observer of every call made under it.

    ``clock`` and ``sleep`` are the time source and the blocking wait (tests pass their own,
    to check the rate without waiting).
    """

    def __init__(
        self,
        limits: Limits,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self.limits = limits
        self._clock, self._sleep = clock, sleep
        now = clock()
        rpm, tpm = limits.requests_per_minute, limits.tokens_per_minute
        self._requests = _Bucket(rpm, 1.0, now) if rpm else None
        self._tokens = _Bucket(tpm, 1.0, now) if tpm else None
        self._paused_until = 0.0
        self._lock = threading.Lock()

    def _take(self, tokens: int) -> float:
        """Take one request and ``tokens`` if they are there; else the seconds to wait."""
        with self._lock:
            now = self._clock()
            if now < self._paused_until:
                return self._paused_until - now
            waits = [
                bucket.wait_for(amount, now)
                for bucket, amount in ((self._requests, 1.0), (self._tokens, float(tokens)))
                if bucket is not None
            ]
            wait = max(waits, default=0.0)
            if wait > 0:
                return wait
            if self._requests is not None:
                self._requests.level -= 1.0
            if self._tokens is not None:
                self._tokens.level -= tokens
            return 0.0

    def _estimate(self, call: ModelCall) -> int:
        from ._budget import worst_tokens

        estimate = sum(worst_tokens(call.request)) if self._tokens is not None else 0
        call.state[self] = estimate
        return estimate

    def model_started(self, call: ModelCall) -> None:
        if call.cached:
            return  # a stored reply: no request
        tokens = self._estimate(call)
        while (wait := self._take(tokens)) > 0:
            self._sleep(wait)

    async def amodel_started(self, call: ModelCall) -> None:
        if call.cached:
            return
        tokens = self._estimate(call)
        # The wait is computed from the buckets, not signalled: there is no event to await.
        while (wait := self._take(tokens)) > 0:  # noqa: ASYNC110
            await asyncio.sleep(wait)

    def model_finished(self, call: ModelCall, response: Response) -> None:
        if call.cached:
            return
        estimate: int = call.state.get(self, 0)
        if response.cached:
            # It waited for an identical call in flight and made no request: give back what
            # it took.
            with self._lock:
                if self._requests is not None:
                    self._requests.level += 1.0
                if self._tokens is not None:
                    self._tokens.level += estimate
            return
        usage = response.usage
        if self._tokens is None or usage.input_tokens is None or usage.output_tokens is None:
            return
        with self._lock:
            # Give back what the estimate took beyond the real use (or take the rest).
            self._tokens.level += estimate - (usage.input_tokens + usage.output_tokens)

    def model_retried(self, call: ModelCall, error: BaseException, wait: float) -> None:
        if isinstance(error, RateLimitError):
            self._pause(wait)

    def model_failed(self, call: ModelCall, error: BaseException) -> None:
        if isinstance(error, RateLimitError) and error.retry_after:
            self._pause(error.retry_after)

    def _pause(self, seconds: float) -> None:
        with self._lock:
            self._paused_until = max(self._paused_until, self._clock() + seconds)


_limiters: dict[tuple[str, str, str, Limits], Limiter] = {}
_registry_lock = threading.Lock()


def limiter_for(provider: str, account: str, model: str, limits: Limits) -> Limiter:
    """The process's limiter for ``model`` on ``provider`` reached through ``account`` (a
    base URL and key fingerprint, or ``""``) under ``limits`` (made once)."""
    key = (provider, account, model, limits)
    found = _limiters.get(key)
    if found is None:
        with _registry_lock:
            found = _limiters.setdefault(key, Limiter(limits))
    return found


def reset() -> None:
    """Forget every limiter (the test fixtures call this between tests)."""
    with _registry_lock:
        _limiters.clear()
