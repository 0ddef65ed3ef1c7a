"""Real recorded Anthropic traffic, replayed verbatim by the emulator, decoded by alloy.

Each file in ../shared/recorded describes what a correct client extracts from its last
interaction (``expect``). Earlier interactions (tool follow-ups, cache warm-ups) are served
first. The files are test data read from beside the repository; the tests skip when that
folder is absent. Streamed recordings wait for the backend's streaming support.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from alloy import AuthenticationError, ProviderError
from alloy.backends import Message, Request, get_backend
from alloy.backends._anthropic_encode import encode_messages
from alloy.testing.emulator import Scenario, load_recording

RECORDED = Path(__file__).resolve().parents[2].parent / "shared" / "recorded"
FILES = sorted(RECORDED.glob("anthropic__*__sync.json"))
# Not in the SDK's deprecated list, so no DeprecationWarning; the replies are replayed anyway.
MODEL = "claude-sonnet-4-6"

if not RECORDED.is_dir():  # pragma: no cover - depends on the checkout
    pytest.skip(f"recorded corpus not found at {RECORDED}", allow_module_level=True)


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
        assert err.status_code == expect["error"]["status"]
        if err.status_code == 401:
            assert isinstance(err, AuthenticationError)
            assert "ANTHROPIC_API_KEY" in str(err)
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
    assert response.reasoning == expect.get("thinking")
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


def test_the_corpus_was_found() -> None:
    assert len(FILES) >= 10
