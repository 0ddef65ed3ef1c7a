"""Streaming commands on every backend: parity with the non-streaming call for every output
type, list items before the reply ends, tools inside a stream, and closing the connection."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

import pytest

from alloy import Result
from alloy import ask
from alloy import command
from alloy import tool
from alloy._output import output_spec
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall
from tests.output_types import CASES
from tests.output_types import Case


def _reply(case: Case, **stream_options: Any) -> Reply:
    if case.type is str:
        return Reply(text="A plain text answer, streamed in small pieces.", **stream_options)
    spec = output_spec(case.type, case.id)
    assert spec.schema is not None
    return Reply(
        json={"value": case.reply} if spec.schema.wrapped else case.reply, **stream_options
    )


def _command(tp: Any) -> Any:
    def give(topic: str) -> str:
        return f"Give me {topic}"

    return command(output=tp)(give)


def _same(a: Result[Any], b: Result[Any]) -> None:
    assert a.value == b.value and type(a.value) is type(b.value)
    assert (a.text, a.usage, a.finish_reason, a.finish, a.attempts) == (
        b.text,
        b.usage,
        b.finish_reason,
        b.finish,
        b.attempts,
    )
    assert (a.model, a.provider) == (b.model, b.provider)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_stream_result_equals_non_streaming(
    provider: str, alloy_emulator: Scenario, case: Case, mode: str
) -> None:
    alloy_emulator.enqueue(_reply(case), _reply(case, chunk_chars=3))
    cmd = _command(case.type)
    if mode == "sync":
        whole = cmd.run("it")
        stream = cmd.stream("it")
        seen = list(stream)
        streamed = stream.result()
    else:

        async def run() -> tuple[Result[Any], list[Any], Result[Any]]:
            whole = await cmd.run_async("it")
            stream = cmd.stream_async("it")
            seen = [piece async for piece in stream]
            return whole, seen, await stream.result()

        whole, seen, streamed = asyncio.run(run())
    _same(streamed, whole)
    assert whole.finish == "stop"  # a forced output-tool call too: it is the reply's value
    assert seen, "a stream yields something before its result"
    if case.type is str:
        assert "".join(seen) == whole.text


@dataclass
class Row:
    name: str
    score: int


@command
def rows(n: int) -> list[Row]:
    """Give me {n} rows."""
    ...


def test_items_arrive_before_the_reply_ends(provider: str, alloy_emulator: Scenario) -> None:
    data = [{"name": f"row{i}", "score": i} for i in range(6)]
    alloy_emulator.enqueue(Reply(json={"value": data}, chunk_chars=6, chunk_delay=0.02))
    with rows.stream(6) as stream:
        got = stream.items()
        first = next(got)
        assert first == Row("row0", 0)
        (request,) = alloy_emulator.requests
        assert request.finished_at is None, "the first item came before the emulator finished"
        assert list(got) == [Row(f"row{i}", i) for i in range(1, 6)]
        assert stream.result().value == [Row(f"row{i}", i) for i in range(6)]


def test_async_items(provider: str, alloy_emulator: Scenario) -> None:
    alloy_emulator.enqueue(
        Reply(json={"value": [{"name": "a", "score": 1}, {"name": "b", "score": 2}]}, chunk_chars=4)
    )

    async def run() -> list[Row]:
        return [row async for row in rows.stream_async(2).items()]

    assert asyncio.run(run()) == [Row("a", 1), Row("b", 2)]


def test_tools_run_inside_a_stream(provider: str, alloy_emulator: Scenario) -> None:
    @tool
    def lookup(city: str) -> str:
        """Weather for a city."""
        return f"sunny in {city}"

    @command(tools=[lookup])
    def forecast(city: str) -> str:
        """What is the weather in {city}?"""
        ...

    alloy_emulator.enqueue(
        Reply(text="Let me check. ", tool_calls=[ToolCall("lookup", {"city": "Paris"})]),
        Reply(text="It is sunny in Paris."),
    )
    stream = forecast.stream("Paris")
    text = "".join(stream)
    result = stream.result()
    assert "It is sunny in Paris." in text
    assert result.value == "It is sunny in Paris."
    assert result.tool_calls[0].result == "sunny in Paris"
    assert all(r.stream for r in alloy_emulator.requests)


def test_ask_stream(provider: str, alloy_emulator: Scenario) -> None:
    alloy_emulator.enqueue(Reply(text="streamed via ask", chunk_chars=4))
    assert "".join(ask.stream("hello")) == "streamed via ask"


def _disconnected(alloy_emulator: Scenario) -> bool:
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        if alloy_emulator.requests and alloy_emulator.requests[-1].disconnected:
            return True
        time.sleep(0.02)
    return False


LONG = "word " * 400


@command
def essay(topic: str) -> str:
    """Write at length about {topic}."""
    ...


def test_breaking_out_of_a_sync_stream_closes_the_connection(
    provider: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.enqueue(Reply(text=LONG, chunk_chars=5, chunk_delay=0.01))
    with essay.stream("rivers") as stream:
        for _piece in stream:
            break
    assert _disconnected(alloy_emulator)


def test_cancelling_an_async_stream_closes_the_connection(
    provider: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.enqueue(Reply(text=LONG, chunk_chars=5, chunk_delay=0.01))

    async def consume() -> None:
        async for _piece in essay.stream_async("rivers"):
            await asyncio.sleep(0)

    async def run() -> None:
        task = asyncio.ensure_future(consume())
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(run())
    assert _disconnected(alloy_emulator)
