"""Alloy's transport retry policy, the same for every provider.

A failed model call is tried again, at most ``max_retries`` times, when the error says it is
retryable (408/409/429/5xx, timeouts, connection failures): after the server's
``Retry-After`` / ``retry-after-ms`` when it sent one (up to ``max_retry_wait``), otherwise
after exponential backoff with full jitter. The retrying itself is a backend wrapper
(``alloy.backends._retrying``).
"""

from __future__ import annotations

from ._errors import ProviderError
from ._errors import RateLimitError

__all__ = ["BACKOFF_BASE", "BACKOFF_CAP", "delay_for"]

BACKOFF_BASE = 0.5
BACKOFF_CAP = 8.0


def delay_for(error: ProviderError, retries_done: int, max_retries: int, max_wait: float) -> float:
    """Seconds to wait before trying again after ``error``; raises when alloy should not retry."""
    if not error.retryable or retries_done >= max_retries:
        raise error
    if error.retry_after is not None:
        if error.retry_after > max_wait:
            if isinstance(error, RateLimitError):
                raise error
            raise RateLimitError(
                f"the provider asked to wait {error.retry_after:g}s, longer than "
                f"max_retry_wait={max_wait:g}s. Raise max_retry_wait, or try again later",
                provider=error.provider,
                status_code=error.status_code,
                request_id=error.request_id,
                retry_after=error.retry_after,
            ) from error
        return error.retry_after
    # Full jitter: uniform over [0, capped exponential], which spreads concurrent clients.
    import random

    return random.uniform(0.0, min(BACKOFF_CAP, BACKOFF_BASE * 2.0**retries_done))
