"""Real recorded Anthropic traffic, replayed verbatim by the emulator, decoded by alloy.

Each file in ../shared/recorded describes what a correct client extracts from its last
interaction (``expect``). Earlier interactions (tool follow-ups, cache warm-ups) are served
first. The files are test data read from beside the repository; the tests skip when that
folder is absent. Streamed recordings are read through ``backend.stream`` / ``astream`` and
rebuilt by the shared ``Assembler``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from alloy import ProviderError
from alloy import StreamError
from alloy._output import output_spec
from alloy.backends import Message
from alloy.backends import Request
from alloy.backends import get_backend
from alloy.backends.anthropic._encode import OUTPUT_TOOL
from alloy.backends.anthropic._encode import encode_messages
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import load_recording
from tests.e2e.streaming import assemble
from tests.recorded import check_error
from tests.recorded import check_reply
from tests.recorded import recorded
from tests.recorded import require_corpus

RECORDED = require_corpus(module=True)
FILES = recorded("anthropic__*__sync.json")
STREAMS = recorded("anthropic__*__stream.json")
# Not in the SDK's deprecated list, so no DeprecationWarning; the replies are replayed anyway.
MODEL = "claude-sonnet-4-6"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name.removesuffix(".json"))
def test_recorded_file(path: Path, alloy_emulator: Scenario) -> None:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    expect: dict[str, Any] = data["expect"]
    recording = load_recording(path)
    alloy_emulator.replay(recording)
    backend = get_backend(
        "anthropic", {"base_url": alloy_emulator.base_url("anthropic"), "api_key": "sk-test"}
    )
    request = Request(model=MODEL, messages=(Message.user("replayed"),))
    for _ in recording.interactions[:-1]:
        backend.complete(request)

    if expect["error"]:
        with pytest.raises(ProviderError) as info:
            backend.complete(request)
        err = info.value
        check_error(err, expect)
        if err.status_code == 401:
            assert "ANTHROPIC_API_KEY" in str(err)
        return

    check_reply(backend.complete(request), expect)
    assert len(alloy_emulator.requests) == len(recording.interactions)


def test_thinking_blocks_go_back_with_their_signatures(alloy_emulator: Scenario) -> None:
    recording = load_recording(RECORDED / "anthropic__thinking__sync.json")
    alloy_emulator.replay(recording)
    backend = get_backend(
        "anthropic", {"base_url": alloy_emulator.base_url("anthropic"), "api_key": "sk-test"}
    )
    response = backend.complete(Request(model=MODEL, messages=(Message.user("q"),)))
    recorded = json.loads(recording.last_request.body)["content"]
    [_, assistant] = encode_messages((Message.user("q"), response.message()))
    assert assistant == {"role": "assistant", "content": recorded}
    assert recorded[0]["type"] == "thinking" and recorded[0]["signature"]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name.removesuffix(".json"))
def test_recorded_stream(path: Path, mode: str, alloy_emulator: Scenario) -> None:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    expect: dict[str, Any] = data["expect"]
    recording = load_recording(path)
    alloy_emulator.replay(recording)
    backend = get_backend(
        "anthropic", {"base_url": alloy_emulator.base_url("anthropic"), "api_key": "sk-test"}
    )
    request = Request(model=MODEL, messages=(Message.user("replayed"),))

    if expect["error"]:
        with pytest.raises(ProviderError) as info:
            assemble(backend, request, mode)
        err = info.value
        # Refused before the stream started: mapped as ``complete`` maps it, not a StreamError.
        assert not isinstance(err, StreamError)
        check_error(err, expect)
        assert err.request_id == json.loads(recording.last_request.body)["request_id"]
        assert not err.retryable
        return

    check_reply(assemble(backend, request, mode), expect)
    [sent] = alloy_emulator.requests
    assert sent.stream and sent.json["stream"] is True


def test_streamed_thinking_goes_back_with_its_signature(alloy_emulator: Scenario) -> None:
    recording = load_recording(RECORDED / "anthropic__thinking__stream.json")
    alloy_emulator.replay(recording)
    backend = get_backend(
        "anthropic", {"base_url": alloy_emulator.base_url("anthropic"), "api_key": "sk-test"}
    )
    response = assemble(backend, Request(model=MODEL, messages=(Message.user("q"),)), "sync")
    [_, assistant] = encode_messages((Message.user("q"), response.message()))
    thinking, text = assistant["content"]
    assert thinking["type"] == "thinking" and thinking["thinking"] == response.reasoning
    assert thinking["signature"] in recording.last_request.body
    assert text == {"type": "text", "text": response.text}


def test_output_tool_reply_streams_as_text_like_complete(alloy_emulator: Scenario) -> None:
    # Not recorded traffic: the emulator answers the forced output tool the way Claude does.
    reply = Reply(json={"value": [1, 2, 3, 5, 8]}, input_tokens=30, output_tokens=12)
    alloy_emulator.enqueue(reply, reply)
    backend = get_backend(
        "anthropic", {"base_url": alloy_emulator.base_url("anthropic"), "api_key": "sk-test"}
    )
    schema = output_spec(list[int], "t").schema
    # The mode planning picks for this model (a request built by hand must say it).
    request = Request(
        "claude-opus-4-1", (Message.user("numbers"),), output=schema, output_mode="tool_call"
    )
    whole = backend.complete(request)
    streamed = assemble(backend, request, "sync")
    assert streamed.tool_calls == whole.tool_calls == ()
    assert json.loads(streamed.text) == json.loads(whole.text) == {"value": [1, 2, 3, 5, 8]}
    assert (streamed.usage, streamed.finish_reason) == (whole.usage, whole.finish_reason)
    sent = alloy_emulator.requests[1].json
    assert sent["stream"] is True
    assert sent["tool_choice"] == {"type": "tool", "name": OUTPUT_TOOL}


def test_the_corpus_was_found() -> None:
    assert len(FILES) >= 10
    assert len(STREAMS) == 6
