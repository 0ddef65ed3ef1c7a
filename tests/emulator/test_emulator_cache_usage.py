"""Prompt-cache usage: scripted reads and writes in each provider's own fields, and the
simulated prompt cache (``Scenario.set_prompt_cache``), through the real SDKs."""

from __future__ import annotations

from typing import Any

import ollama
import pytest
from anthropic import Anthropic
from anthropic.types import RawMessageDeltaEvent
from anthropic.types import RawMessageStartEvent
from google import genai
from google.genai import types
from openai import OpenAI

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import RemoteEmulator
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator._prompt_cache import PromptCache

SYSTEM = "You are a contracts analyst. " * 40
CACHED = Reply(text="ok", input_tokens=100, cached_tokens=60, cache_write_tokens=30)


def _ask_claude(client: Anthropic, stream: bool, **extra: Any) -> Any:
    options: dict[str, Any] = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 100,
        "system": SYSTEM,
        "messages": [{"role": "user", "content": "Termination notice?"}],
        **extra,
    }
    if not stream:
        return client.messages.create(**options).usage
    with client.messages.stream(**options) as events:
        return events.get_final_message().usage


# --- scripted counts ----------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_anthropic_input_leaves_reads_and_writes_out(
    claude: Anthropic, scenario: Scenario, stream: bool
) -> None:
    scenario.enqueue(CACHED, CACHED)
    usage = _ask_claude(claude, stream)
    assert (usage.input_tokens, usage.cache_read_input_tokens) == (10, 60)
    assert usage.cache_creation_input_tokens == 30
    assert usage.cache_creation is not None
    five_minutes = usage.cache_creation.ephemeral_5m_input_tokens
    assert (five_minutes, usage.cache_creation.ephemeral_1h_input_tokens) == (30, 0)
    hour = _ask_claude(claude, stream, cache_control={"type": "ephemeral", "ttl": "1h"})
    assert hour.cache_creation is not None
    assert hour.cache_creation.ephemeral_1h_input_tokens == 30
    assert hour.cache_creation.ephemeral_5m_input_tokens == 0


def test_anthropic_stream_events_carry_the_counts(claude: Anthropic, scenario: Scenario) -> None:
    scenario.enqueue(CACHED)
    with claude.messages.create(
        model="m", max_tokens=9, messages=[{"role": "user", "content": "x"}], stream=True
    ) as events:
        seen = list(events)
    start = next(e for e in seen if isinstance(e, RawMessageStartEvent)).message.usage
    assert (start.input_tokens, start.cache_read_input_tokens) == (10, 60)
    assert start.cache_creation is not None
    assert start.cache_creation.ephemeral_5m_input_tokens == 30
    delta = next(e for e in seen if isinstance(e, RawMessageDeltaEvent)).usage
    assert (delta.input_tokens, delta.cache_read_input_tokens) == (10, 60)
    assert delta.cache_creation_input_tokens == 30 and delta.output_tokens == 5


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_responses_cached_and_written_tokens(
    client: OpenAI, scenario: Scenario, stream: bool
) -> None:
    scenario.enqueue(CACHED, CACHED)
    for retention, bucket in ((None, "ttl_30m_tokens"), ("24h", "ttl_12h_tokens")):
        extra: Any = {"prompt_cache_retention": retention} if retention else {}
        if stream:
            with client.responses.stream(model="gpt-5", input="x", **extra) as events:
                usage = events.get_final_response().usage
        else:
            usage = client.responses.create(model="gpt-5", input="x", **extra).usage
        assert usage is not None
        assert usage.input_tokens == 100  # reads and writes are parts of it
        details = usage.input_tokens_details
        assert (details.cached_tokens, details.cache_write_tokens) == (60, 30)
        assert details.cache_write_tokens_details is not None
        assert getattr(details.cache_write_tokens_details, bucket) == 30


def test_responses_without_writes_leave_the_breakdown_out(
    client: OpenAI, scenario: Scenario
) -> None:
    scenario.enqueue(Reply(text="ok", cached_tokens=4))
    usage = client.responses.create(model="gpt-5", input="x").usage
    assert usage is not None
    assert usage.input_tokens_details.cache_write_tokens == 0
    assert usage.input_tokens_details.cache_write_tokens_details is None


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_chat_cached_and_written_tokens(client: OpenAI, scenario: Scenario, stream: bool) -> None:
    scenario.enqueue(CACHED)
    messages: Any = [{"role": "user", "content": "x"}]
    if stream:
        chunks = client.chat.completions.create(
            model="m", messages=messages, stream=True, stream_options={"include_usage": True}
        )
        usage = [c.usage for c in chunks if c.usage is not None][-1]
    else:
        usage = client.chat.completions.create(model="m", messages=messages).usage
    assert usage is not None and usage.prompt_tokens == 100
    assert usage.prompt_tokens_details is not None
    details = usage.prompt_tokens_details
    assert (details.cached_tokens, details.cache_write_tokens) == (60, 30)


def test_chat_leaves_zero_writes_out(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="ok", cached_tokens=3))
    messages: Any = [{"role": "user", "content": "x"}]
    usage = client.chat.completions.create(model="m", messages=messages).usage
    assert usage is not None and usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cache_write_tokens is None


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_gemini_reports_reads_only(gemini: genai.Client, scenario: Scenario, stream: bool) -> None:
    scenario.enqueue(CACHED)
    if stream:
        chunks = list(gemini.models.generate_content_stream(model="gemini-2.5-flash", contents="x"))
        usage = chunks[-1].usage_metadata
    else:
        usage = gemini.models.generate_content(
            model="gemini-2.5-flash", contents="x"
        ).usage_metadata
    assert usage is not None
    assert (usage.prompt_token_count, usage.cached_content_token_count) == (100, 60)


def test_ollama_reports_no_cache_counts(scenario: Scenario) -> None:
    scenario.enqueue(CACHED)
    with ollama.Client(host=scenario.base_url("ollama"), timeout=10.0) as client:
        response = client.chat(model="m", messages=[{"role": "user", "content": "x"}])
    assert response.prompt_eval_count == 100
    assert set(response.model_dump(exclude_none=True)) >= {"prompt_eval_count", "eval_count"}
    assert not [key for key in response.model_dump() if "cache" in key]


# --- the simulated prompt cache -----------------------------------------------------------


def _anthropic_turns(
    client: Anthropic, conversations: list[list[Any]]
) -> list[tuple[int, int, int]]:
    """(input without cache, read, written) for each conversation, in order."""
    counts: list[tuple[int, int, int]] = []
    for messages in conversations:
        usage = client.messages.create(
            model="claude-sonnet-4-6", max_tokens=50, system=SYSTEM, messages=messages
        ).usage
        counts.append(
            (
                usage.input_tokens,
                usage.cache_read_input_tokens or 0,
                usage.cache_creation_input_tokens or 0,
            )
        )
    return counts


FIRST: list[Any] = [{"role": "user", "content": "Termination notice?"}]
SECOND: list[Any] = [{"role": "user", "content": "Governing law?"}]
LOOP: list[Any] = [
    *FIRST,
    {"role": "assistant", "content": "Ninety days."},
    {"role": "user", "content": "And for the supplier?"},
]


def test_a_repeated_prefix_is_read_and_a_new_one_written(
    claude: Anthropic, scenario: Scenario
) -> None:
    scenario.set_prompt_cache(hits=True)
    scenario.set_default(
        Reply(text="ok", input_tokens=10_000, cached_tokens=7, cache_write_tokens=7)
    )
    first, second, loop, again = _anthropic_turns(claude, [FIRST, SECOND, LOOP, LOOP])
    system = first[2]
    assert system > 0 and first[1] == 0  # the system prompt is written first
    assert second == (10_000 - system, system, 0)  # then read, the last message not cached
    assert loop[1] == system and loop[2] > 0  # the earlier turns are new: written
    assert again == (10_000 - system - loop[2], system + loop[2], 0)


def test_the_cached_part_never_exceeds_the_input(claude: Anthropic, scenario: Scenario) -> None:
    scenario.set_prompt_cache(hits=True)
    scenario.set_default(Reply(text="ok", input_tokens=40))
    first, second = _anthropic_turns(claude, [FIRST, SECOND])
    assert first == (0, 0, 40) and second == (0, 40, 0)


def test_another_model_or_system_prompt_misses(claude: Anthropic, scenario: Scenario) -> None:
    scenario.set_prompt_cache(hits=True)
    scenario.set_default(Reply(text="ok", input_tokens=10_000))
    _anthropic_turns(claude, [FIRST])
    other = claude.messages.create(
        model="claude-opus-4-7", max_tokens=5, system=SYSTEM, messages=SECOND
    )
    assert other.usage.cache_read_input_tokens == 0
    changed = claude.messages.create(
        model="claude-sonnet-4-6", max_tokens=5, system=SYSTEM + "!", messages=SECOND
    )
    assert changed.usage.cache_read_input_tokens == 0
    assert (changed.usage.cache_creation_input_tokens or 0) > 0


def test_openai_and_gemini_simulated_counts(
    client: OpenAI, gemini: genai.Client, scenario: Scenario
) -> None:
    scenario.set_prompt_cache(hits=True)
    scenario.set_default(Reply(text="ok", input_tokens=10_000))
    usages = [
        client.responses.create(model="gpt-5", instructions=SYSTEM, input=text).usage
        for text in ("a", "b")
    ]
    assert usages[0] is not None and usages[1] is not None
    first, second = usages[0].input_tokens_details, usages[1].input_tokens_details
    assert first.cached_tokens == 0 and first.cache_write_tokens > 0
    assert (second.cached_tokens, second.cache_write_tokens) == (first.cache_write_tokens, 0)
    chat = [
        client.chat.completions.create(
            model="m",
            messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": t}],
        ).usage
        for t in ("a", "b")
    ]
    assert chat[0] is not None and chat[0].prompt_tokens_details is not None
    assert chat[1] is not None and chat[1].prompt_tokens_details is not None
    assert chat[0].prompt_tokens_details.cached_tokens == 0
    assert (
        chat[1].prompt_tokens_details.cached_tokens
        == chat[0].prompt_tokens_details.cache_write_tokens
    )
    config = types.GenerateContentConfig(system_instruction=SYSTEM)
    counts = [
        gemini.models.generate_content(
            model="gemini-2.5-flash", contents=t, config=config
        ).usage_metadata
        for t in ("a", "b")
    ]
    assert counts[0] is not None and counts[1] is not None
    assert counts[0].cached_content_token_count is None  # Gemini reports no writes
    assert (counts[1].cached_content_token_count or 0) > 0


def test_off_by_default_and_after_reset(claude: Anthropic, scenario: Scenario) -> None:
    scenario.set_default(Reply(text="ok", input_tokens=10_000, cached_tokens=7))
    assert _anthropic_turns(claude, [FIRST, FIRST]) == [(9993, 7, 0), (9993, 7, 0)]
    scenario.set_prompt_cache(hits=True)
    scenario.reset()
    scenario.set_default(Reply(text="ok", input_tokens=10_000, cached_tokens=7))
    assert _anthropic_turns(claude, [FIRST])[0] == (9993, 7, 0)
    with pytest.raises(ValueError, match="true or false"):
        scenario.set_prompt_cache(hits="yes")  # type: ignore[arg-type]


def test_prompt_cache_over_the_control_plane(emulator: Emulator) -> None:
    remote = RemoteEmulator(emulator.url).scenario()
    remote.set_prompt_cache(hits=True)
    remote.set_default(Reply(text="ok", input_tokens=10_000))
    with Anthropic(base_url=remote.base_url("anthropic"), api_key="k", max_retries=0) as sdk:
        counts = _anthropic_turns(sdk, [FIRST, SECOND])
    assert counts[1][1] == counts[0][2] > 0
    with pytest.raises(RuntimeError, match="400"):
        remote.set_prompt_cache(hits="yes")  # type: ignore[arg-type]
    remote.reset()


def test_prompt_cache_accounting() -> None:
    cache = PromptCache()
    body: dict[str, Any] = {"system": "s" * 400, "messages": [{"role": "user", "content": "a"}]}
    assert cache.account("anthropic", body, "m", 1_000) is None  # off
    cache.set_hits(True)
    assert cache.account("ollama", body, "m", 1_000) is None  # Ollama reports no cache counts
    assert cache.account("anthropic", body, "m", 1_000) == (0, 104)  # {"system":"s…"}: 413 bytes
    assert cache.account("anthropic", body, "m", 1_000) == (104, 0)
    assert cache.account("anthropic", body, "other", 1_000) == (0, 104)
    assert cache.account("gemini", {"systemInstruction": "s" * 400}, "g", 1_000) == (0, 0)
    assert cache.account("gemini", {"systemInstruction": "s" * 400}, "g", 1_000) == (
        106,
        0,
    )  # {"systemInstruction":"s…"}
    for odd in ({"messages": "x"}, {"messages": [None, 3]}, {"system": {"a": [1, None]}}):
        assert cache.account("anthropic", odd, "m", 10) is not None
    cache.clear()
    assert not cache.hits and cache.account("anthropic", body, "m", 1_000) is None
