"""The reasoning settings on the wire: every (backend, model row, setting) gives the exact
native body the provider documents, and every combination the model cannot honour is a
``CapabilityError`` before any request (the emulator records none)."""

from __future__ import annotations

from typing import Any

import pytest

from alloy import CapabilityError
from alloy import ConfigurationError
from alloy import ask
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

# (backend, model, settings, what the body holds: top-level key -> value; ``None`` means the
# key must be absent).
SENT: list[tuple[str, str, dict[str, Any], dict[str, Any]]] = [
    # OpenAI Responses: reasoning.effort, summaries on request.
    ("openai", "gpt-5-mini", {"reasoning_effort": "minimal"}, {"reasoning": {"effort": "minimal"}}),
    ("openai", "gpt-5.1", {"reasoning_effort": "none"}, {"reasoning": {"effort": "none"}}),
    ("openai", "gpt-5.2", {"reasoning_effort": "xhigh"}, {"reasoning": {"effort": "xhigh"}}),
    ("openai", "o4-mini", {"reasoning_effort": "high"}, {"reasoning": {"effort": "high"}}),
    (
        "openai",
        "gpt-5-mini",
        {"reasoning_effort": "low", "show_reasoning": True},
        {"reasoning": {"effort": "low", "summary": "auto"}},
    ),
    ("openai", "o3", {"show_reasoning": True}, {"reasoning": {"summary": "auto"}}),
    ("openai", "gpt-4o", {}, {"reasoning": None}),
    # OpenAI Chat Completions: reasoning_effort.
    ("openai-chat", "gpt-5-mini", {"reasoning_effort": "low"}, {"reasoning_effort": "low"}),
    ("openai-chat", "o3-mini", {"reasoning_effort": "high"}, {"reasoning_effort": "high"}),
    ("openai-chat", "deepseek-reasoner", {"reasoning_effort": "max"}, {"reasoning_effort": "max"}),
    # Anthropic: adaptive thinking plus output_config.effort, or budgets.
    (
        "anthropic",
        "claude-opus-4-7",
        {"reasoning_effort": "high"},
        {"thinking": {"type": "adaptive"}, "output_config": {"effort": "high"}},
    ),
    (
        "anthropic",
        "claude-sonnet-4-6",
        {"reasoning_budget": 3000, "max_tokens": 8000},
        {"thinking": {"type": "enabled", "budget_tokens": 3000}, "max_tokens": 8000},
    ),
    (
        "anthropic",
        "claude-haiku-4-5",
        {"reasoning_effort": "low"},
        {"thinking": {"type": "enabled", "budget_tokens": 2048}, "max_tokens": 4096 + 2048},
    ),
    (
        "anthropic",
        "claude-haiku-4-5",
        {"reasoning_budget": 5000, "show_reasoning": False},
        {"thinking": {"type": "enabled", "budget_tokens": 5000, "display": "omitted"}},
    ),
    (
        "anthropic",
        "claude-opus-4-7",
        {"show_reasoning": True},
        {"thinking": {"type": "adaptive", "display": "summarized"}, "output_config": None},
    ),
    (
        "anthropic",
        "claude-haiku-4-5",
        {"reasoning_effort": "none"},
        {"thinking": {"type": "disabled"}},
    ),
    # Gemini: thinking level (3) or budget (2.5), thoughts on request (the SDK sends the
    # fields of thinkingConfig by their snake_case names, which the API reads too).
    (
        "gemini",
        "gemini-3-flash-preview",
        {"reasoning_effort": "minimal"},
        {"generationConfig.thinkingConfig": {"thinking_level": "MINIMAL"}},
    ),
    (
        "gemini",
        "gemini-3-pro-preview",
        {"reasoning_effort": "high", "show_reasoning": True},
        {"generationConfig.thinkingConfig": {"thinking_level": "HIGH", "include_thoughts": True}},
    ),
    (
        "gemini",
        "gemini-2.5-flash",
        {"reasoning_effort": "none"},
        {"generationConfig.thinkingConfig": {"thinking_budget": 0}},
    ),
    (
        "gemini",
        "gemini-2.5-pro",
        {"reasoning_effort": "max"},
        {"generationConfig.thinkingConfig": {"thinking_budget": 32768}},
    ),
    (
        "gemini",
        "gemini-2.5-flash-lite",
        {"reasoning_budget": 600},
        {"generationConfig.thinkingConfig": {"thinking_budget": 600}},
    ),
    # Ollama: think, a level or a switch.
    ("ollama", "gpt-oss:20b", {"reasoning_effort": "high"}, {"think": "high"}),
    ("ollama", "qwen3:8b", {"reasoning_effort": "none"}, {"think": False}),
    ("ollama", "deepseek-r1:14b", {"show_reasoning": True}, {"think": True}),
    ("ollama", "llama3.2", {}, {"think": None}),
]

# (backend, model, settings, words the error must contain).
REFUSED: list[tuple[str, str, dict[str, Any], tuple[str, ...]]] = [
    ("openai", "gpt-4o", {"reasoning_effort": "low"}, ("does not reason",)),
    ("openai-chat", "gpt-4.1-mini", {"reasoning_effort": "high"}, ("does not reason",)),
    ("openai", "gpt-5-mini", {"reasoning_budget": 2000}, ("token budget", "'minimal'")),
    ("openai", "gpt-5-mini", {"reasoning_effort": "none"}, ("switched off", "'minimal'")),
    ("openai", "gpt-5-pro", {"reasoning_effort": "low"}, ("Accepted values: 'high'",)),
    ("openai-chat", "gpt-5-mini", {"show_reasoning": True}, ("no reasoning text",)),
    ("anthropic", "claude-opus-4-7", {"reasoning_budget": 4000}, ("token budget",)),
    ("anthropic", "claude-3-5-haiku-latest", {"reasoning_effort": "low"}, ("does not reason",)),
    ("anthropic", "claude-haiku-4-5", {"reasoning_budget": 500}, ("1024 or more",)),
    (
        "anthropic",
        "claude-haiku-4-5",
        {"reasoning_effort": "high", "temperature": 0.3},
        ("temperature",),
    ),
    ("anthropic", "claude-haiku-4-5", {"show_reasoning": True}, ("set reasoning_effort",)),
    ("gemini", "gemini-2.5-pro", {"reasoning_effort": "none"}, ("cannot be switched off",)),
    ("gemini", "gemini-3-pro-preview", {"reasoning_effort": "medium"}, ("'low', 'high'",)),
    ("gemini", "gemini-2.5-flash", {"reasoning_budget": 30000}, ("1 to 24576",)),
    ("gemini", "gemma-3-27b-it", {"reasoning_effort": "low"}, ("does not reason",)),
    ("gemini", "gemini-2.0-flash", {"show_reasoning": True}, ("does not reason",)),
    ("ollama", "llama3.2", {"reasoning_effort": "low"}, ("does not reason",)),
    ("ollama", "gpt-oss:20b", {"reasoning_effort": "none"}, ("cannot be switched off",)),
    ("ollama", "qwen3:8b", {"reasoning_effort": "high"}, ("Accepted values: 'none'",)),
]


def _at(body: dict[str, Any], path: str) -> Any:
    value: Any = body
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]  # pyright: ignore[reportUnknownVariableType]
    return value  # pyright: ignore[reportUnknownVariableType]


@pytest.mark.parametrize(("backend", "model", "settings", "expected"), SENT)
def test_the_native_body(
    alloy_emulator: Scenario,
    backend: str,
    model: str,
    settings: dict[str, Any],
    expected: dict[str, Any],
) -> None:
    alloy_emulator.enqueue(Reply(text="ok"))
    assert ask("hi", model=f"{backend}:{model}", **settings) == "ok"
    (request,) = alloy_emulator.requests
    for path, value in expected.items():
        assert _at(request.json, path) == value, path


@pytest.mark.parametrize(("backend", "model", "settings", "words"), REFUSED)
def test_what_the_model_cannot_honour_is_refused_before_any_request(
    alloy_emulator: Scenario,
    backend: str,
    model: str,
    settings: dict[str, Any],
    words: tuple[str, ...],
) -> None:
    with pytest.raises(CapabilityError) as caught:
        ask("hi", model=f"{backend}:{model}", **settings)
    for word in words:
        assert word in str(caught.value)
    assert alloy_emulator.requests == []


def test_both_knobs_at_one_layer_are_a_configuration_error(alloy_emulator: Scenario) -> None:
    with pytest.raises(ConfigurationError, match="set one of them"):
        ask("hi", model="anthropic:claude-haiku-4-5", reasoning_effort="low", reasoning_budget=2048)
    assert alloy_emulator.requests == []


def test_a_budget_below_max_tokens_is_required_where_it_counts(alloy_emulator: Scenario) -> None:
    with pytest.raises(ConfigurationError, match="raise max_tokens above 6144"):
        ask("hi", model="anthropic:claude-haiku-4-5", reasoning_effort="medium", max_tokens=1000)
    assert alloy_emulator.requests == []


@pytest.mark.parametrize(
    ("backend", "key"),
    [
        ("openai", "reasoning"),
        ("openai-chat", "reasoning_effort"),
        ("anthropic", "thinking"),
        ("gemini", "thinking_config"),
        ("gemini", "thinkingConfig"),
        ("ollama", "think"),
    ],
)
def test_the_raw_provider_keys_are_reserved(
    alloy_emulator: Scenario, backend: str, key: str
) -> None:
    options = {backend: {key: {"effort": "low"}}}
    with pytest.raises(ConfigurationError, match="reasoning_effort"):
        ask("hi", model=f"{backend}:m", provider_options=options)
    assert alloy_emulator.requests == []


def test_a_per_call_budget_replaces_a_configured_effort(alloy_emulator: Scenario) -> None:
    from alloy import command

    @command(model="anthropic:claude-sonnet-4-6", reasoning_effort="max")
    def answer(q: str) -> str:
        """{q}"""

    alloy_emulator.enqueue(Reply(text="ok"), Reply(text="ok"))
    assert answer("hi") == "ok"
    assert alloy_emulator.requests[0].json["output_config"] == {"effort": "max"}
    assert answer.with_config(reasoning_budget=2000, max_tokens=9000)("hi") == "ok"
    sent = alloy_emulator.requests[1].json
    assert sent["thinking"] == {"type": "enabled", "budget_tokens": 2000}
    assert "output_config" not in sent
