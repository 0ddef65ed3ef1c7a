"""Reasoning out, through the real SDKs: ``Result.reasoning`` and ``Stream.reasoning()`` on
every backend, the recorded thinking replies through commands, and signed replay inside a
three-turn tool loop that passes the emulator's strict validators (the providers' own 400 and
404 answers when a signature or an encrypted item is not sent back as it came)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from alloy import ProviderError
from alloy import command
from alloy import tool
from alloy import use_config
from alloy._config import effective
from alloy._config import make_config
from alloy._messages import Message
from alloy._messages import ProviderData
from alloy._messages import ToolCall as Call
from alloy._messages import ToolResult
from alloy._output import output_spec
from alloy._plan import plan
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall
from alloy.testing.emulator import load_recording
from tests.e2e.wires import SIGNED
from tests.recorded import recorded

MODES = ["sync", "async", "stream", "astream"]


@tool
def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


@command(tools=[lookup])
def answer(question: str) -> str:
    """Use the tools to answer: {question}"""


@command
def reply(question: str) -> str:
    """{question}"""


def _run(cmd: Any, mode: str, *args: Any) -> Any:
    if mode == "sync":
        return cmd.run(*args)
    if mode == "async":
        return asyncio.run(cmd.run_async(*args))
    if mode == "stream":
        with cmd.stream(*args) as stream:
            return stream.result()

    async def streamed() -> Any:
        async with cmd.stream_async(*args) as stream:
            return await stream.result()

    return asyncio.run(streamed())


@pytest.mark.parametrize("mode", MODES)
def test_reasoning_is_joined_over_the_commands_turns(
    provider: str, alloy_emulator: Scenario, mode: str
) -> None:
    alloy_emulator.enqueue(
        Reply(reasoning="First, look it up.", tool_calls=[ToolCall("lookup", {"key": "a"})]),
        Reply(reasoning="Now I know.", text="done"),
    )
    result = _run(answer, mode, "what is a?")
    assert result.value == "done"
    assert result.reasoning == "First, look it up.\n\nNow I know."


def test_stream_reasoning_comes_before_the_answer(provider: str, alloy_emulator: Scenario) -> None:
    alloy_emulator.enqueue(Reply(reasoning="Thinking it over.", text="The answer."))
    with reply.stream("q") as stream:
        thought = "".join(stream.reasoning())
        rest = "".join(stream)
    assert thought == "Thinking it over."
    assert rest == "The answer."
    assert stream.result().reasoning == thought


def test_async_stream_reasoning_comes_before_the_answer(
    provider: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.enqueue(Reply(reasoning="Thinking it over.", text="The answer."))

    async def read() -> tuple[str, str, Any]:
        async with reply.stream_async("q") as stream:
            thought = "".join([piece async for piece in stream.reasoning()])
            rest = "".join([piece async for piece in stream])
            return thought, rest, await stream.result()

    thought, rest, result = asyncio.run(read())
    assert (thought, rest, result.reasoning) == ("Thinking it over.", "The answer.", thought)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("backend", list(SIGNED))
def test_a_three_turn_tool_loop_passes_the_strict_replay_checks(
    backend: str, mode: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.set_strict_reasoning(True)
    alloy_emulator.enqueue(
        Reply(
            reasoning="Look up a.",
            redacted_reasoning="opaque" if backend == "anthropic" else None,
            encrypted_reasoning=True,
            tool_calls=[ToolCall("lookup", {"key": "a"})],
        ),
        Reply(
            reasoning="Now b.",
            encrypted_reasoning=True,
            tool_calls=[ToolCall("lookup", {"key": "b"})],
        ),
        Reply(reasoning="Both known.", encrypted_reasoning=True, text="a and b"),
    )
    model, settings = SIGNED[backend]
    with use_config(model=model, max_tokens=20000, **settings):
        result = _run(answer, mode, "what are a and b?")
    assert result.value == "a and b"
    assert [r.status for r in alloy_emulator.requests] == [200, 200, 200]
    assert result.reasoning == "Look up a.\n\nNow b.\n\nBoth known."
    if backend == "openai":
        sent = alloy_emulator.requests[2].json
        assert sent["include"] == ["reasoning.encrypted_content"]
        items = [i for i in sent["input"] if i.get("type") == "reasoning"]
        assert len(items) == 2 and all(i.get("encrypted_content") for i in items)


@pytest.mark.parametrize("backend", list(SIGNED))
def test_the_strict_checks_refuse_a_turn_sent_back_without_its_reasoning(
    backend: str, alloy_emulator: Scenario
) -> None:
    """The validators are real: the same turn rebuilt from its neutral parts (as another
    backend's turn would be sent) is refused with the provider's own error; on OpenAI,
    whose API takes a turn without its reasoning, an unstored reasoning item sent back
    without its encrypted content is."""
    alloy_emulator.set_strict_reasoning(True)
    alloy_emulator.enqueue(
        Reply(
            reasoning="Look up a.",
            encrypted_reasoning=True,
            tool_calls=[ToolCall("lookup", {"key": "a"})],
        ),
        Reply(text="never sent"),
    )
    model, settings = SIGNED[backend]
    cfg = effective(make_config("test", {"model": model, "max_tokens": 20000, **settings}))
    p = plan("what is a?", output_spec(str, "test"), cfg)
    response = p.backend.complete(p.request)
    (call,) = response.tool_calls
    neutral = Message("assistant", (Call(call.id, call.name, call.arguments),))
    if backend == "openai":
        assert response.provider_data is not None
        items = [
            {k: v for k, v in item.items() if k != "encrypted_content"}
            for item in response.provider_data.data
        ]
        neutral = Message("assistant", neutral.parts, ProviderData("openai", items))
    results = Message("user", (ToolResult(call.id, "lookup", "value of a"),))
    with pytest.raises(ProviderError) as caught:
        p.backend.complete(p.request.with_messages((*p.request.messages, neutral, results)))
    assert caught.value.status_code in (400, 404)
    assert [r.status for r in alloy_emulator.requests] == [200, caught.value.status_code]


def _thinking_cases() -> list[Any]:
    return [
        pytest.param(path, "stream" if "__stream" in path.name else "sync", id=path.name)
        for path in recorded("*__thinking__*.json")
    ]


@pytest.mark.parametrize(("path", "mode"), _thinking_cases())
def test_recorded_thinking_reaches_the_result(
    path: Any, mode: str, alloy_emulator: Scenario
) -> None:
    data = json.loads(path.read_text(encoding="utf-8"))
    request = data["interactions"][-1]["request"]
    body = request["body"] if isinstance(request["body"], dict) else json.loads(request["body"])
    provider = {"openai-responses": "openai"}.get(data["provider"], data["provider"])
    # Replayed by path: any model of the provider does (a current one: the SDKs warn about
    # retired ones).
    model = {"anthropic": "claude-sonnet-4-6", "gemini": "gemini-2.5-flash"}.get(
        provider, body.get("model")
    )
    alloy_emulator.replay(load_recording(path))
    with use_config(model=f"{provider}:{model}"):
        result = _run(reply, mode, "q")
    assert result.reasoning == data["expect"]["thinking"]
