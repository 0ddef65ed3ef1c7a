"""Budgets on the fake backend (token budgets need no prices): a call whose worst case does
not fit is refused before any request, spending is charged after each call, and a budget is
shared by the items of a map."""

from __future__ import annotations

import pickle

import pytest

from alloy import BudgetExceeded
from alloy import ConfigurationError
from alloy import Usage
from alloy import budget
from alloy import command
from alloy._budget import worst_tokens
from alloy.backends import Request
from alloy.backends import Response
from alloy.testing import FakeBackend
from alloy.testing import use_backend


@command(max_tokens=100)
def echo(text: str) -> str:
    """{text}"""


def test_a_token_budget_refuses_a_call_that_cannot_fit(alloy_fake: FakeBackend) -> None:
    with budget(tokens=50) as b, pytest.raises(BudgetExceeded) as caught:
        echo("hello")
    assert alloy_fake.requests == []
    error = caught.value
    assert error.limit_tokens == 50 and error.spent_tokens == 0
    assert error.needed_tokens is not None and error.needed_tokens > 100
    assert "not made" in str(error)
    assert b.spent_tokens == 0


def test_spending_is_charged_after_each_call(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply("one", usage=Usage.of(input_tokens=30, output_tokens=20))
    alloy_fake.add_reply("two", usage=Usage.of(input_tokens=30, output_tokens=20))
    with budget(tokens=1000) as b:
        assert echo("a") == "one"
        assert b.spent_tokens == 50
        assert echo("b") == "two"
    assert (b.spent_tokens, b.remaining_tokens) == (100, 900)


def test_a_map_stops_at_exhaustion() -> None:
    spent = Usage.of(input_tokens=60, output_tokens=40)
    replies = FakeBackend(lambda request: Response("ok", usage=spent))
    with use_backend(replies), budget(tokens=600) as b:
        # Each call's worst case is about 100 + a few tokens, and each spends 100: after
        # five calls the sixth cannot fit.
        result = echo.map([f"item {n}" for n in range(20)], concurrency=1)
    assert len(replies.requests) == 5
    assert [o.ok for o in result] == [True] * 5 + [False] * 15
    assert all(isinstance(o.error, BudgetExceeded) for o in result[5:])
    assert b.spent_tokens == 500


def test_the_worst_case_counts_the_request_and_max_tokens() -> None:
    from alloy._messages import Message

    request = Request(model="m", messages=(Message.user("x" * 400),), max_tokens=7)
    assert worst_tokens(request) == (101, 7)
    assert worst_tokens(Request(model="m", messages=()))[1] == 4096


def test_bad_budgets_are_configuration_errors() -> None:
    with pytest.raises(ConfigurationError), budget():
        pass
    with pytest.raises(ConfigurationError), budget(usd=-1):
        pass
    with pytest.raises(ConfigurationError), budget(tokens=True):  # type: ignore[arg-type]
        pass


def test_the_error_pickles() -> None:
    from decimal import Decimal

    error = BudgetExceeded(
        "too much", spent_usd=Decimal("1.5"), limit_usd=Decimal(2), needed_tokens=9
    )
    back = pickle.loads(pickle.dumps(error))
    assert (str(back), back.spent_usd, back.limit_usd, back.needed_tokens) == (
        "too much",
        Decimal("1.5"),
        Decimal(2),
        9,
    )


def test_max_total_tokens_is_a_ceiling_on_one_command_call(alloy_fake: FakeBackend) -> None:
    with pytest.raises(BudgetExceeded) as caught:
        echo.with_config(max_total_tokens=50)("hello")
    assert alloy_fake.requests == []
    assert caught.value.limit_tokens == 50
    # Each call has its own ceiling: two calls that each fit both run.
    alloy_fake.add_reply("one", usage=Usage.of(input_tokens=30, output_tokens=20))
    alloy_fake.add_reply("two", usage=Usage.of(input_tokens=30, output_tokens=20))
    fits = echo.with_config(max_total_tokens=1_000)
    assert [fits("a"), fits("b")] == ["one", "two"]


def test_max_total_tokens_comes_from_the_environment(
    alloy_fake: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ALLOY_MAX_TOTAL_TOKENS", "50")
    with pytest.raises(BudgetExceeded):
        echo("hello")
    assert alloy_fake.requests == []
    with pytest.raises(ConfigurationError, match="max_total_tokens"):
        echo.with_config(max_total_tokens=-1)("hello")
