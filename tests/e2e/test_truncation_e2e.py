"""A reply the token limit cut, on every backend through its real SDK: each provider's own
finish value (``length``, ``max_output_tokens``, ``max_tokens``, ``MAX_TOKENS``) is alloy's
``length``. A typed command raises ``TruncatedOutputError`` at once with the limit and the
reasoning tokens spent, one request and no re-ask; a text command returns partial text and
raises when there is none; whole tool calls in a cut turn still run. Sync, async and
streamed alike."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import pytest

from alloy import Result
from alloy import TruncatedOutputError
from alloy import command
from alloy import tool
from alloy import use_config
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall
from tests.e2e.wires import Wire


@dataclass
class Recipe:
    name: str
    steps: list[str]


@command(retry=2, max_tokens=64)
def recipe(dish: str) -> Recipe:
    """A recipe for {dish}."""
    ...


@command(max_tokens=64)
def story(topic: str) -> str:
    """A story about {topic}."""
    ...


def _run(cmd: Any, mode: str) -> Result[Any]:
    """The command's ``Result``, called the way ``mode`` says."""
    if mode == "sync":
        result: Result[Any] = cmd.run("x")
        return result
    if mode == "async":
        return asyncio.run(cmd.run_async("x"))
    if mode == "stream":
        with cmd.stream("x") as stream:
            list(stream)
            return stream.result()

    async def read() -> Result[Any]:
        stream = cmd.stream_async("x")
        async for _ in stream:
            pass
        return await stream.result()

    return asyncio.run(read())


MODE_NAMES = ["sync", "async", "stream", "stream_async"]
MODES = pytest.mark.parametrize("mode", MODE_NAMES)


@MODES
def test_a_cut_typed_reply_raises_with_the_limit_and_the_reasoning_spent(
    provider: str, wire: Wire, alloy_emulator: Scenario, mode: str
) -> None:
    cut = Reply(
        text='{"name": "Soup", "steps": ["boil the wa',
        finish_reason="length",
        output_tokens=64,
        reasoning_tokens=40,
    )
    alloy_emulator.enqueue(cut, Reply(json={"name": "Soup", "steps": []}))
    with pytest.raises(TruncatedOutputError) as caught:
        _run(recipe, mode)
    error = caught.value
    spent = wire.usage(10, 64, 0, 40)
    assert error.limit == 64
    assert (error.reasoning_tokens, error.output_tokens) == (
        spent.reasoning_tokens,
        spent.output_tokens,
    )
    assert error.partial_text == '{"name": "Soup", "steps": ["boil the wa'
    assert error.finish_reason is not None
    assert "max_tokens=64" in str(error)
    (request,) = alloy_emulator.requests  # exactly one: no validation re-ask, retry=2 left
    assert wire.max_tokens(request.json) == 64


@MODES
def test_a_cut_text_reply_is_returned_as_far_as_it_got(
    provider: str, alloy_emulator: Scenario, mode: str
) -> None:
    alloy_emulator.enqueue(Reply(text="Once upon a time, a fox", finish_reason="length"))
    result = _run(story, mode)
    assert result.value == result.text == "Once upon a time, a fox"
    assert result.finish == "length"
    assert result.finish_reason in {"length", "max_output_tokens", "max_tokens", "MAX_TOKENS"}
    assert len(alloy_emulator.requests) == 1


@MODES
def test_a_text_reply_cut_before_any_text_raises(
    provider: str, wire: Wire, alloy_emulator: Scenario, mode: str
) -> None:
    alloy_emulator.enqueue(
        Reply(text="", finish_reason="length", output_tokens=64, reasoning_tokens=64)
    )
    with pytest.raises(TruncatedOutputError) as caught:
        _run(story, mode)
    assert caught.value.limit == 64
    assert caught.value.reasoning_tokens == wire.usage(10, 64, 0, 64).reasoning_tokens
    assert "No text came before the cut" in str(caught.value)
    assert len(alloy_emulator.requests) == 1


@MODES
def test_a_complete_reply_finishes_stop(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    alloy_emulator.enqueue(Reply(json={"name": "Soup", "steps": ["boil"]}))
    result = _run(recipe, mode)
    assert result.value == Recipe("Soup", ["boil"]) and result.finish == "stop"


runs: list[str] = []


@tool
def weather(city: str) -> str:
    """The weather in a city."""
    runs.append(city)
    return f"sunny in {city}"


@command(tools=[weather], max_tokens=64)
def forecast(city: str) -> str:
    """What should I wear in {city}?"""
    ...


@pytest.fixture(autouse=True)
def _forget_runs() -> None:
    runs.clear()


@MODES
def test_whole_tool_calls_in_a_cut_turn_still_run(
    provider: str, alloy_emulator: Scenario, mode: str
) -> None:
    alloy_emulator.enqueue(
        Reply(tool_calls=[ToolCall("weather", {"city": "Paris"})], finish_reason="length"),
        Reply(text="A light jacket."),
    )
    result = _run(forecast, mode)
    assert (result.value, result.finish) == ("A light jacket.", "stop")
    assert runs == ["Paris"]
    assert len(alloy_emulator.requests) == 2


# A call cut in the middle has arguments that are not whole JSON: only wires that carry
# arguments as text can show one (Anthropic's only while streaming; Gemini and Ollama send
# whole objects).
CUT_CALLS = [
    *((name, mode) for name in ("openai", "openai-chat") for mode in MODE_NAMES),
    ("anthropic", "stream"),
    ("anthropic", "stream_async"),
]


@pytest.mark.parametrize(("name", "mode"), CUT_CALLS)
def test_a_tool_call_cut_in_the_middle_raises(
    name: str, mode: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.enqueue(
        Reply(tool_calls=[ToolCall("weather", '{"city": "Par')], finish_reason="length"),
        Reply(text="A light jacket."),
    )
    with use_config(model=f"{name}:gpt-test"), pytest.raises(TruncatedOutputError) as caught:
        _run(forecast, mode)
    assert caught.value.limit == 64
    assert runs == [] and len(alloy_emulator.requests) == 1
