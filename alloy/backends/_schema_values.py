"""Values made from a JSON schema, for the fake backend's replies to typed commands.

``schema_value(schema)`` builds a small value that validates: it follows ``$ref``, ``const``,
the first of ``examples`` (how a registered type's schema names a value its parse accepts),
``enum``, defaults, unions, objects, arrays, and the constraints pydantic emits (string
lengths and ``pattern``, numeric bounds both inclusive and exclusive, ``multipleOf``, item
counts, dict keys that ``dict[int, T]`` accepts too).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["schema_value"]

_FORMATS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "12:00:00",
    "duration": "P1D",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "email": "user@example.com",
    "uri": "https://example.com",
    "ipv4": "192.0.2.1",
}


def schema_value(schema: Mapping[str, Any], root: Mapping[str, Any] | None = None) -> Any:
    """A small value that validates against ``schema`` (``$ref``s resolved from ``root``)."""
    root = root or schema
    if "$ref" in schema:
        name = str(schema["$ref"]).rsplit("/", 1)[-1]
        return schema_value(root.get("$defs", {}).get(name, {}), root)
    if "const" in schema:
        return schema["const"]
    examples = schema.get("examples")
    if isinstance(examples, list) and examples:
        return examples[0]  # pyright: ignore[reportUnknownVariableType]
    if "enum" in schema:
        return schema["enum"][0]
    if "default" in schema:
        return schema["default"]
    for key in ("anyOf", "oneOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return schema_value(options[0], root)
    kind = schema.get("type")
    if isinstance(kind, list):
        kinds: list[Any] = kind  # pyright: ignore[reportUnknownVariableType]
        kind = next((k for k in kinds if k != "null"), None)
    if kind == "object" or "properties" in schema:
        props: Mapping[str, Any] = schema.get("properties", {})
        value: dict[str, Any] = {}
        for name, sub in props.items():
            value[name] = schema_value(sub, root)
        extra = schema.get("additionalProperties")
        if not props and isinstance(extra, Mapping):
            # "0": a key that both dict[str, T] and dict[int, T] accept.
            value["0"] = schema_value(extra, root)  # pyright: ignore[reportUnknownArgumentType]
        return value
    if kind == "array":
        if "prefixItems" in schema:
            return [schema_value(s, root) for s in schema["prefixItems"]]
        # One item unless the schema asks for more, or allows none.
        count = int(schema.get("minItems", 1 if schema.get("maxItems", 1) else 0))
        item = schema.get("items", {})
        if schema.get("uniqueItems"):
            return [_distinct(item, root, i) for i in range(count)]
        return [schema_value(item, root) for _ in range(count)]
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        return _number(schema, integer=True)
    if kind == "number":
        return _number(schema, integer=False)
    if kind == "boolean":
        return True
    return None


def _string(schema: Mapping[str, Any]) -> str:
    """A string within the schema's length bounds that matches its ``pattern``."""
    low, high = int(schema.get("minLength", 0)), schema.get("maxLength")
    pattern = schema.get("pattern")
    base = _FORMATS.get(str(schema.get("format")), "example")
    candidates = [base]
    if isinstance(pattern, str):
        candidates = [*_from_pattern(pattern), base, "a", "A", "0", "example"]
    for text in candidates:
        fitted = text.ljust(low, text[-1:] or "x")
        if high is not None:
            fitted = fitted[: int(high)]
        if pattern is None or _matches(pattern, fitted):
            return fitted
    return candidates[0]


def _matches(pattern: str, text: str) -> bool:
    import re

    try:
        return re.search(pattern, text) is not None
    except re.error:
        return False


def _from_pattern(pattern: str) -> list[str]:
    """The shortest strings the regular expression ``pattern`` describes (best effort:
    literals, classes, categories, groups, alternatives and repeats; [] otherwise)."""
    import re

    parser: Any = getattr(re, "_parser", None)
    if parser is None:  # Python 3.10
        import sre_parse as parser

    try:
        return ["".join(_emit(parser.parse(pattern), parser))]
    except (re.error, ValueError, TypeError, RecursionError, AttributeError):
        return []


def _emit(tree: Any, parser: Any) -> list[str]:
    constants: Any = parser
    out: list[str] = []
    for op, arg in tree:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "IN":
            out.append(_first_in_class(arg))
        elif name == "ANY":
            out.append("a")
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, _high, sub = arg
            out.extend(_emit(sub, constants) * max(int(low), 0))
        elif name == "SUBPATTERN":
            out.extend(_emit(arg[-1], constants))
        elif name == "BRANCH":
            out.extend(_emit(arg[1][0], constants))
        elif name == "CATEGORY":
            out.append(_CATEGORY.get(str(arg), "a"))
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue
        else:
            raise ValueError(f"unsupported regular expression piece {name}")
    return out


_CATEGORY = {
    "CATEGORY_DIGIT": "0",
    "CATEGORY_WORD": "a",
    "CATEGORY_SPACE": " ",
    "CATEGORY_NOT_DIGIT": "a",
    "CATEGORY_NOT_WORD": "-",
    "CATEGORY_NOT_SPACE": "a",
}


def _first_in_class(items: Any) -> str:
    if items and str(items[0][0]) == "NEGATE":
        for candidate in "a0A-_ ":
            if not any(_in_item(item, candidate) for item in items[1:]):
                return candidate
        return "~"
    op, arg = items[0]
    if str(op) == "LITERAL":
        return chr(arg)
    if str(op) == "RANGE":
        return chr(arg[0])
    if str(op) == "CATEGORY":
        return _CATEGORY.get(str(arg), "a")
    return "a"


def _in_item(item: Any, char: str) -> bool:
    op, arg = item
    if str(op) == "LITERAL":
        return chr(arg) == char
    if str(op) == "RANGE":
        return bool(arg[0] <= ord(char) <= arg[1])
    if str(op) == "CATEGORY":
        return _CATEGORY.get(str(arg)) == char
    return False


def _number(schema: Mapping[str, Any], *, integer: bool) -> int | float:
    """A number within the schema's bounds (inclusive and exclusive) and ``multipleOf``."""
    low, high = schema.get("minimum"), schema.get("maximum")
    above, below = schema.get("exclusiveMinimum"), schema.get("exclusiveMaximum")
    step = schema.get("multipleOf")
    tiny = 1 if integer else 0.5

    def fits(value: float) -> bool:
        return (
            (low is None or value >= low)
            and (high is None or value <= high)
            and (above is None or value > above)
            and (below is None or value < below)
            and (not step or abs(value / step - round(value / step)) < 1e-9)
        )

    starts = [0, low, high, above, below]
    candidates: list[float] = [0.0]
    for start in (s for s in starts if isinstance(s, int | float)):
        candidates += [start, start + tiny, start - tiny]
    if isinstance(above, int | float) and isinstance(below, int | float):
        candidates.append((above + below) / 2)
    if step:
        candidates = [round(c / step) * step for c in candidates] + [
            (int(c / step) + k) * step for c in candidates for k in (-1, 1)
        ]
    for value in candidates:
        value = int(value) if integer else float(value)
        if fits(value):
            return value
    return int(candidates[0]) if integer else float(candidates[0])


def _distinct(item: Mapping[str, Any], root: Mapping[str, Any], i: int) -> Any:
    value = schema_value(item, root)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value + i
    if isinstance(value, str):
        return f"{value}{i}" if i else value
    return value
