"""A registered type (``tests.output_types.Money``) on every backend, through the real SDKs:
as the output, streamed item by item, as a tool argument, and a parse that fails, re-asked.

The output-type and stream-parity suites run it too, as their ``registered`` cases."""

from __future__ import annotations

import asyncio
import json

import pytest

from alloy import command
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall
from tests.e2e.wires import Wire
from tests.output_types import Money
from tests.output_types import Priced

MODES = pytest.mark.parametrize("mode", ["sync", "async"])


@command
def prices(text: str) -> list[Money]:
    """Every price in: {text}"""
    ...


@command
def menu(text: str) -> list[Priced]:
    """The menu in: {text}"""
    ...


@command
def price(text: str) -> Money:
    """The price in: {text}"""
    ...


@command
async def price_async(text: str) -> Money:
    """The price in: {text}"""
    ...


def test_the_schema_reaches_the_provider(wire: Wire, alloy_emulator: Scenario) -> None:
    alloy_emulator.enqueue(Reply(json={"value": ["EUR 1.00"]}))
    assert prices("one euro") == [Money("EUR", 100)]
    (request,) = alloy_emulator.requests
    sent = json.dumps(wire.schema(request.json))
    # The description reaches every provider; Gemini's and Ollama's dialects drop ``pattern``.
    assert "an amount and its currency, like 'EUR 12.50'" in sent


@MODES
def test_items_stream_as_registered_values(
    provider: str, alloy_emulator: Scenario, mode: str
) -> None:
    rows = [{"item": f"dish{i}", "prices": [f"EUR {i}.50", "GBP 0.99"]} for i in range(4)]
    alloy_emulator.enqueue(Reply(json={"value": rows}, chunk_chars=5))
    if mode == "sync":
        with menu.stream("a menu") as stream:
            got = list(stream.items())
    else:

        async def run() -> list[Priced]:
            return [row async for row in menu.stream_async("a menu").items()]

        got = asyncio.run(run())
    assert got == [
        Priced(item=f"dish{i}", prices=[Money("EUR", i * 100 + 50), Money("GBP", 99)])
        for i in range(4)
    ]


def test_a_streamed_item_that_fails_its_parse(provider: str, alloy_emulator: Scenario) -> None:
    from alloy import OutputValidationError

    alloy_emulator.enqueue(Reply(json={"value": ["EUR 1.00", 2]}, chunk_chars=4))
    with prices.stream("two") as stream:
        got = stream.items()
        assert next(got) == Money("EUR", 100)
        with pytest.raises(OutputValidationError, match=r"expected text like 'EUR 12\.50'"):
            next(got)


@MODES
def test_a_failing_parse_is_re_asked(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    alloy_emulator.enqueue(Reply(json={"value": "12 euros"}), Reply(json={"value": "EUR 12.00"}))
    if mode == "sync":
        result = price.run("twelve euros")
    else:
        result = asyncio.run(price_async.run_async("twelve euros"))
    assert result.value == Money("EUR", 1200)
    assert result.attempts == 2
    followup = json.dumps(alloy_emulator.requests[1].json)
    assert "is not a three-letter currency code" in followup


def transfer(amount: Money, to: str) -> str:
    """Send an amount of money to someone."""
    return f"sent {amount.dump()} to {to}"


@command(tools=[transfer])
def pay(text: str) -> list[Money]:
    """Use the tools to do this, then list what was sent: {text}"""
    ...


@MODES
def test_a_registered_type_as_a_tool_argument(
    provider: str, alloy_emulator: Scenario, mode: str
) -> None:
    alloy_emulator.enqueue(
        Reply(tool_calls=[ToolCall("transfer", {"amount": 7, "to": "Bo"})]),
        Reply(tool_calls=[ToolCall("transfer", {"amount": "SEK 7.25", "to": "Bo"})]),
        Reply(json={"value": ["SEK 7.25"]}),
    )
    ask = "send Bo 7.25 kronor"
    result = pay.run(ask) if mode == "sync" else asyncio.run(pay.run_async(ask))
    assert result.value == [Money("SEK", 725)]
    failed, sent = result.tool_calls
    assert failed.error is not None and "expected text like 'EUR 12.50', not int" in failed.error
    assert sent.result == "sent SEK 7.25 to Bo"
    first = json.dumps(alloy_emulator.requests[0].json)
    assert "an amount and its currency" in first  # the tool's parameter schema
    assert "not int" in json.dumps(alloy_emulator.requests[1].json)  # the error, for the model
