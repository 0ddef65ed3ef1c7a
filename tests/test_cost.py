"""Pricing a ``Usage``: alloy's counts priced by genai-prices' table, or a reason why not.

The expected figures come from the table's own per-million rates (``ModelPrice``), so the
tests say what each count is charged at: cache reads and writes at their rates within the
input, reasoning as output, batch and tier rates where the table has them.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from alloy import Result
from alloy._cost import Cost
from alloy._cost import price
from alloy._usage import Usage
from tests.recorded import load
from tests.recorded import successes

try:
    import genai_prices
except ImportError:  # pragma: no cover - the dev install has it
    genai_prices = None

needs_prices = pytest.mark.skipif(genai_prices is None, reason="genai-prices is not installed")
"""For the tests that read the table (the ones without it run in any install)."""

ROOT = Path(__file__).resolve().parents[1]
M = Decimal(1_000_000)


def _rates(provider_id: str, model: str, **context: str) -> Any:
    """The table's prices (per million tokens) for ``model``."""
    usage = genai_prices.Usage(input_tokens=1, output_tokens=1)
    calc = genai_prices.calc_price(
        usage, model, provider_id=provider_id, price_context=context or None
    )
    return calc.model_price


def _priced(found: Cost | str) -> Cost:
    assert isinstance(found, Cost), found
    return found


@needs_prices
def test_plain_usage_is_input_and_output_at_their_rates() -> None:
    rates = _rates("openai", "gpt-5-mini")
    cost = _priced(price(Usage.of(1000, 100), "openai", "gpt-5-mini"))
    assert cost.input == 1000 * rates.input_mtok / M
    assert cost.output == 100 * rates.output_mtok / M
    assert cost.usd == cost.input + cost.output
    assert cost.model == "gpt-5-mini"
    assert cost.priced_at == f"genai-prices {genai_prices.__version__}, bundled prices"
    assert (cost.batch, cost.service_tier) == (False, None)


@needs_prices
def test_cache_reads_are_the_cached_part_of_the_input() -> None:
    # alloy's input includes the cache reads: 200 tokens at the input rate, 800 at the
    # cache-read rate (not 1000 + 800).
    rates = _rates("openai", "gpt-5-mini")
    usage = Usage.of(1000, 100, cached_input_tokens=800)
    cost = _priced(price(usage, "openai", "gpt-5-mini"))
    assert cost.input == (200 * rates.input_mtok + 800 * rates.cache_read_mtok) / M
    assert cost.input < _priced(price(Usage.of(1000, 100), "openai", "gpt-5-mini")).input


@needs_prices
def test_cache_writes_are_charged_at_the_cache_write_rate() -> None:
    model = "claude-sonnet-4-20250514"
    rates = _rates("anthropic", model)
    assert rates.cache_write_mtok > rates.input_mtok
    usage = Usage.of(1000, 100, cached_input_tokens=300, cache_write_tokens=500)
    cost = _priced(price(usage, "anthropic", model))
    assert (
        cost.input
        == (200 * rates.input_mtok + 300 * rates.cache_read_mtok + 500 * rates.cache_write_mtok) / M
    )
    assert cost.output == 100 * rates.output_mtok / M
    assert cost.model == "claude-sonnet-4-0"  # the dated snapshot, priced as its model


@needs_prices
def test_reasoning_is_priced_as_output() -> None:
    rates = _rates("google", "gemini-2.5-flash")
    thinking = _priced(
        price(Usage.of(100, 1000, reasoning_tokens=900), "gemini", "gemini-2.5-flash")
    )
    plain = _priced(price(Usage.of(100, 1000), "gemini", "gemini-2.5-flash"))
    assert thinking.output == 1000 * rates.output_mtok / M
    assert thinking.usd == plain.usd


@needs_prices
def test_batch_rates_come_from_the_tables_batch_prices() -> None:
    model = "claude-sonnet-4-5"
    usage = Usage.of(1000, 100, cached_input_tokens=400)
    batch = _priced(price(usage, "anthropic", model, batch=True))
    standard = _priced(price(usage, "anthropic", model))
    counts = genai_prices.Usage(input_tokens=1000, cache_read_tokens=400, output_tokens=100)
    expected = genai_prices.calc_price(
        counts, model, provider_id="anthropic", price_context={"processing": "batch"}
    )
    assert batch.usd == expected.total_price
    assert batch.usd < standard.usd
    assert batch.batch is True
    assert standard.batch is False


@needs_prices
def test_a_model_without_batch_prices_has_no_batch_cost() -> None:
    # genai-prices would quietly give the standard price: alloy says it has none.
    found = price(Usage.of(1000, 100), "anthropic", "claude-sonnet-4-20250514", batch=True)
    assert isinstance(found, str)
    assert "no batch price" in found
    assert "claude-sonnet-4-20250514" in found


@needs_prices
def test_service_tiers() -> None:
    usage = Usage.of(1000, 100)
    standard = _priced(price(usage, "openai", "gpt-5-mini"))
    flex = _priced(price(usage, "openai", "gpt-5-mini", service_tier="flex"))
    rates = _rates("openai", "gpt-5-mini", service_tier="flex")
    assert flex.usd == (1000 * rates.input_mtok + 100 * rates.output_mtok) / M
    assert flex.usd < standard.usd
    assert flex.service_tier == "flex"
    # The tier names providers report for standard prices select nothing.
    for name in ("default", "standard"):
        same = _priced(price(usage, "openai", "gpt-5-mini", service_tier=name))
        assert (same.usd, same.service_tier) == (standard.usd, None)
    unknown = price(usage, "openai", "gpt-5-mini", service_tier="turbo")
    assert isinstance(unknown, str)
    assert "'turbo' service tier" in unknown


@needs_prices
def test_gemini_model_paths_are_priced_by_their_name() -> None:
    plain = _priced(price(Usage.of(10, 5), "gemini", "gemini-2.5-flash"))
    assert _priced(price(Usage.of(10, 5), "gemini", "models/gemini-2.5-flash")) == plain


@needs_prices
@pytest.mark.parametrize(
    ("provider", "model", "says"),
    [
        ("openai", "gpt-test", "no price for the openai model 'gpt-test'"),
        ("anthropic", "", "no price for the anthropic model ''"),
        ("ollama", "llama3.2", "Ollama runs models on your own machine"),
        ("fake", "fake", "the fake backend makes no provider call"),
        (None, "gpt-5-mini", "not the provider's own API"),
        ("my-backend", "m", "no price list for the 'my-backend' backend"),
    ],
)
def test_what_has_no_price_says_why(provider: str | None, model: str, says: str) -> None:
    found = price(Usage.of(1000, 100), provider, model)
    assert isinstance(found, str)
    assert says in found


@pytest.mark.parametrize(
    "usage",
    [
        Usage(),
        Usage.of(input_tokens=1000),
        Usage.of(output_tokens=100),
    ],
)
def test_usage_without_input_and_output_counts_has_no_price(usage: Usage) -> None:
    found = price(usage, "openai", "gpt-5-mini")
    assert found == "openai did not report both input and output token counts"


@needs_prices
@pytest.mark.parametrize(
    "usage",
    [
        Usage(10, 5, cached_input_tokens=50),  # more cache reads than input
        Usage(-10, 5),
    ],
)
def test_counts_that_cannot_be_right_are_a_reason_not_an_exception(usage: Usage) -> None:
    found = price(usage, "openai", "gpt-5-mini")
    assert isinstance(found, str)
    assert found.startswith(f"genai-prices {genai_prices.__version__} cannot price")


def _result(provider: str, model: str, usage: Usage, pricing: str | None) -> Result[str]:
    return Result("ok", "ok", usage, model, provider, "stop", (), 1, 0.1, pricing=pricing)


@needs_prices
def test_result_cost_prices_the_summed_usage() -> None:
    usage = Usage.of(700, 40, cached_input_tokens=500) + Usage.of(900, 60, cached_input_tokens=800)
    result = _result("anthropic", "claude-sonnet-4-5-20250929", usage, "anthropic")
    assert result.cost == price(usage, "anthropic", "claude-sonnet-4-5")
    assert result.cost is not None
    assert result.cost_unknown_reason is None


def test_result_without_a_price_has_a_reason() -> None:
    result = _result("openai-chat", "llama3.2", Usage.of(10, 5), None)
    assert result.cost is None
    assert result.cost_unknown_reason is not None
    assert "not the provider's own API" in result.cost_unknown_reason


# --- the recorded corpus: every model a provider named prices -----------------------------

_PROVIDERS = {"openai-chat": "openai-chat", "openai-responses": "openai"}
_MODEL = re.compile(r'"(?:model|modelVersion)"\s*:\s*"([^"]+)"')


def _recorded_models() -> list[tuple[str, str]]:
    """(alloy backend, model) for each model named in a recorded successful response."""
    found: set[tuple[str, str]] = set()
    for path in successes("*.json"):
        data = load(path)
        backend = _PROVIDERS.get(data["provider"], data["provider"])
        for interaction in data["interactions"]:
            found.update((backend, m) for m in _MODEL.findall(interaction["response"]["body"]))
    return sorted(found)


RECORDED_MODELS = _recorded_models()


def test_the_corpus_names_models() -> None:
    from tests.recorded import require_corpus

    require_corpus()
    backends = {backend for backend, _ in RECORDED_MODELS}
    assert {"openai", "openai-chat", "anthropic", "gemini", "ollama"} <= backends


@needs_prices
@pytest.mark.parametrize(("backend", "model"), RECORDED_MODELS, ids=lambda v: str(v))
def test_every_recorded_model_has_a_price(backend: str, model: str) -> None:
    found = price(Usage.of(1000, 100, cached_input_tokens=200), backend, model)
    if backend == "ollama":
        assert isinstance(found, str)
        assert "Ollama" in found
        return
    cost = _priced(found)
    assert cost.input > 0
    assert cost.output > 0
    assert cost.usd >= cost.input + cost.output


# --- without genai-prices, and without loading it at import --------------------------------

_HIDE = """
import sys

class Hide:
    # What a missing package looks like to an import: ModuleNotFoundError.
    def find_spec(self, name, path=None, target=None):
        if name == "genai_prices" or name.startswith("genai_prices."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, Hide())
"""

_PROBE = """
import json, sys
from alloy import Result, Usage
loaded_at_import = "genai_prices" in sys.modules
result = Result("ok", "ok", Usage.of(1000, 100), "gpt-5-mini", "openai", "stop", (), 1, 0.1,
                pricing="openai")
cost = result.cost
print(json.dumps([loaded_at_import, cost is None, result.cost_unknown_reason,
                  "genai_prices" in sys.modules]))
"""


def _probe(prelude: str) -> list[Any]:
    out = subprocess.run(
        [sys.executable, "-c", prelude + _PROBE],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    found: list[Any] = json.loads(out.stdout)
    return found


def test_without_genai_prices_cost_is_none_and_the_reason_names_the_extra() -> None:
    loaded_at_import, none, reason, loaded = _probe(_HIDE)
    assert none is True
    assert reason == (
        "pricing needs the genai-prices package, which is not installed: "
        "pip install 'alloy-llm[cost]'"
    )
    assert (loaded_at_import, loaded) == (False, False)


@needs_prices
def test_genai_prices_is_imported_on_the_first_cost_read_only() -> None:
    loaded_at_import, none, reason, loaded = _probe("")
    assert (loaded_at_import, none, reason, loaded) == (False, False, None, True)
