"""Dollar and token budgets through the real SDKs: a per-call ceiling below one call's worst
case makes no request; a scope's budget stops a map at exhaustion (requests counted at the
emulator); a model without list prices cannot keep a dollar budget; token budgets work on
Ollama."""

from __future__ import annotations

import pytest

from alloy import BudgetExceeded
from alloy import budget
from alloy import command
from alloy import use_config
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

pytest.importorskip("genai_prices")


@command(max_tokens=200)
def answer(question: str) -> str:
    """Answer: {question}"""


def test_max_cost_usd_below_one_calls_worst_case_makes_no_request(
    alloy_emulator: Scenario,
) -> None:
    with use_config(model="openai:gpt-5-mini"), pytest.raises(BudgetExceeded) as caught:
        answer.with_config(max_cost_usd=0.000001)("why?")
    assert alloy_emulator.requests == []
    assert caught.value.needed_usd is not None and caught.value.needed_usd > 0


def test_a_dollar_budget_stops_a_map_at_exhaustion(alloy_emulator: Scenario) -> None:
    # Each call spends all its output (2000 tokens at $15/M: $0.03, its worst case too):
    # after eight ($0.24), a ninth could pass $0.25 and is not made.
    alloy_emulator.set_default(
        lambda request: Reply(text="ok", input_tokens=10, output_tokens=2000)
    )
    long_answer = answer.with_config(max_tokens=2000)
    with use_config(model="anthropic:claude-sonnet-4-6"), budget(usd=0.25) as b:
        result = long_answer.map([f"q{n}" for n in range(50)], concurrency=1)
    made = len(alloy_emulator.requests)
    assert made == 8
    assert [o.ok for o in result] == [True] * made + [False] * (50 - made)
    assert all(isinstance(o.error, BudgetExceeded) for o in result[made:])
    assert b.spent_usd <= b.limit_usd  # type: ignore[operator]
    assert b.spent_usd == sum(
        o.result.cost.usd for o in result[:made] if o.result and o.result.cost
    )


def test_a_dollar_budget_needs_list_prices(alloy_emulator: Scenario) -> None:
    with (
        use_config(model="ollama:llama3.2"),
        budget(usd=1),
        pytest.raises(BudgetExceeded) as caught,
    ):
        answer("q")
    assert "token budget" in str(caught.value)
    assert alloy_emulator.requests == []


def test_a_token_budget_works_on_ollama(alloy_emulator: Scenario) -> None:
    alloy_emulator.set_default(
        lambda request: Reply(text="ok", input_tokens=100, output_tokens=100)
    )
    with use_config(model="ollama:llama3.2"), budget(tokens=1000) as b:
        answer.map([f"q{n}" for n in range(10)], concurrency=1)
    made = len(alloy_emulator.requests)
    assert 0 < made < 10 and b.spent_tokens == 200 * made
    assert b.spent_tokens <= 1000
