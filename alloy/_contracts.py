"""Design by contract for tools: ``@require`` checks arguments, ``@ensure`` the result.

Contracts are stored on the function (or on the ``Tool`` wrapping it), so the decorators work
in any order relative to ``@tool``. A failed contract raises ``ToolError``; inside a command
the message goes back to the model as the tool's result, marked as an error, so the model can
correct itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from typing import Literal
from typing import TypeVar

from ._errors import ToolError

__all__ = ["Arguments", "Contract", "contracts_of", "ensure", "require"]

F = TypeVar("F")

_ATTR = "__alloy_contracts__"


class Arguments(dict[str, Any]):
    """A tool call's bound arguments (defaults applied), given to ``@require`` predicates.

    Read them as a mapping or as attributes: ``args["n"]`` or ``args.n``. ``args.arguments``
    is the mapping itself, like ``inspect.BoundArguments.arguments``.
    """

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def arguments(self) -> dict[str, Any]:
        return self


@dataclass(frozen=True, slots=True)
class Contract:
    """One check: ``require`` on the arguments or ``ensure`` on the return value."""

    kind: Literal["require", "ensure"]
    predicate: Callable[[Any], object]
    message: str

    def check(self, value: Any) -> None:
        """Raise ``ToolError`` with the message when the predicate does not hold."""
        try:
            holds = bool(self.predicate(value))
        except Exception as exc:  # a predicate that crashes is a failed check, not a crash
            raise ToolError(
                f"{self.message} (the check raised {type(exc).__name__}: {exc})"
            ) from exc
        if not holds:
            raise ToolError(self.message)


def contracts_of(obj: Any) -> list[Contract]:
    """The contracts attached to ``obj`` (created empty on first use)."""
    found: list[Contract] | None = getattr(obj, _ATTR, None)
    if found is None:
        found = []
        setattr(obj, _ATTR, found)
    return found


def _attach(
    kind: Literal["require", "ensure"], predicate: Callable[[Any], object], message: str | None
) -> Callable[[F], F]:
    text = message or f"{kind} check failed: {getattr(predicate, '__name__', 'predicate')}"

    def decorate(target: F) -> F:
        # Contracts run outermost-first; decorators apply bottom-up, so insert at the front.
        contracts_of(target).insert(0, Contract(kind, predicate, text))
        return target

    return decorate


def require(
    predicate: Callable[[Arguments], object], message: str | None = None
) -> Callable[[F], F]:
    """Check a tool's arguments before it runs.

    The predicate receives the bound arguments (defaults applied) as an ``Arguments``
    mapping; when it returns a false value, the tool is not called and ``message`` is
    reported.

    >>> @require(lambda args: args.n >= 0, "n must not be negative")
    ... def square_root(n: float) -> float:
    ...     return n**0.5
    """
    return _attach("require", predicate, message)


def ensure(predicate: Callable[[Any], object], message: str | None = None) -> Callable[[F], F]:
    """Check a tool's return value; a false result reports ``message`` as the tool's error.

    >>> @ensure(lambda result: result != "", "the lookup found nothing")
    ... def lookup(key: str) -> str:
    ...     return key.upper()
    """
    return _attach("ensure", predicate, message)
