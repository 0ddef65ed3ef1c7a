"""Backend streams through the real SDKs: parity with ``complete``, stream faults, closing.

Each backend's ``stream``/``astream`` only classifies SDK events into deltas; the shared
``Assembler`` must rebuild exactly the ``Response`` that ``complete`` gives for the same reply.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from alloy import AlloyError
from alloy import ProviderConnectionError
from alloy import RateLimitError
from alloy import StreamError
from alloy._deltas import TextDelta
from alloy._output import output_spec
from alloy.backends import Message
from alloy.backends import Request
from alloy.backends import Response
from alloy.backends import ToolSpec
from alloy.backends import get_backend
from alloy.backends.base import Backend
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall
from tests.e2e.streaming import assemble

TOOLS = (
    ToolSpec("get_weather", "Weather for a city.", {
        "type": "object", "properties": {"city": {"type": "string"}},
        "required": ["city"], "additionalProperties": False,
    }),
    ToolSpec("get_time", "Time in a city.", {
        "type": "object", "properties": {"city": {"type": "string"}},
        "required": ["city"], "additionalProperties": False,
    }),
)  # fmt: skip


def _request(kind: str) -> Request:
    messages = (Message.user("hello"),)
    if kind == "json":
        return Request("gpt-test", messages, output=output_spec(list[int], "t").schema, timeout=10)
    if kind == "tools":
        return Request("gpt-test", messages, tools=TOOLS, timeout=10)
    return Request("gpt-test", messages, timeout=10)


REPLIES: dict[str, Reply] = {
    "text": Reply(
        text="The quick brown fox jumps over the lazy dog. " * 3, input_tokens=21, output_tokens=9
    ),
    "json": Reply(json={"value": [1, 2, 3, 5, 8]}, input_tokens=30, output_tokens=12),
    "tools": Reply(
        tool_calls=[
            ToolCall("get_weather", {"city": "Paris"}),
            ToolCall("get_time", {"city": "Tokyo"}),
        ],
        input_tokens=40,
        output_tokens=20,
    ),
    "cut": Reply(text="The quick brown fox", finish_reason="length", reasoning_tokens=3),
    "refused": Reply(refusal="I can't help with that."),
}
# The reply's finish in alloy's words, streamed or not. Gemini's refusal is a blocked reply
# (finishReason SAFETY, a content filter); Ollama has no refusal on its wire (it is text).
FINISH = {"text": "stop", "json": "stop", "tools": "tool_calls", "cut": "length"}
REFUSED = {"gemini": "content_filter", "ollama": "stop"}


def _backend(provider: str) -> Backend:
    return get_backend(provider, {})


def _comparable(response: Response) -> dict[str, Any]:
    return {
        "text": response.text,
        "calls": [(c.name, json.loads(c.arguments)) for c in response.tool_calls],
        "finish_reason": response.finish_reason,
        "finish": response.finish,
        "usage": response.usage,
        "refusal": response.refusal,
    }


MODES = pytest.mark.parametrize("mode", ["sync", "async"])


@MODES
@pytest.mark.parametrize("kind", list(REPLIES))
def test_stream_equals_complete(
    provider: str, alloy_emulator: Scenario, kind: str, mode: str
) -> None:
    alloy_emulator.enqueue(REPLIES[kind], REPLIES[kind])
    backend, request = _backend(provider), _request(kind)
    whole = backend.complete(request)
    streamed = assemble(backend, request, mode)
    assert _comparable(streamed) == _comparable(whole)
    expected = FINISH[kind] if kind in FINISH else REFUSED.get(provider, "refusal")
    assert whole.finish == expected
    first, second = alloy_emulator.requests
    assert not first.stream and second.stream


@MODES
def test_text_arrives_in_pieces(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    alloy_emulator.enqueue(Reply(text="abcdefghij" * 5, chunk_chars=5))
    backend, request = _backend(provider), _request("text")
    if mode == "sync":
        pieces = [d.text for d in backend.stream(request) if isinstance(d, TextDelta)]
    else:

        async def run() -> list[str]:
            return [d.text async for d in backend.astream(request) if isinstance(d, TextDelta)]

        pieces = asyncio.run(run())
    assert "".join(pieces) == "abcdefghij" * 5
    assert len(pieces) >= 5


def _fails(
    provider: str, reply_or_fault: Reply | Fault, alloy_emulator: Scenario, mode: str
) -> AlloyError:
    alloy_emulator.enqueue(reply_or_fault)
    with pytest.raises(AlloyError) as info:
        assemble(_backend(provider), _request("text"), mode)
    return info.value


LONG = "lorem ipsum dolor sit amet " * 8


@MODES
@pytest.mark.parametrize("cut", [1, 2, 4])
def test_stream_cut_before_its_terminal_event(
    provider: str, alloy_emulator: Scenario, mode: str, cut: int
) -> None:
    err = _fails(
        provider, Reply(text=LONG, chunk_chars=20, truncate_after=cut), alloy_emulator, mode
    )
    assert isinstance(err, StreamError)


@MODES
def test_malformed_chunk(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    err = _fails(
        provider, Reply(text=LONG, chunk_chars=20, malformed_after=2), alloy_emulator, mode
    )
    assert isinstance(err, StreamError)


@MODES
def test_in_stream_error_event(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    _fails(provider, Reply(text=LONG, chunk_chars=20, error_after=2), alloy_emulator, mode)


@MODES
def test_connection_reset_mid_stream(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    err = _fails(provider, Reply(text=LONG, chunk_chars=20, abort_after=2), alloy_emulator, mode)
    assert isinstance(err, StreamError | ProviderConnectionError)


@MODES
def test_error_before_the_stream_starts(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    err = _fails(provider, Fault(status=429, headers={"retry-after-ms": "1"}), alloy_emulator, mode)
    assert isinstance(err, RateLimitError)


def _wait_disconnected(alloy_emulator: Scenario) -> bool:
    deadline = time.monotonic() + 3.0
    while time.monotonic() < deadline:
        if alloy_emulator.requests and alloy_emulator.requests[-1].disconnected:
            return True
        time.sleep(0.02)
    return False


def test_closing_a_stream_closes_the_connection(provider: str, alloy_emulator: Scenario) -> None:
    alloy_emulator.enqueue(Reply(text=LONG * 4, chunk_chars=4, chunk_delay=0.02))
    stream = _backend(provider).stream(_request("text"))
    first = next(iter(stream))
    assert first is not None
    stream.close()  # type: ignore[attr-defined]
    assert _wait_disconnected(alloy_emulator)


def test_cancelling_an_async_stream_closes_the_connection(
    provider: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.enqueue(Reply(text=LONG * 4, chunk_chars=4, chunk_delay=0.02))

    async def run() -> None:
        stream = _backend(provider).astream(_request("text"))
        await anext(stream)
        await stream.aclose()  # type: ignore[attr-defined]

    asyncio.run(run())
    assert _wait_disconnected(alloy_emulator)
