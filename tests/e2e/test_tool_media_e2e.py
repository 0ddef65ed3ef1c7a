"""A tool that returns an image, through the real SDKs: the image goes back to the model in
the provider's tool-result form, or is refused before the turn where the API takes only
text there (Chat Completions)."""

from __future__ import annotations

import json

import pytest

from alloy import CapabilityError
from alloy import Image
from alloy import command
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall

PNG = Image.from_bytes(b"\x89PNG\r\n\x1a\n" + bytes(48))


def snapshot(camera: str) -> list[object]:
    """Take a picture with the named camera."""
    return [f"camera {camera}:", PNG]


@command(tools=[snapshot])
def inspect_room(room: str) -> str:
    """Look at the {room} and say what you see."""


def test_the_image_a_tool_returns_goes_back_to_the_model(
    provider: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.enqueue(
        Reply(tool_calls=[ToolCall("snapshot", {"camera": "north"})]), Reply(text="a sofa")
    )
    if provider == "openai-chat":
        with pytest.raises(CapabilityError):
            inspect_room("lounge")
        assert len(alloy_emulator.requests) == 1
        return
    assert inspect_room("lounge") == "a sofa"
    sent = json.dumps(alloy_emulator.requests[-1].json)
    assert PNG.base64() in sent  # the image's bytes, in the provider's tool-result form
    assert "camera north:" in sent
