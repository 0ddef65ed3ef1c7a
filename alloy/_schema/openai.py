"""OpenAI's dialect: strict structured outputs where the schema allows them."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

from ._core import DialectSchema
from ._core import JsonSchema
from ._core import is_object_root
from ._core import walk

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
