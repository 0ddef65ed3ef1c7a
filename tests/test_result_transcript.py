"""``Result.messages`` is the transcript of the call and ``Result.reasoning`` the final
reply's thinking; both survive the codec."""

from __future__ import annotations

from alloy import _codec
from alloy import command
from alloy import tool
from alloy.backends import Response
from alloy.backends import TextPart
from alloy.backends import ToolCall
from alloy.backends import ToolResult
from alloy.testing import FakeBackend
from alloy.testing import use_backend


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@command(tools=[add], retry=1)
def calculate(question: str) -> int:
    """Use the tools to answer: {question}"""
    ...


def test_the_transcript_holds_every_turn_in_order() -> None:
    fake = FakeBackend()
    fake.add_reply(tool_calls=[("add", {"a": 2, "b": 3})])
    fake.add_reply("I added them.")  # no value: the finalize turn asks for it
    fake.add_reply(json=5)
    with use_backend(fake):
        result = calculate.run("2+3")
    roles = [m.role for m in result.messages]
    assert roles == ["user", "assistant", "user", "assistant", "user", "assistant"]
    prompt, call_turn, results, no_value, finalize, final = result.messages
    assert "2+3" in prompt.text
    assert [p.name for p in call_turn.parts if isinstance(p, ToolCall)] == ["add"]
    (answer,) = results.parts
    assert isinstance(answer, ToolResult) and answer.text == "5"
    assert no_value.text == "I added them."
    assert "final answer" in finalize.text
    assert final.text == result.text
    for message in result.messages:
        assert _codec.loads(_codec.dumps(message)) == message


def test_reasoning_is_the_final_replys() -> None:
    fake = FakeBackend(
        lambda request: Response("7", reasoning="seven is prime", finish_reason="stop")
    )
    with use_backend(fake):
        result = calculate.run("a prime")
    assert result.value == 7
    assert result.reasoning == "seven is prime"
    assert result.messages[-1].parts == (TextPart("7"),)
