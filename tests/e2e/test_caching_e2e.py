"""Prompt caching on the wire, through the real SDKs: a ``Context`` ahead of every prompt on
every backend, Anthropic's cache breakpoints, OpenAI's cache key and retention, refusals
before any request, and cache counts in ``Usage`` (the emulator's simulated cache)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from alloy import CapabilityError
from alloy import ConfigurationError
from alloy import Context
from alloy import Document
from alloy import ask
from alloy import command
from alloy import use_config
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

POLICY = Context(
    system="You are a contracts analyst.",
    documents=[
        "Clause 1: notice is 30 days.",
        Document.from_bytes(b"%PDF-1.4 msa", "application/pdf"),
    ],
)


@command(context=POLICY)
def clause(question: str) -> str:
    """Answer from the contract: {question}"""


@command(context=POLICY)
def summary(topic: str) -> str:
    """Summarise the contract's {topic}."""


def _text(body: Any) -> str:
    return json.dumps(body)


def test_a_context_goes_ahead_of_every_prompt(provider: str, alloy_emulator: Scenario) -> None:
    if provider == "ollama":
        context = Context(system="You are a contracts analyst.", documents=["Clause 1."])
    else:
        context = POLICY
    alloy_emulator.enqueue(Reply(text="30 days"))
    with use_config(system="Be brief."):
        assert clause.with_config(context=context)("What is the notice?") == "30 days"
    sent = _text(alloy_emulator.requests[0].json)
    # The context's system text comes before the command's; its documents before the prompt.
    assert sent.index("contracts analyst") < sent.index("Be brief.")
    assert sent.index("Clause 1") < sent.index("What is the notice?")


def test_anthropic_breakpoints(alloy_emulator: Scenario) -> None:
    alloy_emulator.enqueue(Reply(text="a"), Reply(text="b"))
    with use_config(model="anthropic:claude-sonnet-4-6", cache=True):
        clause("What is the notice?")
        clause.with_config(cache_ttl="1h")("And the term?")
    first, second = (r.json for r in alloy_emulator.requests)
    assert first["cache_control"] == {"type": "ephemeral"}
    system = first["system"]
    assert system[0] == {
        "type": "text",
        "text": "You are a contracts analyst.",
        "cache_control": {"type": "ephemeral"},
    }
    blocks = first["messages"][0]["content"]
    assert [b["type"] for b in blocks] == ["text", "document", "text"]
    assert blocks[1]["cache_control"] == {"type": "ephemeral"}  # the context's last block
    assert "cache_control" not in blocks[0] and "cache_control" not in blocks[2]
    assert second["cache_control"] == {"type": "ephemeral", "ttl": "1h"}
    assert second["messages"][0]["content"][1]["cache_control"] == {
        "type": "ephemeral",
        "ttl": "1h",
    }


def test_anthropic_without_cache_sends_no_breakpoint(alloy_emulator: Scenario) -> None:
    alloy_emulator.enqueue(Reply(text="a"))
    with use_config(model="anthropic:claude-sonnet-4-6"):
        clause("q")
    body = alloy_emulator.requests[0].json
    assert "cache_control" not in _text(body)
    assert body["system"] == "You are a contracts analyst."


def test_a_fifth_anthropic_breakpoint_is_refused_before_any_request(
    alloy_emulator: Scenario,
) -> None:
    layered = POLICY
    for n in range(3):
        layered = Context(documents=[f"Annex {n}."], base=layered)
    # system + 4 layers with documents + the automatic one = 6 > 4
    with pytest.raises(ConfigurationError, match="at most 4 cache breakpoints"):
        ask("q", model="anthropic:claude-sonnet-4-6", cache=True, context=layered)
    three = Context(documents=["Annex."], base=Context(documents=["Base."]))
    alloy_emulator.enqueue(Reply(text="ok"))
    assert ask("q", model="anthropic:claude-sonnet-4-6", cache=True, context=three) == "ok"
    blocks = alloy_emulator.requests[0].json["messages"][0]["content"]
    assert [("cache_control" in b) for b in blocks] == [True, True, False]


@pytest.mark.parametrize("backend", ["openai", "openai-chat"])
def test_openai_cache_key_is_stable_per_command_and_context(
    backend: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.enqueue(*[Reply(text="x")] * 4)
    with use_config(model=f"{backend}:gpt-5-mini", cache=True):
        clause("one")
        clause("two")
        summary("term")
        clause.with_config(context=Context(system="Another."))("three")
    keys = [r.json["prompt_cache_key"] for r in alloy_emulator.requests]
    assert keys[0] == keys[1]
    assert len(set(keys)) == 3
    assert all(len(key) == 32 for key in keys)


def test_openai_retention_and_no_key_without_cache(alloy_emulator: Scenario) -> None:
    alloy_emulator.enqueue(Reply(text="x"), Reply(text="y"))
    with use_config(model="openai:gpt-5-mini"):
        clause.with_config(cache=True, cache_ttl="1h")("one")
        clause("two")
    first, second = (r.json for r in alloy_emulator.requests)
    assert first["prompt_cache_retention"] == "24h"
    assert "prompt_cache_key" not in second and "prompt_cache_retention" not in second


@pytest.mark.parametrize(
    ("model", "settings", "words"),
    [
        ("ollama:llama3.2", {"cache": True}, "cache=True"),
        ("ollama:llama3.2", {"cache_ttl": "1h"}, "cache_ttl"),
        ("anthropic:claude-sonnet-4-6", {"cache": True, "cache_ttl": "12h"}, "'5m', '30m', '1h'"),
        ("gemini:gemma-3-27b-it", {"cache": True}, "cache=True"),
    ],
)
def test_what_the_provider_cannot_cache_is_refused_before_any_request(
    model: str, settings: dict[str, Any], words: str, alloy_emulator: Scenario
) -> None:
    with pytest.raises(CapabilityError, match=words):
        ask("q", model=model, **settings)
    assert alloy_emulator.requests == []


@pytest.mark.parametrize("backend", ["anthropic", "openai", "openai-chat"])
def test_cache_counts_come_back_in_usage(backend: str, alloy_emulator: Scenario) -> None:
    alloy_emulator.set_prompt_cache(hits=True)
    alloy_emulator.enqueue(Reply(text="a", input_tokens=400), Reply(text="b", input_tokens=400))
    model = {"anthropic": "claude-sonnet-4-6"}.get(backend, "gpt-5-mini")
    with use_config(model=f"{backend}:{model}", cache=True):
        first = clause.run("What is the notice period of this contract?")
        second = clause.run("What is the term of this contract?")
    for usage in (first.usage, second.usage):
        assert (usage.cached_input_tokens or 0) + (usage.cache_write_tokens or 0) <= (
            usage.input_tokens or 0
        )
    assert (second.usage.cached_input_tokens or 0) > 0
    assert (first.usage.cache_write_tokens or 0) > 0
