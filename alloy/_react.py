"""The ReAct text protocol, for models without native tool calling.

The model writes ``Thought:`` / ``Action:`` / ``Action Input:`` (a JSON object) and receives
``Observation:``, until it writes ``Final Answer:``. Parsing forgives the usual slips (Markdown
emphasis on labels, code fences around the JSON, quotes around the tool name, ``name({...})``,
text after the JSON, different capitalisation) and never evaluates model text: JSON is read
with the ``json`` module and nothing else. A reply that cannot be read gives a
``ReactFormatError`` whose message is sent back to the model.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ._messages import ToolSpec

__all__ = ["Action", "Final", "ReactFormatError", "instructions", "observation", "parse_step"]

_LABEL = r"^[ \t>*_#-]*{name}[ \t*_]*:[ \t*]*"
_ACTION = re.compile(_LABEL.format(name=r"action(?![ \t]*input)"), re.IGNORECASE | re.MULTILINE)
_INPUT = re.compile(_LABEL.format(name=r"action[ \t_]*input"), re.IGNORECASE | re.MULTILINE)
_FINAL = re.compile(_LABEL.format(name=r"final[ \t_]*answer"), re.IGNORECASE | re.MULTILINE)
_OBSERVATION = re.compile(_LABEL.format(name=r"observation"), re.IGNORECASE | re.MULTILINE)
_THOUGHT = re.compile(_LABEL.format(name=r"thought"), re.IGNORECASE | re.MULTILINE)
_FENCE_OPEN = re.compile(r"^```[a-zA-Z0-9_-]*[ \t]*\n?")
_NAME_CHARS = "`'\"*_ \t"


class ReactFormatError(ValueError):
    """A reply that follows neither an action nor a final answer; the message says why."""


@dataclass(frozen=True, slots=True)
class Action:
    """The model asks to run ``name`` with ``arguments`` (JSON text, as written)."""

    name: str
    arguments: str
    thought: str = ""


@dataclass(frozen=True, slots=True)
class Final:
    """The model's final answer."""

    text: str
    thought: str = ""


def instructions(tools: Sequence[ToolSpec], output_schema: Mapping[str, Any] | None) -> str:
    """The system-prompt section that teaches the protocol and lists the tools."""
    listed = "\n".join(
        f"- {t.name}: {t.description}\n  Arguments (JSON schema): "
        f"{json.dumps(t.parameters, separators=(',', ':'))}"
        for t in tools
    )
    if output_schema is None:
        answer = "Final Answer: <your answer>"
    else:
        schema = json.dumps(output_schema, separators=(",", ":"))
        answer = f"Final Answer: <a JSON value matching this JSON schema: {schema}>"
    return (
        "You can use tools. To use one, reply with exactly these lines and then stop:\n"
        "Thought: <your reasoning>\n"
        "Action: <one tool name>\n"
        "Action Input: <the arguments, as one JSON object>\n"
        "You will get the result as a line starting with 'Observation:'. Use tools as many "
        "times as you need, one per reply. When you know the answer, reply with:\n"
        f"Thought: <your reasoning>\n{answer}\n\nTools:\n{listed}"
    )


def observation(result: str) -> str:
    """The turn that gives a tool's result back to the model."""
    return f"Observation: {result}"


def parse_step(text: str) -> Action | Final:
    """Read one reply of the protocol.

    A reply with no protocol labels at all is taken as the final answer (the model answered
    directly). An ``Action`` wins over a ``Final Answer`` written after it: everything after
    the action's input (often an invented observation) is ignored.
    """
    action = _ACTION.search(text)
    final = _FINAL.search(text)
    thought = _section(text, _THOUGHT)
    if action is not None and (final is None or action.start() < final.start()):
        return _action(text, action, thought)
    if final is not None:
        answer = _strip_fence(_until_next_label(text[final.end() :]).strip())
        if not answer:
            raise ReactFormatError(
                "the Final Answer is empty; write the answer after 'Final Answer:'"
            )
        return Final(answer, thought)
    if _INPUT.search(text):
        raise ReactFormatError("an 'Action Input:' came without an 'Action:' line naming the tool")
    if _THOUGHT.search(text):
        raise ReactFormatError(
            "the reply has a Thought but neither an 'Action:' nor a 'Final Answer:'; "
            "continue with one of them"
        )
    stripped = text.strip()
    if not stripped:
        raise ReactFormatError("the reply was empty; write an Action or a Final Answer")
    return Final(_strip_fence(stripped), thought)


def _action(text: str, action: re.Match[str], thought: str) -> Action:
    rest = text[action.end() :]
    line, _, after = rest.partition("\n")
    name, inline_args = _name_and_inline_args(line)
    if not name:
        raise ReactFormatError("the 'Action:' line names no tool; write 'Action: <tool name>'")
    if inline_args is not None:
        return Action(name, inline_args, thought)
    given = _INPUT.search(after)
    if given is None:
        return Action(name, "{}", thought)
    raw = _strip_fence(after[given.end() :].lstrip())
    return Action(name, _first_json(raw), thought)


def _name_and_inline_args(line: str) -> tuple[str, str | None]:
    line = line.strip()
    paren = line.find("(")
    if paren > 0 and line.endswith(")"):
        inside = line[paren + 1 : -1].strip()
        return line[:paren].strip(_NAME_CHARS), _first_json(inside) if inside else "{}"
    return line.strip(_NAME_CHARS), None


def _first_json(raw: str) -> str:
    """The first JSON value in ``raw`` (text after it dropped), or ``raw`` itself so that the
    tool layer reports the invalid JSON to the model."""
    start = raw.find("{")
    if start < 0:
        return raw.strip()
    try:
        _, end = json.JSONDecoder().raw_decode(raw, start)
    except (ValueError, RecursionError):
        return _until_next_label(raw).strip()
    return raw[start:end]


def _strip_fence(text: str) -> str:
    opened = _FENCE_OPEN.match(text)
    if opened is None:
        return text
    body = text[opened.end() :]
    close = body.find("```")
    return (body[:close] if close >= 0 else body).strip()


def _until_next_label(text: str) -> str:
    cut = len(text)
    for pattern in (_OBSERVATION, _THOUGHT, _ACTION, _INPUT):
        found = pattern.search(text)
        if found is not None:
            cut = min(cut, found.start())
    return text[:cut]


def _section(text: str, pattern: re.Pattern[str]) -> str:
    found = pattern.search(text)
    if found is None:
        return ""
    return _until_next_label(text[found.end() :]).strip()
