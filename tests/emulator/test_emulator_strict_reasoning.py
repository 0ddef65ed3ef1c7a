"""Strict signed replay (``Scenario.set_strict_reasoning``): echoed reasoning is checked as
the real APIs check it, through the real SDKs, with each API's status and error envelope."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import anthropic
import openai
import pytest
from anthropic import Anthropic
from google import genai
from google.genai import errors
from google.genai import types
from openai import OpenAI

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import RemoteEmulator
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall
from alloy.testing.emulator._replay import ReplayLedger

THOUGHT = "I should look the city up."
QUESTION: Any = {"role": "user", "content": "Weather in Paris?"}


# --- Anthropic ----------------------------------------------------------------------------


def _claude_turn(client: Anthropic, scenario: Scenario, stream: bool) -> list[dict[str, Any]]:
    """A first turn answered with thinking, redacted thinking and a tool call, as params."""
    scenario.enqueue(
        Reply(
            reasoning=THOUGHT,
            redacted_reasoning="EmwKAhgBEgy3va3pzix",
            tool_calls=[ToolCall("weather", {"city": "Paris"}, id="toolu_1")],
        )
    )
    options: dict[str, Any] = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 2048,
        "messages": [QUESTION],
    }
    if stream:
        with client.messages.stream(**options) as events:
            message = events.get_final_message()
    else:
        message = client.messages.create(**options)
    return [block.model_dump(exclude_none=True) for block in message.content]


def _claude_follow_up(client: Anthropic, content: list[dict[str, Any]]) -> str:
    result: Any = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"}
    messages: Any = [
        QUESTION,
        {"role": "assistant", "content": content},
        {"role": "user", "content": [result]},
    ]
    message = client.messages.create(
        model="claude-sonnet-4-6",
        max_tokens=2048,
        messages=messages,
        thinking={"type": "enabled", "budget_tokens": 1024},
    )
    return "".join(getattr(block, "text", "") for block in message.content)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_anthropic_accepts_the_turn_echoed_as_sent(
    claude: Anthropic, scenario: Scenario, stream: bool
) -> None:
    scenario.set_strict_reasoning(True)
    content = _claude_turn(claude, scenario, stream)
    assert [block["type"] for block in content] == ["thinking", "redacted_thinking", "tool_use"]
    scenario.enqueue(Reply(text="18C in Paris."))
    assert _claude_follow_up(claude, content) == "18C in Paris."
    assert [r.status for r in scenario.requests] == [200, 200]


def _drop_thinking(content: list[dict[str, Any]]) -> None:
    del content[0:2]


def _edit_thinking(content: list[dict[str, Any]]) -> None:
    content[0]["thinking"] += " Or not."


def _forge_signature(content: list[dict[str, Any]]) -> None:
    content[0]["signature"] = "Zm9yZ2Vk"


def _drop_redacted(content: list[dict[str, Any]]) -> None:
    del content[1]


def _swap_order(content: list[dict[str, Any]]) -> None:
    content[0], content[1] = content[1], content[0]


def _after_the_call(content: list[dict[str, Any]]) -> None:
    content.append(content.pop(1))


ANTHROPIC_BREAKS: dict[str, tuple[Callable[[list[dict[str, Any]]], None], str]] = {
    "dropped": (
        _drop_thinking,
        "messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found "
        "`tool_use`. When `thinking` is enabled, a final `assistant` message must start",
    ),
    "edited": (_edit_thinking, "messages.1.content.0: `thinking` or `redacted_thinking` blocks"),
    "forged": (_forge_signature, "messages.1.content.0: Invalid `signature` in `thinking` block"),
    "redacted dropped": (_drop_redacted, "messages.1.content.1: `thinking` or `redacted"),
    "reordered": (_swap_order, "messages.1.content.0: `thinking` or `redacted_thinking` blocks"),
    "after the call": (_after_the_call, "messages.1.content.2: `thinking` or `redacted"),
}


@pytest.mark.parametrize("case", list(ANTHROPIC_BREAKS))
def test_anthropic_rejects_a_changed_echo(claude: Anthropic, scenario: Scenario, case: str) -> None:
    scenario.set_strict_reasoning(True)
    content = _claude_turn(claude, scenario, stream=False)
    scenario.enqueue(Reply(text="never sent"))
    good = copy.deepcopy(content)
    breaks, expected = ANTHROPIC_BREAKS[case]
    breaks(content)
    with pytest.raises(anthropic.BadRequestError) as caught:
        _claude_follow_up(claude, content)
    assert caught.value.status_code == 400
    body: Any = caught.value.body
    assert body["type"] == "error"
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith(expected)
    assert scenario.pending == 1  # the rejected request took no scripted item
    assert [r.status for r in scenario.requests] == [200, 400]
    assert scenario.requests[1].item is None
    assert _claude_follow_up(claude, good) == "never sent"


def test_anthropic_earlier_turns_may_drop_their_thinking(
    claude: Anthropic, scenario: Scenario
) -> None:
    scenario.set_strict_reasoning(True)
    content = _claude_turn(claude, scenario, stream=False)
    scenario.enqueue(Reply(text="done"))
    result: Any = {"type": "tool_result", "tool_use_id": "toolu_1", "content": "18C"}
    messages: Any = [
        QUESTION,
        {"role": "assistant", "content": content[2:]},
        {"role": "user", "content": [result]},
        {"role": "assistant", "content": "It is 18C."},
        {"role": "user", "content": "Thanks."},
    ]
    message = claude.messages.create(model="claude-sonnet-4-6", max_tokens=99, messages=messages)
    assert message.content[0].type == "text"


def test_anthropic_checks_only_when_strict(claude: Anthropic, scenario: Scenario) -> None:
    content = _claude_turn(claude, scenario, stream=False)
    scenario.enqueue(Reply(text="lenient"), Reply(text="lenient again"))
    _forge_signature(content)
    assert _claude_follow_up(claude, content) == "lenient"
    scenario.set_strict_reasoning(True)
    scenario.reset()  # forgets the sent reasoning and switches the checks off
    scenario.enqueue(Reply(text="lenient again"))
    assert _claude_follow_up(claude, content) == "lenient again"


# --- Gemini -------------------------------------------------------------------------------


def _gemini_turn(client: genai.Client, scenario: Scenario, reasoning: str | None) -> types.Content:
    scenario.enqueue(
        Reply(
            reasoning=reasoning,
            tool_calls=[
                ToolCall("weather", {"city": "Paris"}),
                ToolCall("weather", {"city": "Oslo"}),
            ],
        )
    )
    response = client.models.generate_content(model="gemini-3-pro-preview", contents="Weather?")
    assert response.candidates and response.candidates[0].content
    return response.candidates[0].content


def _gemini_follow_up(client: genai.Client, turn: types.Content) -> str | None:
    results = [
        types.Part.from_function_response(name="weather", response={"c": c}) for c in (18, 4)
    ]
    contents: Any = [
        types.Content(role="user", parts=[types.Part(text="Weather?")]),
        turn,
        types.Content(role="user", parts=results),
    ]
    return client.models.generate_content(model="gemini-3-pro-preview", contents=contents).text


@pytest.mark.parametrize("reasoning", [THOUGHT, None], ids=["reasoning", "plain"])
def test_gemini_accepts_the_signed_calls_echoed(
    gemini: genai.Client, scenario: Scenario, reasoning: str | None
) -> None:
    scenario.set_strict_reasoning(True)
    turn = _gemini_turn(gemini, scenario, reasoning)
    scenario.enqueue(Reply(text="18C and 4C."))
    assert _gemini_follow_up(gemini, turn) == "18C and 4C."
    echoed = scenario.requests[1].json["contents"][1]["parts"]
    assert all("thoughtSignature" in part for part in echoed if "functionCall" in part) is (
        reasoning is not None
    )


@pytest.mark.parametrize("reasoning", [THOUGHT, None], ids=["reasoning", "plain"])
def test_gemini_rejects_a_call_without_its_signature(
    gemini: genai.Client, scenario: Scenario, reasoning: str | None
) -> None:
    scenario.set_strict_reasoning(True)
    turn = _gemini_turn(gemini, scenario, reasoning)
    for part in turn.parts or []:
        part.thought_signature = None
    with pytest.raises(errors.ClientError) as caught:
        _gemini_follow_up(gemini, turn)
    assert caught.value.code == 400 and caught.value.status == "INVALID_ARGUMENT"
    assert caught.value.message is not None
    assert caught.value.message.startswith(
        "Function call is missing a thought_signature in functionCall parts."
    )
    assert "function call `default_api:weather` , position 2." in caught.value.message
    assert [r.status for r in scenario.requests] == [200, 400]


def test_gemini_rejects_another_signature(gemini: genai.Client, scenario: Scenario) -> None:
    scenario.set_strict_reasoning(True)
    turn = _gemini_turn(gemini, scenario, THOUGHT)
    calls = [part for part in turn.parts or [] if part.function_call is not None]
    calls[1].thought_signature = b"another"
    with pytest.raises(errors.ClientError, match="Corrupted thought signature"):
        _gemini_follow_up(gemini, turn)


# --- OpenAI Responses ---------------------------------------------------------------------


def _responses_turn(client: OpenAI, scenario: Scenario, **options: Any) -> list[dict[str, Any]]:
    scenario.enqueue(
        Reply(reasoning=THOUGHT, tool_calls=[ToolCall("weather", {"city": "Paris"}, id="call_1")])
    )
    response = client.responses.create(model="gpt-5", input="Weather?", **options)
    return [item.model_dump(exclude_none=True) for item in response.output]


def _responses_follow_up(client: OpenAI, items: list[dict[str, Any]], **options: Any) -> str:
    output: Any = {"type": "function_call_output", "call_id": "call_1", "output": "18C"}
    inputs: Any = [{"role": "user", "content": "Weather?"}, *items, output]
    return client.responses.create(model="gpt-5", input=inputs, **options).output_text


def test_responses_store_false_needs_the_encrypted_content(
    client: OpenAI, scenario: Scenario
) -> None:
    scenario.set_strict_reasoning(True)
    private: Any = {"store": False, "include": ["reasoning.encrypted_content"]}
    items = _responses_turn(client, scenario, **private)
    assert items[0]["type"] == "reasoning" and items[0]["encrypted_content"]
    scenario.enqueue(Reply(text="18C."), Reply(text="never sent"))
    assert _responses_follow_up(client, items, **private) == "18C."
    by_id = [{k: v for k, v in items[0].items() if k != "encrypted_content"}, *items[1:]]
    with pytest.raises(openai.NotFoundError) as caught:
        _responses_follow_up(client, by_id, **private)
    assert caught.value.status_code == 404
    body: Any = caught.value.body
    assert body["type"] == "invalid_request_error"
    assert body["message"] == (
        f"Item with id '{items[0]['id']}' not found. Items are not persisted when `store` is "
        "set to false. Try again with `store` set to true, or remove this item from your input."
    )
    reference: Any = [{"type": "item_reference", "id": items[0]["id"]}, *items[1:]]
    with pytest.raises(openai.NotFoundError, match="not found"):
        _responses_follow_up(client, reference, **private)
    assert [r.status for r in scenario.requests] == [200, 200, 404, 404]
    assert scenario.pending == 1


def test_responses_stored_items_may_come_back_by_id(client: OpenAI, scenario: Scenario) -> None:
    scenario.set_strict_reasoning(True)
    items = _responses_turn(client, scenario)
    assert "encrypted_content" not in items[0]
    scenario.enqueue(Reply(text="18C."), Reply(text="18C again."))
    assert _responses_follow_up(client, items) == "18C."
    assert _responses_follow_up(client, items, store=True) == "18C again."


def test_responses_rejects_encrypted_content_it_never_sent(
    client: OpenAI, scenario: Scenario
) -> None:
    scenario.set_strict_reasoning(True)
    items = _responses_turn(client, scenario, include=["reasoning.encrypted_content"])
    items[0]["encrypted_content"] = "gAAAAABforged-content-Rg=="
    with pytest.raises(openai.BadRequestError) as caught:
        _responses_follow_up(client, items, store=False)
    body: Any = caught.value.body
    assert body["code"] == "invalid_encrypted_content"
    assert body["message"] == "The encrypted content gAAA...Rg== could not be verified."


# --- the switch ---------------------------------------------------------------------------


def test_strict_reasoning_over_the_control_plane(emulator: Emulator) -> None:
    remote = RemoteEmulator(emulator.url).scenario()
    local = emulator.scenario(remote.name)
    remote.set_strict_reasoning(True)
    with Anthropic(base_url=remote.base_url("anthropic"), api_key="k", max_retries=0) as sdk:
        content = _claude_turn(sdk, local, stream=False)
        _forge_signature(content)
        with pytest.raises(anthropic.BadRequestError, match="Invalid `signature`"):
            _claude_follow_up(sdk, content)
        remote.set_strict_reasoning(False)
        remote.enqueue(Reply(text="accepted"))
        assert _claude_follow_up(sdk, content) == "accepted"
    with pytest.raises(RuntimeError, match="400"):
        remote.set_strict_reasoning("on")  # type: ignore[arg-type]
    remote.reset()


def test_strict_reasoning_takes_a_boolean(scenario: Scenario) -> None:
    with pytest.raises(ValueError, match="true or false"):
        scenario.set_strict_reasoning(1)  # type: ignore[arg-type]


MALFORMED: list[Any] = [
    None,
    [],
    "text",
    {"messages": "x", "contents": 3, "input": {"a": 1}},
    {"messages": [None, 7, {"role": "assistant", "content": [1, None, {"type": 5}]}]},
    {"contents": [None, {"role": "model", "parts": [3, {"functionCall": "f"}]}]},
    {"input": [None, {"type": "reasoning", "encrypted_content": 5}], "store": "no"},
]


@pytest.mark.parametrize("provider", ["anthropic", "gemini", "openai-responses", "ollama"])
@pytest.mark.parametrize("body", MALFORMED)
def test_malformed_bodies_pass_the_checks(provider: str, body: Any) -> None:
    ledger = ReplayLedger()
    ledger.set_strict(True)
    ledger.remember("anthropic", [{"type": "thinking", "thinking": "t", "signature": "s"}])
    ledger.remember(
        "gemini", [{"functionCall": {"name": "f", "args": {}}, "thoughtSignature": "c2ln"}]
    )
    assert ledger.check(provider, body) is None


def test_a_thinking_block_without_a_signature_is_refused() -> None:
    ledger = ReplayLedger()
    ledger.set_strict(True)
    body = {"messages": [{"role": "assistant", "content": [None, {"type": "thinking"}]}]}
    rejection = ledger.check("anthropic", body)
    assert rejection is not None and rejection.status == 400
    message = rejection.body["error"]["message"]
    assert message == "messages.0.content.1: Invalid `signature` in `thinking` block"
