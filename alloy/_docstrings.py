"""Reading a tool's docstring: its description, and per-parameter text from an ``Args:``
(Google style) or ``Parameters`` (NumPy style) section."""

from __future__ import annotations

import inspect
import re

__all__ = ["parse_docstring"]

_GOOGLE_HEADERS = re.compile(r"^(Args|Arguments|Parameters|Params)\s*:\s*$", re.IGNORECASE)
_NUMPY_UNDERLINE = re.compile(r"^-{3,}\s*$")
_SECTION = re.compile(
    r"^(Returns?|Yields?|Raises?|Examples?|Notes?|See Also|References|Attributes|Warnings?)"
    r"\s*:?\s*$",
    re.IGNORECASE,
)
_GOOGLE_ITEM = re.compile(r"^(\*{0,2}\w+)\s*(\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_ITEM = re.compile(r"^(\w+)\s*(:.*)?$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """(description, {parameter: description}) from a docstring.

    >>> parse_docstring('''Add numbers.
    ...
    ... Args:
    ...     a: the first.
    ...     b (int): the second,
    ...         continued.
    ... ''')
    ('Add numbers.', {'a': 'the first.', 'b': 'the second, continued.'})
    """
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    description: list[str] = []
    params: dict[str, str] = {}
    in_sections = False  # the description ends at the first section
    i = 0
    while i < len(lines):
        line = lines[i].strip()
        numpy = (
            line.lower() in ("parameters", "params", "arguments")
            and i + 1 < len(lines)
            and _NUMPY_UNDERLINE.match(lines[i + 1].strip())
        )
        if _GOOGLE_HEADERS.match(line) or numpy:
            in_sections = True
            i = _read_params(lines, i + (2 if numpy else 1), params, numpy=bool(numpy))
            continue
        is_numpy_section = i + 1 < len(lines) and _NUMPY_UNDERLINE.match(lines[i + 1].strip())
        if _SECTION.match(line) or is_numpy_section:
            in_sections = True
        elif not in_sections:
            description.append(lines[i])
        i += 1
    return "\n".join(description).strip(), params


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _read_params(lines: list[str], i: int, params: dict[str, str], *, numpy: bool) -> int:
    base: int | None = None
    current: str | None = None
    while i < len(lines):
        raw = lines[i]
        if not raw.strip():
            i += 1
            continue
        indent = _indent(raw)
        if base is None:
            base = indent
        next_is_underline = i + 1 < len(lines) and _NUMPY_UNDERLINE.match(lines[i + 1].strip())
        if indent < base or (indent == base and next_is_underline):
            break
        text = raw.strip()
        if indent == base:
            match = (_NUMPY_ITEM if numpy else _GOOGLE_ITEM).match(text)
            if match is None:
                break
            name = str(match.group(1)).lstrip("*")
            params[name] = "" if numpy else str(match.group(3)).strip()
            current = name
        elif current is not None:
            params[current] = f"{params[current]} {text}".strip()
        i += 1
    return i
