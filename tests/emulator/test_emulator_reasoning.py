"""Reasoning rendered in every wire format, JSON and streamed, through the real SDKs.

Each SDK must parse the reasoning into its own types (anthropic ``ThinkingBlock``, openai
``ResponseReasoningItem``, google-genai ``Part.thought``, ollama ``message.thinking``), in the
order and with the events the real APIs send (``shared/recorded/*thinking*``).
"""
# The ollama SDK's chat() is partly untyped.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false
# pyright: reportUnknownArgumentType=false

from __future__ import annotations

import base64
import json
from typing import Any

import ollama
import pytest
from anthropic import Anthropic
from anthropic.types import RawContentBlockDeltaEvent
from anthropic.types import RedactedThinkingBlock
from anthropic.types import SignatureDelta
from anthropic.types import TextBlock
from anthropic.types import ThinkingBlock
from anthropic.types import ThinkingDelta
from anthropic.types import ToolUseBlock
from google import genai
from google.genai import types
from openai import OpenAI
from openai.types.responses import ResponseOutputMessage
from openai.types.responses import ResponseReasoningItem

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import RemoteEmulator
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall
from alloy.testing.emulator._items import item_from_json
from alloy.testing.emulator._items import item_to_json
from alloy.testing.emulator.wire import EventStream
from alloy.testing.emulator.wire import JsonBody
from alloy.testing.emulator.wire import RenderContext
from alloy.testing.emulator.wire import gemini as gemini_wire

THOUGHT = "First I add two and two. That makes four."


def _claude(client: Anthropic, stream: bool) -> Any:
    options: dict[str, Any] = {
        "model": "claude-sonnet-4-6",
        "max_tokens": 2048,
        "messages": [{"role": "user", "content": "2+2?"}],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }
    if not stream:
        return client.messages.create(**options)
    with client.messages.stream(**options) as events:
        return events.get_final_message()


# --- Anthropic ----------------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_anthropic_thinking_blocks(claude: Anthropic, scenario: Scenario, stream: bool) -> None:
    reply = Reply(
        text="4",
        reasoning=THOUGHT,
        redacted_reasoning="EmwKAhgBEgy3va3pzix",
        tool_calls=[ToolCall("add", {"a": 2, "b": 2}, id="toolu_1")],
        output_tokens=30,
        reasoning_tokens=20,
        chunk_chars=7,
    )
    scenario.enqueue(reply)
    message = _claude(claude, stream)
    thinking, redacted, text, call = message.content
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.thinking == THOUGHT
    assert thinking.signature == reply.reasoning_signature
    assert base64.b64decode(thinking.signature)  # opaque base64, as the API's
    assert isinstance(redacted, RedactedThinkingBlock) and redacted.data == "EmwKAhgBEgy3va3pzix"
    assert isinstance(text, TextBlock) and text.text == "4"
    assert isinstance(call, ToolUseBlock) and call.id == "toolu_1"
    assert message.stop_reason == "tool_use"
    assert message.usage.output_tokens == 30
    assert message.usage.output_tokens_details is not None
    assert message.usage.output_tokens_details.thinking_tokens == 20


def test_anthropic_stream_events_follow_the_recording(
    claude: Anthropic, scenario: Scenario
) -> None:
    scenario.enqueue(
        Reply(text="4", reasoning=THOUGHT, reasoning_signature="c2lnbg==", chunk_chars=9)
    )
    seen: list[tuple[str, str | None]] = []
    thinking = ""
    with claude.messages.create(
        model="m", max_tokens=2048, messages=[{"role": "user", "content": "2+2?"}], stream=True
    ) as events:
        for event in events:
            kind = None
            if isinstance(event, RawContentBlockDeltaEvent):
                kind = event.delta.type
                if isinstance(event.delta, ThinkingDelta):
                    thinking += event.delta.thinking
                if isinstance(event.delta, SignatureDelta):
                    assert event.delta.signature == "c2lnbg=="
            if not seen or seen[-1] != (event.type, kind):
                seen.append((event.type, kind))
    assert thinking == THOUGHT
    assert seen == [
        ("message_start", None),  # the SDK drops the ping that follows
        ("content_block_start", None),
        ("content_block_delta", "thinking_delta"),
        ("content_block_delta", "signature_delta"),
        ("content_block_stop", None),
        ("content_block_start", None),
        ("content_block_delta", "text_delta"),
        ("content_block_stop", None),
        ("message_delta", None),
        ("message_stop", None),
    ]


def test_a_signature_is_made_per_reply_unless_given() -> None:
    assert Reply(reasoning="a").reasoning_signature != Reply(reasoning="a").reasoning_signature
    assert Reply(reasoning="a", reasoning_signature="given").reasoning_signature == "given"
    assert Reply(text="no reasoning").reasoning_signature is None


def test_reasoning_fields_survive_the_control_plane_codec() -> None:
    reply = Reply(
        text="x",
        reasoning=THOUGHT,
        redacted_reasoning="EmwK",
        encrypted_reasoning=True,
        cached_tokens=2,
        cache_write_tokens=3,
        reasoning_tokens=1,
    )
    data = json.loads(json.dumps(item_to_json(reply)))
    assert data["reasoning_signature"] == reply.reasoning_signature
    assert (data["redacted_reasoning"], data["encrypted_reasoning"]) == ("EmwK", True)
    assert data["cache_write_tokens"] == 3
    assert item_from_json(data) == reply
    # A client that predates the fields sends none of them: the defaults apply.
    older = item_from_json({"kind": "reply", "text": "old"})
    assert older == Reply(text="old")
    assert (older.reasoning, older.reasoning_signature, older.cache_write_tokens) == (None, None, 0)


def test_a_remote_reply_keeps_the_signature_made_by_the_client(emulator: Emulator) -> None:
    remote = RemoteEmulator(emulator.url).scenario()
    reply = Reply(text="4", reasoning=THOUGHT)
    remote.enqueue(reply)
    with Anthropic(base_url=remote.base_url("anthropic"), api_key="k", max_retries=0) as sdk:
        message = _claude(sdk, stream=False)
    assert isinstance(message.content[0], ThinkingBlock)
    assert message.content[0].signature == reply.reasoning_signature
    remote.reset()


# --- OpenAI Responses ---------------------------------------------------------------------


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("how", ["reply", "include", "neither"])
def test_responses_reasoning_item(
    client: OpenAI, scenario: Scenario, stream: bool, how: str
) -> None:
    scenario.enqueue(
        Reply(
            text="4",
            reasoning=THOUGHT,
            encrypted_reasoning=how == "reply",
            output_tokens=30,
            reasoning_tokens=20,
        )
    )
    include: Any = ["reasoning.encrypted_content"] if how == "include" else []
    if stream:
        with client.responses.stream(model="gpt-5", input="2+2?", include=include) as events:
            response = events.get_final_response()
    else:
        response = client.responses.create(model="gpt-5", input="2+2?", include=include)
    reasoning, message = response.output
    assert isinstance(reasoning, ResponseReasoningItem)
    assert reasoning.id.startswith("rs_")
    assert [(s.type, s.text) for s in reasoning.summary] == [("summary_text", THOUGHT)]
    if how == "neither":
        assert reasoning.encrypted_content is None
    else:
        assert reasoning.encrypted_content is not None
        assert reasoning.encrypted_content.startswith("gAAAAA")
    assert isinstance(message, ResponseOutputMessage)
    assert response.output_text == "4"
    assert response.usage is not None
    assert response.usage.output_tokens_details.reasoning_tokens == 20


def test_responses_stream_events_follow_the_recording(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="4", reasoning=THOUGHT, encrypted_reasoning=True, chunk_chars=10))
    events = list(client.responses.create(model="gpt-5", input="2+2?", stream=True))
    kinds: list[str] = []
    for event in events:
        if not kinds or kinds[-1] != event.type:
            kinds.append(event.type)
    assert kinds[:9] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.output_item.added",
    ]
    deltas = [e.delta for e in events if e.type == "response.reasoning_summary_text.delta"]
    assert "".join(deltas) == THOUGHT and len(deltas) > 1
    added = next(e for e in events if e.type == "response.output_item.added")
    done = next(e for e in events if e.type == "response.output_item.done")
    assert isinstance(added.item, ResponseReasoningItem)
    assert isinstance(done.item, ResponseReasoningItem)
    # The SDK says to take encrypted_content from output_item.done, not from .added.
    assert added.item.summary == [] and added.item.encrypted_content is None
    assert done.item.encrypted_content is not None and done.item.id == added.item.id
    numbers = [e.sequence_number for e in events]
    assert numbers == list(range(len(events)))


def test_responses_reasoning_without_summary(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="4", reasoning=""))
    events = list(client.responses.create(model="gpt-5", input="2+2?", stream=True))
    assert not any(e.type.startswith("response.reasoning_summary") for e in events)
    final = events[-1]
    assert final.type == "response.completed"
    item = final.response.output[0]
    assert isinstance(item, ResponseReasoningItem) and item.summary == []


# --- OpenAI Chat --------------------------------------------------------------------------


def test_chat_reasoning_content(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(
        Reply(text="4", reasoning=THOUGHT, chunk_chars=6),
        Reply(text="4", reasoning=THOUGHT, chunk_chars=6),
    )
    messages: Any = [{"role": "user", "content": "2+2?"}]
    message = client.chat.completions.create(model="m", messages=messages).choices[0].message
    assert message.content == "4"
    assert (message.model_extra or {})["reasoning_content"] == THOUGHT
    reasoning, content = "", ""
    for chunk in client.chat.completions.create(model="m", messages=messages, stream=True):
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        piece = (delta.model_extra or {}).get("reasoning_content")
        if piece:
            assert content == ""  # reasoning comes before the answer
            reasoning += piece
        content += delta.content or ""
    assert (reasoning, content) == (THOUGHT, "4")


# --- Gemini -------------------------------------------------------------------------------


def _gemini_parts(client: genai.Client, stream: bool) -> list[types.Part]:
    if not stream:
        response = client.models.generate_content(model="gemini-3-pro-preview", contents="2+2?")
        assert response.candidates and response.candidates[0].content
        return response.candidates[0].content.parts or []
    parts: list[types.Part] = []
    for chunk in client.models.generate_content_stream(
        model="gemini-3-pro-preview", contents="2+2?"
    ):
        if chunk.candidates and chunk.candidates[0].content:
            parts += chunk.candidates[0].content.parts or []
    return parts


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
def test_gemini_thought_parts_and_signatures(
    gemini: genai.Client, scenario: Scenario, stream: bool
) -> None:
    reply = Reply(
        text="Adding.",
        reasoning=THOUGHT,
        tool_calls=[ToolCall("add", {"a": 2}), ToolCall("add", {"a": 3})],
        output_tokens=30,
        reasoning_tokens=20,
        chunk_chars=100,
    )
    scenario.enqueue(reply)
    signature = base64.b64decode(reply.reasoning_signature or "")
    thought, text, first, second = [p for p in _gemini_parts(gemini, stream) if p.text != ""]
    assert (thought.thought, thought.text, thought.thought_signature) == (True, THOUGHT, signature)
    assert (text.thought, text.text, text.thought_signature) == (None, "Adding.", None)
    assert first.function_call is not None and first.function_call.args == {"a": 2}
    assert first.thought_signature == signature == second.thought_signature


def test_gemini_streamed_signature_comes_with_the_last_piece(
    gemini: genai.Client, scenario: Scenario
) -> None:
    scenario.enqueue(Reply(text="4", reasoning=THOUGHT, chunk_chars=8))
    parts = _gemini_parts(gemini, stream=True)
    thoughts = [p for p in parts if p.thought]
    assert "".join(p.text or "" for p in thoughts) == THOUGHT and len(thoughts) > 1
    assert [p.thought_signature is not None for p in thoughts] == [False] * (len(thoughts) - 1) + [
        True
    ]


def test_gemini_empty_reasoning_signs_the_first_part(
    gemini: genai.Client, scenario: Scenario
) -> None:
    scenario.enqueue(Reply(text="4", reasoning="", reasoning_signature="c2ln"))
    [part] = _gemini_parts(gemini, stream=False)
    assert (part.thought, part.text, part.thought_signature) == (None, "4", b"sig")


REASONING_REPLIES = [
    Reply(text="x", reasoning=THOUGHT, output_tokens=9, reasoning_tokens=4),
    Reply(reasoning="", tool_calls=[ToolCall("f", {"a": 1}), ToolCall("g", {})]),
    Reply(text="x", reasoning=THOUGHT, cached_tokens=3),
]


@pytest.mark.parametrize("stream", [False, True], ids=["json", "sse"])
@pytest.mark.parametrize("reply", REASONING_REPLIES)
def test_gemini_bodies_validate(reply: Reply, stream: bool) -> None:
    context = RenderContext(request={}, stream=stream, model="gemini-3", created=0)
    rendered = gemini_wire.render(reply, context)
    if isinstance(rendered, JsonBody):
        bodies = [rendered.body]
    else:
        assert isinstance(rendered, EventStream)
        bodies = [json.loads(e.decode().removeprefix("data: ")) for e in rendered.events]
    for body in bodies:
        types.GenerateContentResponse.model_validate(body)


# --- Ollama -------------------------------------------------------------------------------


def test_ollama_thinking(scenario: Scenario) -> None:
    scenario.enqueue(
        Reply(text="4", reasoning=THOUGHT, chunk_chars=5),
        Reply(text="4", reasoning=THOUGHT, chunk_chars=5),
    )
    messages = [{"role": "user", "content": "2+2?"}]
    with ollama.Client(host=scenario.base_url("ollama"), timeout=10.0) as client:
        message = client.chat(model="qwen3", messages=messages, think=True).message
        assert (message.thinking, message.content) == (THOUGHT, "4")
        chunks = list(client.chat(model="qwen3", messages=messages, think=True, stream=True))
    thinking = [c.message.thinking for c in chunks if c.message.thinking]
    content = [c.message.content for c in chunks if c.message.content]
    assert "".join(thinking) == THOUGHT and len(thinking) > 1
    assert "".join(content) == "4"
    first_content = next(i for i, c in enumerate(chunks) if c.message.content)
    assert all(not c.message.thinking for c in chunks[first_content:])
    assert scenario.requests[0].json["think"] is True


def test_ollama_leaves_empty_thinking_out(scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="4", reasoning=""))
    with ollama.Client(host=scenario.base_url("ollama"), timeout=10.0) as client:
        message = client.chat(model="qwen3", messages=[{"role": "user", "content": "x"}]).message
    assert message.thinking is None
