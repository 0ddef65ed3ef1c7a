"""Provider dialects of JSON schema: pure functions from one schema dict to another.

Pydantic produces standard JSON schema; each provider accepts a different subset. A dialect
is a transform registered here by name; backends name theirs in their capability data.
Transforms never mutate their input and are memoised per ``OutputSchema`` / ``ToolSpec``.
Each dialect lives in its own module of this package and is imported on first use.
"""

from __future__ import annotations

import importlib

from .._messages import OutputSchema
from .._messages import ToolSpec
from ._core import Dialect
from ._core import DialectSchema
from ._core import JsonSchema
from ._core import is_object_root
from ._core import json_dialect
from ._core import walk
from ._core import wrap

__all__ = [
    "DIALECTS",
    "Dialect",
    "DialectSchema",
    "JsonSchema",
    "dialect",
    "for_output",
    "for_tool",
    "is_object_root",
    "walk",
    "wrap",
]

# Dialect name -> "module:function" in this package.
_PATHS = {
    "openai": "openai:openai_dialect",
    "anthropic": "anthropic:anthropic_dialect",
    "gemini": "gemini:gemini_dialect",
    "ollama": "ollama:ollama_dialect",
}
DIALECTS: dict[str, Dialect] = {"json": json_dialect}
"""Dialects loaded so far, by name (filled on first use of each)."""


def dialect(name: str) -> Dialect:
    """The transform registered as ``name``."""
    found = DIALECTS.get(name)
    if found is None:
        try:
            module, _, attr = _PATHS[name].partition(":")
        except KeyError:
            known = ", ".join(sorted({*_PATHS, *DIALECTS}))
            raise KeyError(f"unknown schema dialect {name!r}; known: {known}") from None
        found = DIALECTS[name] = getattr(importlib.import_module(f".{module}", __name__), attr)
    return found


def for_output(output: OutputSchema, name: str) -> DialectSchema:
    """``output``'s schema in dialect ``name``, computed once per schema."""
    cached: DialectSchema | None = output.dialects.get(name)
    if cached is None:
        cached = output.dialects[name] = dialect(name)(output.schema)
    return cached


def for_tool(tool: ToolSpec, name: str) -> DialectSchema:
    """``tool``'s parameter schema in dialect ``name``, computed once per tool."""
    cached: DialectSchema | None = tool.dialects.get(name)
    if cached is None:
        cached = tool.dialects[name] = dialect(name)(tool.parameters)
    return cached
