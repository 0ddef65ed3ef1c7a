"""Model text nested 100,000 deep (a typed reply, tool arguments native or ReAct, a final
answer) ends in an OutputValidationError or a tool error sent back, never a RecursionError."""

from __future__ import annotations

from typing import Any

import pytest

from alloy import OutputValidationError
from alloy import command
from alloy import tool
from alloy.backends import Capabilities
from alloy.testing import FakeBackend
from alloy.testing import use_backend

DEEP = "[" * 100_000 + "]" * 100_000
DEEP_OBJECT = '{"a":' * 100_000 + "1" + "}" * 100_000


@tool
def echo(value: Any) -> str:
    """Echo a value."""
    return "echoed"


@command(retry=1)
def numbers(text: str) -> list[int]:
    """The numbers in {text}."""
    ...


@command(tools=[echo], retry=0)
def with_tools(text: str) -> int:
    """Use the tools on {text}."""
    ...


@pytest.mark.parametrize("reply", [DEEP, DEEP_OBJECT, '{"value": ' + DEEP + "}"])
def test_a_deep_typed_reply_is_a_validation_error(reply: str) -> None:
    fake = FakeBackend()
    fake.add_reply(reply).add_reply(reply)
    with use_backend(fake), pytest.raises(OutputValidationError):
        numbers("x")
    assert len(fake.requests) == 2  # re-asked like any other invalid reply


def test_deep_native_tool_arguments_go_back_to_the_model_as_an_error() -> None:
    fake = FakeBackend()
    fake.add_reply(tool_calls=[("echo", DEEP_OBJECT)])
    fake.add_reply(json=3)
    with use_backend(fake):
        result = with_tools.run("x")
    assert result.value == 3
    assert result.tool_calls[0].error is not None
    sent_back = fake.requests[1].messages[-1].parts[0]
    assert getattr(sent_back, "is_error", False)


def test_deep_react_arguments_and_final_answers() -> None:
    fake = FakeBackend(capabilities=Capabilities(tools=False, structured_output="prompt"))
    fake.add_reply(f"Thought: use it\nAction: echo\nAction Input: {DEEP_OBJECT}")
    fake.add_reply(f"Final Answer: {DEEP}")
    fake.add_reply(json=4)  # the finalize turn that a reply with no readable value gets
    with use_backend(fake):
        result = with_tools.run("x")
    assert result.value == 4
    assert result.tool_calls[0].error is not None
    assert len(fake.requests) == 3
