"""Rate limits on the fake backend: the buckets spread calls out, are shared by every call
to one provider's model, take estimated tokens and give back what was not used, and a 429
pauses every call on the limiter until its retry time."""

from __future__ import annotations

import time

import pytest

from alloy import ConfigurationError
from alloy import RateLimitError
from alloy import command
from alloy import use_config
from alloy._rate import Limits
from alloy._rate import limiter_for
from alloy._rate import limits_of
from alloy.testing import FakeBackend


@command(max_tokens=10)
def echo(text: str) -> str:
    """{text}"""


def test_the_setting_takes_a_number_or_a_mapping() -> None:
    assert limits_of(600) == Limits(600.0, None)
    assert limits_of({"tokens_per_minute": 1000}) == Limits(None, 1000.0)
    for bad in (0, -1, True, "fast", {"rpm": 5}, {}, {"requests_per_minute": 0}):
        with pytest.raises(ConfigurationError, match="rate_limit"):
            limits_of(bad)
    with pytest.raises(ConfigurationError, match="rate_limit"), use_config(rate_limit="fast"):
        pass


def test_requests_are_spread_out_at_the_rate(alloy_fake: FakeBackend) -> None:
    # 600 a minute: the bucket holds 60, then one every 0.1 s.
    with use_config(rate_limit=600):
        started = time.monotonic()
        result = echo.map(["x"] * 64, concurrency=8)
        took = time.monotonic() - started
    assert result.status == "ok"
    assert took >= 0.3  # the last four waited for the bucket to refill


def test_one_limiter_per_provider_account_and_model_under_the_same_limits() -> None:
    limits = Limits(60.0, None)
    one = limiter_for("openai", "acct-1", "gpt-5-mini", limits)
    assert one is limiter_for("openai", "acct-1", "gpt-5-mini", limits)
    assert one is not limiter_for("openai", "acct-1", "o3", limits)
    assert one is not limiter_for("openai", "acct-2", "gpt-5-mini", limits)
    assert one is not limiter_for("openai", "acct-1", "gpt-5-mini", Limits(120.0, None))


def test_tokens_are_estimated_then_corrected(alloy_fake: FakeBackend) -> None:
    limiter = limiter_for("fake", "", "anything", Limits(None, 6000.0))
    with use_config(model="fake:anything", rate_limit={"tokens_per_minute": 6000}):
        echo("hi")
    bucket = limiter._tokens  # pyright: ignore[reportPrivateUsage]
    assert bucket is not None
    # The fake's reply used a handful of tokens: the estimate's rest came back.
    assert bucket.capacity - bucket.level < 20


def test_a_429_pauses_every_call_on_the_limiter() -> None:
    limiter = limiter_for("fake", "", "m", Limits(6000.0, None))
    error = RateLimitError("slow down", provider="fake", retry_after=0.3)
    limiter.model_failed(None, error)  # type: ignore[arg-type]
    wait = limiter._take(0)  # pyright: ignore[reportPrivateUsage]
    assert 0.2 < wait <= 0.3


def test_a_maps_own_rate_limit(alloy_fake: FakeBackend) -> None:
    started = time.monotonic()
    result = echo.map(["x"] * 63, concurrency=8, rate_limit={"requests_per_minute": 600})
    assert result.status == "ok"
    assert time.monotonic() - started >= 0.2


class Clock:
    """A clock that moves only when the limiter sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_the_rate_on_an_injected_clock() -> None:
    from alloy._messages import Message
    from alloy._messages import Request
    from alloy._observe import CommandCall
    from alloy._observe import ModelCall
    from alloy._rate import Limiter

    clock = Clock()
    limiter = Limiter(Limits(requests_per_minute=120.0), clock=clock, sleep=clock.sleep)
    request = Request(model="m", messages=(Message.user("hi"),))
    command = CommandCall("fake", "m", False)
    for turn in range(1, 31):
        limiter.model_started(ModelCall(command, request, turn))
    # 120 a minute holds 12 at once, then one every half second: 18 more took 9 s.
    assert clock.now - 1000.0 == pytest.approx(9.0)
    assert all(s == pytest.approx(0.5) for s in clock.slept)
    limiter.model_failed(None, RateLimitError("slow", provider="fake", retry_after=4.0))  # type: ignore[arg-type]
    before = clock.now
    limiter.model_started(ModelCall(command, request, 31))
    assert clock.now - before == pytest.approx(4.0)
