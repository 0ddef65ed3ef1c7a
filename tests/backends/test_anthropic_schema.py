"""The ``anthropic`` schema dialect: what constrained decoding accepts, and when it cannot."""

from __future__ import annotations

import copy
from typing import Any

from pydantic import BaseModel
from pydantic import ConfigDict
from pydantic import Field

from alloy._output import output_spec
from alloy._schema.anthropic import anthropic_dialect


def dialect(tp: Any) -> tuple[dict[str, Any], bool]:
    spec = output_spec(tp, "test")
    assert spec.schema is not None
    result = anthropic_dialect(spec.schema.schema)
    return result.schema, result.strict


class Inner(BaseModel):
    x: int


class Limits(BaseModel):
    model_config = ConfigDict(extra="allow")

    score: int = Field(ge=1, le=5, description="a score")
    code: str = Field(pattern="^[A-Z]+$")
    tags: list[str] = Field(min_length=2)
    inner: Inner = Field(description="the inner part")


class Node(BaseModel):
    children: list[Node] = []


def test_constraints_move_into_descriptions_and_objects_close() -> None:
    schema, strict = dialect(Limits)
    assert strict
    props = schema["properties"]
    assert props["score"]["description"] in (
        "a score\n\n{maximum: 5, minimum: 1}",
        "a score\n\n{minimum: 1, maximum: 5}",
    )
    assert "maximum" not in props["score"] and "minimum" not in props["score"]
    assert "pattern" not in props["code"] and '"^[A-Z]+$"' in props["code"]["description"]
    assert "minItems" not in props["tags"] and "minItems: 2" in props["tags"]["description"]
    assert schema["additionalProperties"] is False


def test_ref_with_siblings_is_inlined() -> None:
    schema, _ = dialect(Limits)
    inner = schema["properties"]["inner"]
    assert "$ref" not in inner
    assert inner["description"] == "the inner part"
    assert inner["properties"] == {"x": {"type": "integer", "title": "X"}}
    assert inner["additionalProperties"] is False


def test_small_min_items_and_known_formats_stay() -> None:
    schema = {
        "type": "object",
        "properties": {
            "a": {"type": "array", "items": {"type": "string", "format": "email"}, "minItems": 1},
            "b": {"type": "string", "format": "binary"},
        },
        "required": ["a", "b"],
    }
    out = anthropic_dialect(schema)
    assert out.strict
    assert out.schema["properties"]["a"] == {
        "type": "array",
        "items": {"type": "string", "format": "email"},
        "minItems": 1,
    }
    assert out.schema["properties"]["b"] == {"type": "string", "description": '{format: "binary"}'}


def test_one_of_becomes_any_of_without_discriminator() -> None:
    schema = {
        "type": "object",
        "properties": {
            "v": {
                "oneOf": [{"$ref": "#/$defs/A"}, {"type": "null"}],
                "discriminator": {"propertyName": "k"},
            }
        },
        "$defs": {"A": {"type": "object", "properties": {"k": {"const": "a"}}}},
    }
    out = anthropic_dialect(schema)
    assert out.schema["properties"]["v"] == {"anyOf": [{"$ref": "#/$defs/A"}, {"type": "null"}]}
    assert out.schema["$defs"]["A"]["additionalProperties"] is False


def test_maps_and_recursion_cannot_be_enforced() -> None:
    for tp in (dict[str, int], Node, dict[str, Any]):
        schema, strict = dialect(tp)
        assert not strict, tp
        assert "$defs" in schema or schema["type"] == "object"


def test_input_is_not_mutated() -> None:
    spec = output_spec(Limits, "test")
    assert spec.schema is not None
    before = copy.deepcopy(dict(spec.schema.schema))
    anthropic_dialect(spec.schema.schema)
    assert dict(spec.schema.schema) == before
