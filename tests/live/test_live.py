"""Against the real providers (``ALLOY_LIVE=1`` and a key; see ``conftest.py``): a typed
extraction, a tool call, a stream, and a bad model name, per backend.

The assertions are about types and ranges, never exact text: the models' wording changes
from run to run. Each test also checks the real answers' key structure against the
emulator's (``Live.check_shapes``).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

import pytest

from alloy import ProviderError
from alloy import command
from alloy import use_config
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import ToolCall
from tests.live.providers import Live
from tests.output_types import Money


@dataclass
class City:
    name: str
    country_code: Literal["FR", "DE", "IT", "ES", "GB", "US", "JP"]
    population_millions: float
    founded_before_year_1000: bool


@command
def city(text: str) -> City:
    """Extract the city described here. Population in millions of inhabitants.

    {text}"""
    ...


def test_typed_extraction(live: Live) -> None:
    result = city.run(
        "Paris is the capital of France, home to roughly 2.1 million people; it was "
        "founded by the Parisii in the 3rd century BC."
    )
    value = result.value
    assert isinstance(value, City)
    assert isinstance(value.name, str) and 0 < len(value.name) < 40
    assert value.country_code == "FR"
    assert isinstance(value.population_millions, float | int)
    assert 0.5 < value.population_millions < 15
    assert value.founded_before_year_1000 is True
    assert result.usage.input_tokens > 0 and result.usage.output_tokens > 0
    live.check_shapes({-1: Reply(text=result.text)})


def add(a: int, b: int) -> int:
    """Add two integers and return their sum."""
    return a + b


@command(tools=[add])
def total(question: str) -> int:
    """Use the add tool to work this out, then answer with the number: {question}"""
    ...


def test_tool_call(live: Live) -> None:
    result = total.run("What is 1234 + 4321?")
    calls = [t for t in result.tool_calls if t.name == "add"]
    assert calls, "the model never called the tool"
    for call in calls:
        assert call.error is None
        assert call.result == call.arguments["a"] + call.arguments["b"]
    assert isinstance(result.value, int) and 5000 <= result.value <= 6000
    first = calls[0]
    live.check_shapes(
        {0: Reply(tool_calls=[ToolCall(first.name, first.arguments)]), -1: Reply(text=result.text)}
    )


@command
def prices(text: str) -> list[Money]:
    """List every price in this text, in order, as amounts with their currency: {text}"""
    ...


def test_stream_of_registered_values(live: Live) -> None:
    text = "Coffee costs EUR 3.20, a croissant EUR 2.10 and the newspaper GBP 1.50."
    with prices.stream(text) as stream:
        items = list(stream.items())
        result = stream.result()
    assert 2 <= len(items) <= 4
    assert all(isinstance(item, Money) for item in items)
    assert all(item.currency in ("EUR", "GBP") and 0 < item.cents < 1000 for item in items)
    assert result.value == items
    live.check_shapes({-1: Reply(text=result.text)})


async def _ask_bad_model() -> None:
    await city.async_("Lyon, France")


def test_an_unknown_model_is_a_provider_error(live: Live) -> None:
    with (
        use_config(model=f"{live.backend}:no-such-model-alloy-live-test"),
        pytest.raises(ProviderError) as caught,
    ):
        asyncio.run(_ask_bad_model())
    error = caught.value
    assert error.status_code in (400, 404)
    assert error.retryable is False
    (answer,) = live.answers()
    live.check_shapes({0: Fault(status=answer.status)})
