"""Tools that return media: the result goes back to the model as media parts, checked
against what the provider takes in tool results before it is sent."""

from __future__ import annotations

import pytest

from alloy import CapabilityError
from alloy import Image
from alloy import command
from alloy._messages import MediaPart
from alloy._messages import TextPart
from alloy._messages import ToolResult
from alloy.backends.base import Capabilities
from alloy.backends.base import MediaSupport
from alloy.backends.fake import FakeBackend
from alloy.testing import use_backend

PNG = Image.from_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))


def snapshot(camera: str) -> list[object]:
    """Take a picture with the named camera."""
    return [f"camera {camera}:", PNG]


def count(camera: str) -> int:
    """How many cameras there are."""
    return 3


@command(tools=[snapshot, count])
def inspect_room(room: str) -> str:
    """Look at the {room} and say what you see."""


def _result(fake: FakeBackend) -> ToolResult:
    last = fake.requests[-1].messages[-1]
    (result,) = [p for p in last.parts if isinstance(p, ToolResult)]
    return result


def test_a_tool_returning_media_sends_parts_back() -> None:
    fake = FakeBackend()
    fake.add_reply(tool_calls=[("snapshot", {"camera": "north"})]).add_reply("a sofa")
    with use_backend(fake):
        assert inspect_room("lounge") == "a sofa"
    content = _result(fake).content
    assert content == (TextPart("camera north:"), MediaPart(PNG))
    assert _result(fake).text == "camera north:"


def test_other_results_stay_text() -> None:
    fake = FakeBackend()
    fake.add_reply(tool_calls=[("count", {"camera": "x"})]).add_reply("three")
    with use_backend(fake):
        inspect_room("lounge")
    assert _result(fake).content == "3"


def test_media_the_provider_cannot_take_are_refused_before_sending() -> None:
    text_only = FakeBackend(capabilities=Capabilities(media=MediaSupport()))
    text_only.add_reply(tool_calls=[("snapshot", {"camera": "north"})]).add_reply("x")
    with use_backend(text_only), pytest.raises(CapabilityError, match="Image input"):
        inspect_room("lounge")
    assert len(text_only.requests) == 1  # the turn with the image was not sent
