"""A user's backend wrapper, installed by configuration, sees every model call of every
command: sync, async and streamed, tool turns, re-asks and retried attempts included."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from collections.abc import Iterator
from typing import Any
from typing import ClassVar

import pytest

from alloy import command
from alloy import configure
from alloy import tool
from alloy import use_config
from alloy.backends import Backend
from alloy.backends import Delta
from alloy.backends import Request
from alloy.backends import Response
from alloy.backends import WrapperBackend
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall


class Counting(WrapperBackend):
    """Counts the model calls it forwards, by kind, and the models they were for."""

    seen: ClassVar[list[tuple[str, str]]] = []
    lock: ClassVar[threading.Lock] = threading.Lock()

    def _note(self, kind: str, request: Request) -> None:
        with self.lock:
            Counting.seen.append((kind, request.model))

    def complete(self, request: Request) -> Response:
        self._note("complete", request)
        return super().complete(request)

    async def acomplete(self, request: Request) -> Response:
        self._note("acomplete", request)
        return await super().acomplete(request)

    def stream(self, request: Request) -> Iterator[Delta]:
        self._note("stream", request)
        return super().stream(request)

    def astream(self, request: Request) -> AsyncIterator[Delta]:
        self._note("astream", request)
        return super().astream(request)


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@command(tools=[add])
def calculate(question: str) -> int:
    """Use the tools to answer: {question}"""
    ...


@command
def shout(text: str) -> str:
    """Shout {text}."""
    ...


@pytest.fixture(autouse=True)
def _fresh_counts() -> None:
    Counting.seen = []


def _tool_turns(emulator: Scenario) -> None:
    emulator.enqueue(
        Reply(tool_calls=[ToolCall("add", {"a": 2, "b": 3})]), Reply(json={"value": 5})
    )


def test_every_call_style_goes_through_the_wrapper(provider: str, alloy_emulator: Scenario) -> None:
    with use_config(wrappers=(Counting,)):
        _tool_turns(alloy_emulator)
        assert calculate("2+3") == 5
        _tool_turns(alloy_emulator)
        assert asyncio.run(calculate.async_("2+3")) == 5
        alloy_emulator.enqueue(Reply(text="HI"))
        with shout.stream("hi") as stream:
            assert "".join(stream) == "HI"
        alloy_emulator.enqueue(Reply(text="HO"))

        async def streamed() -> str:
            async with shout.stream_async("ho") as stream:
                return "".join([piece async for piece in stream])

        assert asyncio.run(streamed()) == "HO"
    kinds = [kind for kind, _ in Counting.seen]
    assert kinds == ["complete", "complete", "acomplete", "acomplete", "stream", "astream"]
    assert {model for _, model in Counting.seen} == {"gpt-test"}
    assert len(alloy_emulator.requests) == len(kinds)


def test_the_wrapper_sees_each_retried_attempt(provider: str, alloy_emulator: Scenario) -> None:
    alloy_emulator.enqueue(Fault(status=503), Reply(text="ok"))
    with use_config(wrappers=(Counting,), max_retries=2, max_retry_wait=0.01):
        assert shout("x") == "ok"
    assert [kind for kind, _ in Counting.seen] == ["complete", "complete"]


def test_wrappers_apply_in_order_the_first_outermost(alloy_fake: Any) -> None:
    order: list[str] = []

    def named(label: str) -> Any:
        class Named(WrapperBackend):
            def complete(self, request: Request) -> Response:
                order.append(label)
                return super().complete(request)

        return Named

    configure(wrappers=(named("outer"), named("inner")))
    alloy_fake.add_reply("fine")
    assert shout("x") == "fine"
    assert order == ["outer", "inner"]


def test_a_wrapper_can_answer_without_the_inner_backend(alloy_fake: Any) -> None:
    class Canned(WrapperBackend):
        def complete(self, request: Request) -> Response:
            return Response("canned", finish_reason="stop")

    with use_config(wrappers=[Canned]):
        result = shout.run("x")
    assert result.value == "canned"
    assert alloy_fake.requests == []


def test_a_wrapper_that_is_not_callable_is_a_configuration_error() -> None:
    import alloy

    with pytest.raises(alloy.ConfigurationError, match="wrappers"):
        use_config(wrappers=("not a factory",)).__enter__()


def test_a_wrapped_backend_is_still_a_backend(alloy_fake: Backend) -> None:
    assert isinstance(Counting(alloy_fake), Backend)
    assert Counting(alloy_fake).name == "fake"
