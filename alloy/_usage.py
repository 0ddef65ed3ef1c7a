"""Token usage, summed over every model call a command makes."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Usage"]


def _add(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts as the provider reported them; ``None`` where it did not report one.

    The counts are the provider's own (see docs/providers.md for what each provider counts):
    for example Anthropic's ``input_tokens`` excludes cached tokens while OpenAI's includes
    them. ``total_tokens`` is the provider's total when it sends one, else input + output.

    >>> (Usage(input_tokens=3, output_tokens=2) + Usage(input_tokens=1)).input_tokens
    4
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    total_tokens: int | None = None

    @classmethod
    def of(
        cls,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cached_input_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        total_tokens: int | None = None,
    ) -> Usage:
        """Build a ``Usage``, deriving ``total_tokens`` when the provider sent none."""
        if total_tokens is None and input_tokens is not None and output_tokens is not None:
            total_tokens = input_tokens + output_tokens
        return cls(input_tokens, output_tokens, cached_input_tokens, reasoning_tokens, total_tokens)

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):  # pyright: ignore[reportUnnecessaryIsInstance]
            return NotImplemented
        return Usage(
            _add(self.input_tokens, other.input_tokens),
            _add(self.output_tokens, other.output_tokens),
            _add(self.cached_input_tokens, other.cached_input_tokens),
            _add(self.reasoning_tokens, other.reasoning_tokens),
            _add(self.total_tokens, other.total_tokens),
        )
