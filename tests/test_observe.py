"""The observer hook: what the driver, the retry wrapper and the tool runner tell the
observers of a context, in order, for plain, async and streamed calls; and a refusal in
``model_started`` stops a call before any request."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from alloy import ProviderError
from alloy import command
from alloy import tool
from alloy._observe import CommandCall
from alloy._observe import ModelCall
from alloy._observe import Observer
from alloy._observe import ToolUse
from alloy._observe import observe
from alloy._observe import observers
from alloy.testing import FakeBackend


class Log(Observer):
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []
        self.lock = threading.Lock()

    def _add(self, *event: Any) -> None:
        with self.lock:
            self.events.append(event)

    def command_started(self, command: CommandCall) -> None:
        self._add("command", command.provider, command.stream)

    def command_ended(self, command: CommandCall, result: Any, error: BaseException | None) -> None:
        self._add("ended", None if result is None else result.value, type(error).__name__)

    def model_started(self, call: ModelCall) -> None:
        self._add("model", call.turn)

    def model_finished(self, call: ModelCall, response: Any) -> None:
        self._add("reply", call.turn, response.usage.output_tokens)

    def model_failed(self, call: ModelCall, error: BaseException) -> None:
        self._add("failed", call.turn, type(error).__name__)

    def model_retried(self, call: ModelCall, error: BaseException, wait: float) -> None:
        self._add("retried", call.turn, type(error).__name__)

    def tool_started(self, tool: ToolUse) -> None:
        self._add("tool", tool.call.name)

    def tool_finished(self, tool: ToolUse, trace: Any) -> None:
        self._add("tool done", tool.call.name, trace.result)


@tool
def double(n: int) -> int:
    """Double a number."""
    return 2 * n


@tool
def triple(n: int) -> int:
    """Triple a number."""
    return 3 * n


@command(tools=[double, triple])
def compute(n: int) -> int:
    """Compute with the tools: {n}"""


@command
def echo(text: str) -> str:
    """{text}"""


def _script(fake: FakeBackend) -> None:
    fake.add_reply(tool_calls=[("double", {"n": 2}), ("triple", {"n": 2})])
    fake.add_reply(json="twelve")  # not an int: re-asked once
    fake.add_reply(json=12)


EXPECTED = [
    ("command", "fake", False),
    ("model", 1),
    ("reply", 1, 5),
    ("model", 2),
    ("reply", 2, 5),
    ("model", 3),
    ("reply", 3, 5),
    ("ended", 12, "NoneType"),
]


def _without_tools(events: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    return [e for e in events if not e[0].startswith("tool")]


def test_every_step_of_a_call_is_told_in_order(alloy_fake: FakeBackend) -> None:
    _script(alloy_fake)
    log = Log()
    with observe(log):
        assert compute(2) == 12
    assert _without_tools(log.events) == EXPECTED
    tools = [e for e in log.events if e[0].startswith("tool")]
    # The two tools ran in threads of their own, which saw the observers too.
    assert sorted(tools) == [
        ("tool", "double"),
        ("tool", "triple"),
        ("tool done", "double", 4),
        ("tool done", "triple", 6),
    ]
    assert log.events.index(("reply", 1, 5)) < log.events.index(("model", 2))


def test_the_async_and_streamed_paths_tell_the_same(alloy_fake: FakeBackend) -> None:
    log = Log()
    _script(alloy_fake)
    with observe(log):
        assert asyncio.run(compute.async_(2)) == 12
    assert _without_tools(log.events) == EXPECTED
    log.events.clear()
    _script(alloy_fake)
    with observe(log), compute.stream(2) as stream:
        assert stream.result().value == 12
    assert _without_tools(log.events) == [("command", "fake", True), *EXPECTED[1:]]


def test_a_refusal_in_model_started_makes_no_request(alloy_fake: FakeBackend) -> None:
    class Refuse(Observer):
        def model_started(self, call: ModelCall) -> None:
            raise ProviderError("over budget", provider=call.command.provider, retryable=False)

    log = Log()
    with observe(log, Refuse()), pytest.raises(ProviderError, match="over budget"):
        echo("hi")
    assert alloy_fake.requests == []
    assert log.events == [
        ("command", "fake", False),
        ("model", 1),
        ("ended", None, "ProviderError"),
    ]


def test_a_failed_call_and_a_stream_closed_early(alloy_fake: FakeBackend) -> None:
    log = Log()
    alloy_fake.add_error(ProviderError("boom", provider="fake", status_code=400, retryable=False))
    with observe(log), pytest.raises(ProviderError):
        echo("hi")
    assert log.events[-2:] == [("failed", 1, "ProviderError"), ("ended", None, "ProviderError")]
    log.events.clear()
    alloy_fake.add_reply("a long reply, in many pieces")
    with observe(log), echo.stream("hi") as stream:
        next(iter(stream))
    assert log.events[-1] == ("ended", None, "NoneType")


def test_observers_nest_and_leave_with_their_block() -> None:
    first, second = Log(), Log()
    with observe(first):
        with observe(second):
            assert observers() == (first, second)
        assert observers() == (first,)
    assert observers() == ()
