"""Real recorded Ollama traffic, replayed by the emulator, decoded by the ollama backend.

Each file in ../shared/recorded describes what a correct client extracts from its last
interaction (``expect``); earlier interactions are served first. The backend does not stream
yet, and the corpus's native ``/api/chat`` recordings are streams (its OpenAI-compatible
Ollama files belong to ``openai-chat`` and are replayed in test_recorded_openai.py). So:

* every native ``ollama__*__sync.json`` file is replayed verbatim (none in the corpus yet);
* every native stream file is replayed as the answer Ollama gives the same request with
  ``"stream": false``: one object, the final line's reason and counts with the content
  pieces joined (the recorded values themselves are unchanged);
* and verbatim, to show that an NDJSON body sent to a non-streamed call is a clean
  ``ProviderError``, never the SDK's ``JSONDecodeError``.
"""
# The ollama SDK's chat() (a parameter typed with a bare Callable), its context managers and
# its clients' httpx attribute are partly untyped.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false
# pyright: reportUnknownArgumentType=false

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from alloy import AuthenticationError, ProviderError
from alloy.backends import Message, Request, get_backend
from alloy.backends.base import Backend
from alloy.testing.emulator import Interaction, Recording, Scenario, load_recording

RECORDED = Path(__file__).resolve().parents[2].parent / "shared" / "recorded"

if not RECORDED.is_dir():  # pragma: no cover - depends on the checkout
    pytest.skip(f"recorded corpus not found at {RECORDED}", allow_module_level=True)

NATIVE = [p for p in sorted(RECORDED.glob("ollama__*.json")) if "openai-compat" not in p.name]
STREAM = [p for p in NATIVE if p.name.endswith("__stream.json")]


def _id(path: Path) -> str:
    return path.name.removesuffix(".json")


def _backend(scenario: Scenario) -> Backend:
    return get_backend("ollama", {"host": scenario.base_url("ollama")})


def _request(recording: Recording) -> Request:
    body: dict[str, Any] = recording.last_request.request_body or {}
    return Request(model=str(body.get("model", "llama3.1")), messages=(Message.user("replayed"),))


def _as_unstreamed(recording: Recording) -> Recording:
    """The recording with each NDJSON body folded into Ollama's ``stream: false`` answer."""
    interactions: list[Interaction] = []
    for interaction in recording.interactions:
        lines = [json.loads(line) for line in interaction.body.splitlines() if line.strip()]
        final = dict(lines[-1])
        content = "".join(line["message"].get("content") or "" for line in lines)
        calls: list[Any] = [c for line in lines for c in line["message"].get("tool_calls") or []]
        final["message"] = {**final["message"], "content": content}
        if calls:
            final["message"]["tool_calls"] = calls
        body = json.dumps(final, separators=(",", ":"))
        headers = {"content-type": "application/json; charset=utf-8"}
        interactions.append(replace(interaction, body=body, headers=headers))
    return replace(recording, interactions=tuple(interactions))


def _check(recording: Recording, scenario: Scenario) -> None:
    expect = recording.expect
    backend = _backend(scenario)
    request = _request(recording)
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
    if "thinking" in expect:
        assert response.reasoning == expect["thinking"]
    requests = scenario.requests
    assert len(requests) == len(recording.interactions)
    assert all(r.json["stream"] is False for r in requests)


@pytest.mark.parametrize("path", STREAM, ids=_id)
def test_recorded_stream_as_unstreamed_answer(path: Path, alloy_emulator: Scenario) -> None:
    recording = _as_unstreamed(load_recording(path))
    alloy_emulator.replay(recording)
    _check(recording, alloy_emulator)


@pytest.mark.parametrize("path", STREAM, ids=_id)
def test_recorded_stream_body_to_an_unstreamed_call(path: Path, alloy_emulator: Scenario) -> None:
    recording = load_recording(path)
    alloy_emulator.replay(recording)
    backend = _backend(alloy_emulator)
    with pytest.raises(ProviderError, match="not valid JSON") as info:
        backend.complete(_request(recording))
    assert not info.value.retryable


def test_the_corpus_was_found() -> None:
    assert STREAM
