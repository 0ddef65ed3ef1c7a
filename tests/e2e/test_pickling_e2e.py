"""Results and errors from the real SDKs pickle: a result with media, tool calls and the
provider's usage details, and an error whose SDK cause holds the API key (left out)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from alloy import AuthenticationError
from alloy import Image
from alloy import command
from alloy import tool
from alloy.backends import clear_instances
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall
from tests.e2e.wires import Wire

KEY = "sk-alloypickle-e2e-5e4d3c2b1a"
PNG = b"\x89PNG\r\n\x1a\n" + b"e2e-pickle-marker" * 8


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@command(tools=[add])
def count(question: str, photo: Image) -> int:
    """Use the tools to answer {question} about {photo}."""


def test_a_result_from_a_tool_loop_with_media_round_trips(
    provider: str, alloy_emulator: Scenario, tmp_path: Path
) -> None:
    path = tmp_path / "dots.png"
    path.write_bytes(PNG)
    alloy_emulator.enqueue(
        Reply(tool_calls=[ToolCall("add", {"a": 2, "b": 3})]),
        Reply(json={"value": 5}, input_tokens=30, output_tokens=4),
    )
    result = count.run("how many dots", Image.from_path(path))
    data = pickle.dumps(result)
    assert b"e2e-pickle-marker" not in data  # the image stays a file
    back = pickle.loads(data)
    assert back == result
    assert back.value == 5
    assert [(t.name, t.result) for t in back.tool_calls] == [("add", 5)]
    assert dict(back.usage.details) == dict(result.usage.details)
    assert [m.provider_data for m in back.messages] == [m.provider_data for m in result.messages]
    assert (back.provider, back.model, back.request_id) == (
        result.provider,
        result.model,
        result.request_id,
    )


@command
def rate(product: str) -> int:
    """Rate {product} from 1 to 5."""


def test_an_error_pickles_without_its_cause_or_the_key(
    provider: str,
    wire: Wire,
    alloy_emulator: Scenario,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = wire.key_env or "OLLAMA_API_KEY"
    monkeypatch.setenv(env, KEY)
    clear_instances()
    alloy_emulator.enqueue(Fault(status=401, message="Incorrect API key provided"))
    with pytest.raises(AuthenticationError) as info:
        rate.with_config(max_retries=0)("tea")
    error = info.value
    cause = error.__cause__
    assert cause is not None
    if wire.key_env is not None:
        # The SDK's exception holds the request, headers and key included, and pickles with
        # them: which is why an alloy error leaves it out.
        assert KEY.encode() in pickle.dumps(cause)
    data = pickle.dumps(error)
    assert KEY.encode() not in data
    back = pickle.loads(data)
    assert type(back) is AuthenticationError
    assert str(back) == str(error)
    assert (back.provider, back.status_code, back.request_id, back.retryable) == (
        error.provider,
        401,
        error.request_id,
        False,
    )
    assert back.__cause__ is None
