"""The provider-neutral part of schema handling: walking, wrapping, the dialect result."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

__all__ = [
    "SCHEMA_LISTS",
    "SCHEMA_MAPS",
    "SCHEMA_ONE",
    "Dialect",
    "DialectSchema",
    "JsonSchema",
    "is_object_root",
    "json_dialect",
    "walk",
    "wrap",
]

JsonSchema = dict[str, Any]


class DialectSchema:
    """A schema in a provider's dialect, and whether the provider may enforce it strictly."""

    __slots__ = ("schema", "strict")

    def __init__(self, schema: JsonSchema, strict: bool):
        self.schema = schema
        self.strict = strict


Dialect = Callable[[Mapping[str, Any]], DialectSchema]

# Keywords whose values are subschemas (dicts of them, lists of them, or one).
SCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")
SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
SCHEMA_ONE = ("items", "additionalProperties", "not", "contains", "if", "then", "else")


def walk(schema: Any, visit: Callable[[JsonSchema], None]) -> None:
    """Call ``visit`` on ``schema`` and every subschema, parents first."""
    if not isinstance(schema, dict):
        return
    node: JsonSchema = schema  # pyright: ignore[reportUnknownVariableType]
    visit(node)
    for key in SCHEMA_MAPS:
        children = node.get(key)
        if isinstance(children, dict):
            for child in children.values():  # pyright: ignore[reportUnknownVariableType]
                walk(child, visit)
    for key in SCHEMA_LISTS:
        children = node.get(key)
        if isinstance(children, list):
            for child in children:  # pyright: ignore[reportUnknownVariableType]
                walk(child, visit)
    for key in SCHEMA_ONE:
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


def json_dialect(schema: Mapping[str, Any]) -> DialectSchema:
    """Standard JSON schema, unchanged, for providers that take it as is."""
    return DialectSchema(dict(schema), strict=False)
