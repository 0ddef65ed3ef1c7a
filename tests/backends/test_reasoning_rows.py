"""The reasoning rows are data the SDKs must agree with: every effort a row sends is a value
the installed SDK's own types name, so an SDK upgrade that drops one fails here first."""

from __future__ import annotations

from typing import Any
from typing import get_args

import pytest

from alloy import CapabilityError
from alloy import ConfigurationError
from alloy.backends._reasoning import EFFORTS
from alloy.backends._reasoning import ReasoningRow
from alloy.backends._reasoning import ReasoningSupport
from alloy.backends._reasoning import budget_for
from alloy.backends._reasoning import check
from alloy.backends._reasoning import support_for
from alloy.backends.anthropic._models import REASONING as ANTHROPIC
from alloy.backends.gemini._models import REASONING as GEMINI
from alloy.backends.ollama._models import REASONING as OLLAMA
from alloy.backends.openai._models import CHAT_REASONING
from alloy.backends.openai._models import REASONING as OPENAI

TABLES = {
    "openai": OPENAI,
    "openai-chat": CHAT_REASONING,
    "anthropic": ANTHROPIC,
    "gemini": GEMINI,
    "ollama": OLLAMA,
}


def _supports(rows: tuple[ReasoningRow, ...]) -> list[ReasoningSupport]:
    return [row.support for row in rows if row.support is not None]


def _literal(tp: Any) -> set[str]:
    found: set[str] = set()
    for arg in get_args(tp):
        found |= _literal(arg) if get_args(arg) else {arg} if isinstance(arg, str) else set()
    return found


@pytest.mark.parametrize("name", TABLES)
def test_every_table_ends_with_a_row_for_every_other_model(name: str) -> None:
    rows = TABLES[name]
    assert rows[-1].prefixes == ()
    assert all(row.prefixes for row in rows[:-1])
    assert support_for(rows, "a-model-nobody-named") is rows[-1].support


def test_openai_efforts_are_the_sdks() -> None:
    from openai.types.shared.reasoning_effort import ReasoningEffort

    accepted = _literal(ReasoningEffort)
    for support in _supports(OPENAI) + _supports(CHAT_REASONING):
        assert set(support.efforts) <= accepted, support


def test_anthropic_efforts_are_the_sdks() -> None:
    from typing import get_type_hints

    from anthropic.types.output_config_param import OutputConfigParam

    accepted = _literal(get_type_hints(OutputConfigParam)["effort"]) | {"none"}
    for support in _supports(ANTHROPIC):
        if support.style == "adaptive":
            assert set(support.efforts) <= accepted, support


def test_gemini_levels_are_the_sdks() -> None:
    from google.genai import types

    accepted = {level.value for level in types.ThinkingLevel}
    for support in _supports(GEMINI):
        if support.style == "level":
            assert {e.upper() for e in support.efforts} <= accepted, support


def test_ollama_levels_are_what_think_takes() -> None:
    for support in _supports(OLLAMA):
        assert set(support.efforts) <= {"none", "low", "medium", "high"}, support


def test_an_effort_stands_for_a_budget_inside_the_models_range() -> None:
    narrow = ReasoningSupport("budget", budget=(512, 4000))
    assert budget_for(narrow, "minimal") == 1024
    assert budget_for(narrow, "max") == 4000
    assert budget_for(ReasoningSupport("budget", budget=(2000, None)), "minimal") == 2000
    assert [budget_for(ReasoningSupport("budget"), e) for e in EFFORTS[1:]] == sorted(
        budget_for(ReasoningSupport("budget"), e) for e in EFFORTS[1:]
    )


def _check(support: ReasoningSupport | None, **settings: Any) -> None:
    values: dict[str, Any] = {"effort": None, "budget": None, "show": None, **settings}
    check(support, provider="p", model="m", **values)


def test_check_names_what_is_accepted() -> None:
    levels = ReasoningSupport("level", ("low", "high"))
    _check(levels, effort="low")
    with pytest.raises(CapabilityError, match=r"Accepted values: 'low', 'high'\."):
        _check(levels, effort="medium")
    with pytest.raises(CapabilityError, match="cannot be switched off"):
        _check(levels, effort="none")
    with pytest.raises(CapabilityError, match="not a token budget"):
        _check(levels, budget=100)
    with pytest.raises(CapabilityError, match="does not reason"):
        _check(None, show=True)
    _check(None, show=False)  # asking for no reasoning text of a model with none is fine
    _check(None)


def test_check_budgets_temperatures_and_max_tokens() -> None:
    claude = ReasoningSupport(
        "budget", budget=(1024, None), temperature=False, budget_in_max_tokens=True
    )
    _check(claude, budget=1024, max_tokens=2000)
    with pytest.raises(CapabilityError, match="1024 or more"):
        _check(claude, budget=1023)
    with pytest.raises(ConfigurationError, match="below max_tokens"):
        _check(claude, budget=2000, max_tokens=2000)
    with pytest.raises(CapabilityError, match="temperature"):
        _check(claude, effort="low", temperature=0.5)
    _check(claude, effort="none", temperature=0.5)  # not thinking: a temperature is fine
    with pytest.raises(ConfigurationError, match="both set"):
        _check(claude, effort="low", budget=2048)
