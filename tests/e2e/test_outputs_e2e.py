"""Every output type of SPEC §3, in both command styles, sync and async, through each backend."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from alloy import command
from alloy._output import output_spec
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from tests.e2e.wires import Wire
from tests.output_types import JSON_CASES
from tests.output_types import Case


def _make(tp: Any, style: str, is_async: bool) -> Any:
    if style == "output":
        if is_async:

            async def give_async(topic: str) -> str:
                return f"Give me {topic}"

            return command(output=tp)(give_async)

        def give(topic: str) -> str:
            return f"Give me {topic}"

        return command(output=tp)(give)
    if is_async:

        async def annotated_async(topic: str) -> None:
            """Give me {topic}"""

        annotated_async.__annotations__["return"] = tp
        return command(annotated_async)

    def annotated(topic: str) -> None:
        """Give me {topic}"""

    annotated.__annotations__["return"] = tp
    return command(annotated)


def _reply_for(case: Case) -> Reply:
    spec = output_spec(case.type, case.id)
    assert spec.schema is not None
    return Reply(json={"value": case.reply} if spec.schema.wrapped else case.reply)


@pytest.mark.parametrize("style", ["output", "annotation"])
@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("case", JSON_CASES, ids=lambda c: c.id)
def test_output_type(
    wire: Wire, alloy_emulator: Scenario, case: Case, style: str, mode: str
) -> None:
    alloy_emulator.enqueue(_reply_for(case))
    if mode == "sync":
        cmd = _make(case.type, style, is_async=False)
        value = cmd("a value")
    else:
        cmd = _make(case.type, style, is_async=True)
        value = asyncio.run(cmd("a value"))
    assert value == case.value
    assert type(value) is type(case.value)
    (request,) = alloy_emulator.requests
    assert wire.schema(request.json) is not None


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_text_output(wire: Wire, alloy_emulator: Scenario, mode: str) -> None:
    @command
    def haiku(topic: str) -> str:
        """Write a haiku about {topic}."""

    alloy_emulator.enqueue(Reply(text="An old silent pond"))
    value = haiku("frogs") if mode == "sync" else asyncio.run(haiku.async_("frogs"))
    assert value == "An old silent pond"
    (request,) = alloy_emulator.requests
    assert wire.schema(request.json) is None
    assert "Write a haiku about frogs." in str(request.json)


def test_none_output_runs_for_side_effects(provider: str, alloy_emulator: Scenario) -> None:
    @command(output=None)
    def notify(who: str) -> str:
        return f"Say hi to {who}"

    alloy_emulator.enqueue(Reply(text="hi"))
    assert notify("ops") is None
    assert len(alloy_emulator.requests) == 1


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_result_and_usage(provider: str, wire: Wire, alloy_emulator: Scenario, mode: str) -> None:
    @command(system="You count.", temperature=0.25, max_tokens=64)
    def count(text: str) -> int:
        """How many words: {text}"""

    alloy_emulator.enqueue(
        Reply(
            json={"value": 3},
            input_tokens=120,
            output_tokens=30,
            cached_tokens=100,
            reasoning_tokens=12,
        )
    )
    result = count.run("a b c") if mode == "sync" else asyncio.run(count.run_async("a b c"))
    assert result.value == 3
    assert result.text == '{"value": 3}'
    assert result.usage == wire.usage(120, 30, 100, 12)
    assert result.provider == provider
    assert result.model == "gpt-test"
    assert result.finish_reason
    assert result.attempts == 1
    body = alloy_emulator.requests[0].json
    system = wire.system(body)
    assert system is not None and system.startswith("You count.")
    assert wire.temperature(body) == 0.25
    assert wire.max_tokens(body) == 64
    assert wire.schema(body) is not None


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_reask_sends_the_validation_error_and_sums_usage(
    provider: str, alloy_emulator: Scenario, mode: str
) -> None:
    @command(output=list[int])
    def primes(n: int) -> str:
        return f"The first {n} primes"

    alloy_emulator.enqueue(
        Reply(json={"value": ["two", 3]}, input_tokens=10, output_tokens=5),
        Reply(json={"value": [2, 3]}, input_tokens=40, output_tokens=5),
    )
    result = primes.run(2) if mode == "sync" else asyncio.run(primes.run_async(2))
    assert result.value == [2, 3]
    assert result.attempts == 2
    assert result.usage.input_tokens == 50 and result.usage.output_tokens == 10
    first, second = alloy_emulator.requests
    followup = str(second.json)
    assert '["two", 3]' in followup or "two" in followup
    assert "valid integer" in followup
    assert len(str(second.json)) > len(str(first.json))


def test_ask_through_the_sdk(provider: str, alloy_emulator: Scenario) -> None:
    from alloy import ask

    alloy_emulator.enqueue(Reply(text="Paris"), Reply(json={"value": True}))
    assert ask("Capital of France?", context={"country": "France"}) == "Paris"
    assert asyncio.run(ask.async_("Is Paris in France?", output=bool)) is True
    assert '\\"country\\": \\"France\\"' in alloy_emulator.requests[0].body.decode()
