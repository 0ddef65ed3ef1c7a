"""What a model does with the reasoning settings, as data, and the checks made before a call.

Each provider keeps a table of ``ReasoningRow``s (model-name prefixes, first match winning,
the last row standing for every model not named). A row's ``ReasoningSupport`` says which
``reasoning_effort`` values the model takes, whether it takes a token budget, and how the
provider's encoder spells them (``style``). ``check`` refuses, before any network call, what
the row cannot honour, naming what it accepts: alloy never drops a setting silently.

Styles, and what each encoder sends:

- ``effort``: an effort value as is (OpenAI ``reasoning.effort`` / ``reasoning_effort``).
- ``adaptive``: the model decides how long to think (Anthropic ``thinking: adaptive`` plus
  ``output_config.effort``); a budget, where the row takes one, switches to a fixed budget.
- ``budget``: a token budget; an effort is turned into one with ``budget_for``
  (Anthropic ``thinking: enabled``, Gemini 2.5 ``thinking_budget``).
- ``level``: a thinking level (Gemini 3 ``thinking_level``); a budget where the row takes one.
- ``think``: Ollama's ``think``, ``true``/``false`` or a level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal
from typing import get_args

from .._errors import CapabilityError
from .._errors import ConfigurationError

__all__ = [
    "EFFORTS",
    "ReasoningEffort",
    "ReasoningRow",
    "ReasoningStyle",
    "ReasoningSupport",
    "budget_for",
    "check",
    "sent_budget",
    "support_for",
]

ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
EFFORTS: tuple[ReasoningEffort, ...] = get_args(ReasoningEffort)
"""Every value of the ``reasoning_effort`` setting, least first."""
ReasoningStyle = Literal["effort", "adaptive", "budget", "level", "think"]
ReasoningText = Literal["summary", "full", "none"]

# The budget an effort stands for on budget-style models, before the row's range clamps it.
_BUDGETS: dict[str, int] = {
    "minimal": 1024,
    "low": 2048,
    "medium": 6144,
    "high": 12288,
    "xhigh": 24576,
    "max": 32768,
}


@dataclass(frozen=True, slots=True)
class ReasoningSupport:
    """How a model reasons, and which settings it honours.

    Attributes:
        style: how the encoder spells the settings (see the module docstring).
        efforts: the ``reasoning_effort`` values the model takes; ``"none"`` among them
            means thinking can be switched off.
        budget: the ``reasoning_budget`` range ``(least, most)`` in tokens (``most`` None:
            bounded only by ``max_tokens``), or None when the model takes no budget.
        text: what the provider returns of the reasoning: a ``summary``, the ``full``
            text, or ``none``; ``show_reasoning=True`` is refused for ``none``.
        shown_alone: ``show_reasoning=True`` with no effort or budget turns thinking on at
            the model's default; when False the model needs an effort or a budget for it.
        temperature: a sampling temperature may be sent while the model thinks.
        budget_in_max_tokens: the budget is part of ``max_tokens`` and must stay below it.
    """

    style: ReasoningStyle
    efforts: tuple[ReasoningEffort, ...] = EFFORTS
    budget: tuple[int, int | None] | None = None
    text: ReasoningText = "summary"
    shown_alone: bool = True
    temperature: bool = True
    budget_in_max_tokens: bool = False

    @property
    def can_disable(self) -> bool:
        """Whether ``reasoning_effort="none"`` is honoured."""
        return "none" in self.efforts


@dataclass(frozen=True, slots=True)
class ReasoningRow:
    """The reasoning of the models whose names start with one of ``prefixes`` (empty: every
    model); ``support`` None means they do not reason (or take no reasoning setting)."""

    support: ReasoningSupport | None
    prefixes: tuple[str, ...] = ()
    label: str = ""

    @property
    def models(self) -> str:
        """How the docs name these models."""
        if self.label:
            return self.label
        if not self.prefixes:
            return "all other models"
        return ", ".join(f"`{prefix}*`" for prefix in self.prefixes)


def support_for(rows: Sequence[ReasoningRow], model: str) -> ReasoningSupport | None:
    """The support of the first row matching ``model`` (already normalised by the provider).

    >>> rows = (ReasoningRow(None, ("gpt-4",)), ReasoningRow(ReasoningSupport("effort")))
    >>> support_for(rows, "gpt-4o") is None
    True
    """
    for row in rows:
        if not row.prefixes or model.startswith(row.prefixes):
            return row.support
    raise LookupError(f"no reasoning row matches {model!r}; the last row should match every model")


def budget_for(support: ReasoningSupport, effort: str) -> int:
    """The token budget ``effort`` stands for on a budget-style model, inside its range.

    >>> budget_for(ReasoningSupport("budget", budget=(128, 24576)), "max")
    24576
    """
    budget = _BUDGETS.get(effort, _BUDGETS["medium"])
    if support.budget is not None:
        least, most = support.budget
        budget = max(least, budget if most is None else min(most, budget))
    return budget


def check(
    support: ReasoningSupport | None,
    *,
    provider: str,
    model: str,
    effort: str | None,
    budget: int | None,
    show: bool | None,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> None:
    """Refuse what ``model`` cannot honour, before any call (``CapabilityError``)."""
    if effort is None and budget is None and not show:
        return
    if effort is not None and budget is not None:
        raise ConfigurationError(
            "reasoning_effort and reasoning_budget were both set; set one of them."
        )
    if support is None:
        asked = f"reasoning_effort={effort!r}" if effort is not None else "reasoning settings"
        if budget is not None:
            asked = "reasoning_budget"
        elif effort is None:
            asked = "show_reasoning"
        raise CapabilityError(
            asked,
            provider,
            model,
            hint="This model does not reason; leave the reasoning settings unset or pick a "
            "reasoning model.",
        )
    if effort is not None and effort not in support.efforts:
        accepted = ", ".join(repr(e) for e in support.efforts)
        why = " (thinking cannot be switched off)" if effort == "none" else ""
        raise CapabilityError(
            f"reasoning_effort={effort!r}{why}",
            provider,
            model,
            hint=f"Accepted values: {accepted}.",
        )
    if budget is not None:
        _check_budget(support, budget, provider, model)
    if show and support.text == "none":
        raise CapabilityError(
            "show_reasoning=True",
            provider,
            model,
            hint="This API returns no reasoning text for this model; leave show_reasoning "
            "unset (reasoning tokens are still counted in Usage.reasoning_tokens).",
        )
    if show and effort is None and budget is None and not support.shown_alone:
        raise CapabilityError(
            "show_reasoning=True without reasoning_effort or reasoning_budget",
            provider,
            model,
            hint="This model thinks only when asked to: set reasoning_effort (or "
            "reasoning_budget) as well.",
        )
    thinking = effort != "none"
    if thinking and temperature is not None and not support.temperature:
        raise CapabilityError(
            "a temperature while thinking",
            provider,
            model,
            hint="Leave temperature unset, or set reasoning_effort='none'.",
        )
    sent = budget if budget is not None else sent_budget(support, effort)
    below = max_tokens is not None and support.budget_in_max_tokens
    if sent is not None and below and max_tokens is not None and sent >= max_tokens:
        raise ConfigurationError(
            f"The thinking budget ({sent} tokens) must be below max_tokens ({max_tokens}) "
            f"on {provider}:{model}: raise max_tokens above {sent}, or set a smaller "
            "reasoning_budget or reasoning_effort."
        )


def sent_budget(support: ReasoningSupport, effort: str | None) -> int | None:
    """The budget the encoder sends for ``effort`` (None: none sent, or the effort is sent
    as is)."""
    if effort is None or effort == "none" or support.style != "budget":
        return None
    return budget_for(support, effort)


def _check_budget(support: ReasoningSupport, budget: int, provider: str, model: str) -> None:
    if support.budget is None:
        accepted = ", ".join(repr(e) for e in support.efforts)
        raise CapabilityError(
            "reasoning_budget",
            provider,
            model,
            hint=f"This model takes an effort, not a token budget: set reasoning_effort "
            f"({accepted}) instead.",
        )
    least, most = support.budget
    if budget < least or (most is not None and budget > most):
        span = f"{least} to {most}" if most is not None else f"{least} or more"
        raise CapabilityError(
            f"reasoning_budget={budget}",
            provider,
            model,
            hint=f"Accepted budgets: {span} tokens.",
        )
