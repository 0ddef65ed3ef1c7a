"""The SDK's ``GenerateContentResponse`` → alloy ``Response``, checked against real recorded bodies.

Bodies are parsed by google-genai itself: served to a real client through an in-memory
``httpx2.MockTransport`` (no socket, no network), so the decoder sees exactly what
``generate_content`` returns.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2
import pytest
from google import genai
from google.genai import types

from alloy._messages import Message
from alloy._messages import ProviderData
from alloy._messages import Request
from alloy._messages import native
from alloy.backends.gemini._decode import decode_response
from alloy.backends.gemini._encode import encode_request
from tests.recorded import check_reply
from tests.recorded import last_body
from tests.recorded import load
from tests.recorded import successes


def sdk_parse(body: str | dict[str, Any]) -> types.GenerateContentResponse:
    """``body`` as ``client.models.generate_content`` returns it."""
    text = body if isinstance(body, str) else json.dumps(body)

    def answer(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, text=text, headers={"content-type": "application/json"})

    with httpx2.Client(transport=httpx2.MockTransport(answer)) as http:
        options = types.HttpOptions(base_url="http://gemini.test", httpx_client=http)
        client = genai.Client(api_key="test-key", http_options=options)
        return client.models.generate_content(model="gemini-2.5-flash", contents="hi")


SUCCESSES = successes("gemini__*__sync.json")


@pytest.mark.parametrize("path", SUCCESSES, ids=lambda p: p.name.split("__")[1])
def test_decode_matches_recorded_expectation(path: Path) -> None:
    response = decode_response(sdk_parse(last_body(path)))
    check_reply(response, load(path)["expect"])
    assert response.refusal is None
    assert response.model == "gemini-2.5-flash"


def test_a_recording_of_each_kind_is_covered(corpus: Path) -> None:
    names = {p.name.split("__")[1] for p in SUCCESSES}
    assert {"text", "parallel-tool-calls", "thinking", "max-tokens", "prompt-caching"} <= names


def test_output_counts_the_thinking_gemini_counts_apart(corpus: Path) -> None:
    body = last_body(corpus / "gemini__thinking__sync.json")
    usage = decode_response(sdk_parse(body)).usage
    # candidatesTokenCount (136) leaves out the thoughts (1754); alloy's output includes them.
    assert (usage.input_tokens, usage.output_tokens, usage.reasoning_tokens) == (30, 1890, 1754)
    assert usage.total_tokens == 1920 == usage.details["totalTokenCount"]
    assert usage.details["candidatesTokenCount"] == 136


def test_thoughts_are_reasoning_not_text(corpus: Path) -> None:
    body = last_body(corpus / "gemini__thinking__sync.json")
    response = decode_response(sdk_parse(body))
    assert response.text.endswith("3")
    assert response.reasoning is not None
    assert response.reasoning.startswith("**Analyzing Prime Numbers")
    assert response.reasoning not in response.text


def test_parallel_calls_get_stable_distinct_ids_and_keep_their_signature(corpus: Path) -> None:
    case = load(corpus / "gemini__parallel-tool-calls__sync.json")
    body = case["interactions"][-1]["response"]["body"]
    first, second = decode_response(sdk_parse(body)).tool_calls
    again = decode_response(sdk_parse(body)).tool_calls
    assert first.id != second.id
    assert [c.id for c in again] == [first.id, second.id]
    assert first.id.startswith(json.loads(body)["responseId"])
    assert isinstance(native(first.provider_data, "gemini")["thought_signature"], bytes)
    assert "thought_signature" not in native(second.provider_data, "gemini")
    assert first.arguments == '{"password": "mellon"}'


def test_provider_data_is_the_model_turn_as_sent(corpus: Path) -> None:
    case = load(corpus / "gemini__parallel-tool-calls__sync.json")
    response = decode_response(sdk_parse(case["interactions"][-1]["response"]["body"]))
    assert isinstance(response.provider_data, ProviderData)
    assert response.provider_data.backend == "gemini"
    turn = response.provider_data.data
    assert turn["role"] == "model"
    assert [p["function_call"]["name"] for p in turn["parts"]] == ["secret_retrieval_tool"] * 2
    # ... and the encoder sends exactly that turn back.
    message = response.message()
    params = encode_request(
        Request(model="gemini-2.5-flash", messages=(Message.user("go"), message))
    )
    assert params["contents"][1] == turn


def test_a_call_id_on_the_wire_is_kept() -> None:
    body = {
        "candidates": [
            {
                "content": {
                    "role": "model",
                    "parts": [{"functionCall": {"id": "fc-7", "name": "lookup", "args": {}}}],
                },
                "finishReason": "STOP",
            }
        ]
    }
    (call,) = decode_response(sdk_parse(body)).tool_calls
    assert (call.id, call.name, call.arguments) == ("fc-7", "lookup", "{}")


def test_a_blocked_reply_is_a_refusal() -> None:
    body = {
        "candidates": [{"finishReason": "SAFETY", "finishMessage": "Blocked for safety."}],
        "usageMetadata": {"promptTokenCount": 4, "totalTokenCount": 4},
    }
    response = decode_response(sdk_parse(body))
    assert response.text == ""
    assert response.finish_reason == "SAFETY"
    # google-genai drops finishMessage on the Gemini Developer API, so the reason is the text.
    assert response.refusal == "the reply was blocked (SAFETY)"
    assert response.usage.input_tokens == 4
    assert response.usage.output_tokens is None
    assert response.usage.total_tokens == 4


def test_a_blocked_prompt_is_a_refusal() -> None:
    body = {"promptFeedback": {"blockReason": "PROHIBITED_CONTENT"}}
    response = decode_response(sdk_parse(body))
    assert response.finish_reason == "PROHIBITED_CONTENT"
    assert response.refusal == "the prompt was blocked (PROHIBITED_CONTENT)"
    assert response.provider_data is None


def test_an_empty_reply() -> None:
    response = decode_response(sdk_parse({}))
    assert (response.text, response.tool_calls, response.finish_reason) == ("", (), None)
    assert response.usage.input_tokens is None and response.usage.total_tokens is None
    assert response.refusal is None and response.reasoning is None


def test_max_tokens_is_not_a_refusal(corpus: Path) -> None:
    body = last_body(corpus / "gemini__max-tokens__sync.json")
    response = decode_response(sdk_parse(body))
    assert response.finish_reason == "MAX_TOKENS"
    assert response.refusal is None
