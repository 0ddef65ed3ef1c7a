"""``timeout`` is a deadline for each HTTP attempt, on every backend, sync, async and streamed.

A server may answer slowly in ways no per-read timeout sees: a body trickled a few bytes at a
time, a stream whose events keep coming, a reply that stops half way. Each attempt must end
in ``ProviderTimeout`` about ``timeout`` after it started, and the error says how many
attempts were made and how long they took in all. The bounds are generous (these machines
are noisy); without the deadline each of these calls takes several seconds.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import pytest

from alloy import ProviderTimeout
from alloy import command
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

TIMEOUT = 0.3
SLACK = 1.0
"""Scheduling slack allowed on top of ``timeout`` per attempt (the faults last 5 s or more)."""

NOTE = {"value": 4, "note": "x" * 500}
FAULTS = {
    # 4 bytes (or, streamed, 4 characters of text per event) every 20 ms: about 10 s in all.
    "trickled": Reply(json=NOTE, chunk_chars=4, chunk_delay=0.04),
    # One event or piece, then nothing for 5 s: the deadline must wake the waiting read.
    "stopped": Reply(json=NOTE, chunk_chars=200, chunk_delay=5.0),
}


@command
def rate(product: str) -> int:
    """Rate {product} from 1 to 5."""
    ...


def _call(mode: str, **config: Any) -> int:
    cmd = rate.with_config(**config)
    if mode == "sync":
        return cmd("tea")
    if mode == "stream":
        return cmd.stream("tea").result().value

    async def run() -> int:
        if mode == "async":
            return await cmd.async_("tea")
        return (await cmd.stream_async("tea").result()).value

    return asyncio.run(run())


def _warm(mode: str, scenario: Scenario) -> None:
    """One good call first, so that the SDK's import and client set-up are not timed."""
    scenario.enqueue(Reply(json={"value": 1}))
    assert _call(mode) == 1


@pytest.mark.parametrize("fault", sorted(FAULTS))
@pytest.mark.parametrize("mode", ["sync", "async", "stream", "astream"])
def test_a_slow_reply_ends_in_a_timeout_soon_after_the_deadline(
    provider: str, alloy_emulator: Scenario, mode: str, fault: str
) -> None:
    _warm(mode, alloy_emulator)
    alloy_emulator.enqueue(FAULTS[fault])
    started = time.monotonic()
    with pytest.raises(ProviderTimeout) as caught:
        _call(mode, timeout=TIMEOUT, max_retries=0)
    elapsed = time.monotonic() - started
    assert elapsed < TIMEOUT + SLACK, f"{provider} {mode} {fault}: took {elapsed:.1f}s"
    message = str(caught.value)
    assert f"within {TIMEOUT:g}s" in message
    assert "Gave up after 1 attempt," in message
    assert len(alloy_emulator.requests) == 2  # the warm-up and one attempt


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_the_timeout_says_how_many_attempts_and_how_long_in_all(
    provider: str, alloy_emulator: Scenario, mode: str
) -> None:
    _warm(mode, alloy_emulator)
    alloy_emulator.enqueue(*(FAULTS["trickled"],) * 3)
    started = time.monotonic()
    with pytest.raises(ProviderTimeout) as caught:
        _call(mode, timeout=TIMEOUT, max_retries=2, max_retry_wait=0.1)
    elapsed = time.monotonic() - started
    found = re.search(r"Gave up after 3 attempts, ([0-9.]+)s in all\.", str(caught.value))
    assert found is not None, str(caught.value)
    assert 3 * TIMEOUT <= float(found.group(1)) + 0.05 <= elapsed + 0.1
    assert len(alloy_emulator.requests) == 1 + 3


def test_a_reply_that_finishes_in_time_is_not_cut(provider: str, alloy_emulator: Scenario) -> None:
    # 100 pieces 2 ms apart: the body takes far less than the timeout, over many reads.
    alloy_emulator.enqueue(
        Reply(json={"value": 3, "note": "y" * 300}, chunk_chars=4, chunk_delay=0.002)
    )
    assert _call("sync", timeout=5.0) == 3
    alloy_emulator.enqueue(
        Reply(json={"value": 2, "note": "y" * 100}, chunk_chars=2, chunk_delay=0.002)
    )
    assert _call("stream", timeout=5.0) == 2
