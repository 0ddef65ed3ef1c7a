"""A turn's reasoning goes back only to the backend that produced it: every other encoder
sends the turn's text and tool calls, and never its reasoning, as text or otherwise."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from alloy._messages import Message
from alloy._messages import ProviderData
from alloy._messages import Request
from alloy._messages import TextPart
from alloy._messages import ToolCall
from alloy._messages import ToolResult
from alloy.backends.anthropic._encode import encode_request as anthropic
from alloy.backends.gemini._encode import encode_request as gemini
from alloy.backends.ollama._encode import encode_request as ollama
from alloy.backends.openai.chat import encode_request as chat
from alloy.backends.openai.responses import encode_request as responses

SECRET = "SECRET-THOUGHT about the user's key"

# What each backend keeps of a reasoning turn, with the thought in it.
KEPT: dict[str, Any] = {
    "anthropic": [{"type": "thinking", "thinking": SECRET, "signature": "sig"}],
    "openai": [
        {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": SECRET}]}
    ],
    "gemini": {"parts": [{"text": SECRET, "thought": True}]},
    "ollama": {"thinking": SECRET},
    "openai-chat": {"reasoning_content": SECRET},
}
ENCODERS: dict[str, tuple[Callable[[Request], Any], str]] = {
    "anthropic": (anthropic, "claude-sonnet-4-6"),
    "openai": (responses, "gpt-5-mini"),
    "openai-chat": (chat, "gpt-5-mini"),
    "gemini": (gemini, "gemini-2.5-flash"),
    "ollama": (ollama, "qwen3"),
}


# Every (origin, target) pair of different backends: a backend's own turn goes back as it
# came, which the encoders' own tests check.
PAIRS = [(o, t) for o in KEPT for t in ENCODERS if o != t]


@pytest.mark.parametrize(("origin", "target"), PAIRS)
def test_another_backends_reasoning_is_never_sent(origin: str, target: str) -> None:
    call = ToolCall("c1", "lookup", '{"key": "a"}')
    history = (
        Message.user("What is a?"),
        Message("assistant", (TextPart("Looking."), call), ProviderData(origin, KEPT[origin])),
        Message("user", (ToolResult("c1", "lookup", "value of a"),)),
    )
    encode, model = ENCODERS[target]
    sent = json.dumps(encode(Request(model=model, messages=history)), default=str)
    assert SECRET not in sent
    assert "Looking." in sent and "lookup" in sent
