"""Small pieces of request and reply handling that every provider needs the same way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import cast

from .._errors import ConfigurationError

__all__ = ["as_int", "clash_error", "merge_options"]

# The typed setting to use instead of a provider key alloy sets itself (others: the
# general list in ``clash_error``).
_INSTEAD = {
    "reasoning": "reasoning_effort / show_reasoning",
    "reasoning_effort": "reasoning_effort",
    "thinking": "reasoning_effort / reasoning_budget / show_reasoning",
    "thinking_config": "reasoning_effort / reasoning_budget / show_reasoning",
    "think": "reasoning_effort / show_reasoning",
}


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


def clash_error(provider: str, keys: list[str]) -> ConfigurationError:
    """The error for ``provider_options[provider]`` setting ``keys``, which alloy sets from
    its typed settings: it names the setting to use for each."""
    special = [f"{key} (use {_INSTEAD[key]})" for key in keys if key in _INSTEAD]
    named = ", ".join(special)
    if len(special) < len(keys):
        others = ", ".join(key for key in keys if key not in _INSTEAD)
        named = f"{named}, {others}" if named else others
    return ConfigurationError(
        f"provider_options[{provider!r}] sets {named}, which alloy sets from its own "
        "settings. Use the typed setting (model, temperature, max_tokens, system, timeout, "
        "reasoning_effort, reasoning_budget, show_reasoning, output type, tools) instead."
    )
