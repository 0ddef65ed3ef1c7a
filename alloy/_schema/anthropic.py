"""Anthropic's dialect: what constrained decoding (``output_config.format``, tools) accepts."""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping
from typing import Any

from ._core import DialectSchema
from ._core import JsonSchema
from ._core import walk

# What Anthropic's constrained decoding (``output_config.format`` and strict tools) accepts,
# taken from the anthropic SDK's own transform (``anthropic.transform_schema``, which
# ``messages.parse`` applies; SDK 2.11) and Anthropic's structured-outputs documentation:
# every object closed (``additionalProperties: false``), no recursive schemas, no numeric,
# string-length or array-size constraints (``minItems`` of 0 or 1 only), string formats from
# a fixed list. Keywords outside this list move into the node's description, as the SDK
# does, so the model still reads them; pydantic enforces them on the reply.
_ANTHROPIC_KEYWORDS = ("type", "title", "description", "properties", "required", "items")
_ANTHROPIC_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"}
)
_DROPPED = frozenset({"discriminator", "$schema"})


def anthropic_dialect(schema: Mapping[str, Any]) -> DialectSchema:
    """``schema`` as Anthropic's structured outputs take it, strict when it can be enforced.

    A schema that constrained decoding cannot express at all (open maps such as
    ``dict[str, T]``, recursive types) is returned unchanged with ``strict=False``: the
    backend then sends it as a tool's ``input_schema``, which takes any JSON schema.
    """
    if not _anthropic_enforceable(schema):
        return DialectSchema(copy.deepcopy(dict(schema)), strict=False)
    defs: Mapping[str, Any] = schema.get("$defs") or {}
    out = _anthropic_node(schema, defs)
    if defs:
        out["$defs"] = {name: _anthropic_node(node, defs) for name, node in defs.items()}
    return DialectSchema(out, strict=True)


def _anthropic_enforceable(schema: Mapping[str, Any]) -> bool:
    ok = True

    def visit(node: JsonSchema) -> None:
        nonlocal ok
        extra = node.get("additionalProperties")
        if isinstance(extra, dict) or "patternProperties" in node or "propertyNames" in node:
            ok = False  # a map with typed values: closing it would forbid every key
        elif node.get("type") == "object" and "properties" not in node:
            ok = False  # a free-form object
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#/$defs/"):
            ok = False

    walk(schema, visit)
    return ok and not _recursive(schema.get("$defs") or {})


def _recursive(defs: Mapping[str, Any]) -> bool:
    """Whether any definition reaches itself through ``$ref``s."""
    edges: dict[str, set[str]] = {}
    for name, node in defs.items():
        found: set[str] = set()

        def visit(child: JsonSchema, found: set[str] = found) -> None:
            ref = child.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                found.add(ref.removeprefix("#/$defs/"))

        walk(node, visit)
        edges[name] = found
    state: dict[str, bool] = {}  # False while visiting, True when done

    def cyclic(name: str) -> bool:
        if name in state:
            return not state[name]
        state[name] = False
        if any(cyclic(target) for target in edges.get(name, ())):
            return True
        state[name] = True
        return False

    return any(cyclic(name) for name in edges)


def _anthropic_node(node: Mapping[str, Any], defs: Mapping[str, Any]) -> JsonSchema:
    rest = {k: v for k, v in node.items() if k not in _DROPPED and k != "$defs"}
    ref = rest.pop("$ref", None)
    if isinstance(ref, str):
        if not rest:
            return {"$ref": ref}
        # Keywords beside a $ref (a field's description): inline the definition under them.
        target: Mapping[str, Any] = defs.get(ref.removeprefix("#/$defs/"), {})
        return _anthropic_node({**target, **rest}, defs)
    out: JsonSchema = {}
    for key in ("anyOf", "oneOf", "allOf"):
        variants = rest.pop(key, None)
        if isinstance(variants, list):
            merged = "allOf" if key == "allOf" else "anyOf"
            out[merged] = [_anthropic_node(v, defs) for v in variants]  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]
    for key in ("enum", "const"):
        literal = rest.get(key)
        values: list[Any] = literal if isinstance(literal, list) else [literal]  # pyright: ignore[reportUnknownVariableType]
        if key in rest and all(v is None or isinstance(v, (str, int, float, bool)) for v in values):
            out[key] = rest.pop(key)
    for key in _ANTHROPIC_KEYWORDS:
        if key in rest:
            out[key] = rest.pop(key)
    rest.pop("additionalProperties", None)
    if "properties" in out or out.get("type") == "object":
        props: Mapping[str, Any] = out.get("properties") or {}
        out["properties"] = {name: _anthropic_node(sub, defs) for name, sub in props.items()}
        out["additionalProperties"] = False
    if isinstance(out.get("items"), dict):
        out["items"] = _anthropic_node(out["items"], defs)
    prefix = rest.pop("prefixItems", None)
    if isinstance(prefix, list) and prefix and "items" not in out:
        # A tuple: each position's type is allowed anywhere; the length goes in the text.
        items: list[Any] = prefix  # pyright: ignore[reportUnknownVariableType]
        out["items"] = _anthropic_node(items[0] if len(items) == 1 else {"anyOf": items}, defs)
    if rest.get("minItems") in (0, 1):
        out["minItems"] = rest.pop("minItems")
    if rest.get("format") in _ANTHROPIC_FORMATS:
        out["format"] = rest.pop("format")
    if rest:
        note = "{" + ", ".join(f"{k}: {json.dumps(v)}" for k, v in rest.items()) + "}"
        described = out.get("description")
        out["description"] = f"{described}\n\n{note}" if described else note
    return out
