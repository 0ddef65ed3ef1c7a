"""A provider's refusal is a RefusalError with the model's words, and is not re-asked.

Gemini blocks a reply with ``finishReason: SAFETY`` and the SDK keeps no message for it, so
its refusal says what was blocked; Ollama has no refusal on its wire (a refusal is ordinary
text there), so a typed command re-asks it like any reply that is not the value."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import pytest

from alloy import OutputValidationError
from alloy import RefusalError
from alloy import command
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario


@dataclass
class Recipe:
    name: str
    steps: list[str]


@command(retry=2)
def recipe(dish: str) -> Recipe:
    """A recipe for {dish}."""
    ...


def test_a_refusal_raises_at_once_with_its_text(provider: str, alloy_emulator: Scenario) -> None:
    if provider == "ollama":
        alloy_emulator.enqueue(*[Reply(refusal="I can't help with that.")] * 3)
        with pytest.raises(OutputValidationError):
            recipe("something dangerous")
        assert len(alloy_emulator.requests) == 3  # ordinary text: re-asked twice
        return
    alloy_emulator.enqueue(Reply(refusal="I can't help with that."))
    with pytest.raises(RefusalError) as caught:
        recipe("something dangerous")
    said = "blocked (SAFETY)" if provider == "gemini" else "I can't help with that"
    assert said in caught.value.refusal
    assert ".." not in str(caught.value) and "loosen" not in str(caught.value)
    assert len(alloy_emulator.requests) == 1  # not re-asked


def _consume(mode: str) -> Recipe:
    if mode == "stream":
        with recipe.stream("x") as stream:
            return stream.result().value
    return asyncio.run(recipe.async_("x"))


@pytest.mark.parametrize("mode", ["stream", "async"])
def test_a_streamed_or_async_refusal_too(
    provider: str, alloy_emulator: Scenario, mode: str
) -> None:
    if provider == "ollama":
        alloy_emulator.enqueue(*[Reply(refusal="Still no.")] * 3)
        with pytest.raises(OutputValidationError):
            _consume(mode)
        assert len(alloy_emulator.requests) == 3
        return
    alloy_emulator.enqueue(Reply(refusal="Still no."))
    with pytest.raises(RefusalError) as caught:
        _consume(mode)
    assert ("blocked" if provider == "gemini" else "Still no.") in str(caught.value)
    assert len(alloy_emulator.requests) == 1
