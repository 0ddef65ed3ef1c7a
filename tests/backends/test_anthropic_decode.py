"""The SDK's ``Message`` → alloy ``Response``, on real recorded bodies and built ones."""

from __future__ import annotations

import json
from typing import Any

from anthropic.types import Message as SDKMessage

from alloy._messages import native
from alloy.backends.anthropic._decode import decode_response
from alloy.backends.anthropic._encode import OUTPUT_TOOL
from tests.recorded import last_body
from tests.recorded import require_corpus


def recorded(name: str) -> SDKMessage:
    return SDKMessage.model_validate(json.loads(last_body(require_corpus() / name)))


def message(*content: dict[str, Any], **fields: Any) -> SDKMessage:
    body: dict[str, Any] = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": list(content),
        "stop_reason": "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": 7, "output_tokens": 3},
    }
    body.update(fields)
    return SDKMessage.model_validate(body)


def test_text_and_usage() -> None:
    response = decode_response(recorded("anthropic__prompt-caching__sync.json"))
    assert response.text.startswith("*adjusts imaginary protocol droid posture*")
    assert response.finish_reason == "end_turn"
    usage = response.usage
    # Anthropic's input_tokens (12) leaves out the 4,167 read from the cache; alloy's counts
    # every input token.
    assert (usage.input_tokens, usage.output_tokens, usage.cached_input_tokens) == (4179, 350, 4167)
    assert usage.reasoning_tokens is None
    assert usage.total_tokens == 4529
    assert (usage.details["input_tokens"], usage.details["cache_read_input_tokens"]) == (12, 4167)
    assert response.model == "claude-sonnet-4-20250514"


def test_parallel_tool_calls_keep_text_and_order() -> None:
    response = decode_response(recorded("anthropic__parallel-tool-calls__sync.json"))
    assert response.text == "I'll retrieve the secrets for both passwords you provided."
    assert [(c.name, json.loads(c.arguments)) for c in response.tool_calls] == [
        ("secret_retrieval_tool", {"password": "mellon"}),
        ("secret_retrieval_tool", {"password": "radiance"}),
    ]
    assert response.tool_calls[0].id == "toolu_01BUvqBj8Yb34pNAbCJJY1oc"
    tagged = response.tool_calls[0].provider_data
    assert tagged is not None and tagged.backend == "anthropic"
    assert tagged.data["type"] == "tool_use" and tagged.data["input"] == {"password": "mellon"}
    assert response.finish_reason == "tool_use"


def test_thinking_goes_to_reasoning_and_provider_data() -> None:
    raw = recorded("anthropic__thinking__sync.json")
    response = decode_response(raw)
    assert response.text == "3"
    assert response.reasoning is not None and response.reasoning.startswith("I need to find")
    blocks = native(response.provider_data, "anthropic")
    assert blocks[0]["type"] == "thinking"
    assert blocks[0]["signature"] == raw.content[0].signature  # type: ignore[union-attr]
    json.dumps(blocks)  # plain JSON, so a history can be stored and sent back


def test_output_tool_input_is_the_reply_text() -> None:
    raw = message(
        {"type": "tool_use", "id": "toolu_1", "name": OUTPUT_TOOL, "input": {"value": 3}},
        stop_reason="tool_use",
    )
    response = decode_response(raw)
    assert response.text == '{"value": 3}'
    assert response.tool_calls == ()
    assert native(response.provider_data, "anthropic")[0]["name"] == OUTPUT_TOOL


def test_refusal_and_thinking_tokens() -> None:
    raw = message(
        {"type": "text", "text": ""},
        stop_reason="refusal",
        stop_details={"type": "refusal", "category": "cyber", "explanation": "Not that."},
        usage={
            "input_tokens": 5,
            "output_tokens": 9,
            "output_tokens_details": {"thinking_tokens": 4},
        },
    )
    response = decode_response(raw)
    assert response.refusal == "Not that."
    assert response.usage.reasoning_tokens == 4
    assert response.finish_reason == "refusal"
