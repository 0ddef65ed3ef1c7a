"""Real recorded Gemini traffic, replayed verbatim by the emulator, decoded by alloy.

Each file in ../shared/recorded describes what a correct client extracts from its last
interaction (``expect``). Earlier interactions (tool follow-ups) are served first, and the
conversation is driven the way alloy would drive it, so the follow-up request is alloy's own.
Streamed recordings are read through ``backend.stream`` / ``astream`` and rebuilt by the
shared ``Assembler``. The files are test data read from beside the repository; the tests
skip when it is absent.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest

from alloy import AuthenticationError
from alloy import ProviderError
from alloy import StreamError
from alloy.backends import Message
from alloy.backends import Request
from alloy.backends import ToolResult
from alloy.backends import get_backend
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import load_recording
from tests.e2e.streaming import assemble
from tests.recorded import check_error
from tests.recorded import check_reply
from tests.recorded import recorded
from tests.recorded import require_corpus

RECORDED = require_corpus(module=True)
FILES = recorded("gemini__*__sync.json")
STREAMS = recorded("gemini__*__stream.json")


def _model(path: str) -> str:
    found = re.search(r"/models/([^/:]+):", path)
    assert found is not None, path
    return found.group(1)


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name.removesuffix(".json"))
def test_recorded_file(path: Path, alloy_emulator: Scenario) -> None:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    expect: dict[str, Any] = data["expect"]
    recording = load_recording(path)
    alloy_emulator.replay(recording)
    backend = get_backend(
        "gemini", {"base_url": alloy_emulator.base_url("gemini"), "api_key": "test-key-1234"}
    )
    request = Request(
        model=_model(recording.last_request.path), messages=(Message.user("replayed"),)
    )
    for _ in recording.interactions[:-1]:
        earlier = backend.complete(request)
        results = tuple(ToolResult(c.id, c.name, "a secret") for c in earlier.tool_calls)
        messages = (*request.messages, earlier.message(), Message("user", results))
        request = Request(model=request.model, messages=messages)

    if expect["error"]:
        with pytest.raises(ProviderError) as info:
            backend.complete(request)
        err = info.value
        check_error(err, expect)
        if data["scenario"] == "auth-error":
            assert isinstance(err, AuthenticationError)
            assert "GEMINI_API_KEY" in str(err)
        return

    response = backend.complete(request)
    check_reply(response, expect)
    assert len({c.id for c in response.tool_calls}) == len(response.tool_calls)
    assert response.model == "gemini-2.5-flash"
    assert len(alloy_emulator.requests) == len(recording.interactions)


def test_followup_echoes_the_thought_signature(alloy_emulator: Scenario) -> None:
    recording = load_recording(RECORDED / "gemini__parallel-tool-calls-followup__sync.json")
    alloy_emulator.replay(recording)
    backend = get_backend(
        "gemini", {"base_url": alloy_emulator.base_url("gemini"), "api_key": "test-key-1234"}
    )
    request = Request(model="gemini-2.5-flash", messages=(Message.user("secrets please"),))
    first = backend.complete(request)
    results = tuple(ToolResult(c.id, c.name, f"secret {i}") for i, c in enumerate(first.tool_calls))
    followup = (*request.messages, first.message(), Message("user", results))
    backend.complete(Request(model="gemini-2.5-flash", messages=followup))

    sent = alloy_emulator.requests[1].json["contents"]
    recorded_turn = json.loads(recording.interactions[0].body)["candidates"][0]["content"]
    assert [c["role"] for c in sent] == ["user", "model", "user"]
    signature = sent[1]["parts"][0]["thoughtSignature"]
    # The SDK re-encodes the signature bytes as URL-safe base64; the bytes are the same.
    recorded = recorded_turn["parts"][0]["thoughtSignature"]
    assert base64.urlsafe_b64decode(signature) == base64.b64decode(recorded)
    assert [p["functionCall"] for p in sent[1]["parts"]] == [
        p["functionCall"] for p in recorded_turn["parts"]
    ]
    assert [p["functionResponse"] for p in sent[2]["parts"]] == [
        {"name": "secret_retrieval_tool", "response": {"output": "secret 0"}},
        {"name": "secret_retrieval_tool", "response": {"output": "secret 1"}},
    ]


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name.removesuffix(".json"))
def test_recorded_stream(path: Path, mode: str, alloy_emulator: Scenario) -> None:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    expect: dict[str, Any] = data["expect"]
    recording = load_recording(path)
    alloy_emulator.replay(recording)
    backend = get_backend(
        "gemini", {"base_url": alloy_emulator.base_url("gemini"), "api_key": "test-key-1234"}
    )
    request = Request(
        model=_model(recording.last_request.path), messages=(Message.user("replayed"),)
    )

    if expect["error"]:
        # The error comes back labelled text/event-stream, its body plain JSON.
        assert recording.last_request.headers["content-type"] == "text/event-stream"
        with pytest.raises(ProviderError) as info:
            assemble(backend, request, mode)
        err = info.value
        # Refused before the stream started: mapped as ``complete`` maps it, not a StreamError.
        assert not isinstance(err, StreamError)
        check_error(err, expect)
        assert not err.retryable
        return

    response = assemble(backend, request, mode)
    check_reply(response, expect)
    assert len({c.id for c in response.tool_calls}) == len(response.tool_calls)
    assert response.model == "gemini-2.5-flash"
    [sent] = alloy_emulator.requests
    assert sent.stream and sent.path.endswith(":streamGenerateContent")


def test_streamed_calls_go_back_with_their_thought_signature(alloy_emulator: Scenario) -> None:
    recording = load_recording(RECORDED / "gemini__parallel-tool-calls__stream.json")
    alloy_emulator.replay(recording)
    backend = get_backend(
        "gemini", {"base_url": alloy_emulator.base_url("gemini"), "api_key": "test-key-1234"}
    )
    alloy_emulator.enqueue(Reply(text="Both secrets retrieved."))
    request = Request(model="gemini-2.5-flash", messages=(Message.user("secrets please"),))
    first = assemble(backend, request, "sync")
    results = tuple(ToolResult(c.id, c.name, f"secret {i}") for i, c in enumerate(first.tool_calls))
    followup = (*request.messages, first.message(), Message("user", results))
    backend.complete(Request(model="gemini-2.5-flash", messages=followup))

    sent = alloy_emulator.requests[1].json["contents"]
    body = recording.last_request.body
    recorded_turn = json.loads(body.split("data: ", 1)[1])["candidates"][0]["content"]
    assert [c["role"] for c in sent] == ["user", "model", "user"]
    signature = sent[1]["parts"][0]["thoughtSignature"]
    recorded = recorded_turn["parts"][0]["thoughtSignature"]
    assert base64.urlsafe_b64decode(signature) == base64.b64decode(recorded)
    assert [p["functionCall"] for p in sent[1]["parts"]] == [
        p["functionCall"] for p in recorded_turn["parts"]
    ]


def test_the_corpus_was_found() -> None:
    assert len(FILES) == 11
    assert len(STREAMS) == 5
