"""Each provider's finish value in alloy's words: the tables (data), the rules that settle a
reply's finish against what it holds, and the decoders that apply both.

Every value the SDKs declare is in its provider's table, so an SDK upgrade that adds one
fails here until someone decides what it means (``None`` when alloy has no word for it).
"""

from __future__ import annotations

import json
import typing
from typing import Any

import pydantic
import pytest
from anthropic.types import Message as AnthropicMessage
from anthropic.types import StopReason
from google.genai import types as gemini_types
from ollama import ChatResponse
from openai.types.chat import ChatCompletion
from openai.types.responses import Response as SDKResponse
from openai.types.responses.response import IncompleteDetails
from openai.types.responses.response_status import ResponseStatus

from alloy._messages import FINISHES
from alloy._messages import NormalFinish
from alloy._messages import finish_of
from alloy._messages import lookup_finish
from alloy._messages import reply_finish
from alloy.backends.anthropic._decode import FINISH as ANTHROPIC
from alloy.backends.anthropic._decode import decode_response as decode_anthropic
from alloy.backends.anthropic._encode import OUTPUT_TOOL as ANTHROPIC_OUTPUT_TOOL
from alloy.backends.fake import FINISH as FAKE
from alloy.backends.gemini._decode import FINISH as GEMINI
from alloy.backends.gemini._decode import decode_response as decode_gemini
from alloy.backends.ollama._decode import FINISH as OLLAMA
from alloy.backends.ollama._decode import decode_response as decode_ollama
from alloy.backends.openai._shared import CHAT_FINISH
from alloy.backends.openai._shared import OUTPUT_TOOL as OPENAI_OUTPUT_TOOL
from alloy.backends.openai._shared import RESPONSES_FINISH
from alloy.backends.openai.chat import decode_response as decode_chat
from alloy.backends.openai.responses import decode_response as decode_responses
from tests.backends.test_gemini_decode import sdk_parse

Table = dict[str, NormalFinish | None]

# What each raw value means, written out here apart from the code's tables.
EXPECTED: dict[str, Table] = {
    "openai-chat": {
        "stop": "stop",
        "length": "length",
        "tool_calls": "tool_calls",
        "content_filter": "content_filter",
        "function_call": "tool_calls",
    },
    "openai": {
        "completed": "stop",
        "max_output_tokens": "length",
        "content_filter": "content_filter",
        "incomplete": None,
        "max_messages": None,
        "steered": None,
        "failed": None,
        "cancelled": None,
        "in_progress": None,
        "queued": None,
    },
    "anthropic": {
        "end_turn": "stop",
        "stop_sequence": "stop",
        "max_tokens": "length",
        "model_context_window_exceeded": "length",
        "tool_use": "tool_calls",
        "refusal": "refusal",
        "pause_turn": None,
    },
    "gemini": {
        "STOP": "stop",
        "MAX_TOKENS": "length",
        "CONTINUATION": "length",
        "SAFETY": "content_filter",
        "RECITATION": "content_filter",
        "BLOCKLIST": "content_filter",
        "PROHIBITED_CONTENT": "content_filter",
        "SPII": "content_filter",
        "IMAGE_SAFETY": "content_filter",
        "IMAGE_PROHIBITED_CONTENT": "content_filter",
        "IMAGE_RECITATION": "content_filter",
        "MODEL_ARMOR": "content_filter",
        "ESCALATION": "content_filter",
        "FINISH_REASON_UNSPECIFIED": None,
        "OTHER": None,
        "LANGUAGE": None,
        "MALFORMED_FUNCTION_CALL": None,
        "UNEXPECTED_TOOL_CALL": None,
        "TOO_MANY_TOOL_CALLS": None,
        "MISSING_THOUGHT_SIGNATURE": None,
        "MALFORMED_RESPONSE": None,
        "IMAGE_OTHER": None,
        "NO_IMAGE": None,
        "PUP_LIMITED_DISABLED": None,
    },
    "ollama": {"stop": "stop", "length": "length", "load": None, "unload": None},
    "fake": {name: typing.cast("NormalFinish", name) for name in sorted(FINISHES)},
}
TABLES: dict[str, Table] = {
    "openai-chat": CHAT_FINISH,
    "openai": RESPONSES_FINISH,
    "anthropic": ANTHROPIC,
    "gemini": GEMINI,
    "ollama": OLLAMA,
    "fake": FAKE,
}
ROWS = [(name, raw, word) for name, table in EXPECTED.items() for raw, word in table.items()]


@pytest.mark.parametrize(("provider", "raw", "word"), ROWS, ids=lambda v: str(v))
def test_every_raw_value_means_what_it_says(
    provider: str, raw: str, word: NormalFinish | None
) -> None:
    assert raw in TABLES[provider]
    assert lookup_finish(TABLES[provider], raw) == word


@pytest.mark.parametrize("provider", list(TABLES))
def test_the_tables_hold_nothing_else(provider: str) -> None:
    assert TABLES[provider] == EXPECTED[provider]
    assert set(TABLES[provider].values()) <= {*FINISHES, None}


def _literal_values(tp: Any) -> set[str]:
    """The strings of a ``Literal`` (inside ``Optional`` too)."""
    found: set[str] = set()
    for arg in typing.get_args(tp):
        if isinstance(arg, str):
            found.add(arg)
        else:
            found |= _literal_values(arg)
    return found


def test_every_value_the_sdks_declare_is_decided() -> None:
    chat_choice = typing.get_args(ChatCompletion.model_fields["choices"].annotation)[0]
    chat = _literal_values(chat_choice.model_fields["finish_reason"].annotation)
    assert chat and chat <= set(CHAT_FINISH)
    statuses = _literal_values(ResponseStatus)
    reasons = _literal_values(IncompleteDetails.model_fields["reason"].annotation)
    assert statuses and reasons and statuses | reasons <= set(RESPONSES_FINISH)
    stops = _literal_values(StopReason)
    assert stops and stops <= set(ANTHROPIC)
    gemini = {reason.value for reason in gemini_types.FinishReason}
    assert gemini and gemini <= set(GEMINI)


@pytest.mark.parametrize("raw", [None, 3, ["stop"], {"stop": 1}, "", "STOP ", "Stop", "new"])
def test_an_unknown_or_malformed_value_is_none(raw: object) -> None:
    assert lookup_finish(CHAT_FINISH, raw) is None
    assert finish_of(CHAT_FINISH, raw, refusal=False, tool_calls=True) is None


RULES: list[tuple[NormalFinish | None, bool, bool, NormalFinish | None]] = [
    # provider's word, refusal in the reply, tool calls in the reply → the reply's finish
    ("stop", False, False, "stop"),
    ("stop", False, True, "tool_calls"),  # Gemini and Ollama say STOP for a turn of calls
    ("tool_calls", False, False, "stop"),  # a forced output-tool call is the reply's value
    ("tool_calls", False, True, "tool_calls"),
    ("stop", True, False, "refusal"),  # Chat Completions: message.refusal, finish "stop"
    ("refusal", True, False, "refusal"),
    ("refusal", False, False, "refusal"),
    ("content_filter", True, False, "content_filter"),  # the filter outranks the refusal
    ("content_filter", False, True, "content_filter"),
    ("length", False, False, "length"),
    ("length", False, True, "length"),  # the calls may be cut: a cut stays a cut
    (None, False, True, None),  # never a guess
    (None, True, False, "refusal"),  # the reply itself says so
]


@pytest.mark.parametrize(("said", "refusal", "calls", "finish"), RULES)
def test_a_finish_is_settled_against_what_the_reply_holds(
    said: NormalFinish | None, refusal: bool, calls: bool, finish: NormalFinish | None
) -> None:
    assert reply_finish(said, refusal=refusal, tool_calls=calls) == finish
    # Settling twice changes nothing: a stream's assembler settles what a backend settled.
    assert reply_finish(finish, refusal=refusal, tool_calls=calls) == finish


# --- each decoder, on bodies its SDK parses ------------------------------------------------


def _chat(finish_reason: str, **message: Any) -> ChatCompletion:
    body = {
        "id": "c1",
        "object": "chat.completion",
        "created": 1,
        "model": "gpt-test",
        "choices": [
            {
                "index": 0,
                "finish_reason": finish_reason,
                "message": {"role": "assistant", "content": None, **message},
            }
        ],
    }
    try:
        return ChatCompletion.model_validate(body)
    except pydantic.ValidationError:  # a value the SDK does not know: parsed as its client does
        return ChatCompletion.construct(**body)


def _call(name: str, arguments: str = '{"city": "Paris"}') -> dict[str, Any]:
    return {"id": "call_1", "type": "function", "function": {"name": name, "arguments": arguments}}


def test_chat_completions() -> None:
    assert decode_chat(_chat("stop", content="Hi")).finish == "stop"
    assert decode_chat(_chat("length", content="Hel")).finish == "length"
    assert decode_chat(_chat("length", content="")).finish == "length"
    assert decode_chat(_chat("tool_calls", tool_calls=[_call("get_weather")])).finish == (
        "tool_calls"
    )
    forced = decode_chat(_chat("stop", tool_calls=[_call(OPENAI_OUTPUT_TOOL, '{"a": 1}')]))
    assert (forced.text, forced.finish) == ('{"a": 1}', "stop")
    assert decode_chat(_chat("stop", refusal="I can't.")).finish == "refusal"
    assert decode_chat(_chat("content_filter", content="")).finish == "content_filter"
    assert decode_chat(_chat("something_new", content="x")).finish is None


def _responses(status: str, *output: dict[str, Any], reason: str | None = None) -> SDKResponse:
    body: dict[str, Any] = {
        "id": "resp_1",
        "object": "response",
        "created_at": 1,
        "model": "gpt-test",
        "status": status,
        "output": list(output),
        "incomplete_details": {"reason": reason} if reason else None,
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
    }
    return SDKResponse.construct(**body)


def _message(*content: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": list(content),
    }


def _function_call(name: str) -> dict[str, Any]:
    return {
        "id": "fc_1",
        "type": "function_call",
        "call_id": "call_1",
        "name": name,
        "arguments": '{"city": "Paris"}',
        "status": "completed",
    }


TEXT = {"type": "output_text", "text": "Hi", "annotations": []}


def test_responses() -> None:
    decode = decode_responses
    assert decode(_responses("completed", _message(TEXT))).finish == "stop"
    cut = decode(_responses("incomplete", _message(TEXT), reason="max_output_tokens"))
    assert (cut.finish_reason, cut.finish) == ("max_output_tokens", "length")
    filtered = decode(_responses("incomplete", reason="content_filter"))
    assert filtered.finish == "content_filter"
    assert decode(_responses("incomplete", reason="max_messages")).finish is None
    assert decode(_responses("completed", _function_call("get_weather"))).finish == "tool_calls"
    assert decode(_responses("completed", _function_call(OPENAI_OUTPUT_TOOL))).finish == "stop"
    refused = _message({"type": "refusal", "refusal": "No."})
    assert decode(_responses("completed", refused)).finish == "refusal"
    assert decode(_responses("failed")).finish is None


def _anthropic(stop_reason: str, *content: dict[str, Any]) -> AnthropicMessage:
    body = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-6",
        "content": list(content),
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": {"input_tokens": 7, "output_tokens": 3},
    }
    return AnthropicMessage.model_validate(body)


def _tool_use(name: str) -> dict[str, Any]:
    return {"type": "tool_use", "id": "toolu_1", "name": name, "input": {"city": "Paris"}}


def test_anthropic() -> None:
    text = {"type": "text", "text": "Hi"}
    assert decode_anthropic(_anthropic("end_turn", text)).finish == "stop"
    assert decode_anthropic(_anthropic("stop_sequence", text)).finish == "stop"
    assert decode_anthropic(_anthropic("max_tokens", text)).finish == "length"
    assert decode_anthropic(_anthropic("model_context_window_exceeded", text)).finish == "length"
    assert decode_anthropic(_anthropic("tool_use", _tool_use("get_weather"))).finish == (
        "tool_calls"
    )
    output = decode_anthropic(_anthropic("tool_use", _tool_use(ANTHROPIC_OUTPUT_TOOL)))
    assert (json.loads(output.text), output.finish) == ({"city": "Paris"}, "stop")
    refused = decode_anthropic(_anthropic("refusal", text))
    assert (refused.refusal, refused.finish) == ("Hi", "refusal")
    assert decode_anthropic(_anthropic("pause_turn", text)).finish is None


def _gemini(finish: str | None, *parts: dict[str, Any], **extra: Any) -> Any:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": list(parts)}, "index": 0}
    if finish is not None:
        candidate["finishReason"] = finish
    body: dict[str, Any] = {"candidates": [candidate], "responseId": "r1", **extra}
    return sdk_parse(body)


def test_gemini() -> None:
    text = {"text": "Hi"}
    call = {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}
    assert decode_gemini(_gemini("STOP", text)).finish == "stop"
    assert decode_gemini(_gemini("MAX_TOKENS", text)).finish == "length"
    assert decode_gemini(_gemini("STOP", call)).finish == "tool_calls"
    blocked = decode_gemini(_gemini("SAFETY"))
    assert blocked.refusal and blocked.finish == "content_filter"
    assert decode_gemini(_gemini("MALFORMED_FUNCTION_CALL")).finish is None
    assert decode_gemini(_gemini("OTHER", text)).finish is None
    # A prompt blocked outright has no candidate; whatever its reason, a filter withheld it.
    prompt = sdk_parse({"promptFeedback": {"blockReason": "OTHER"}, "responseId": "r1"})
    prompt_blocked = decode_gemini(prompt)
    assert prompt_blocked.refusal and prompt_blocked.finish == "content_filter"


def _ollama(done_reason: str | None, **message: Any) -> ChatResponse:
    return ChatResponse.model_validate(
        {
            "model": "llama3.2",
            "done": True,
            "done_reason": done_reason,
            "message": {"role": "assistant", "content": "", **message},
        }
    )


def test_ollama() -> None:
    assert decode_ollama(_ollama("stop", content="Hi")).finish == "stop"
    assert decode_ollama(_ollama("length", content="Hel")).finish == "length"
    calls = [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}]
    assert decode_ollama(_ollama("stop", tool_calls=calls)).finish == "tool_calls"
    assert decode_ollama(_ollama("load")).finish is None
    assert decode_ollama(_ollama(None, content="Hi")).finish is None
