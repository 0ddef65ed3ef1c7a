"""Real recorded OpenAI traffic, replayed verbatim by the emulator, decoded by alloy.

Each file in ../shared/recorded describes what a correct client extracts from its last
interaction (``expect``). Earlier interactions (tool follow-ups) are served first. The files
are test data read from beside the repository; the tests skip when that folder is absent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from alloy import AuthenticationError, ProviderError
from alloy.backends import Message, Request, get_backend
from alloy.testing.emulator import Scenario, load_recording

RECORDED = Path(__file__).resolve().parents[2].parent / "shared" / "recorded"
# Streamed recordings need streaming, which arrives with the streaming work; sync ones here.
FILES = sorted(RECORDED.glob("openai-*__sync.json")) + sorted(
    RECORDED.glob("ollama__openai-compat-*__sync.json")
)

if not RECORDED.is_dir():  # pragma: no cover - depends on the checkout
    pytest.skip(f"recorded corpus not found at {RECORDED}", allow_module_level=True)


def _backend_for(path: Path) -> str:
    return "openai" if path.name.startswith("openai-responses") else "openai-chat"


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name.removesuffix(".json"))
def test_recorded_file(path: Path, alloy_emulator: Scenario) -> None:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    expect: dict[str, Any] = data["expect"]
    recording = load_recording(path)
    alloy_emulator.replay(recording)
    backend = get_backend(
        _backend_for(path), {"base_url": alloy_emulator.base_url("openai"), "api_key": "sk-test"}
    )
    request = Request(model="gpt-4o", messages=(Message.user("replayed"),))
    for _ in recording.interactions[:-1]:
        backend.complete(request)

    if expect["error"]:
        with pytest.raises(ProviderError) as info:
            backend.complete(request)
        err = info.value
        assert err.status_code == expect["error"]["status"]
        if err.status_code == 401:
            assert isinstance(err, AuthenticationError)
        assert expect["error"]["message"][:40] in str(err)
        return

    response = backend.complete(request)
    assert (response.text or None) == expect["text"]
    calls = [{"name": c.name, "arguments": json.loads(c.arguments)} for c in response.tool_calls]
    assert calls == expect["tool_calls"]
    assert response.finish_reason == expect["finish"]
    usage = expect["usage"]
    assert response.usage.input_tokens == usage["input_tokens"]
    assert response.usage.output_tokens == usage["output_tokens"]
    assert response.usage.cached_input_tokens == usage["cached_tokens"]
    assert response.usage.reasoning_tokens == usage["reasoning_tokens"]
    if "refusal" in expect:
        assert response.refusal == expect["refusal"]
    if "thinking" in expect:
        assert response.reasoning == expect["thinking"]
    assert len(alloy_emulator.requests) == len(recording.interactions)


def test_the_corpus_was_found() -> None:
    assert len(FILES) >= 20
