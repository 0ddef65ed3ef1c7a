"""The emulator's answers have the key structure of the providers' real ones.

Each recorded answer of the corpus (text, tool calls, structured output and errors, JSON and
streamed) is set beside what the emulator renders for the same request and the same content:
every key the emulator sends must be in the real answer (``tests/wire_shapes.py``). The live
tests (``tests/live/``) make the same check against answers fetched today.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall
from tests.recorded import load
from tests.recorded import recorded
from tests.recorded import require_corpus
from tests.wire_shapes import drift
from tests.wire_shapes import emulated_body
from tests.wire_shapes import shape

require_corpus(module=True)
KINDS = ("text", "parallel-tool-calls", "structured-strict", "model-not-found", "auth-error")
FILES = [
    path
    for kind in KINDS
    for path in recorded(f"*__{kind}__*.json")
    if not path.name.startswith("ollama__openai-compat")
] + recorded("ollama__native-chat-*.json")
BACKEND = {"openai-responses": "openai"}


def _answer(data: dict[str, Any]) -> Reply | Fault:
    """The recorded answer's content, scripted for the emulator."""
    expect = data["expect"]
    if expect.get("error"):
        return Fault(status=data["interactions"][-1]["response"]["status"])
    calls = [ToolCall(c["name"], c["arguments"]) for c in expect.get("tool_calls") or []]
    return Reply(text=None if calls else expect.get("text"), tool_calls=calls)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_the_emulator_sends_no_key_a_provider_does_not(path: Path, scenario: Scenario) -> None:
    data = load(path)
    last = data["interactions"][-1]
    emulated = emulated_body(scenario, data["provider"], last["request"], _answer(data))
    assert shape(emulated), emulated  # the comparison is not vacuous
    backend = BACKEND.get(data["provider"], data["provider"])
    assert drift(backend, emulated, last["response"]["body"]) == set()
