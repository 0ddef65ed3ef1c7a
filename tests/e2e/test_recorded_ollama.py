"""Real recorded Ollama traffic, replayed by the emulator, decoded by the ollama backend.

Each file in ../shared/recorded describes what a correct client extracts from its last
interaction (``expect``); earlier interactions are served first. The corpus's native
``/api/chat`` recordings are streams (its OpenAI-compatible Ollama files belong to
``openai-chat`` and are replayed in test_recorded_openai.py). Every native stream file is:

* replayed verbatim and read with ``stream``/``astream``, the deltas assembled by the shared
  ``Assembler``;
* replayed as the answer Ollama gives the same request with ``"stream": false`` (one object,
  the final line's reason and counts with the content pieces joined; the recorded values
  themselves are unchanged), read with ``complete``: the same ``Response``;
* and replayed verbatim to a non-streamed call, to show that an NDJSON body there is a clean
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

from alloy import ProviderError
from alloy.backends import Message
from alloy.backends import Request
from alloy.backends import Response
from alloy.backends import get_backend
from alloy.backends.base import Backend
from alloy.testing.emulator import Interaction
from alloy.testing.emulator import Recording
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import load_recording
from tests.e2e.streaming import assemble
from tests.recorded import check_error
from tests.recorded import check_reply
from tests.recorded import recorded
from tests.recorded import require_corpus

require_corpus(module=True)

NATIVE = [p for p in recorded("ollama__*.json") if "openai-compat" not in p.name]
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
        message: dict[str, Any] = dict(final["message"])
        for key in ("content", "thinking"):
            joined = "".join(line["message"].get(key) or "" for line in lines)
            if joined or key == "content":
                message[key] = joined
        final["message"] = message
        calls: list[Any] = [c for line in lines for c in line["message"].get("tool_calls") or []]
        if calls:
            final["message"]["tool_calls"] = calls
        body = json.dumps(final, separators=(",", ":"))
        headers = {"content-type": "application/json; charset=utf-8"}
        interactions.append(replace(interaction, body=body, headers=headers))
    return replace(recording, interactions=tuple(interactions))


def _check(recording: Recording, scenario: Scenario, mode: str = "complete") -> Response | None:
    """Drive every interaction with ``mode`` (``complete``, ``sync`` or ``async`` stream) and
    check the last one against ``expect``; the ``Response``, unless an error was expected."""
    expect = recording.expect
    backend = _backend(scenario)
    request = _request(recording)

    def call() -> Response:
        return backend.complete(request) if mode == "complete" else assemble(backend, request, mode)

    for _ in recording.interactions[:-1]:
        call()

    if expect["error"]:
        with pytest.raises(ProviderError) as info:
            call()
        check_error(info.value, expect)
        return None

    response = call()
    check_reply(response, expect)
    requests = scenario.requests
    assert len(requests) == len(recording.interactions)
    assert all(r.json["stream"] is (mode != "complete") for r in requests)
    return response


@pytest.mark.parametrize("mode", ["sync", "async"])
@pytest.mark.parametrize("path", STREAM, ids=_id)
def test_recorded_stream_replayed(path: Path, mode: str, alloy_emulator: Scenario) -> None:
    recording = load_recording(path)
    alloy_emulator.replay(recording)
    _check(recording, alloy_emulator, mode)


@pytest.mark.parametrize("path", STREAM, ids=_id)
def test_recorded_stream_equals_the_unstreamed_answer(
    path: Path, alloy_emulator: Scenario, alloy_emulator_server: Any
) -> None:
    """``complete`` on the same reply sent whole: it matches ``expect`` too, and the
    streamed ``Response`` is the same, field for field."""
    recording = load_recording(path)
    alloy_emulator.replay(recording)
    streamed = _check(recording, alloy_emulator, "sync")
    other = alloy_emulator_server.scenario()
    whole = _as_unstreamed(recording)
    other.replay(whole)
    assert streamed == _check(whole, other)


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
