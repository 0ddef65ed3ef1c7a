"""The ``ollama`` schema dialect: what Ollama's grammar conversion of ``format`` gets wrong."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic import Field
from pydantic import TypeAdapter

from alloy._output import output_spec
from alloy._schema import DIALECTS
from alloy._schema import dialect
from alloy._schema import for_output
from alloy._schema import walk
from alloy._schema.ollama import ollama_dialect
from tests.output_types import JSON_CASES

ANY_TYPE = ["string", "number", "boolean", "object", "array", "null"]


def _nodes(schema: dict[str, Any]) -> list[dict[str, Any]]:
    seen: list[dict[str, Any]] = []
    walk(schema, seen.append)
    return seen


class Node(BaseModel):
    name: str
    kids: list[Node] = []


class Tree(BaseModel):
    root: Node
    label: str = Field(pattern=r"^\d{4}-\d{2}$")


@dataclass
class Loose:
    anything: Any
    extras: dict[str, Any]


def test_registered_and_memoised() -> None:
    assert dialect("ollama") is ollama_dialect
    assert DIALECTS["ollama"] is ollama_dialect
    spec = output_spec(int, "t")
    assert spec.schema is not None
    assert for_output(spec.schema, "ollama") is for_output(spec.schema, "ollama")


def test_every_output_type_gives_a_grammar_safe_schema() -> None:
    for case in JSON_CASES:
        spec = output_spec(case.type, case.id)
        assert spec.schema is not None
        schema = for_output(spec.schema, "ollama").schema
        assert schema["type"] == "object", case.id
        assert "$defs" not in schema, case.id  # nothing recursive among the cases
        for node in _nodes(schema):
            assert "$ref" not in node and "pattern" not in node, case.id
            assert "discriminator" not in node, case.id
            if "properties" in node:
                assert "additionalProperties" in node, case.id


def test_refs_are_inlined_with_their_siblings() -> None:
    schema = {
        "type": "object",
        "properties": {"p": {"$ref": "#/$defs/P", "description": "the p"}},
        "required": ["p"],
        "$defs": {"P": {"type": "object", "properties": {"n": {"type": "integer"}}}},
    }
    out = ollama_dialect(schema).schema
    assert out["properties"]["p"] == {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "description": "the p",
        "additionalProperties": False,
    }
    assert "$defs" not in out


def test_recursive_definitions_stay_referenced() -> None:
    out = ollama_dialect(TypeAdapter(Tree).json_schema()).schema
    root = out["properties"]["root"]
    assert root["properties"]["kids"]["items"] == {"$ref": "#/$defs/Node"}
    assert set(out["$defs"]) == {"Node"}
    node = out["$defs"]["Node"]
    assert node["properties"]["kids"]["items"] == {"$ref": "#/$defs/Node"}
    assert node["additionalProperties"] is False


def test_patterns_are_dropped() -> None:
    out = ollama_dialect(TypeAdapter(Tree).json_schema()).schema
    assert out["properties"]["label"] == {"title": "Label", "type": "string"}


def test_unconstrained_nodes_accept_any_json_value() -> None:
    out = ollama_dialect(TypeAdapter(Loose).json_schema()).schema
    assert out["properties"]["anything"] == {"title": "Anything", "type": ANY_TYPE}
    assert out["properties"]["extras"]["additionalProperties"] == {"type": ANY_TYPE}
    empty = ollama_dialect({"type": "array", "items": {}}).schema
    assert empty["items"] == {"type": ANY_TYPE}


def test_explicitly_closed_or_open_objects_are_kept() -> None:
    schema = {
        "type": "object",
        "properties": {"a": {"type": "integer"}},
        "additionalProperties": {"type": "string"},
    }
    assert ollama_dialect(schema).schema["additionalProperties"] == {"type": "string"}


def test_the_source_is_never_mutated() -> None:
    source = TypeAdapter(Tree).json_schema()
    before = copy.deepcopy(source)
    ollama_dialect(source)
    assert source == before


def test_not_strict() -> None:
    assert ollama_dialect({"type": "object", "properties": {}}).strict is False
