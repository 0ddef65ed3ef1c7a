"""Token usage with one meaning on every provider, summed over every model call a command makes.

The providers count differently (Anthropic's ``input_tokens`` leaves out cache reads and
writes, OpenAI's includes cache reads; Gemini's candidate count leaves out thinking), so
each backend maps its counts to these meanings, and keeps the provider's own numbers in
``details``:

- ``input_tokens`` is every input token, cache reads and writes included;
  ``cached_input_tokens`` (read from a cache) and ``cache_write_tokens`` (written to one)
  are parts of it;
- ``output_tokens`` is every output token, reasoning included; ``reasoning_tokens`` is part
  of it;
- ``total_tokens`` is ``input_tokens + output_tokens`` when both are known.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from types import MappingProxyType
from typing import Any

__all__ = ["Usage"]

_NO_DETAILS: Mapping[str, int] = MappingProxyType({})


def _add(a: int | None, b: int | None) -> int | None:
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def _details(raw: Mapping[str, int | None] | None) -> Mapping[str, int]:
    if not raw:
        return _NO_DETAILS
    return MappingProxyType({k: v for k, v in raw.items() if v is not None})


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts with the same meaning on every provider; ``None`` where it reported none.

    ``input_tokens`` includes cache reads (``cached_input_tokens``) and cache writes
    (``cache_write_tokens``); ``output_tokens`` includes reasoning (``reasoning_tokens``);
    ``total_tokens`` is their sum. ``details`` holds the provider's own counts, named as on
    its wire (nested fields joined with dots), for anyone who needs them; two ``Usage``
    values with the same counts are equal whatever their details.

    >>> (Usage.of(input_tokens=3, output_tokens=2) + Usage.of(input_tokens=1)).input_tokens
    4
    """

    input_tokens: int | None = None
    output_tokens: int | None = None
    cached_input_tokens: int | None = None
    reasoning_tokens: int | None = None
    total_tokens: int | None = None
    cache_write_tokens: int | None = None
    details: Mapping[str, int] = field(default_factory=lambda: _NO_DETAILS, compare=False)

    @classmethod
    def of(
        cls,
        input_tokens: int | None = None,
        output_tokens: int | None = None,
        cached_input_tokens: int | None = None,
        reasoning_tokens: int | None = None,
        total_tokens: int | None = None,
        *,
        cache_write_tokens: int | None = None,
        details: Mapping[str, int | None] | None = None,
    ) -> Usage:
        """Build a ``Usage``: ``total_tokens`` is input + output whenever both are known
        (a provider's own total, which may count more, belongs in ``details``)."""
        if input_tokens is not None and output_tokens is not None:
            total_tokens = input_tokens + output_tokens
        return cls(
            input_tokens,
            output_tokens,
            cached_input_tokens,
            reasoning_tokens,
            total_tokens,
            cache_write_tokens,
            _details(details),
        )

    def __add__(self, other: Usage) -> Usage:
        if not isinstance(other, Usage):  # pyright: ignore[reportUnnecessaryIsInstance]
            return NotImplemented
        details = dict(self.details)
        for name, value in other.details.items():
            details[name] = details.get(name, 0) + value
        return Usage(
            _add(self.input_tokens, other.input_tokens),
            _add(self.output_tokens, other.output_tokens),
            _add(self.cached_input_tokens, other.cached_input_tokens),
            _add(self.reasoning_tokens, other.reasoning_tokens),
            _add(self.total_tokens, other.total_tokens),
            _add(self.cache_write_tokens, other.cache_write_tokens),
            _details(details),
        )

    def __reduce__(self) -> tuple[Any, ...]:
        # ``details`` is read-only (a mappingproxy, which does not pickle): send it as a dict.
        return (
            _unpickled,
            (
                self.input_tokens,
                self.output_tokens,
                self.cached_input_tokens,
                self.reasoning_tokens,
                self.total_tokens,
                self.cache_write_tokens,
                dict(self.details),
            ),
        )


def _unpickled(
    input_tokens: int | None,
    output_tokens: int | None,
    cached_input_tokens: int | None,
    reasoning_tokens: int | None,
    total_tokens: int | None,
    cache_write_tokens: int | None,
    details: dict[str, int],
) -> Usage:
    """A pickled ``Usage``, read back."""
    return Usage(
        input_tokens,
        output_tokens,
        cached_input_tokens,
        reasoning_tokens,
        total_tokens,
        cache_write_tokens,
        _details(details),
    )
