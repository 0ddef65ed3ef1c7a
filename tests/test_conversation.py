"""``Conversation`` on the fake backend: what history each turn is sent and keeps, typed
turns, failures and re-asks, one turn at a time, forks, and saving to JSON."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Literal

import pytest

from alloy import ConfigurationError
from alloy import Conversation
from alloy import OutputValidationError
from alloy import ProviderError
from alloy import command
from alloy import tool
from alloy._chat import family
from alloy._messages import Message
from alloy._messages import ProviderData
from alloy._messages import TextPart
from alloy._messages import ToolCall
from alloy._messages import ToolResult
from alloy.testing import FakeBackend


@dataclass
class Invoice:
    vendor: str
    total: float


@command(output=Invoice)
def extract(text: str) -> str:
    return f"Extract the invoice: {text}"


@command(output=Invoice)
async def aextract(text: str) -> str:
    return f"Extract the invoice: {text}"


@tool
def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


@command(tools=[lookup])
def answer(question: str) -> str:
    """Use the tools: {question}"""


def _sent(fake: FakeBackend) -> list[tuple[str, str]]:
    return [(m.role, m.text) for m in fake.requests[-1].messages]


def test_each_turn_is_sent_the_ones_before_it(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply("Noted.").add_reply("ACME")
    chat = Conversation(model="fake:demo", system="Be brief.")
    assert chat.say("My supplier is ACME.") == "Noted."
    assert chat.say("Who is my supplier?") == "ACME"
    assert _sent(alloy_fake) == [
        ("user", "My supplier is ACME."),
        ("assistant", "Noted."),
        ("user", "Who is my supplier?"),
    ]
    assert alloy_fake.requests[-1].system == "Be brief."
    assert [m.text for m in chat.history] == [
        "My supplier is ACME.",
        "Noted.",
        "Who is my supplier?",
        "ACME",
    ]


def test_a_typed_command_runs_inside_the_conversation(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply("Noted.").add_reply(json={"vendor": "ACME", "total": 49.99})
    chat = Conversation(model="fake:demo")
    chat.say("My supplier is ACME.")
    result = chat.run(extract, "total due $49.99")
    assert result.value == Invoice("ACME", 49.99)
    assert _sent(alloy_fake)[:2] == [("user", "My supplier is ACME."), ("assistant", "Noted.")]
    assert _sent(alloy_fake)[2] == ("user", "Extract the invoice: total due $49.99")
    # The stored assistant turn is the reply's JSON text.
    assert json.loads(chat.history[-1].text) == {"vendor": "ACME", "total": 49.99}
    alloy_fake.add_reply(json={"value": "ACME"})
    assert chat.ask("Which vendor?", output=Literal["ACME", "other"]) == "ACME"
    assert len(alloy_fake.requests[-1].messages) == 5


def test_ask_validates_and_re_asks_never_enter_the_history(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply(json={"value": "not a number"}).add_reply(json={"value": 7})
    chat = Conversation(model="fake:demo")
    assert chat.ask("Pick a number", output=int) == 7
    assert len(alloy_fake.requests) == 2  # a re-ask was made
    assert [m.role for m in chat.history] == ["user", "assistant"]
    assert "not a number" not in json.dumps([m.text for m in chat.history])
    assert json.loads(chat.history[-1].text) == {"value": 7}


def test_a_failed_turn_leaves_the_history_as_it_was(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply("Noted.")
    chat = Conversation(model="fake:demo", retry=0)
    chat.say("hello")
    before = chat.history
    alloy_fake.add_error(ProviderError("refused", provider="fake", status_code=400))
    with pytest.raises(ProviderError):
        chat.say("again")
    alloy_fake.add_reply(json={"value": "nope"})
    with pytest.raises(OutputValidationError):
        chat.ask("a number", output=int)
    assert chat.history == before


def test_tool_turns_are_kept_unless_asked_not_to(alloy_fake: FakeBackend) -> None:
    for keep in (True, False):
        alloy_fake.add_reply(tool_calls=[("lookup", {"key": "a"})]).add_reply("a is known")
        chat = Conversation(model="fake:demo", keep_tool_turns=keep)
        assert chat.run(answer, "what is a?").value == "a is known"
        kinds = [
            [type(p).__name__ for p in m.parts]
            for m in chat.history  # user, [assistant tool call, user tool result], assistant
        ]
        if keep:
            assert kinds == [["TextPart"], ["ToolCall"], ["ToolResult"], ["TextPart"]]
        else:
            assert kinds == [["TextPart"], ["TextPart"]]


def test_the_async_twins_and_streams_keep_turns_too(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply("one").add_reply("two").add_reply(json={"vendor": "A", "total": 1.0})
    alloy_fake.add_reply("three").add_reply("four").add_reply(json={"vendor": "B", "total": 2.0})
    chat = Conversation(model="fake:demo")

    async def turns() -> None:
        assert await chat.say_async("1") == "one"
        assert await chat.ask_async("2", output=str) == "two"
        assert (await chat.run_async(aextract, "x")).value == Invoice("A", 1.0)
        async with chat.stream_async("3") as stream:
            assert "".join([piece async for piece in stream]) == "three"

    asyncio.run(turns())
    with chat.stream("4") as stream:
        assert "".join(stream) == "four"
    with chat.stream(extract, "y") as typed:
        assert typed.result().value == Invoice("B", 2.0)
    assert [m.text for m in chat.history if m.role == "assistant"][:2] == ["one", "two"]
    assert len(chat.history) == 12
    assert _sent(alloy_fake)[-1] == ("user", "Extract the invoice: y")


def test_one_turn_at_a_time_and_fork_branches(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply("streamed").add_reply("after").add_reply("branch")
    chat = Conversation(model="fake:demo")
    stream = chat.stream("first")
    with pytest.raises(ConfigurationError, match="fork"):
        chat.say("meanwhile")
    branch = chat.fork()  # a fork is its own conversation: it may run while chat streams
    assert "".join(stream) == "streamed"
    assert chat.say("second") == "after"
    assert branch.say("other") == "branch"
    assert [m.text for m in branch.history] == ["other", "branch"]
    assert [m.text for m in chat.history] == ["first", "streamed", "second", "after"]


def test_a_stream_closed_early_ends_its_turn(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply("a long reply").add_reply("next")
    chat = Conversation(model="fake:demo")
    with chat.stream("first") as stream:
        next(iter(stream))
    assert chat.history == ()  # the turn did not finish: nothing kept
    assert chat.say("second") == "next"


def test_an_async_command_needs_the_async_twin(alloy_fake: FakeBackend) -> None:
    chat = Conversation(model="fake:demo")
    with pytest.raises(ConfigurationError, match="run_async"):
        chat.run(aextract, "x")  # type: ignore[arg-type]
    assert alloy_fake.requests == []


def test_to_json_and_back_keeps_everything_the_next_turn_needs(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply(tool_calls=[("lookup", {"key": "a"})]).add_reply("done")
    chat = Conversation(model="fake:demo", system="Be brief.", temperature=0.5)
    chat.run(answer, "what is a?")
    again = Conversation.from_json(chat.to_json())
    assert again.history == chat.history
    alloy_fake.add_reply("x").add_reply("x")
    chat.say("next")
    again.say("next")
    first, second = alloy_fake.requests[-2:]
    assert first.messages == second.messages
    assert (
        (first.system, first.temperature)
        == (second.system, second.temperature)
        == (
            "Be brief.",
            0.5,
        )
    )


def test_saved_conversations_never_hold_a_key(alloy_fake: FakeBackend) -> None:
    key = "sk-distinctive-9f3c"
    chat = Conversation(model="fake:demo", provider_options={"openai": {"api_key": key}})
    alloy_fake.add_reply("hi")
    chat.say("hello")
    blob = chat.to_json()
    assert key not in blob
    with pytest.raises(ConfigurationError, match="provider_options"):
        Conversation.from_json(blob)
    again = Conversation.from_json(blob, provider_options={"openai": {"api_key": key}})
    assert again.history == chat.history


def test_unknown_versions_and_garbage_are_configuration_errors() -> None:
    blob = json.loads(Conversation(model="fake:demo").to_json())
    for bad in (
        json.dumps({**blob, "v": 999}),
        "not json",
        json.dumps([1, 2]),
        json.dumps({**blob, "history": [{"role": "robot", "parts": []}]}),
        json.dumps({**blob, "origins": [["fake", "demo"]]}),
    ):
        with pytest.raises(ConfigurationError):
            Conversation.from_json(bad)
    with pytest.raises(ConfigurationError, match="999"):
        Conversation.from_json(json.dumps({**blob, "v": 999}))


def test_provider_data_goes_only_to_the_same_backend_and_model_family() -> None:
    from alloy._chat import _State  # pyright: ignore[reportPrivateUsage]
    from alloy._chat import _Turn  # pyright: ignore[reportPrivateUsage]

    data = ProviderData("anthropic", [{"type": "thinking", "signature": "sig"}])
    call = ToolCall("t1", "lookup", "{}", ProviderData("anthropic", {"id": "t1"}))
    history = (
        Message.user("q"),
        Message("assistant", (TextPart("thinking..."), call), data),
        Message("user", (ToolResult("t1", "lookup", "v"),)),
    )
    origin = ("anthropic", family("claude-sonnet-4-5-20250929"))
    turn = _Turn(_State(history, (None, origin, None)), lambda state: None, True)
    same = turn.history_for("anthropic", "claude-sonnet-4-5")
    assert same == history
    for provider, model in (("openai", "gpt-5"), ("anthropic", "claude-opus-4-6")):
        other = turn.history_for(provider, model)
        assert other[1].provider_data is None
        assert isinstance(other[1].parts[1], ToolCall) and other[1].parts[1].provider_data is None
        assert other[1].parts[1].arguments == "{}" and other[2] == history[2]


def test_model_families() -> None:
    assert family("claude-sonnet-4-5-20250929") == family("claude-sonnet-4-5")
    assert family("gpt-4o-2024-08-06") == "gpt-4o"
    assert family("claude-3-5-sonnet@20240620") == "claude-3-5-sonnet"
    assert family("gemini-2.0-flash-001") == family("gemini-2.0-flash")
    assert family("gpt-5") != family("gpt-5-mini")
