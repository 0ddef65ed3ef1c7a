"""Budgets: a ceiling on what model calls may spend, in US dollars and in tokens.

``with alloy.budget(usd=5, tokens=2_000_000) as b:`` covers every command called in the
block (threads and tasks it starts included: maps share it); the ``max_cost_usd`` setting
is a ceiling on one command call (all its model calls: tool turns, re-asks). Both are
observers (``alloy._observe``):

- before each model call, the worst case is estimated: the request's input tokens (its text
  at four characters a token, which errs high for English and low for some scripts and for
  media) plus its ``max_tokens`` (or ``DEFAULT_OUTPUT`` when none is set), priced at list
  prices. A call whose worst case does not fit what is left is not started:
  ``BudgetExceeded``, with no request;
- after each call, what it really spent (its ``Usage`` and cost) is charged.

A dollar budget needs list prices (the ``cost`` extra); for a model without any, a dollar
budget cannot be kept and the call is refused with the reason. Token budgets need no price.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Generator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING

from ._errors import CommandError
from ._errors import ConfigurationError
from ._observe import ModelCall
from ._observe import Observer
from ._observe import observe

if TYPE_CHECKING:
    from ._messages import Request
    from ._messages import Response

__all__ = ["DEFAULT_OUTPUT", "Budget", "BudgetExceeded", "budget"]

DEFAULT_OUTPUT = 4096
"""Output tokens assumed for the worst case of a call that sets no ``max_tokens``."""


class BudgetExceeded(CommandError):
    """A call would exceed (in the worst case) what a budget has left, so it was not made.

    Attributes:
        spent_usd / spent_tokens: what the budget had spent when the call was refused.
        limit_usd / limit_tokens: the budget's limits (None: no such limit).
        needed_usd / needed_tokens: the refused call's worst case.
    """

    def __init__(
        self,
        message: str,
        *,
        spent_usd: Decimal = Decimal(0),
        spent_tokens: int = 0,
        limit_usd: Decimal | None = None,
        limit_tokens: int | None = None,
        needed_usd: Decimal | None = None,
        needed_tokens: int | None = None,
    ):
        self.spent_usd = spent_usd
        self.spent_tokens = spent_tokens
        self.limit_usd = limit_usd
        self.limit_tokens = limit_tokens
        self.needed_usd = needed_usd
        self.needed_tokens = needed_tokens
        super().__init__(message)


class Budget(Observer):
    """What a budget may spend and has spent; shared safely by threads and tasks."""

    def __init__(self, usd: float | Decimal | None = None, tokens: int | None = None):
        if usd is None and tokens is None:
            raise ConfigurationError("budget() needs usd=..., tokens=... or both.")
        if usd is not None and not _amount(usd):
            raise ConfigurationError(f"budget(usd={usd!r}) takes a number of dollars, 0 or more.")
        if tokens is not None and not (_amount(tokens) and isinstance(tokens, int)):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ConfigurationError(f"budget(tokens={tokens!r}) takes a number of tokens.")
        self.limit_usd = None if usd is None else Decimal(str(usd))
        self.limit_tokens = tokens
        self.spent_usd = Decimal(0)
        self.spent_tokens = 0
        self._lock = threading.Lock()

    @property
    def remaining_usd(self) -> Decimal | None:
        """Dollars left (None: no dollar limit)."""
        return None if self.limit_usd is None else self.limit_usd - self.spent_usd

    @property
    def remaining_tokens(self) -> int | None:
        """Tokens left (None: no token limit)."""
        return None if self.limit_tokens is None else self.limit_tokens - self.spent_tokens

    def model_started(self, call: ModelCall) -> None:
        if call.cached:
            return  # a stored reply: nothing will be spent
        tokens = worst_tokens(call.request)
        usd = self._worst_usd(call, tokens) if self.limit_usd is not None else None
        with self._lock:
            over_tokens = self.limit_tokens is not None and (
                self.spent_tokens + sum(tokens) > self.limit_tokens
            )
            over_usd = (
                usd is not None
                and self.limit_usd is not None
                and self.spent_usd + usd > self.limit_usd
            )
            if not (over_tokens or over_usd):
                return
            raise BudgetExceeded(
                self._message(sum(tokens), usd),
                spent_usd=self.spent_usd,
                spent_tokens=self.spent_tokens,
                limit_usd=self.limit_usd,
                limit_tokens=self.limit_tokens,
                needed_usd=usd,
                needed_tokens=sum(tokens),
            )

    def model_finished(self, call: ModelCall, response: Response) -> None:
        if call.cached or response.cached:
            return  # no request was made
        usage = response.usage
        tokens = (usage.input_tokens or 0) + (usage.output_tokens or 0)
        usd = Decimal(0)
        if self.limit_usd is not None:
            from ._cost import price

            found = price(usage, call.command.pricing, response.model or call.request.model)
            usd = Decimal(0) if isinstance(found, str) else found.usd
        with self._lock:
            self.spent_tokens += tokens
            self.spent_usd += usd

    def _worst_usd(self, call: ModelCall, tokens: tuple[int, int]) -> Decimal:
        from ._cost import price
        from ._usage import Usage

        found = price(Usage.of(*tokens), call.command.pricing, call.request.model)
        if isinstance(found, str):
            raise BudgetExceeded(
                f"A dollar budget cannot be kept for {call.command.provider}:"
                f"{call.request.model}: {found}. Use a token budget (budget(tokens=...)) "
                "for models without list prices.",
                spent_usd=self.spent_usd,
                spent_tokens=self.spent_tokens,
                limit_usd=self.limit_usd,
                limit_tokens=self.limit_tokens,
            )
        return found.usd

    def _message(self, tokens: int, usd: Decimal | None) -> str:
        parts: list[str] = []
        if self.limit_tokens is not None:
            parts.append(f"{self.spent_tokens} of {self.limit_tokens} tokens spent")
        if self.limit_usd is not None:
            parts.append(f"${self.spent_usd:.6f} of ${self.limit_usd} spent")
        worst = f"up to {tokens} tokens" + (f" (${usd:.6f})" if usd is not None else "")
        return (
            f"The budget is too low for the next model call ({'; '.join(parts)}; the call "
            f"could take {worst}), so it was not made. Raise the budget, or lower max_tokens."
        )

    def __repr__(self) -> str:
        return (
            f"Budget(spent_usd={self.spent_usd}, limit_usd={self.limit_usd}, "
            f"spent_tokens={self.spent_tokens}, limit_tokens={self.limit_tokens})"
        )


def _amount(value: object) -> bool:
    """Whether ``value`` is a number of 0 or more (a bool is not a number here)."""
    return isinstance(value, int | float | Decimal) and not isinstance(value, bool) and value >= 0


def worst_tokens(request: Request) -> tuple[int, int]:
    """``(input, output)`` tokens a call of ``request`` may take at most, estimated."""
    chars = len(request.system or "")
    for message in request.messages:
        for part in message.parts:
            text = getattr(part, "text", None)
            chars += len(text) if isinstance(text, str) else 0
            arguments = getattr(part, "arguments", None)
            chars += len(arguments) if isinstance(arguments, str) else 0
    for spec in request.tools:
        chars += len(spec.name) + len(spec.description) + len(json.dumps(dict(spec.parameters)))
    if request.output is not None:
        chars += len(json.dumps(dict(request.output.schema)))
    output = request.max_tokens if request.max_tokens is not None else DEFAULT_OUTPUT
    return chars // 4 + 1, output


@contextmanager
def budget(
    usd: float | Decimal | None = None, tokens: int | None = None
) -> Generator[Budget, None, None]:
    """A budget over every command called in the ``with`` block (and the threads and tasks
    it starts): ``with alloy.budget(usd=5) as b: ...``; ``b.spent_usd`` afterwards."""
    found = Budget(usd, tokens)
    with observe(found):
        yield found
