"""Small pieces of request and reply handling that every provider needs the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import cast

__all__ = ["as_int", "merge_options"]


def merge_options(params: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with ``options`` on top; nested mappings merge key by key instead of
    replacing, so ``provider_options`` can add to a block alloy sets (``text.format`` next to
    ``text.verbosity``, ``temperature`` in ``extra_body``) without removing it.

    >>> merge_options({"text": {"format": "f"}}, {"text": {"verbosity": "low"}, "n": 1})
    {'text': {'format': 'f', 'verbosity': 'low'}, 'n': 1}
    """
    merged = dict(params)
    for key, value in options.items():
        current = merged.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            merged[key] = merge_options(
                cast("Mapping[str, Any]", current), cast("Mapping[str, Any]", value)
            )
        else:
            merged[key] = value
    return merged


def as_int(value: object) -> int | None:
    """``value`` if it is an integer (a bool is not), else ``None``: token counts from
    servers that omit or mangle them."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None
