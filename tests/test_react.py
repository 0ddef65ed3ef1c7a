import json

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from alloy._react import Action
from alloy._react import Final
from alloy._react import ReactFormatError
from alloy._react import instructions
from alloy._react import parse_step
from alloy.backends import ToolSpec


@pytest.mark.parametrize(
    ("text", "name", "arguments"),
    [
        ('Thought: x\nAction: add\nAction Input: {"a": 1}', "add", {"a": 1}),
        ('action: add\naction input: {"a": 1}', "add", {"a": 1}),
        ('**Action:** `add`\n**Action Input:** {"a": 1}', "add", {"a": 1}),
        ('Action: "add"\nAction Input:\n```json\n{"a": 1}\n```', "add", {"a": 1}),
        ('Action: add\nAction Input: {"a": 1}\nObservation: 2\nFinal Answer: 2', "add", {"a": 1}),
        ('Action: add({"a": 1})', "add", {"a": 1}),
        ("Action: list_files", "list_files", {}),
        (
            'Action: add\nAction_Input: {"a": {"b": [1, 2]}} and then some',
            "add",
            {"a": {"b": [1, 2]}},
        ),
    ],
)
def test_actions(text: str, name: str, arguments: dict[str, object]) -> None:
    step = parse_step(text)
    assert isinstance(step, Action)
    assert step.name == name
    assert json.loads(step.arguments) == arguments


@pytest.mark.parametrize(
    ("text", "answer"),
    [
        ("Thought: done\nFinal Answer: 42", "42"),
        ('final answer: ```json\n{"a": 1}\n```', '{"a": 1}'),
        ("Paris is the capital.", "Paris is the capital."),
        ("**Final Answer:** yes", "yes"),
    ],
)
def test_final_answers(text: str, answer: str) -> None:
    step = parse_step(text)
    assert isinstance(step, Final) and step.text == answer


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "Thought: I will think more",
        "Action Input: {}",
        "Action:\nAction Input: {}",
        "Final Answer:",
    ],
)
def test_protocol_errors(text: str) -> None:
    with pytest.raises(ReactFormatError):
        parse_step(text)


def test_invalid_json_is_passed_on_for_the_tool_layer_to_report() -> None:
    step = parse_step("Action: add\nAction Input: {a: 1}")
    assert isinstance(step, Action) and step.arguments.startswith("{a: 1}")


def test_model_text_is_never_evaluated() -> None:
    step = parse_step('Action: add\nAction Input: __import__("os").system("echo pwned")')
    assert isinstance(step, Action) and "__import__" in step.arguments


def test_instructions_list_tools_and_the_answer_schema() -> None:
    spec = ToolSpec(
        "add", "Add numbers.", {"type": "object", "properties": {"a": {"type": "integer"}}}
    )
    text = instructions([spec], {"type": "object", "properties": {"value": {"type": "integer"}}})
    assert "- add: Add numbers." in text and '"integer"' in text and "Final Answer:" in text


_LABELS = st.sampled_from(
    [
        "Thought:",
        "Action:",
        "Action Input:",
        "Observation:",
        "Final Answer:",
        "**Action:**",
        "```",
        "{",
        "}",
        "\n",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.text(max_size=30), _LABELS), max_size=12).map("".join))
def test_fuzz_any_text_gives_a_step_or_a_clean_protocol_error(text: str) -> None:
    message = ""
    try:
        step = parse_step(text)
    except ReactFormatError as exc:
        message = str(exc)
        step = None
    if step is None:
        assert message
    else:
        assert isinstance(step, Action | Final)
        if isinstance(step, Action):
            assert step.name and isinstance(step.arguments, str)
