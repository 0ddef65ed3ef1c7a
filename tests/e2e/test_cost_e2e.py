"""``Result.cost`` through the real SDKs and the emulator, streamed or not, sync or async.

Each provider's scripted counts come back as alloy's portable ``Usage`` (``wires.py`` says
how per provider), and the cost is genai-prices' own figure for those counts; what has no
list price (Ollama, the fake backend, an OpenAI-compatible server) is ``None`` with a reason.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from alloy import Result
from alloy import command
from alloy import use_config
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from tests.e2e.wires import WIRES

genai_prices = pytest.importorskip("genai_prices")

# (backend, model as a dated snapshot where the provider has them, genai-prices' provider)
PRICED = [
    ("openai", "gpt-5-mini-2025-08-07", "openai"),
    ("anthropic", "claude-haiku-4-5-20251001", "anthropic"),
    ("gemini", "gemini-2.5-flash", "google"),
]
# (input, output, cached, reasoning) as scripted
COUNTS = {"plain": (1200, 80, 0, 0), "cached": (1200, 80, 1000, 30)}
MODES = ["run", "run_async", "stream", "stream_async"]


@command
def summarize(text: str) -> str:
    """Summarize in one line: {text}"""


def _call(mode: str) -> Result[str]:
    if mode == "run":
        return summarize.run("a long text")
    if mode == "stream":
        with summarize.stream("a long text") as stream:
            return stream.result()

    async def call() -> Result[str]:
        if mode == "run_async":
            return await summarize.run_async("a long text")
        stream = summarize.stream_async("a long text")
        return await stream.result()

    return asyncio.run(call())


def _expected(backend: str, model: str, provider_id: str, counts: tuple[int, ...]) -> Any:
    """genai-prices' price of what the provider reported, stated here in its own terms."""
    usage = WIRES[backend].usage(*counts)
    reported = genai_prices.Usage(
        input_tokens=usage.input_tokens,
        cache_read_tokens=usage.cached_input_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        output_tokens=usage.output_tokens,
    )
    return genai_prices.calc_price(reported, model, provider_id=provider_id)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("counts", list(COUNTS), ids=str)
@pytest.mark.parametrize(("backend", "model", "provider_id"), PRICED, ids=lambda v: str(v))
def test_cost_is_genai_prices_figure_for_the_reported_usage(
    alloy_emulator: Scenario, backend: str, model: str, provider_id: str, counts: str, mode: str
) -> None:
    inp, out, cached, reasoning = COUNTS[counts]
    alloy_emulator.enqueue(
        Reply(
            text="Short.",
            input_tokens=inp,
            output_tokens=out,
            cached_tokens=cached,
            reasoning_tokens=reasoning,
        )
    )
    with use_config(model=f"{backend}:{model}"):
        result = _call(mode)
    assert result.usage == WIRES[backend].usage(inp, out, cached, reasoning)
    assert result.pricing == backend
    cost = result.cost
    assert cost is not None, result.cost_unknown_reason
    assert result.cost_unknown_reason is None
    expected = _expected(backend, model, provider_id, COUNTS[counts])
    assert cost.usd == expected.total_price
    assert (cost.input, cost.output) == (expected.input_price, expected.output_price)
    assert cost.model == expected.model.id
    if cached:
        assert cost.input < _expected(backend, model, provider_id, (inp, out, 0, 0)).input_price


def test_cost_is_the_price_of_the_usage_summed_over_every_model_call(
    alloy_emulator: Scenario,
) -> None:
    @command
    def count(text: str) -> int:
        """How many words: {text}"""

    alloy_emulator.enqueue(
        Reply(json={"value": "three"}, input_tokens=900, output_tokens=20, cached_tokens=0),
        Reply(json={"value": 3}, input_tokens=1100, output_tokens=10, cached_tokens=800),
    )
    with use_config(model="anthropic:claude-sonnet-4-6", retry=1):
        result = count.run("a b c")
    assert result.attempts == 2
    summed = genai_prices.Usage(input_tokens=2000, cache_read_tokens=800, output_tokens=30)
    expected = genai_prices.calc_price(summed, "claude-sonnet-4-6", provider_id="anthropic")
    assert result.cost is not None
    assert result.cost.usd == expected.total_price


@pytest.mark.parametrize("mode", ["run", "stream"])
def test_ollama_has_no_list_price(alloy_emulator: Scenario, mode: str) -> None:
    alloy_emulator.enqueue(Reply(text="Short.", input_tokens=100, output_tokens=5))
    with use_config(model="ollama:llama3.2"):
        result = _call(mode)
    assert result.usage.input_tokens == 100
    assert result.cost is None
    assert result.cost_unknown_reason is not None
    assert "Ollama" in result.cost_unknown_reason


@pytest.mark.parametrize("mode", ["run", "stream"])
def test_an_openai_compatible_server_has_no_list_price(alloy_emulator: Scenario, mode: str) -> None:
    # openai-chat at the emulator's URL: not OpenAI's API, whatever the model is called.
    alloy_emulator.enqueue(Reply(text="Short.", input_tokens=100, output_tokens=5))
    with use_config(model="openai-chat:gpt-5-mini"):
        result = _call(mode)
    assert result.provider == "openai-chat"
    assert result.pricing is None
    assert result.cost is None
    assert result.cost_unknown_reason is not None
    assert "not the provider's own API" in result.cost_unknown_reason


def test_an_unknown_model_has_no_price_and_says_which(alloy_emulator: Scenario) -> None:
    alloy_emulator.enqueue(Reply(text="Short.", input_tokens=100, output_tokens=5))
    with use_config(model="openai:gpt-test"):
        result = summarize.run("x")
    assert result.cost is None
    assert result.cost_unknown_reason == (
        f"genai-prices {genai_prices.__version__} has no price for the openai model 'gpt-test'"
    )


@pytest.mark.parametrize("mode", ["run", "stream"])
def test_the_fake_backend_has_no_price(alloy_fake: Any, mode: str) -> None:
    alloy_fake.add_reply("Short.")
    with use_config(model="openai:gpt-5-mini"):
        result = _call(mode)
    assert result.provider == "fake"
    assert result.cost is None
    assert result.cost_unknown_reason is not None
    assert "fake backend" in result.cost_unknown_reason


def test_pricing_is_asked_of_the_backend_inside_a_forced_wrapper(alloy_emulator: Scenario) -> None:
    from alloy.backends import WrapperBackend
    from alloy.backends.openai import OpenAIChatBackend
    from alloy.testing import use_backend

    inner = OpenAIChatBackend({"base_url": alloy_emulator.base_url("openai"), "api_key": "k"})
    alloy_emulator.enqueue(Reply(text="Short.", input_tokens=100, output_tokens=5))
    try:
        with use_backend(WrapperBackend(inner)), use_config(model="openai-chat:gpt-5-mini"):
            result = summarize.run("x")
    finally:
        inner.close()  # not the registry's: nothing else closes its client
    assert result.provider == "openai-chat"
    assert result.pricing is None
    assert result.cost is None


@pytest.mark.parametrize(("backend", "model", "provider_id"), PRICED[:2], ids=lambda v: str(v))
def test_cache_writes_are_priced_at_their_rate(
    alloy_emulator: Scenario, backend: str, model: str, provider_id: str
) -> None:
    alloy_emulator.enqueue(
        Reply(text="Short.", input_tokens=3000, output_tokens=40, cache_write_tokens=2500)
    )
    with use_config(model=f"{backend}:{model}"):
        result = summarize.run("a long text")
    assert (result.usage.input_tokens, result.usage.cache_write_tokens) == (3000, 2500)
    cost = result.cost
    assert cost is not None, result.cost_unknown_reason
    reported = genai_prices.Usage(input_tokens=3000, cache_write_tokens=2500, output_tokens=40)
    expected = genai_prices.calc_price(reported, model, provider_id=provider_id)
    assert cost.usd == expected.total_price
    plain = genai_prices.calc_price(
        genai_prices.Usage(input_tokens=3000, output_tokens=40), model, provider_id=provider_id
    )
    if backend == "anthropic":
        assert cost.input > plain.input_price  # writing the cache costs more than reading input
