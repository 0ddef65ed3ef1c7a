import random

import pytest

from alloy import ProviderConnectionError
from alloy import ProviderError
from alloy import RateLimitError
from alloy._retry import BACKOFF_BASE
from alloy._retry import BACKOFF_CAP
from alloy._retry import delay_for


def test_retry_after_is_honoured() -> None:
    err = RateLimitError("x", provider="p", retry_after=2.5)
    assert delay_for(err, 0, max_retries=2, max_wait=60) == 2.5


def test_exponential_backoff_with_full_jitter() -> None:
    random.seed(7)
    err = ProviderConnectionError("reset", provider="p")
    for attempt in range(6):
        bound = min(BACKOFF_CAP, BACKOFF_BASE * 2**attempt)
        delays = [delay_for(err, attempt, max_retries=10, max_wait=60) for _ in range(200)]
        assert all(0 <= d <= bound for d in delays)
        assert max(delays) > bound * 0.8  # jitter spreads over the whole range
        assert min(delays) < bound * 0.2


def test_no_retry_when_exhausted_or_not_retryable() -> None:
    with pytest.raises(ProviderConnectionError):
        delay_for(ProviderConnectionError("x", provider="p"), 2, max_retries=2, max_wait=60)
    with pytest.raises(ProviderError):
        delay_for(
            ProviderError("bad", provider="p", status_code=400), 0, max_retries=2, max_wait=60
        )


def test_retry_after_beyond_max_wait() -> None:
    with pytest.raises(RateLimitError) as info:
        delay_for(
            ProviderError("x", provider="p", status_code=503, retryable=True, retry_after=90),
            0,
            2,
            30,
        )
    assert info.value.retry_after == 90
    assert info.value.status_code == 503
    assert "max_retry_wait" in str(info.value)
