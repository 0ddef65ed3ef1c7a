"""Leaving a stream early closes its HTTP response at once, without waiting for the stream
object to be collected; its result is then unknown, which ``result()`` says."""

from __future__ import annotations

import asyncio
import gc
import time

import pytest

from alloy import StreamError
from alloy import command
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

LONG = "word " * 400


@command
def essay(topic: str) -> str:
    """Write at length about {topic}."""
    ...


def _disconnected(emulator: Scenario, within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if emulator.requests and emulator.requests[-1].disconnected:
            return True
        time.sleep(0.02)
    return False


def test_a_bare_break_closes_the_connection_while_the_stream_is_alive(
    provider: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.enqueue(Reply(text=LONG, chunk_chars=5, chunk_delay=0.01))
    gc.disable()  # prove it does not depend on the collector
    try:
        stream = essay.stream("rivers")
        for _piece in stream:
            break
        assert _disconnected(alloy_emulator)
        with pytest.raises(StreamError, match="closed before its end"):
            stream.result()
    finally:
        gc.enable()


def test_a_bare_break_out_of_an_async_stream_closes_the_connection(
    provider: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.enqueue(Reply(text=LONG, chunk_chars=5, chunk_delay=0.01))

    async def run() -> None:
        stream = essay.stream_async("rivers")
        async for _piece in stream:
            break
        # The event loop closes an abandoned async generator on its next turns.
        for _ in range(50):
            await asyncio.sleep(0.01)
            if alloy_emulator.requests and alloy_emulator.requests[-1].disconnected:
                break
        with pytest.raises(StreamError, match="closed before its end"):
            await stream.result()

    asyncio.run(run())
    assert _disconnected(alloy_emulator)
