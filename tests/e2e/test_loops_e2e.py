"""Event loops that alloy's async calls ran on leave no socket open, however they end."""

from __future__ import annotations

import asyncio
import gc
import warnings

import pytest

from alloy import command
from alloy.backends import clear_instances
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

LOOPS = 5


@command
def rate(product: str) -> int:
    """Rate {product} from 1 to 5."""
    ...


def _unclosed(caught: list[warnings.WarningMessage]) -> list[str]:
    return [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]


@pytest.mark.parametrize("shutdown", [False, True], ids=["closed-bare", "shut-down-first"])
def test_loops_closed_with_or_without_shutdown_asyncgens_leak_nothing(
    provider: str, alloy_emulator: Scenario, shutdown: bool
) -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for n in range(LOOPS):
            value = n % 5 + 1
            alloy_emulator.enqueue(Reply(json={"value": value}), Reply(json={"value": value}))
            loop = asyncio.new_event_loop()
            try:
                assert loop.run_until_complete(rate.async_("tea")) == value
                streamed = loop.run_until_complete(rate.stream_async("tea").result())
                assert streamed.value == value
                if shutdown:
                    loop.run_until_complete(loop.shutdown_asyncgens())
            finally:
                loop.close()
        gc.collect()
        clear_instances()
        gc.collect()
    assert _unclosed(caught) == []
    assert len(alloy_emulator.requests) == 2 * LOOPS
