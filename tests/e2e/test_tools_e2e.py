"""Tools on every backend, through the real SDKs: the tool loop, errors the model can fix,
limits, the finalize turn, commands as tools, and the ReAct text protocol."""

from __future__ import annotations

import asyncio
import json
import threading
from typing import Any

import pytest

from alloy import ToolLoopLimitExceeded
from alloy import command
from alloy import require
from alloy import tool
from alloy.testing.emulator import RecordedRequest
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@command(tools=[add])
def calculate(question: str) -> int:
    """Use the tools to answer: {question}"""
    ...


def _text(request: RecordedRequest) -> str:
    return json.dumps(request.json)


def _tools_offered(request: RecordedRequest) -> bool:
    return bool(request.json.get("tools"))


MODES = pytest.mark.parametrize("mode", ["sync", "async"])


def _run(cmd: Any, mode: str, *args: Any) -> Any:
    return cmd(*args) if mode == "sync" else asyncio.run(cmd.async_(*args))


@MODES
def test_single_tool(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    alloy_emulator.enqueue(
        Reply(tool_calls=[ToolCall("add", {"a": 2, "b": 3})]), Reply(json={"value": 5})
    )
    result = calculate.run("2+3") if mode == "sync" else asyncio.run(calculate.run_async("2+3"))
    assert result.value == 5
    assert [(t.name, t.arguments, t.result) for t in result.tool_calls] == [
        ("add", {"a": 2, "b": 3}, 5)
    ]
    first, _second = alloy_emulator.requests
    assert _tools_offered(first)
    assert "Add two integers." in _text(first)


def test_parallel_calls_overlap_in_time(provider: str, alloy_emulator: Scenario) -> None:
    barrier = threading.Barrier(2, timeout=5)

    def slow(tag: str) -> str:
        """Return the tag in capitals, slowly."""
        barrier.wait()  # only passes when both calls run at the same time
        return tag.upper()

    cmd = command(tools=[slow])(calculate.__wrapped__)
    alloy_emulator.enqueue(
        Reply(tool_calls=[ToolCall("slow", {"tag": "x"}), ToolCall("slow", {"tag": "y"})]),
        Reply(json={"value": 2}),
    )
    result = cmd.run("go")
    assert [t.result for t in result.tool_calls] == ["X", "Y"]  # results in call order
    body = _text(alloy_emulator.requests[1])
    assert "X" in body and "Y" in body


@MODES
def test_async_tools(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    async def lookup(key: str) -> str:
        """Look a key up."""
        await asyncio.sleep(0)
        return f"value of {key}"

    cmd = command(tools=[lookup], output=str)(lambda: "Look up k.")
    alloy_emulator.enqueue(Reply(tool_calls=[ToolCall("lookup", {"key": "k"})]), Reply(text="done"))
    assert _run(cmd, mode) == "done"
    assert "value of k" in _text(alloy_emulator.requests[1])


def test_contract_failure_then_corrected(provider: str, alloy_emulator: Scenario) -> None:
    @require(lambda args: args.n > 0, "n must be positive")
    def double(n: int) -> int:
        """Double a positive number."""
        return 2 * n

    cmd = command(tools=[double])(calculate.__wrapped__)
    alloy_emulator.enqueue(
        Reply(tool_calls=[ToolCall("double", {"n": -3})]),
        Reply(tool_calls=[ToolCall("double", {"n": 3})]),
        Reply(json={"value": 6}),
    )
    result = cmd.run("double 3")
    assert result.value == 6
    assert [t.error for t in result.tool_calls] == ["n must be positive", None]
    assert "n must be positive" in _text(alloy_emulator.requests[1])


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (ToolCall("subtract", {"a": 1, "b": 2}), "no tool named"),
        (ToolCall("add", {"a": "two", "b": 2}), "invalid arguments"),
        (ToolCall("add", {"a": 1}), "invalid arguments"),
    ],
    ids=["unknown-tool", "wrong-type", "missing-argument"],
)
def test_bad_calls_go_back_to_the_model(
    provider: str, alloy_emulator: Scenario, call: ToolCall, message: str
) -> None:
    alloy_emulator.enqueue(Reply(tool_calls=[call]), Reply(json={"value": 0}))
    result = calculate.run("?")
    assert result.value == 0
    assert result.tool_calls[0].error is not None
    assert message in _text(alloy_emulator.requests[1])


def test_tool_that_raises(provider: str, alloy_emulator: Scenario) -> None:
    def broken(x: int) -> int:
        """Always fails."""
        raise RuntimeError(f"disk full while handling {x}")

    cmd = command(tools=[broken])(calculate.__wrapped__)
    alloy_emulator.enqueue(
        Reply(tool_calls=[ToolCall("broken", {"x": 1})]), Reply(json={"value": 1})
    )
    assert cmd("?") == 1
    assert "RuntimeError: disk full while handling 1" in _text(alloy_emulator.requests[1])


def test_turn_limit(provider: str, alloy_emulator: Scenario) -> None:
    alloy_emulator.enqueue(
        *(Reply(tool_calls=[ToolCall("add", {"a": 1, "b": 1})]) for _ in range(3))
    )
    with pytest.raises(ToolLoopLimitExceeded) as info:
        calculate.with_config(max_tool_turns=2)("?")
    assert (info.value.max_turns, info.value.turns_taken) == (2, 3)
    assert len(alloy_emulator.requests) == 3


def test_finalize_turn(provider: str, alloy_emulator: Scenario) -> None:
    alloy_emulator.enqueue(
        Reply(tool_calls=[ToolCall("add", {"a": 1, "b": 1})]),
        Reply(text="I added them and got two."),
        Reply(json={"value": 2}),
    )
    assert calculate("1+1") == 2
    final = alloy_emulator.requests[2]
    assert not _tools_offered(final)
    assert "final answer" in _text(final)


def test_command_as_a_tool(provider: str, alloy_emulator: Scenario) -> None:
    @command
    def shout(text: str) -> str:
        """Repeat this in capitals: {text}"""
        ...

    @command(tools=[shout])
    def announce(news: str) -> str:
        """Announce loudly: {news}"""
        ...

    alloy_emulator.enqueue(
        Reply(tool_calls=[ToolCall("shout", {"text": "we won"})]),
        Reply(text="WE WON"),  # the inner command's own model call
        Reply(text="Announcement: WE WON"),
    )
    assert announce("we won") == "Announcement: WE WON"
    _outer, inner, final = alloy_emulator.requests
    assert "Repeat this in capitals: we won" in _text(inner)
    assert not _tools_offered(inner)
    assert "WE WON" in _text(final)


@MODES
def test_react_loop(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    alloy_emulator.enqueue(
        Reply(text='Thought: I should add.\nAction: add\nAction Input: {"a": 40, "b": 2}'),
        Reply(text="Thought: I know it now.\nFinal Answer: 42"),
    )
    react = calculate.with_config(tool_mode="react")
    result = react.run("40+2") if mode == "sync" else asyncio.run(react.run_async("40+2"))
    assert result.value == 42
    first, second = alloy_emulator.requests
    assert not _tools_offered(first)
    assert "Action Input:" in _text(first)
    assert "Observation: 42" in _text(second)
