"""Gemini's dialect: the subset ``response_json_schema`` accepts."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ._core import DialectSchema
from ._core import JsonSchema
from ._core import walk

# The keywords Gemini's JSON-schema fields (``response_json_schema`` and
# ``parameters_json_schema``) are documented to support: google-genai 3.4,
# ``GenerateContentConfig.response_json_schema``, which mirrors the API reference for
# ``GenerationConfig.responseJsonSchema``. Other keywords are dropped (what the API does with
# them is unspecified); pydantic still enforces every constraint on the reply.
_GEMINI_KEYWORDS = frozenset(
    {
        "$id",
        "$defs",
        "$ref",
        "$anchor",
        "type",
        "format",
        "title",
        "description",
        "enum",
        "items",
        "prefixItems",
        "minItems",
        "maxItems",
        "minimum",
        "maximum",
        "anyOf",
        "properties",
        "additionalProperties",
        "required",
        "propertyOrdering",
    }
)
# Dropped without weakening the schema: validation re-applies defaults, and a discriminator
# only names the tag that each variant's ``enum`` already pins.
_GEMINI_ANNOTATIONS = frozenset(
    {"default", "discriminator", "$schema", "$comment", "examples", "deprecated"}
)
_GEMINI_DEFS = "#/$defs/"


def gemini_dialect(schema: Mapping[str, Any]) -> DialectSchema:
    """``schema`` in the subset of JSON schema that Gemini's structured output takes.

    Rewritten where the meaning survives: ``oneOf`` becomes ``anyOf`` (Gemini reads them
    the same); ``const`` a one-value ``enum`` (Gemini's enums hold strings and numbers) or
    ``type: "null"``; ``exclusiveMinimum``/``exclusiveMaximum`` become ``minimum``/
    ``maximum`` (exact for integers, inclusive for numbers); a one-schema
    ``allOf`` is merged; a ``$ref`` with sibling keywords, which Gemini rejects, is replaced
    by its definition (or, for a recursive definition, loses the siblings). Objects get
    ``propertyOrdering`` in schema order, which Gemini 2.0 models need to keep fields in
    order. ``strict`` is true when no constraint had to be dropped or loosened.
    """
    defs: Any = schema.get("$defs")
    if not isinstance(defs, Mapping):
        defs = {}
    lost: set[str] = set()
    out = _gemini_node(schema, defs, _gemini_cycles(defs), lost)  # pyright: ignore[reportUnknownArgumentType]
    return DialectSchema(out, strict=not lost)


def _gemini_cycles(defs: Mapping[str, Any]) -> set[str]:
    """Names of the definitions that reach themselves through ``$ref``s."""
    edges: dict[str, set[str]] = {}
    for name, node in defs.items():
        found: set[str] = set()

        def visit(child: JsonSchema, found: set[str] = found) -> None:
            ref = child.get("$ref")
            if isinstance(ref, str) and ref.startswith(_GEMINI_DEFS):
                found.add(ref.removeprefix(_GEMINI_DEFS))

        walk(node, visit)
        edges[name] = found
    cyclic: set[str] = set()
    for start, targets in edges.items():
        pending, seen = list(targets), set[str]()
        while pending:
            name = pending.pop()
            if name == start:
                cyclic.add(start)
                break
            if name not in seen:
                seen.add(name)
                pending.extend(edges.get(name, ()))
    return cyclic


def _gemini_node(node: Any, defs: Mapping[str, Any], cyclic: set[str], lost: set[str]) -> Any:
    if not isinstance(node, Mapping):
        return copy.deepcopy(node)  # a boolean schema, e.g. additionalProperties: false
    work: JsonSchema = dict(node)  # pyright: ignore[reportUnknownArgumentType]
    merged = work.pop("allOf", None)
    if isinstance(merged, list) and len(merged) == 1 and isinstance(merged[0], Mapping):  # pyright: ignore[reportUnknownArgumentType]
        work = {**merged[0], **work}
    elif merged is not None:
        lost.add("allOf")
    work = _gemini_ref(work, defs, cyclic)
    _gemini_rewrite(work, lost)
    out: JsonSchema = {}
    for key, value in work.items():
        if key in ("properties", "$defs") and isinstance(value, Mapping):
            out[key] = {
                name: _gemini_node(sub, defs, cyclic, lost)
                for name, sub in value.items()  # pyright: ignore[reportUnknownVariableType]
            }
        elif key in ("anyOf", "prefixItems") and isinstance(value, list):
            out[key] = [_gemini_node(sub, defs, cyclic, lost) for sub in value]  # pyright: ignore[reportUnknownVariableType]
        elif key in ("items", "additionalProperties"):
            out[key] = _gemini_node(value, defs, cyclic, lost)
        elif key in _GEMINI_KEYWORDS:
            out[key] = copy.deepcopy(value)
        elif key not in _GEMINI_ANNOTATIONS:
            lost.add(key)
    properties = out.get("properties")
    if isinstance(properties, dict) and properties and "propertyOrdering" not in out:
        out["propertyOrdering"] = list(properties)  # pyright: ignore[reportUnknownArgumentType]
    return out


def _gemini_ref(node: JsonSchema, defs: Mapping[str, Any], cyclic: set[str]) -> JsonSchema:
    """``node`` without keywords beside its ``$ref``, which Gemini does not allow."""
    ref = node.get("$ref")
    if not isinstance(ref, str) or all(key.startswith("$") for key in node):
        return node
    name = ref.removeprefix(_GEMINI_DEFS)
    target = defs.get(name) if ref.startswith(_GEMINI_DEFS) else None
    if isinstance(target, Mapping) and name not in cyclic:
        # Inline the definition; the field's own keywords (its description) win.
        return {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return {k: v for k, v in node.items() if k.startswith("$")}


def _gemini_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _gemini_enumerable(value: Any) -> bool:
    return isinstance(value, str) or _gemini_number(value)


def _gemini_rewrite(node: JsonSchema, lost: set[str]) -> None:
    """Turn keywords Gemini lacks into ones it has, in place, noting what was loosened."""
    if "oneOf" in node:
        if "anyOf" in node:
            node.pop("oneOf")
            lost.add("oneOf")
        else:
            node["anyOf"] = node.pop("oneOf")
    if "const" in node:
        pinned = node.pop("const")
        if pinned is None:
            node["type"] = "null"
        elif _gemini_enumerable(pinned):
            node["enum"] = [pinned]
        else:
            lost.add("const")
    enum = node.get("enum")
    if isinstance(enum, list) and not all(_gemini_enumerable(v) for v in enum):  # pyright: ignore[reportUnknownVariableType]
        node.pop("enum")
        lost.add("enum")
    for key, bound, step in (
        ("exclusiveMinimum", "minimum", 1),
        ("exclusiveMaximum", "maximum", -1),
    ):
        value = node.pop(key, None)
        if not _gemini_number(value):
            if value is not None:
                lost.add(key)
            continue
        exact = node.get("type") == "integer" and float(value).is_integer()
        limit: Any = int(value) + step if exact else value
        if not exact:
            lost.add(key)
        current = node.get(bound)
        if _gemini_number(current):
            limit = max(current, limit) if step > 0 else min(current, limit)
        node[bound] = limit
