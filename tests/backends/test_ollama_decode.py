"""The SDK's ``ChatResponse`` → alloy ``Response``, on real recorded bodies and edge cases.

The recorded native ``/api/chat`` traffic in ../shared/recorded is NDJSON (a stream): every
line is parsed by the SDK's ``ChatResponse`` as its stream reader does, and the lines are
folded into the single object Ollama sends for ``"stream": false`` (the content pieces
joined, the final line's reason and counts), which is what the backend decodes.
"""
# The ollama SDK's chat() (a parameter typed with a bare Callable), its context managers and
# its clients' httpx attribute are partly untyped.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false
# pyright: reportUnknownArgumentType=false

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from ollama import ChatResponse
from ollama import Message

from alloy._messages import ProviderData
from alloy._messages import Request
from alloy.backends.ollama._decode import decode_response
from alloy.backends.ollama._encode import encode_request
from tests.recorded import check_reply
from tests.recorded import last_body
from tests.recorded import load
from tests.recorded import recorded

NATIVE = [p for p in recorded("ollama__*.json") if "openai-compat" not in p.name]


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in last_body(path).splitlines() if line.strip()]


def fold(parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The non-streamed answer equivalent to a stream's lines."""
    final = dict(parts[-1])
    message: dict[str, Any] = dict(final["message"])
    message["content"] = "".join(p["message"].get("content") or "" for p in parts)
    calls: list[Any] = [c for p in parts for c in p["message"].get("tool_calls") or []]
    if calls:
        message["tool_calls"] = calls
    final["message"] = message
    return final


def chat(**fields: Any) -> ChatResponse:
    body: dict[str, Any] = {
        "model": "llama3.1",
        "created_at": "2026-01-01T00:00:00Z",
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": 10,
        "eval_count": 5,
    }
    body.update(fields)
    return ChatResponse(**body)


@pytest.mark.parametrize("path", NATIVE, ids=lambda p: p.name.removesuffix(".json"))
def test_recorded_native_bodies(path: Path) -> None:
    expect = load(path)["expect"]
    parts = lines(path)
    for part in parts:
        ChatResponse(**part)  # every line parses as the SDK's stream reader parses it
    response = decode_response(ChatResponse(**fold(parts)))
    check_reply(response, expect)
    usage = expect["usage"]
    assert response.usage.total_tokens == usage["input_tokens"] + usage["output_tokens"]
    assert response.model == "llama3.1"


def test_the_recorded_corpus_was_found(corpus: Path) -> None:
    assert NATIVE


def test_text_usage_and_finish() -> None:
    response = decode_response(
        chat(message={"role": "assistant", "content": "Hi!"}, done_reason="length")
    )
    assert response.text == "Hi!"
    assert response.finish_reason == "length"
    usage = response.usage
    assert (usage.input_tokens, usage.output_tokens, usage.total_tokens) == (10, 5, 15)
    assert usage.cached_input_tokens is None and usage.reasoning_tokens is None
    assert response.tool_calls == ()
    assert response.reasoning is None and response.provider_data is None
    assert response.refusal is None and response.request_id is None


def test_a_prompt_served_from_cache_has_no_input_count() -> None:
    raw = chat(message={"role": "assistant", "content": "x"})
    raw.prompt_eval_count = None  # Ollama omits it when the prompt was cached
    usage = decode_response(raw).usage
    assert usage.input_tokens is None and usage.output_tokens == 5 and usage.total_tokens is None


def test_tool_calls_get_json_arguments_and_stable_distinct_ids() -> None:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {"function": {"name": "lookup", "arguments": {"city": "Paris", "n": 1}}},
            {"function": {"name": "lookup", "arguments": {"city": "Rome", "n": 2}}},
            {"function": {"name": "ping", "arguments": {}}},
        ],
    }
    first = decode_response(chat(message=message))
    again = decode_response(chat(message=message))
    assert first.text == ""
    assert [(c.name, json.loads(c.arguments)) for c in first.tool_calls] == [
        ("lookup", {"city": "Paris", "n": 1}),
        ("lookup", {"city": "Rome", "n": 2}),
        ("ping", {}),
    ]
    ids = [c.id for c in first.tool_calls]
    assert ids == [c.id for c in again.tool_calls]
    assert len(set(ids)) == 3
    assert all(i.startswith("call_") for i in ids)


def test_unicode_arguments_are_kept_readable() -> None:
    message = {
        "role": "assistant",
        "content": "",
        "tool_calls": [{"function": {"name": "f", "arguments": {"city": "Zürich"}}}],
    }
    assert decode_response(chat(message=message)).tool_calls[0].arguments == '{"city": "Zürich"}'


def test_thinking_becomes_reasoning_and_goes_back_with_the_turn() -> None:
    message = {"role": "assistant", "content": "42", "thinking": "6 times 7"}
    response = decode_response(chat(message=message))
    assert response.text == "42"
    assert response.reasoning == "6 times 7"
    assert response.provider_data == ProviderData("ollama", {"thinking": "6 times 7"})
    params = encode_request(Request("qwen3", (response.message(),)))
    assert params["messages"] == [{"role": "assistant", "content": "42", "thinking": "6 times 7"}]


def test_missing_optional_fields() -> None:
    raw = ChatResponse(message=Message(role="assistant"))
    response = decode_response(raw)
    assert response.text == ""
    assert response.finish_reason is None
    assert response.model is None
    assert response.usage.input_tokens is None and response.usage.total_tokens is None
