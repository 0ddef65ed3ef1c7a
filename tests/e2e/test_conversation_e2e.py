"""Conversations through the real SDKs: each turn's request carries the turns before it,
signed reasoning goes back exactly as it came (the emulator's strict validators check it), a
saved conversation sends the same next request body byte for byte, and a history moved to
another provider carries none of the first provider's reasoning."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import pytest

from alloy import Conversation
from alloy import Image
from alloy import OutputValidationError
from alloy import ProviderError
from alloy import command
from alloy import tool
from alloy._messages import ToolCall as NeutralCall
from alloy._messages import ToolResult as NeutralResult
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall
from tests.e2e.wires import SIGNED

MODES = ["sync", "async", "stream", "astream"]
PNG = b"\x89PNG\r\n\x1a\n" + b"alloy-conversation-pixels" * 4


@tool
def lookup(key: str) -> str:
    """Look a key up."""
    return f"value of {key}"


@command(tools=[lookup])
def answer(question: str) -> str:
    """Use the tools to answer: {question}"""


def _say(chat: Conversation, mode: str, text: str) -> str:
    if mode == "sync":
        return chat.say(text)
    if mode == "async":
        return asyncio.run(chat.say_async(text))
    if mode == "stream":
        with chat.stream(text) as stream:
            return "".join(stream)

    async def streamed() -> str:
        async with chat.stream_async(text) as stream:
            return "".join([piece async for piece in stream])

    return asyncio.run(streamed())


def _in_order(body: Any, *texts: str) -> bool:
    dumped = json.dumps(body, ensure_ascii=False)
    at = [dumped.find(t) for t in texts]
    return -1 not in at and at == sorted(at)


@pytest.mark.parametrize("mode", MODES)
def test_turn_two_carries_turn_one(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    alloy_emulator.enqueue(Reply(text="Noted: ACME."), Reply(text="ACME"))
    chat = Conversation(system="Be brief.")
    assert _say(chat, mode, "My supplier is ACME.") == "Noted: ACME."
    assert _say(chat, mode, "Who is my supplier?") == "ACME"
    first, second = (r.json for r in alloy_emulator.requests)
    assert not _in_order(first, "Noted: ACME.")
    assert _in_order(second, "My supplier is ACME.", "Noted: ACME.", "Who is my supplier?")
    assert _in_order(second, "Be brief.")
    assert [m.text for m in chat.history] == [
        "My supplier is ACME.",
        "Noted: ACME.",
        "Who is my supplier?",
        "ACME",
    ]


def _b64(data: bytes | None) -> str | None:
    # google-genai sends bytes as URL-safe base64.
    return None if data is None else base64.urlsafe_b64encode(data).decode()


def _assistant_turn(backend: str, body: dict[str, Any]) -> Any:
    """What the second request sends back of the first reply, in the provider's own form."""
    if backend == "anthropic":
        return next(m["content"] for m in body["messages"] if m["role"] == "assistant")
    if backend == "gemini":
        return next(c["parts"] for c in body["contents"] if c["role"] == "model")
    return [
        i
        for i in body["input"]
        if i.get("type") in ("reasoning", "message") and i.get("role", "assistant") == "assistant"
    ]


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("backend", list(SIGNED))
def test_signed_reasoning_is_echoed_exactly(
    backend: str, mode: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.set_strict_reasoning(True)
    alloy_emulator.enqueue(
        Reply(reasoning="Remember ACME.", encrypted_reasoning=True, text="Noted."),
        Reply(reasoning="It was ACME.", encrypted_reasoning=True, text="ACME"),
    )
    model, settings = SIGNED[backend]
    chat = Conversation(model=model, max_tokens=20000, **settings)
    assert _say(chat, mode, "My supplier is ACME.") == "Noted."
    assert _say(chat, mode, "Who is my supplier?") == "ACME"
    assert [r.status for r in alloy_emulator.requests] == [200, 200]
    kept = chat.history[1].provider_data
    assert kept is not None and kept.backend == backend
    echoed = _assistant_turn(backend, alloy_emulator.requests[1].json)
    if backend == "anthropic":
        assert echoed == kept.data  # the content blocks, signatures included, as they came
        assert any(b["type"] == "thinking" and b.get("signature") for b in echoed)
    elif backend == "gemini":
        # The SDK's content as it came, thought signature bytes included (base64 on the wire).
        sent = [(p.get("text"), p.get("thought"), p.get("thoughtSignature")) for p in echoed]
        came = [
            (p.get("text"), p.get("thought"), _b64(p.get("thought_signature")))
            for p in kept.data["parts"]
        ]
        assert sent == came and any(signature for _, _, signature in sent)
    else:
        assert any(i["type"] == "reasoning" and i.get("encrypted_content") for i in echoed)


# A model of each backend that takes images.
SEES = {
    "openai": "gpt-5-mini",
    "openai-chat": "gpt-4o",
    "anthropic": "claude-sonnet-4-6",
    "gemini": "gemini-3-flash-preview",
    "ollama": "gemma3",
}


@pytest.mark.parametrize("image", [False, True], ids=["text", "image"])
def test_a_saved_conversation_sends_the_same_next_request(
    provider: str, alloy_emulator: Scenario, image: bool
) -> None:
    alloy_emulator.enqueue(
        Reply(tool_calls=[ToolCall("lookup", {"key": "a"})]),
        Reply(text="a is 1"),
        *([Reply(text="a small square")] if image else []),
        Reply(text="next"),
        Reply(text="next"),
    )
    model = SEES[provider] if image else "gpt-test"
    chat = Conversation(model=f"{provider}:{model}", system="Be brief.", temperature=0.2)
    chat.run(answer, "what is a?")
    if image:
        chat.say(["What is in this picture?", Image.from_bytes(PNG, "image/png")])
    again = Conversation.from_json(chat.to_json())
    assert again.history == chat.history
    chat.say("and b?")
    again.say("and b?")
    first, second = alloy_emulator.requests[-2:]
    assert first.body == second.body
    # (gemma3 has no native tools: its tool turn went as ReAct text, and was re-asked.)
    tool_turn = () if image and provider == "ollama" else ("value of a",)
    assert _in_order(first.json, "what is a?", *tool_turn, "a is 1", "and b?")


@pytest.mark.parametrize("backend", list(SIGNED))
def test_a_saved_signed_conversation_sends_the_same_next_request(
    backend: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.set_strict_reasoning(True)
    alloy_emulator.enqueue(
        Reply(
            reasoning="Look it up.",
            encrypted_reasoning=True,
            tool_calls=[ToolCall("lookup", {"key": "a"})],
        ),
        Reply(reasoning="Known.", encrypted_reasoning=True, text="a is 1"),
        Reply(text="next"),
        Reply(text="next"),
    )
    model, settings = SIGNED[backend]
    chat = Conversation(model=model, max_tokens=20000, **settings)
    chat.run(answer, "what is a?")
    again = Conversation.from_json(chat.to_json())
    chat.say("and b?")
    again.say("and b?")
    first, second = alloy_emulator.requests[-2:]
    assert (first.status, second.status) == (200, 200)
    assert first.body == second.body


def test_an_anthropic_history_continued_on_openai_carries_no_thinking(
    alloy_emulator: Scenario,
) -> None:
    alloy_emulator.enqueue(
        Reply(reasoning="Secret plan.", tool_calls=[ToolCall("lookup", {"key": "a"})]),
        Reply(reasoning="Now answer.", text="a is 1"),
        Reply(text="b is 2"),
    )
    chat = Conversation(model="anthropic:claude-sonnet-4-6", reasoning_effort="high")
    chat.run(answer, "what is a?")
    assert any(isinstance(p, NeutralCall) for m in chat.history for p in m.parts)
    assert chat.say("and b?", model="openai:gpt-5-mini") == "b is 2"
    sent = alloy_emulator.requests[-1]
    assert sent.provider == "openai-responses"
    dumped = json.dumps(sent.json)
    for trace in ("Secret plan.", "Now answer.", "thinking", "signature"):
        assert trace not in dumped
    kinds = [item.get("type") for item in sent.json["input"]]
    assert "function_call" in kinds and "function_call_output" in kinds
    assert "reasoning" not in kinds
    assert _in_order(sent.json, "what is a?", "value of a", "a is 1", "and b?")
    assert any(isinstance(p, NeutralResult) for m in chat.history for p in m.parts)


def test_re_asks_and_failed_turns_never_enter_the_history(
    provider: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.enqueue(
        Reply(json={"value": "not a number"}),
        Reply(json={"value": 7}),
        Fault(status=400),
        Reply(json={"value": "still not"}),
    )
    chat = Conversation(max_retries=0)
    assert chat.ask("Pick a number", output=int) == 7
    kept = chat.history
    assert len(kept) == 2 and "not a number" not in json.dumps([m.text for m in kept])
    with pytest.raises(ProviderError) as caught:
        chat.say("again")
    assert caught.value.status_code == 400
    with pytest.raises(OutputValidationError):
        chat.ask("Another", output=int, retry=0)
    assert chat.history == kept
    assert len(alloy_emulator.requests) == 4
