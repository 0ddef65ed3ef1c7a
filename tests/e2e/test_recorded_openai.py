"""Real recorded OpenAI traffic, replayed verbatim by the emulator, decoded by alloy.

Each file in ../shared/recorded describes what a correct client extracts from its last
interaction (``expect``). Earlier interactions (tool follow-ups) are served first. The files
are test data read from beside the repository; the tests skip when that folder is absent.

Streamed recordings (``*__stream.json``) go through ``backend.stream``/``astream`` and the
shared ``Assembler``; Ollama's OpenAI-compatible streams are Chat Completions wire too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from alloy import ProviderError
from alloy.backends import Message
from alloy.backends import Request
from alloy.backends import get_backend
from alloy.backends.base import Backend
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import load_recording
from tests.e2e.streaming import assemble
from tests.recorded import check_error
from tests.recorded import check_reply
from tests.recorded import recorded
from tests.recorded import require_corpus

require_corpus(module=True)
FILES = recorded("openai-*__sync.json", "ollama__openai-compat-*__sync.json")
STREAMS = recorded("openai-*__stream.json", "ollama__openai-compat-*__stream.json")


def _backend_for(path: Path) -> str:
    return "openai" if path.name.startswith("openai-responses") else "openai-chat"


def _replay(path: Path, alloy_emulator: Scenario) -> tuple[dict[str, Any], Backend, Request]:
    """Queue the file's responses; the backend, the request, and ``expect``. Earlier
    interactions (tool follow-ups) are answered to ``complete`` calls here."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    recording = load_recording(path)
    alloy_emulator.replay(recording)
    backend = get_backend(
        _backend_for(path), {"base_url": alloy_emulator.base_url("openai"), "api_key": "sk-test"}
    )
    request = Request(model="gpt-4o", messages=(Message.user("replayed"),))
    for _ in recording.interactions[:-1]:
        backend.complete(request)
    return data["expect"], backend, request


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name.removesuffix(".json"))
def test_recorded_file(path: Path, alloy_emulator: Scenario) -> None:
    expect, backend, request = _replay(path, alloy_emulator)
    if expect["error"]:
        with pytest.raises(ProviderError) as info:
            backend.complete(request)
        check_error(info.value, expect)
        return
    check_reply(backend.complete(request), expect)
    assert len(alloy_emulator.requests) == len(load_recording(path).interactions)


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name.removesuffix(".json"))
def test_recorded_stream(path: Path, mode: str, alloy_emulator: Scenario) -> None:
    expect, backend, request = _replay(path, alloy_emulator)
    if expect["error"]:
        with pytest.raises(ProviderError) as info:
            assemble(backend, request, mode)
        check_error(info.value, expect)
    else:
        check_reply(assemble(backend, request, mode), expect)
    sent = alloy_emulator.requests[-1].json
    assert sent["stream"] is True
    if backend.name == "openai-chat":
        assert sent["stream_options"] == {"include_usage": True}


def test_the_corpus_was_found() -> None:
    assert len(FILES) >= 20
    assert len(STREAMS) >= 11
