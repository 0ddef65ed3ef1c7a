"""Images, audio and documents through the real ``openai`` SDK, both APIs, to the emulator.

The matrix is every kind by every source on ``openai`` (Responses) and ``openai-chat`` (Chat
Completions). Where ``Capabilities.media`` allows the pair, the emulator must receive
exactly the part written out in ``EXPECTED`` (spelled out by hand, not by the encoder);
where it does not, the call is a ``CapabilityError`` naming the parameter, and nothing
reaches the wire. The recorded requests in ../shared/recorded are the shape to match.
"""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from alloy import Audio
from alloy import CapabilityError
from alloy import Document
from alloy import Image
from alloy import ProviderError
from alloy import command
from alloy._media import Media
from alloy._messages import MediaPart
from alloy.backends import Message
from alloy.backends import Request
from alloy.backends import TextPart
from alloy.backends import ToolCall
from alloy.backends import ToolResult
from alloy.backends import clear_instances
from alloy.backends import get_backend
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import load_recording
from tests.e2e.conftest import BACKENDS
from tests.recorded import RECORDED
from tests.recorded import check_reply
from tests.recorded import load
from tests.recorded import require_corpus

pytestmark = pytest.mark.parametrize(
    "provider", [b for b in BACKENDS if b in ("openai", "openai-chat")], indirect=True
)

PNG = b"\x89PNG\r\n\x1a\n" + bytes(40)
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40)
PDF = b"%PDF-1.7\n" + bytes(40)
CONTENT = {"image": PNG, "audio": WAV, "document": PDF}
KINDS = {"image": Image, "audio": Audio, "document": Document}
FILE = {"image": "cat.png", "audio": "clip.wav", "document": "q3.pdf"}
URL = {k: f"https://media.test/{name}" for k, name in FILE.items()}
MEDIA_TYPE = {"image": "image/png", "audio": "audio/wav", "document": "application/pdf"}
SOURCES = ("bytes", "path", "url", "file")
WAY = {"bytes": "inline", "path": "inline", "url": "url", "file": "file"}


def _b64(kind: str) -> str:
    return base64.b64encode(CONTENT[kind]).decode()


def _data_url(kind: str) -> str:
    return f"data:{MEDIA_TYPE[kind]};base64,{_b64(kind)}"


def _responses(kind: str, source: str) -> dict[str, Any] | None:
    if kind == "image":
        where = (
            {"file_id": "file-image"}
            if source == "file"
            else {"image_url": URL[kind] if source == "url" else _data_url(kind)}
        )
        return {"type": "input_image", "detail": "auto", **where}
    if kind == "document":
        if source == "file":
            return {"type": "input_file", "file_id": "file-document"}
        if source == "url":
            return {"type": "input_file", "file_url": URL[kind]}
        name = "q3.pdf" if source == "path" else "document.pdf"
        return {"type": "input_file", "file_data": _data_url(kind), "filename": name}
    return None  # Responses content has no audio part


def _chat(kind: str, source: str) -> dict[str, Any] | None:
    if kind == "image" and source != "file":
        url = URL[kind] if source == "url" else _data_url(kind)
        return {"type": "image_url", "image_url": {"url": url, "detail": "auto"}}
    if kind == "audio" and source in ("bytes", "path"):
        return {"type": "input_audio", "input_audio": {"data": _b64(kind), "format": "wav"}}
    if kind == "document" and source == "file":
        return {"type": "file", "file": {"file_id": "file-document"}}
    if kind == "document" and source in ("bytes", "path"):
        name = "q3.pdf" if source == "path" else "document.pdf"
        return {"type": "file", "file": {"file_data": _data_url(kind), "filename": name}}
    return None


EXPECTED = {"openai": _responses, "openai-chat": _chat}
"""The exact wire part of each (kind, source) on each backend; None where it is refused."""


def _media(kind: str, source: str, folder: Path) -> Media:
    cls = KINDS[kind]
    if source == "bytes":
        return cls.from_bytes(CONTENT[kind])
    if source == "path":
        path = folder / FILE[kind]
        path.write_bytes(CONTENT[kind])
        return cls.from_path(path)
    if source == "url":
        return cls.from_url(URL[kind])
    return cls.from_file_id("openai", f"file-{kind}", MEDIA_TYPE[kind])


@command
def look(item: Media) -> str:
    """Look at {item} and say what it is."""
    ...


def _call(mode: str, item: Media) -> str:
    if mode == "stream":
        with look.stream(item) as stream:
            return stream.result().value
    if mode == "async":
        return asyncio.run(look.async_(item))
    return look(item)


def _content(provider: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The content of the one user turn of a request body."""
    [turn] = body["input"] if provider == "openai" else body["messages"]
    assert turn["role"] == "user"
    content: list[dict[str, Any]] = turn["content"]
    return content


def _text(provider: str, text: str) -> dict[str, Any]:
    return {"type": "input_text" if provider == "openai" else "text", "text": text}


@pytest.mark.parametrize("mode", ["call", "stream", "async"])
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("kind", list(KINDS))
def test_each_kind_and_source_reaches_the_wire_or_is_refused_before_it(
    provider: str, alloy_emulator: Scenario, tmp_path: Path, kind: str, source: str, mode: str
) -> None:
    expected = EXPECTED[provider](kind, source)
    support = get_backend(provider).capabilities("gpt-test").media
    # The hand-written table and the capability data say the same thing.
    assert (expected is not None) == (WAY[source] in support.ways(kind))
    item = _media(kind, source, tmp_path)
    if expected is None:
        with pytest.raises(CapabilityError, match=r"parameter 'item'") as caught:
            _call(mode, item)
        assert caught.value.backend == provider
        assert alloy_emulator.requests == []
        return
    alloy_emulator.enqueue(Reply(text="A thing."))
    assert _call(mode, item) == "A thing."
    [sent] = alloy_emulator.requests
    assert bool(sent.json.get("stream")) == (mode == "stream")
    assert _content(provider, sent.json) == [
        _text(provider, "Look at "),
        expected,
        _text(provider, " and say what it is."),
    ]


@command
def compare(before: Image, after: Image, notes: str) -> str:
    """Compare {before} with {after}. Context: {notes}"""
    ...


def test_template_placement_interleaves_text_and_images_in_order(
    provider: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.enqueue(Reply(text="The light changed."))
    before = Image.from_bytes(PNG)
    after = Image.from_url("https://media.test/after.jpg", detail="low")
    assert compare(before, after, "kitchen") == "The light changed."
    content = _content(provider, alloy_emulator.requests[-1].json)
    image = "input_image" if provider == "openai" else "image_url"
    text = _text(provider, "")["type"]
    assert [part["type"] for part in content] == [text, image, text, image, text]
    assert [part["text"] for part in content if part["type"] == text] == [
        "Compare ",
        " with ",
        ". Context: kitchen",
    ]
    detail = content[3]["detail"] if provider == "openai" else content[3]["image_url"]["detail"]
    assert detail == "low"


@command
def summarize(notes: Document) -> str:
    """Summarize these notes."""
    ...


def test_a_text_document_goes_as_text_after_the_prompt(
    provider: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.enqueue(Reply(text="Ship it."))
    notes = Document.from_bytes(b"# Plan\n\nShip on Friday.", "text/markdown", filename="plan.md")
    assert summarize(notes) == "Ship it."
    content = _content(provider, alloy_emulator.requests[-1].json)
    assert content[0] == _text(provider, "Summarize these notes.")
    assert content[1] == _text(
        provider,
        '<document name="plan.md" type="text/markdown">\n# Plan\n\nShip on Friday.\n</document>',
    )


def test_no_bytes_or_key_in_reprs_logs_or_errors(
    provider: str,
    alloy_emulator: Scenario,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = "sk-alloymedia-4c1f9e2a7b"
    monkeypatch.setenv("OPENAI_API_KEY", key)
    clear_instances()
    photo = Image.from_bytes(b"\x89PNG\r\n\x1a\n" + b"secret-pixels" * 30)
    payload = photo.base64()
    alloy_emulator.enqueue(Reply(text="A cat."), Fault(status=400, message="bad image"))
    with caplog.at_level(logging.DEBUG):
        result = look.run(photo)
        with pytest.raises(ProviderError) as caught:
            look(photo)
    assert json.dumps(alloy_emulator.requests[0].json).count(payload) == 1  # it was sent
    assert alloy_emulator.requests[0].carries_key(key)
    seen = [
        repr(result),
        str(result.messages),
        look.prompt(photo),
        repr(photo),
        str(caught.value),
        repr(caught.value),
        caplog.text,
    ]
    for text in seen:
        assert payload[:24] not in text
        assert "secret-pixels" not in text
        assert key not in text
    assert "<Image image/png 398 B>" in look.prompt(photo)


def test_a_tool_result_with_media_is_output_items_on_responses_and_refused_on_chat(
    provider: str, alloy_emulator: Scenario
) -> None:
    call = ToolCall("call_1", "snapshot", "{}")
    result = ToolResult("call_1", "snapshot", (TextPart("Here:"), MediaPart(Image.from_bytes(PNG))))
    messages = (Message.user("Show me."), Message("assistant", (call,)), Message("user", (result,)))
    backend = get_backend(provider)
    if provider == "openai-chat":
        with pytest.raises(CapabilityError, match="Image in a tool result"):
            backend.complete(Request("gpt-test", messages))
        assert alloy_emulator.requests == []
        return
    alloy_emulator.enqueue(Reply(text="A black square."))
    assert backend.complete(Request("gpt-test", messages)).text == "A black square."
    [output] = [i for i in alloy_emulator.requests[-1].json["input"] if "output" in i]
    assert output == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": [
            {"type": "input_text", "text": "Here:"},
            {"type": "input_image", "image_url": _data_url("image"), "detail": "auto"},
        ],
    }


# --- the recorded requests ---------------------------------------------------------------

_BASE64 = re.compile(r"base64,[A-Za-z0-9+/=]+")


def _shape(value: Any) -> Any:
    """``value`` with every base64 payload replaced by a marker."""
    return json.loads(_BASE64.sub("base64,<b64>", json.dumps(value, sort_keys=True)))


def _recorded(provider: str) -> tuple[Path, dict[str, Any]]:
    require_corpus()
    name = {
        "openai": "openai-responses__document-input__sync.json",
        "openai-chat": "openai-chat__image-input__sync.json",
    }[provider]
    return RECORDED / name, load(RECORDED / name)


@command
def describe(image: Image) -> str:
    """Describe the following image in one sentence"""
    ...


@command
def read(document: Document) -> str:
    """What text is in this PDF document? Reply in one short sentence."""
    ...


def test_the_request_has_the_recorded_shape_and_the_reply_its_expect(
    provider: str, alloy_emulator: Scenario
) -> None:
    path, data = _recorded(provider)
    recorded = data["interactions"][-1]["request"]["body"]
    # The recorded image or PDF, as the caller's bytes.
    [payload] = _BASE64.findall(json.dumps(recorded))
    raw = base64.b64decode(payload.removeprefix("base64,"))
    alloy_emulator.replay(load_recording(path))
    if provider == "openai":
        result = read.with_config(model="openai:gpt-4o").run(
            Document.from_bytes(raw, filename="document.pdf")
        )
        # The SDK's ``type: "message"`` is optional on a user item; alloy leaves it out.
        recorded = {**recorded, "input": [_without_type(item) for item in recorded["input"]]}
    else:
        result = describe.with_config(model="openai-chat:gpt-4o").run(Image.from_bytes(raw))
    sent = alloy_emulator.requests[-1].json
    assert _shape(sent) == _shape(recorded)
    assert json.dumps(sent, sort_keys=True) == json.dumps(recorded, sort_keys=True)  # payloads too
    expect = data["expect"]
    assert result.text == expect["text"] and result.finish_reason == expect["finish"]
    assert result.usage.input_tokens == expect["usage"]["input_tokens"]
    # The same prompt turn sent by the backend alone decodes to everything ``expect`` says.
    alloy_emulator.replay(load_recording(path))
    backend = get_backend(provider)
    check_reply(backend.complete(Request("gpt-4o", (result.messages[0],))), expect)
    assert _shape(alloy_emulator.requests[-1].json) == _shape(recorded)


def _without_type(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not (k == "type" and v == "message")}
