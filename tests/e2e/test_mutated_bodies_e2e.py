"""Hostile 200s: every backend's recorded reply bodies, mutated (a field dropped, a value of
the wrong type, the body cut, bytes that are not UTF-8, JSON nested deeper than Python
recurses), served by the emulator through the real SDK to a real command. The outcome is a
value or an alloy error, never a raw exception, and a body that is not a reply is an error,
never an empty success."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from alloy import AlloyError
from alloy import ProviderError
from alloy import command
from alloy import use_config
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import Verbatim
from tests.recorded import last_response
from tests.recorded import load
from tests.recorded import recorded
from tests.recorded import require_corpus

PREFIX = {
    "openai": "openai-responses",
    "openai-chat": "openai-chat",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "ollama": "ollama",
}


def _bodies(provider: str) -> list[Any]:
    found: list[Any] = []
    for path in recorded(f"{PREFIX[provider]}__*__sync.json"):
        response = last_response(path)
        if response["status"] == 200 and load(path)["expect"].get("error") is None:
            found.append(json.loads(response["body"]))
    return found


@command
def shout(text: str) -> str:
    """Shout {text}."""
    ...


_WRONG: list[Any] = [None, 0, -1, 1.5, True, "", "x", [], {}, [1, "a"], {"a": None}]


@st.composite
def _mutated(draw: st.DrawFn, body: Any) -> bytes:
    """``body`` with one structural mutation, as bytes."""
    paths: list[tuple[Any, ...]] = []

    def walk(node: Any, path: tuple[Any, ...]) -> None:
        paths.append(path)
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                walk(value, (*path, index))

    walk(body, ())
    kind = draw(st.sampled_from(["drop", "replace", "cut", "bytes", "deep", "not-a-reply"]))
    if kind == "not-a-reply":
        return draw(st.sampled_from([b'{"unexpected": true}', b"{}", b"[]", b"null", b'""']))
    text = json.dumps(body)
    if kind == "cut":
        return text[: draw(st.integers(0, max(len(text) - 1, 0)))].encode()
    if kind == "bytes":
        at = draw(st.integers(0, len(text)))
        return text[:at].encode() + b"\xff\xfe" + text[at:].encode()
    if kind == "deep":
        return b'{"a":' * 100_000 + b"1" + b"}" * 100_000
    path = draw(st.sampled_from(paths[1:] or paths))
    copy = json.loads(text)
    parent: Any = copy
    for step in path[:-1]:
        parent = parent[step]
    if not path:
        return json.dumps(draw(st.sampled_from(_WRONG))).encode()
    if kind == "drop" and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = draw(st.sampled_from(_WRONG))
    return json.dumps(copy).encode()


def _outcome(alloy_emulator: Scenario, body: bytes) -> Any:
    alloy_emulator.enqueue(
        Verbatim(status=200, headers={"content-type": "application/json"}, body=body)
    )
    try:
        with use_config(max_retries=0):
            return shout("x")
    except AlloyError as error:
        return error


# google-genai warns (a warning of its own, raised as an error in this suite) when a body
# holds an enum value it does not know; that is the SDK reporting the server, not alloy.
@pytest.mark.filterwarnings("ignore:.* is not a valid:UserWarning")
def test_mutated_reply_bodies_end_in_a_value_or_an_alloy_error(
    provider: str, alloy_emulator: Scenario
) -> None:
    bodies = _bodies(provider)
    if not bodies:
        require_corpus()  # skips, saying where the corpus should be

    @settings(
        max_examples=60,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.sampled_from(bodies).flatmap(_mutated))
    def check(body: bytes) -> None:
        outcome = _outcome(alloy_emulator, body)
        assert isinstance(outcome, str | AlloyError), repr(outcome)
        if isinstance(outcome, str) and not outcome:
            # An empty text is only a success when the body was a reply that said so.
            assert b"unexpected" not in body

    check()


@pytest.mark.parametrize("body", [b'{"unexpected": true}', b"{}"])
def test_a_200_that_is_not_a_reply_is_an_error(
    provider: str, alloy_emulator: Scenario, body: bytes
) -> None:
    outcome = _outcome(alloy_emulator, body)
    assert isinstance(outcome, ProviderError), repr(outcome)
    assert not outcome.retryable


def test_the_corpus_has_bodies_for_every_backend(provider: str) -> None:
    require_corpus()
    assert _bodies(provider), provider


@pytest.mark.parametrize("wait", ["nan", "inf", "-1", "soon"])
def test_a_retry_after_that_is_no_wait_is_ignored(
    provider: str, alloy_emulator: Scenario, wait: str
) -> None:
    from alloy.testing.emulator import Fault
    from alloy.testing.emulator import Reply

    alloy_emulator.enqueue(Fault(status=429, headers={"retry-after": wait}), Reply(text="ok"))
    with use_config(max_retries=1, max_retry_wait=1):
        assert shout("x") == "ok"
    assert len(alloy_emulator.requests) == 2


def _streams(provider: str) -> list[tuple[dict[str, str], list[str]]]:
    """(headers, lines) of each successful streamed recording of ``provider``."""
    found: list[tuple[dict[str, str], list[str]]] = []
    # Ollama's native recordings only: its openai-compat ones are Chat Completions streams.
    pattern = "ollama__native*__stream.json" if provider == "ollama" else None
    for path in recorded(pattern or f"{PREFIX[provider]}__*__stream.json"):
        response = last_response(path)
        if response["status"] == 200 and load(path)["expect"].get("error") is None:
            headers = {str(k).lower(): str(v) for k, v in response["headers"].items()}
            found.append((headers, str(response["body"]).split("\n")))
    return found


@st.composite
def _mutated_stream(draw: st.DrawFn, stream: tuple[dict[str, str], list[str]]) -> Verbatim:
    """One event of a recorded stream mutated (or the stream cut after it)."""
    headers, lines = stream
    events = [
        i for i, line in enumerate(lines) if line.startswith("data: {") or line.startswith("{")
    ]
    at = draw(st.sampled_from(events))
    line = lines[at]
    prefix = "data: " if line.startswith("data: ") else ""
    mutated = draw(_mutated(json.loads(line.removeprefix(prefix))))
    changed = [*lines]
    if draw(st.booleans()):
        changed = changed[:at]  # cut before this event
    else:
        changed[at] = prefix + mutated.decode("utf-8", "surrogateescape")
    body = "\n".join(changed).encode("utf-8", "surrogateescape")
    return Verbatim(status=200, headers={"content-type": headers["content-type"]}, body=body)


@pytest.mark.filterwarnings("ignore:.* is not a valid:UserWarning")
def test_mutated_stream_events_end_in_a_value_or_an_alloy_error(
    provider: str, alloy_emulator: Scenario
) -> None:
    streams = _streams(provider)
    if not streams:
        require_corpus()  # skips, saying where the corpus should be

    @settings(
        max_examples=40,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(st.sampled_from(streams).flatmap(_mutated_stream))
    def check(item: Verbatim) -> None:
        alloy_emulator.enqueue(item)
        try:
            with use_config(max_retries=0), shout.stream("x") as stream:
                outcome: Any = stream.result().value
        except AlloyError as error:
            outcome = error
        assert isinstance(outcome, str | AlloyError), repr(outcome)

    check()
