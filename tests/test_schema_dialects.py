from dataclasses import dataclass
from typing import Any

from alloy._output import output_spec
from alloy._schema import for_output
from alloy._schema import walk
from alloy._schema.openai import openai_dialect
from alloy._schema.openai import strict_compatible
from tests.output_types import JSON_CASES


@dataclass
class WithDefault:
    a: int
    b: str = "x"


def _keys(schema: dict[str, Any]) -> set[str]:
    seen: set[str] = set()
    walk(schema, lambda node: seen.update(node))
    return seen


def test_openai_strict_for_closed_objects() -> None:
    spec = output_spec(list[int], "t")
    assert spec.schema is not None
    dialect = for_output(spec.schema, "openai")
    assert dialect.strict
    assert dialect.schema["additionalProperties"] is False
    assert for_output(spec.schema, "openai") is dialect  # memoised


def test_optional_fields_fall_back_to_non_strict() -> None:
    spec = output_spec(WithDefault, "t")
    assert spec.schema is not None
    assert not for_output(spec.schema, "openai").strict


def test_open_dicts_are_not_strict() -> None:
    spec = output_spec(dict[str, int], "t")
    assert spec.schema is not None
    assert not for_output(spec.schema, "openai").strict


def test_openai_cleanup_never_mutates_the_source() -> None:
    source = {
        "type": "object",
        "title": "T",
        "properties": {"x": {"const": 1, "title": "X"}},
        "required": ["x"],
    }
    before = repr(source)
    out = openai_dialect(source).schema
    assert repr(source) == before
    assert out["properties"]["x"] == {"enum": [1]}
    assert "title" not in out


def test_ref_siblings_are_inlined() -> None:
    schema = {
        "type": "object",
        "properties": {"p": {"$ref": "#/$defs/P", "description": "the p"}},
        "required": ["p"],
        "$defs": {
            "P": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}
        },
    }
    out = openai_dialect(schema)
    assert out.schema["properties"]["p"]["description"] == "the p"
    assert out.schema["properties"]["p"]["properties"] == {"n": {"type": "integer"}}
    assert out.strict


def test_every_output_type_gives_a_valid_openai_schema() -> None:
    for case in JSON_CASES:
        spec = output_spec(case.type, case.id)
        assert spec.schema is not None
        dialect = for_output(spec.schema, "openai")
        keys = _keys(dialect.schema)
        assert "oneOf" not in keys and "title" not in keys, case.id
        assert dialect.schema["type"] == "object"
        if dialect.strict:
            assert strict_compatible(dialect.schema)
            assert "default" not in keys
