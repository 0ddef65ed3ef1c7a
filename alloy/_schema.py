"""Provider dialects of JSON schema: pure functions from one schema dict to another.

Pydantic produces standard JSON schema; each provider accepts a different subset. A dialect
is a transform registered here by name; backends name theirs in their capability data.
Transforms never mutate their input and are memoised per ``OutputSchema`` / ``ToolSpec``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

from ._messages import OutputSchema, ToolSpec

__all__ = ["Dialect", "DialectSchema", "for_output", "for_tool", "strict_compatible", "wrap"]

JsonSchema = dict[str, Any]


class DialectSchema:
    """A schema in a provider's dialect, and whether the provider may enforce it strictly."""

    __slots__ = ("schema", "strict")

    def __init__(self, schema: JsonSchema, strict: bool):
        self.schema = schema
        self.strict = strict


Dialect = Callable[[Mapping[str, Any]], DialectSchema]

# Keywords whose values are subschemas (dicts of them, lists of them, or one).
_SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "contains", "if", "then", "else")


def walk(schema: Any, visit: Callable[[JsonSchema], None]) -> None:
    """Call ``visit`` on ``schema`` and every subschema, parents first."""
    if not isinstance(schema, dict):
        return
    node: JsonSchema = schema  # pyright: ignore[reportUnknownVariableType]
    visit(node)
    for key in _SCHEMA_MAPS:
        children = node.get(key)
        if isinstance(children, dict):
            for child in children.values():  # pyright: ignore[reportUnknownVariableType]
                walk(child, visit)
    for key in _SCHEMA_LISTS:
        children = node.get(key)
        if isinstance(children, list):
            for child in children:  # pyright: ignore[reportUnknownVariableType]
                walk(child, visit)
    for key in _SCHEMA_ONE:
        walk(node.get(key), visit)


def is_object_root(schema: Mapping[str, Any]) -> bool:
    """Whether the root is a plain object schema (providers require one)."""
    return schema.get("type") == "object" and "anyOf" not in schema and "oneOf" not in schema


def wrap(schema: Mapping[str, Any]) -> JsonSchema:
    """Wrap a non-object schema as ``{"value": schema}``, hoisting ``$defs`` to the root."""
    inner = dict(schema)
    defs = inner.pop("$defs", None)
    wrapped: JsonSchema = {
        "type": "object",
        "properties": {"value": inner},
        "required": ["value"],
        "additionalProperties": False,
    }
    if defs:
        wrapped["$defs"] = defs
    return wrapped


# --- OpenAI strict structured outputs ----------------------------------------------------

# Keywords OpenAI's strict mode rejects; a schema using them is sent with strict=false.
_OPENAI_STRICT_UNSUPPORTED = frozenset(
    {
        "patternProperties",
        "propertyNames",
        "minProperties",
        "maxProperties",
        "allOf",
        "not",
        "if",
        "then",
        "else",
        "dependentRequired",
        "dependentSchemas",
        "prefixItems",
        "contains",
        "unevaluatedProperties",
    }
)


def strict_compatible(schema: Mapping[str, Any]) -> bool:
    """Whether OpenAI strict mode can enforce ``schema`` as it stands.

    Strict mode needs every object closed (``additionalProperties: false``) with all of its
    properties required, and none of the keywords it does not implement.
    """
    ok = True

    def visit(node: JsonSchema) -> None:
        nonlocal ok
        if _OPENAI_STRICT_UNSUPPORTED.intersection(node):
            ok = False
        if node.get("type") == "object" or "properties" in node:
            props = node.get("properties", {})
            if node.get("additionalProperties", True) is not False:
                ok = False
            if set(props) != set(node.get("required", ())):
                ok = False

    walk(schema, visit)
    return ok and is_object_root(schema)


def _openai_clean(schema: Mapping[str, Any]) -> JsonSchema:
    """Pydantic's schema tidied for OpenAI: closed objects, ``anyOf`` for ``oneOf``, no titles.

    Objects that pydantic left open only because nothing was said (no
    ``additionalProperties`` at all) are closed: pydantic ignores unknown keys anyway, so
    closing them only stops the model from inventing fields.
    """
    out: JsonSchema = copy.deepcopy(dict(schema))
    defs: dict[str, Any] = out.get("$defs", {})

    def visit(node: JsonSchema) -> None:
        ref = node.get("$ref")
        if isinstance(ref, str) and len(node) > 1 and ref.startswith("#/$defs/"):
            # Strict mode does not allow siblings next to $ref: inline the definition.
            target = defs.get(ref.removeprefix("#/$defs/"), {})
            extras = {k: v for k, v in node.items() if k != "$ref"}
            node.clear()
            node.update(copy.deepcopy(target))
            node.update(extras)
        node.pop("title", None)
        node.pop("discriminator", None)
        if "oneOf" in node:
            node["anyOf"] = node.pop("oneOf")
        if "const" in node and "enum" not in node:
            node["enum"] = [node.pop("const")]
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False

    walk(out, visit)
    return out


def openai_dialect(schema: Mapping[str, Any]) -> DialectSchema:
    cleaned = _openai_clean(schema)
    if not strict_compatible(cleaned):
        return DialectSchema(cleaned, strict=False)

    def drop_defaults(node: JsonSchema) -> None:
        # Every property is required in strict mode, so defaults can never apply.
        node.pop("default", None)

    walk(cleaned, drop_defaults)
    return DialectSchema(cleaned, strict=True)


def json_dialect(schema: Mapping[str, Any]) -> DialectSchema:
    """Standard JSON schema, unchanged, for providers that take it as is."""
    return DialectSchema(dict(schema), strict=False)


DIALECTS: dict[str, Dialect] = {
    "json": json_dialect,
    "openai": openai_dialect,
}


def _dialect(name: str) -> Dialect:
    try:
        return DIALECTS[name]
    except KeyError:
        raise KeyError(f"unknown schema dialect {name!r}; known: {', '.join(DIALECTS)}") from None


def for_output(output: OutputSchema, dialect: str) -> DialectSchema:
    """``output``'s schema in ``dialect``, computed once per schema."""
    cached: DialectSchema | None = output.dialects.get(dialect)
    if cached is None:
        cached = output.dialects[dialect] = _dialect(dialect)(output.schema)
    return cached


def for_tool(tool: ToolSpec, dialect: str) -> DialectSchema:
    """``tool``'s parameter schema in ``dialect``, computed once per tool."""
    cached: DialectSchema | None = tool.dialects.get(dialect)
    if cached is None:
        cached = tool.dialects[dialect] = _dialect(dialect)(tool.parameters)
    return cached
