"""``map`` through the real SDKs on every backend: a thousand items at ``concurrency=8``
never have more than eight requests in flight at the emulator, outcomes come back in input
order, usage is the sum of the items', and one item's 400 and another's invalid reply are
those items' errors while every other item succeeds. The async twin, and leaving ``aimap``
early (the calls in flight are cancelled and their connections closed)."""

from __future__ import annotations

import asyncio
import json
import re
import time
from typing import Any

from alloy import OutputValidationError
from alloy import ProviderError
from alloy import command
from alloy.testing.emulator import Fault
from alloy.testing.emulator import RecordedRequest
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

_ITEM = re.compile(r"item-(\d+)")


@command(retry=0)
def number(item: str) -> int:
    """Give the number in {item}"""


def _answer(request: RecordedRequest) -> Any:
    found = _ITEM.search(json.dumps(request.json))
    n = int(found.group(1)) if found else -1
    if n == 17:
        return Fault(status=400, message="this item is refused")
    if n == 401:
        return Reply(json={"value": "not a number"}, input_tokens=7, output_tokens=3)
    return Reply(json={"value": n}, input_tokens=7, output_tokens=3)


def test_a_thousand_items_at_concurrency_eight(provider: str, alloy_emulator: Scenario) -> None:
    alloy_emulator.set_default(_answer)
    items = (f"item-{n}" for n in range(1000))
    result = number.map(items, concurrency=8)
    assert alloy_emulator.peak_in_flight <= 8
    assert len(alloy_emulator.requests) == 1000
    assert [o.index for o in result] == list(range(1000))
    assert isinstance(result.errors[17], ProviderError) and result.errors[17].status_code == 400
    assert isinstance(result.errors[401], OutputValidationError)
    assert sorted(result.errors) == [17, 401]
    assert result.values() == [n for n in range(1000) if n not in (17, 401)]
    assert result.status == "partial"
    assert result.usage.input_tokens == 7 * 998
    assert result.usage.output_tokens == sum(
        o.result.usage.output_tokens or 0 for o in result if o.result
    )


def test_amap_bounds_its_tasks_too(provider: str, alloy_emulator: Scenario) -> None:
    alloy_emulator.set_default(_answer)
    result = asyncio.run(number.amap([f"item-{n}" for n in range(200)], concurrency=6))
    assert alloy_emulator.peak_in_flight <= 6
    assert sorted(result.errors) == [17]
    assert len(result.values()) == 199


def test_leaving_aimap_early_closes_the_calls_in_flight(
    provider: str, alloy_emulator: Scenario
) -> None:
    def answer(request: RecordedRequest) -> Reply:
        # The first item answers at once; the others would take ten seconds.
        slow = "item-0" not in json.dumps(request.json)
        return Reply(json={"value": 1}, delay=10.0 if slow else 0.0)

    alloy_emulator.set_default(answer)

    async def first() -> int:
        outcomes = number.aimap([f"item-{n}" for n in range(50)], concurrency=5)
        async for outcome in outcomes:
            await outcomes.aclose()  # type: ignore[attr-defined]
            return outcome.value
        raise AssertionError("no outcome")

    assert asyncio.run(first()) == 1
    # The four other calls were cancelled, and their connections closed: the emulator sees
    # each client leave before its reply.
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        if sum(r.disconnected for r in alloy_emulator.requests) == 4:
            break
        time.sleep(0.05)
    assert sum(r.disconnected for r in alloy_emulator.requests) == 4
    assert len(alloy_emulator.requests) == 5
