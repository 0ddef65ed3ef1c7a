"""The SDK's ``ChatCompletion`` → alloy ``Response``, checked against real recorded bodies.

Covers OpenAI's own replies and an OpenAI-compatible server's (Ollama), which omits fields.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic
import pytest
from openai.types.chat import ChatCompletion

from alloy._messages import Message
from alloy._messages import Request
from alloy.backends.openai.chat import decode_response
from alloy.backends.openai.chat import encode_request
from tests.recorded import check_reply
from tests.recorded import last_body
from tests.recorded import load
from tests.recorded import successes


def parse(body: str | dict[str, Any]) -> ChatCompletion:
    """The body as the SDK parses it: validated when it validates, else as the client builds
    replies by default (``construct``, no validation), which tolerates missing fields."""
    data = json.loads(body) if isinstance(body, str) else body
    try:
        return ChatCompletion.model_validate(data)
    except pydantic.ValidationError:
        return ChatCompletion.construct(**data)


SUCCESSES = successes("openai-chat__*__sync.json", "ollama__openai-compat-*__sync.json")


@pytest.mark.parametrize("path", SUCCESSES, ids=lambda p: ":".join(p.name.split("__")[:2]))
def test_decode_matches_recorded_expectation(path: Path) -> None:
    response = decode_response(parse(last_body(path)))
    check_reply(response, load(path)["expect"])


def test_a_recording_of_each_kind_is_covered(corpus: Path) -> None:
    names = {p.name.split("__")[1] for p in SUCCESSES}
    assert {"text", "parallel-tool-calls", "reasoning-max-tokens", "refusal"} <= names
    assert "openai-compat-text" in names


def test_tool_call_ids_and_a_follow_up_turn_match_the_recording(corpus: Path) -> None:
    case = load(corpus / "openai-chat__parallel-tool-calls-followup__sync.json")
    first, second = case["interactions"]
    reply = decode_response(parse(first["response"]["body"]))
    assert [c.id for c in reply.tool_calls] == [
        c["id"]
        for c in json.loads(first["response"]["body"])["choices"][0]["message"]["tool_calls"]
    ]
    params = encode_request(Request("gpt-4o", (Message.user("secrets?"), reply.message())))
    sent = params["messages"][-1]
    recorded_turn = next(
        m for m in second["request"]["body"]["messages"] if m["role"] == "assistant"
    )
    assert sent["tool_calls"] == recorded_turn["tool_calls"]


def test_model_and_total_tokens(corpus: Path) -> None:
    response = decode_response(parse(last_body(corpus / "openai-chat__text__sync.json")))
    assert response.model == "gpt-4o-2024-08-06"
    assert response.usage.total_tokens == 28


# Shapes seen from OpenAI-compatible servers, parsed the way the SDK client parses replies.


def test_missing_usage_and_ids() -> None:
    raw = parse(
        {
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1,
            "model": "llama3.1",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {
                        "role": "assistant",
                        "content": "",
                        "tool_calls": [{"function": {"name": "f", "arguments": {"a": 1}}}],
                    },
                }
            ],
        }
    )
    response = decode_response(raw)
    assert response.text == ""
    assert response.usage.input_tokens is None
    assert response.usage.total_tokens is None
    (call,) = response.tool_calls
    assert call.id == "call_0"
    assert json.loads(call.arguments) == {"a": 1}


def test_no_choices() -> None:
    raw = parse({"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": []})
    response = decode_response(raw)
    assert response.text == ""
    assert response.finish_reason is None
    assert response.tool_calls == ()


def test_reasoning_text_from_compatible_servers() -> None:
    raw = parse(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 1,
            "model": "deepseek-r1",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {
                        "role": "assistant",
                        "content": "4",
                        "reasoning_content": "2 + 2 is 4.",
                    },
                }
            ],
        }
    )
    response = decode_response(raw)
    assert response.text == "4"
    assert response.reasoning == "2 + 2 is 4."


def test_the_first_output_tool_call_is_the_reply_text() -> None:
    def call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
        return {
            "id": call_id,
            "type": "function",
            "function": {"name": name, "arguments": arguments},
        }

    raw = parse(
        {
            "id": "x",
            "object": "chat.completion",
            "created": 1,
            "model": "gpt-test",
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "tool_calls",
                    "message": {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [
                            call("a", "alloy_output", '{"value": 4}'),
                            call("b", "get_weather", "{}"),
                        ],
                    },
                }
            ],
        }
    )
    response = decode_response(raw)
    assert response.text == '{"value": 4}'
    assert [(c.id, c.name) for c in response.tool_calls] == [("b", "get_weather")]
    assert response.provider_data is None
