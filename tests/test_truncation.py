"""A reply the token limit cut (finish ``length``), through the fake backend: what raises
``TruncatedOutputError`` at once, what is still returned, and what the error says."""

from __future__ import annotations

import asyncio
import pickle
from dataclasses import dataclass
from typing import Any

import pytest

from alloy import CommandError
from alloy import Result
from alloy import TruncatedOutputError
from alloy import Usage
from alloy import command
from alloy import tool
from alloy.backends import Response
from alloy.testing import FakeBackend
from alloy.testing import use_backend


@dataclass
class Recipe:
    name: str
    steps: list[str]


@command(retry=3, max_tokens=64)
def recipe(dish: str) -> Recipe:
    """A recipe for {dish}."""
    ...


@command(max_tokens=64)
def story(topic: str) -> str:
    """A story about {topic}."""
    ...


@command
def unlimited(topic: str) -> str:
    """A story about {topic}."""
    ...


CUT = Usage.of(10, 64, reasoning_tokens=60)


def test_a_typed_reply_that_was_cut_raises_at_once(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply('{"name": "Soup", "steps": ["boil', finish_reason="length", usage=CUT)
    alloy_fake.add_reply(json={"name": "Soup", "steps": []})  # a re-ask would get this
    with pytest.raises(TruncatedOutputError) as caught:
        recipe("soup")
    error = caught.value
    assert (error.limit, error.reasoning_tokens, error.output_tokens) == (64, 60, 64)
    assert (error.partial_text, error.finish_reason) == (
        '{"name": "Soup", "steps": ["boil',
        "length",
    )
    assert len(alloy_fake.requests) == 1  # retry=3 left, and no re-ask
    message = str(error)
    assert "max_tokens=64" in message and "64 output tokens, 60 of them reasoning" in message
    assert "Raise max_tokens above 64" in message and "reasoning effort" in message


def test_a_cut_typed_reply_raises_even_when_it_parses(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply(json={"name": "Soup", "steps": []}, finish_reason="length")
    with pytest.raises(TruncatedOutputError):
        recipe("soup")
    assert len(alloy_fake.requests) == 1


def test_a_text_reply_that_was_cut_is_returned(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply("Once upon a ti", finish_reason="length")
    result = story.run("a fox")
    assert (result.value, result.text) == ("Once upon a ti", "Once upon a ti")
    assert (result.finish, result.finish_reason) == ("length", "length")
    assert len(alloy_fake.requests) == 1


@pytest.mark.parametrize("text", ["", "  \n "])
def test_a_text_reply_cut_before_any_text_raises(alloy_fake: FakeBackend, text: str) -> None:
    alloy_fake.add_reply(text, finish_reason="length", usage=Usage.of(10, 64, reasoning_tokens=64))
    with pytest.raises(TruncatedOutputError) as caught:
        story("a fox")
    assert (caught.value.limit, caught.value.reasoning_tokens) == (64, 64)
    assert "No text came before the cut" in str(caught.value)


def test_without_max_tokens_the_error_says_the_default_applied(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply("", finish_reason="length", usage=Usage.of(10, 4096))
    with pytest.raises(TruncatedOutputError) as caught:
        unlimited("a fox")
    error = caught.value
    assert error.limit is None and error.reasoning_tokens is None
    assert "max_tokens was not set, so the provider's default limit applied" in str(error)
    assert "Set max_tokens above the 4096 tokens" in str(error)
    assert "reasoning" not in str(error)


def test_a_complete_reply_finishes_stop(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply("The end.")
    assert story.run("a fox").finish == "stop"
    alloy_fake.add_reply("The end.", finish_reason="end_turn")  # not the fake's word
    assert story.run("a fox").finish is None


def test_a_responders_response_gets_its_finish(alloy_fake: FakeBackend) -> None:
    fake = FakeBackend(lambda request: Response("", finish_reason="length"))
    with use_backend(fake), pytest.raises(TruncatedOutputError):
        story("a fox")


# --- streams: the same at the end of the stream ----------------------------------------------


def _stream(cmd: Any, mode: str) -> tuple[list[Any], Result[Any]]:
    if mode == "sync":
        with cmd.stream("x") as stream:
            return list(stream), stream.result()

    async def run() -> tuple[list[Any], Result[Any]]:
        stream = cmd.stream_async("x")
        seen = [piece async for piece in stream]
        return seen, await stream.result()

    return asyncio.run(run())


MODES = pytest.mark.parametrize("mode", ["sync", "async"])


@MODES
def test_a_streamed_typed_reply_that_was_cut(alloy_fake: FakeBackend, mode: str) -> None:
    alloy_fake.add_reply('{"name": "Soup", "steps": ["boil', finish_reason="length", usage=CUT)
    with pytest.raises(TruncatedOutputError) as caught:
        _stream(recipe, mode)
    assert (caught.value.limit, caught.value.reasoning_tokens) == (64, 60)
    assert len(alloy_fake.requests) == 1


@MODES
def test_a_streamed_text_reply_that_was_cut(alloy_fake: FakeBackend, mode: str) -> None:
    alloy_fake.add_reply("Once upon a ti", finish_reason="length")
    seen, result = _stream(story, mode)
    assert "".join(seen) == result.value == "Once upon a ti"
    assert result.finish == "length"


@MODES
def test_a_streamed_text_reply_cut_before_any_text(alloy_fake: FakeBackend, mode: str) -> None:
    alloy_fake.add_reply("", finish_reason="length")
    with pytest.raises(TruncatedOutputError):
        _stream(story, mode)


# --- tool turns ------------------------------------------------------------------------------

ran: list[dict[str, int]] = []


@tool
def add(a: int, b: int) -> int:
    """Add two numbers."""
    ran.append({"a": a, "b": b})
    return a + b


@command(tools=[add], max_tokens=64, retry=2)
def calculate(question: str) -> int:
    """Answer: {question}"""
    ...


@pytest.fixture(autouse=True)
def _forget_runs() -> None:
    ran.clear()


def test_whole_tool_calls_in_a_cut_turn_run(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply(tool_calls=[("add", {"a": 2, "b": 3})], finish_reason="length")
    alloy_fake.add_reply(json=5)
    result = calculate.run("2+3?")
    assert result.value == 5 and ran == [{"a": 2, "b": 3}]
    assert result.finish == "stop"
    assert len(alloy_fake.requests) == 2


def test_a_tool_call_cut_in_the_middle_raises(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply(
        tool_calls=[("add", {"a": 2, "b": 3}), ("add", '{"a": 2, "b')], finish_reason="length"
    )
    alloy_fake.add_reply(json=5)
    with pytest.raises(TruncatedOutputError) as caught:
        calculate("2+3?")
    assert caught.value.limit == 64
    assert ran == [] and len(alloy_fake.requests) == 1  # nothing ran, nothing re-asked


def test_a_cut_final_turn_of_a_tool_loop_is_not_finalized(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply("The answer is", finish_reason="length")
    alloy_fake.add_reply(json=5)  # what a finalize turn would get
    with pytest.raises(TruncatedOutputError):
        calculate("2+3?")
    assert len(alloy_fake.requests) == 1


@command(tools=[add], tool_mode="react", max_tokens=64)
def react_story(topic: str) -> str:
    """A story about {topic}."""
    ...


def test_a_cut_react_answer_is_returned(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply("Thought: done\nFinal Answer: Once upon a ti", finish_reason="length")
    result = react_story.run("a fox")
    assert (result.value, result.finish) == ("Once upon a ti", "length")


@pytest.mark.parametrize(
    "text", ['Thought: add\nAction: add\nAction Input: {"a": 2, "b', "Thought: I will"]
)
def test_a_cut_react_action_raises(alloy_fake: FakeBackend, text: str) -> None:
    alloy_fake.add_reply(text, finish_reason="length")
    alloy_fake.add_reply("Final Answer: 5")
    with pytest.raises(TruncatedOutputError):
        react_story("a fox")
    assert ran == [] and len(alloy_fake.requests) == 1


@command(output=None, tools=[add])
def chores(task: str) -> str:
    return f"Do {task}"


def test_a_side_effect_command_returns_a_cut_reply(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply("Done with the fir", finish_reason="length")
    result = chores.run("the dishes")
    assert (result.value, result.finish) == (None, "length")


# --- the error itself ------------------------------------------------------------------------


def test_the_error_pickles_and_sits_in_the_tree() -> None:
    error = TruncatedOutputError(64, 60, 64, "Once upon", "max_tokens")
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is TruncatedOutputError and isinstance(back, CommandError)
    assert (back.limit, back.reasoning_tokens, back.output_tokens) == (64, 60, 64)
    assert (back.partial_text, back.finish_reason) == ("Once upon", "max_tokens")
    assert str(back) == str(error)
    bare = pickle.loads(pickle.dumps(TruncatedOutputError(None)))
    assert bare.limit is None and str(bare) == str(TruncatedOutputError(None))


def test_the_message_names_reasoning_only_when_it_ate_the_budget() -> None:
    small = str(TruncatedOutputError(50, 2, 50, "Here is a list", "MAX_TOKENS"))
    assert "50 output tokens, 2 of them reasoning" in small
    assert "reasoning effort" not in small and "Raise max_tokens above 50" in small
    assert "It got as far as 'Here is a list'" in small
    most = str(TruncatedOutputError(50, 38, 48, "", "MAX_TOKENS"))
    assert "reasoning took 38 tokens" in most
