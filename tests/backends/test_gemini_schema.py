"""The ``gemini`` schema dialect: the JSON-schema subset ``response_json_schema`` takes."""

from __future__ import annotations

from typing import Any

from alloy._output import output_spec
from alloy._schema import for_output
from alloy._schema import walk
from alloy._schema.gemini import gemini_dialect
from tests.output_types import JSON_CASES

# What google-genai 3.4 documents for GenerateContentConfig.response_json_schema.
SUPPORTED = {
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


def keywords(schema: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    walk(schema, lambda node: seen.update(node))
    return seen


def test_every_output_type_gives_a_supported_schema() -> None:
    for case in JSON_CASES:
        spec = output_spec(case.type, case.id)
        assert spec.schema is not None
        dialect = for_output(spec.schema, "gemini")
        assert keywords(dialect.schema) <= SUPPORTED, case.id
        assert dialect.schema["type"] == "object", case.id
        assert for_output(spec.schema, "gemini") is dialect  # memoised

        def no_ref_siblings(node: dict[str, Any], case_id: str = case.id) -> None:
            if "$ref" in node:
                assert all(key.startswith("$") for key in node), case_id

        walk(dialect.schema, no_ref_siblings)


def test_the_source_is_never_changed() -> None:
    source = {
        "type": "object",
        "properties": {
            "x": {"const": "a", "title": "X"},
            "y": {"oneOf": [{"type": "integer"}, {"type": "string"}], "default": 1},
        },
        "required": ["x"],
    }
    before = repr(source)
    out = gemini_dialect(source).schema
    assert repr(source) == before
    assert out["properties"]["x"] == {"enum": ["a"], "title": "X"}
    assert out["properties"]["y"] == {"anyOf": [{"type": "integer"}, {"type": "string"}]}
    out["required"].append("z")
    assert source["required"] == ["x"]


def test_strict_unless_a_constraint_was_dropped() -> None:
    assert gemini_dialect({"type": "object", "properties": {"a": {"type": "string"}}}).strict
    loose = gemini_dialect(
        {"type": "object", "properties": {"a": {"type": "string", "pattern": "^x"}}}
    )
    assert not loose.strict
    assert loose.schema["properties"]["a"] == {"type": "string"}
    tagged = gemini_dialect({"type": "object", "properties": {}, "discriminator": {}})
    assert tagged.strict  # annotations are dropped without loss


def test_const_becomes_enum_or_null() -> None:
    schema = {
        "type": "object",
        "properties": {
            "s": {"const": "cat"},
            "n": {"const": 3},
            "z": {"const": None},
            "b": {"const": True, "type": "boolean"},
        },
    }
    out = gemini_dialect(schema)
    props = out.schema["properties"]
    assert props["s"] == {"enum": ["cat"]}
    assert props["n"] == {"enum": [3]}
    assert props["z"] == {"type": "null"}
    assert props["b"] == {"type": "boolean"}  # Gemini enums hold strings and numbers only
    assert not out.strict


def test_enums_of_other_values_are_dropped() -> None:
    out = gemini_dialect({"type": "object", "properties": {"v": {"enum": ["a", None]}}})
    assert out.schema["properties"]["v"] == {}
    assert not out.strict


def test_exclusive_bounds() -> None:
    schema = {
        "type": "object",
        "properties": {
            "i": {"type": "integer", "exclusiveMinimum": 0, "exclusiveMaximum": 10},
            "f": {"type": "number", "exclusiveMinimum": 0.5},
            "both": {"type": "integer", "minimum": 5, "exclusiveMinimum": 2},
        },
    }
    out = gemini_dialect(schema)
    props = out.schema["properties"]
    assert props["i"] == {"type": "integer", "minimum": 1, "maximum": 9}
    assert props["f"] == {"type": "number", "minimum": 0.5}  # inclusive: loosened
    assert props["both"] == {"type": "integer", "minimum": 5}
    assert not out.strict


def test_ref_with_siblings_is_inlined() -> None:
    schema = {
        "type": "object",
        "properties": {"p": {"$ref": "#/$defs/P", "description": "the p"}},
        "$defs": {"P": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    }
    out = gemini_dialect(schema)
    p = out.schema["properties"]["p"]
    assert p["description"] == "the p"
    assert p["properties"] == {"n": {"type": "integer"}}
    assert "$ref" not in p
    assert out.strict


def test_recursive_ref_keeps_the_ref_and_loses_its_siblings() -> None:
    schema = {
        "type": "object",
        "properties": {"root": {"$ref": "#/$defs/Node", "description": "the tree"}},
        "$defs": {
            "Node": {
                "type": "object",
                "properties": {
                    "child": {"$ref": "#/$defs/Node", "description": "next"},
                    "value": {"type": "string"},
                },
            }
        },
    }
    out = gemini_dialect(schema).schema
    assert out["properties"]["root"] == {"$ref": "#/$defs/Node"}
    assert out["$defs"]["Node"]["properties"]["child"] == {"$ref": "#/$defs/Node"}


def test_single_all_of_is_merged() -> None:
    schema = {
        "type": "object",
        "properties": {"p": {"allOf": [{"$ref": "#/$defs/P"}], "description": "d"}},
        "$defs": {"P": {"type": "string", "enum": ["x"]}},
    }
    out = gemini_dialect(schema)
    assert out.schema["properties"]["p"] == {"type": "string", "enum": ["x"], "description": "d"}
    assert out.strict


def test_property_ordering_follows_the_schema() -> None:
    out = gemini_dialect(
        {"type": "object", "properties": {"b": {"type": "string"}, "a": {"type": "string"}}}
    ).schema
    assert out["propertyOrdering"] == ["b", "a"]


def test_sets_lose_uniqueness_only() -> None:
    spec = output_spec(set[str], "tags")
    assert spec.schema is not None
    out = for_output(spec.schema, "gemini")
    assert out.schema["properties"]["value"] == {"items": {"type": "string"}, "type": "array"}
    assert not out.strict
