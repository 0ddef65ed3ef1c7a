"""Real replies the token limit cut, replayed verbatim by the emulator through commands.

``*__max-tokens__sync.json`` hold partial text (OpenAI Responses, Anthropic, Gemini, whose
reply also spent reasoning tokens); ``openai-chat__reasoning-max-tokens__sync.json`` holds
none at all, every token having gone to hidden reasoning. A text command returns the partial
text with ``finish == "length"``, and raises ``TruncatedOutputError`` when there is none; a
typed command raises at once, after one request. The files are test data read from beside
the repository; the tests skip when that folder is absent.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pytest

from alloy import TruncatedOutputError
from alloy import command
from alloy import use_config
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import load_recording
from tests.recorded import require_corpus

RECORDED = require_corpus(module=True)

# file → the model to name (Gemini's recording is matched by the model in its path)
PARTIAL = {
    "openai-responses__max-tokens__sync.json": "openai:gpt-4o",
    "anthropic__max-tokens__sync.json": "anthropic:claude-sonnet-4-6",
    "gemini__max-tokens__sync.json": "gemini:gemini-2.5-flash",
}
EMPTY = {"openai-chat__reasoning-max-tokens__sync.json": "openai-chat:gpt-5-mini"}
MODES = pytest.mark.parametrize("mode", ["sync", "async"])


@command
def states() -> str:
    """List all U.S. states."""
    ...


@dataclass
class States:
    names: list[str]


@command(retry=2)
def typed_states() -> States:
    """List all U.S. states."""
    ...


def _expect(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDED / name).read_text(encoding="utf-8"))
    return data["expect"]


def _call(cmd: Any, model: str, mode: str) -> Any:
    with use_config(model=model, max_tokens=50):
        if mode == "sync":
            return cmd.run()
        return asyncio.run(cmd.run_async())


@MODES
@pytest.mark.parametrize("name", list(PARTIAL))
def test_a_text_command_returns_the_partial_text(
    name: str, mode: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.replay(load_recording(RECORDED / name))
    result = _call(states, PARTIAL[name], mode)
    expect = _expect(name)
    assert result.value == result.text == expect["text"]
    assert (result.finish, result.finish_reason) == ("length", expect["finish"])
    assert len(alloy_emulator.requests) == 1


@MODES
@pytest.mark.parametrize("name", list(PARTIAL))
def test_a_typed_command_raises_at_once(name: str, mode: str, alloy_emulator: Scenario) -> None:
    alloy_emulator.replay(load_recording(RECORDED / name))
    with pytest.raises(TruncatedOutputError) as caught:
        _call(typed_states, PARTIAL[name], mode)
    error, expect = caught.value, _expect(name)
    assert (error.limit, error.partial_text, error.finish_reason) == (
        50,
        expect["text"],
        expect["finish"],
    )
    reasoning = expect["usage"]["reasoning_tokens"]
    assert error.reasoning_tokens == reasoning
    if name.startswith("gemini"):
        # Gemini counts thinking apart from the candidates; alloy's output includes it.
        assert error.output_tokens == expect["usage"]["output_tokens"] + reasoning == 48
        assert "reasoning took 38 tokens" in str(error)
    else:
        assert error.output_tokens == expect["usage"]["output_tokens"] == 50
    assert len(alloy_emulator.requests) == 1  # retry=2 left: no re-ask


@MODES
@pytest.mark.parametrize("name", list(EMPTY))
def test_reasoning_that_ate_the_whole_budget_raises_naming_it(
    name: str, mode: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.replay(load_recording(RECORDED / name))
    with pytest.raises(TruncatedOutputError) as caught:
        _call(states, EMPTY[name], mode)
    error = caught.value
    assert (error.limit, error.reasoning_tokens, error.output_tokens) == (50, 50, 50)
    assert (error.partial_text, error.finish_reason) == ("", "length")
    message = str(error)
    assert "50 output tokens, 50 of them reasoning" in message
    assert "No text came before the cut" in message
    assert "lower the reasoning effort or thinking budget" in message
    assert len(alloy_emulator.requests) == 1
