"""Ollama's dialect: what its ``format`` grammar conversion handles."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ._core import SCHEMA_LISTS
from ._core import SCHEMA_MAPS
from ._core import SCHEMA_ONE
from ._core import DialectSchema
from ._core import JsonSchema
from ._core import walk

# Ollama turns ``format`` into a llama.cpp grammar (json-schema-to-grammar), which enforces
# type, properties, required, additionalProperties, items, prefixItems, min/maxItems, enum,
# const, anyOf/oneOf, local $refs, string formats (date, time, date-time, uuid) and string
# lengths, and ignores the rest. The rewrites below avoid what it gets wrong; pydantic still
# checks the reply against the full schema.
# - $refs are inlined (only recursive ones stay, with their $defs): the converter resolves
#   nested references in an order-dependent way and builds a wrong grammar for some
#   pydantic schemas (ollama/ollama#8444).
# - ``pattern`` is dropped: the converter takes only a small regex subset (anchored with
#   ^...$, no ``\d``), and one pattern outside it fails the whole conversion, after which
#   Ollama answers unconstrained (ollama/ollama#8063).
# - An object with ``properties`` and no ``additionalProperties`` is closed: the converter
#   reads the missing keyword as true and lets the model add keys (pydantic ignores unknown
#   keys anyway).
# - A node that constrains nothing (``Any``: ``{}``, or annotations only, such as pydantic's
#   ``{"title": "X"}``) is given every JSON type: the converter reads ``{}`` as "any object"
#   and rejects a node with only annotations; ``additionalProperties: true`` becomes such a
#   node too.
# - ``discriminator`` is dropped: its mapping names definitions that are now inlined.
_OLLAMA_ANY_TYPE = ("string", "number", "boolean", "object", "array", "null")
_OLLAMA_CONSTRAINING = frozenset(
    {
        "$ref",
        "type",
        "enum",
        "const",
        "anyOf",
        "oneOf",
        "allOf",
        "properties",
        "additionalProperties",
        "items",
        "prefixItems",
        "format",
        "minLength",
        "maxLength",
    }
)
_OLLAMA_DEFS = "#/$defs/"


def ollama_dialect(schema: Mapping[str, Any]) -> DialectSchema:
    """``schema`` rewritten for Ollama's grammar-based ``format`` (see the rules above).

    Ollama enforces what it can through the grammar; ``strict`` (an OpenAI notion) is False.
    """
    defs: Mapping[str, Any] = schema.get("$defs") or {}
    kept: dict[str, JsonSchema] = {}
    out: JsonSchema = _ollama_inline(schema, defs, (), kept)
    done: set[str] = set()
    while set(kept) - done:  # a kept definition may reach other recursive ones
        name = min(set(kept) - done)
        done.add(name)
        kept[name] = _ollama_inline(defs[name], defs, (name,), kept)
    if kept:
        out["$defs"] = kept
    walk(out, _ollama_rewrite)
    return DialectSchema(out, strict=False)


def _ollama_inline(
    node: Any, defs: Mapping[str, Any], stack: tuple[str, ...], kept: dict[str, JsonSchema]
) -> Any:
    """A copy of ``node`` with every non-recursive local $ref replaced by its definition."""
    if not isinstance(node, dict):
        return copy.deepcopy(node)
    source: JsonSchema = node  # pyright: ignore[reportUnknownVariableType]
    ref = source.get("$ref")
    if isinstance(ref, str) and ref.startswith(_OLLAMA_DEFS):
        name = ref.removeprefix(_OLLAMA_DEFS)
        if name in defs and name not in stack:
            siblings = {k: v for k, v in source.items() if k != "$ref"}
            return _ollama_inline({**defs[name], **siblings}, defs, (*stack, name), kept)
        if name in defs:
            kept.setdefault(name, {})  # recursive: filled in by ollama_dialect
    out: JsonSchema = {}
    for key, value in source.items():
        if key == "$defs":
            continue
        if key in SCHEMA_MAPS and isinstance(value, dict):
            children: dict[str, Any] = value  # pyright: ignore[reportUnknownVariableType]
            out[key] = {k: _ollama_inline(v, defs, stack, kept) for k, v in children.items()}
        elif key in SCHEMA_LISTS and isinstance(value, list):
            items: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
            out[key] = [_ollama_inline(v, defs, stack, kept) for v in items]
        elif key in SCHEMA_ONE:
            out[key] = _ollama_inline(value, defs, stack, kept)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _ollama_rewrite(node: JsonSchema) -> None:
    node.pop("pattern", None)
    node.pop("discriminator", None)
    if "properties" in node and "additionalProperties" not in node:
        node["additionalProperties"] = False
    if node.get("additionalProperties") is True:
        node["additionalProperties"] = {"type": list(_OLLAMA_ANY_TYPE)}
    if not _OLLAMA_CONSTRAINING.intersection(node):
        node["type"] = list(_OLLAMA_ANY_TYPE)
