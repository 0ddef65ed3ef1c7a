"""Images, audio and documents through the anthropic, gemini and ollama SDKs, against the
emulator: the exact wire part of every kind and source a model takes, an honest refusal
before the network of every one it does not, the same parts from ``stream()`` and
``async_()``, text and media in template order, and the recorded image requests rebuilt.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
from pathlib import Path
from typing import Any

import pytest

from alloy import AlloyError
from alloy import Audio
from alloy import CapabilityError
from alloy import Document
from alloy import Image
from alloy import command
from alloy import use_config
from alloy._media import Media
from alloy._messages import MediaPart
from alloy._messages import Message
from alloy._messages import Request
from alloy._messages import TextPart
from alloy._messages import ToolCall
from alloy._messages import ToolResult
from alloy.backends import clear_instances
from alloy.backends import get_backend
from alloy.backends.anthropic import _models as anthropic_models
from alloy.backends.gemini import _models as gemini_models
from alloy.backends.gemini._encode import FILES_URI
from alloy.backends.ollama import _models as ollama_models
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import load_recording
from tests.e2e.conftest import BACKENDS
from tests.recorded import RECORDED
from tests.recorded import check_usage
from tests.recorded import corpus_missing
from tests.recorded import load

MINE = [name for name in ("anthropic", "gemini", "ollama") if name in BACKENDS]
mine = pytest.mark.parametrize("provider", MINE, indirect=True)

# Small, recognisable payloads: nothing decodes them, and their base64 is easy to find.
PNG = b"\x89PNG\r\n\x1a\n" + b"alloy-media-pixels" * 4
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + b"alloy-media-sound" * 4
PDF = b"%PDF-1.7\n" + b"alloy-media-pages" * 4
DATA = {"image": PNG, "audio": WAV, "document": PDF}
TYPES = {"image": "image/png", "audio": "audio/wav", "document": "application/pdf"}
SUFFIX = {"image": "png", "audio": "wav", "document": "pdf"}
CLASSES: dict[str, type[Media]] = {"image": Image, "audio": Audio, "document": Document}
FILE_IDS = {"anthropic": "file_011CNha8iCJcU1wXNR6q4V8w", "gemini": "files/abc123"}
KINDS = ["image", "audio", "document"]
CAPABILITIES = {
    "anthropic": anthropic_models.capabilities,
    "gemini": gemini_models.capabilities,
    "ollama": ollama_models.capabilities,
}
SOURCES = ["bytes", "path", "url", "file"]


@command
def look(item: Media) -> str:
    """Describe {item} in one line."""
    ...


@command
def compare(before: Image, after: Image) -> str:
    """Compare {before} with {after}, then say done."""
    ...


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def url_of(kind: str) -> str:
    return f"https://example.com/media/sample.{SUFFIX[kind]}"


def make(kind: str, source: str, provider: str, folder: Path) -> Media:
    cls = CLASSES[kind]
    if source == "bytes":
        return cls.from_bytes(DATA[kind])
    if source == "path":
        path = folder / f"sample.{SUFFIX[kind]}"
        path.write_bytes(DATA[kind])
        return cls.from_path(path)
    if source == "url":
        return cls.from_url(url_of(kind))
    return cls.from_file_id(provider, FILE_IDS.get(provider, "file-1"), TYPES[kind])


def camel(value: Any) -> Any:
    """``value`` with camelCase keys: google-genai 3.4 writes some nested keys in snake_case
    (``inlineData.mime_type``), and the API's JSON parser reads both spellings."""
    if isinstance(value, dict):
        return {
            re.sub(r"_([a-z])", lambda m: m.group(1).upper(), k): camel(v) for k, v in value.items()
        }
    if isinstance(value, list):
        return [camel(v) for v in value]
    return value


def expected(provider: str, kind: str, source: str) -> Any:
    """The wire part of ``kind`` from ``source`` on ``provider``, or None if it is refused."""
    raw, mime, inline = DATA[kind], TYPES[kind], source in ("bytes", "path")
    if provider == "anthropic":
        if kind == "audio":
            return None
        if inline:
            src: dict[str, Any] = {"type": "base64", "media_type": mime, "data": b64(raw)}
        elif source == "url":
            src = {"type": "url", "url": url_of(kind)}
        else:
            src = {"type": "file", "file_id": FILE_IDS["anthropic"]}
        block: dict[str, Any] = {"type": "image" if kind == "image" else "document", "source": src}
        if kind == "document" and source in ("path", "url"):
            block["title"] = "sample.pdf"
        return block
    if provider == "gemini":
        if inline:
            # The SDK's base64 is the URL-safe alphabet.
            return {
                "inlineData": {"mimeType": mime, "data": base64.urlsafe_b64encode(raw).decode()}
            }
        uri = url_of(kind) if source == "url" else FILES_URI + "abc123"
        return {"fileData": {"fileUri": uri, "mimeType": mime}}
    return b64(raw) if kind == "image" and inline else None


def sent_prompt(provider: str, body: dict[str, Any]) -> Any:
    """The user turn as it went out: content blocks, parts, or the Ollama message."""
    if provider == "anthropic":
        return body["messages"][-1]["content"]
    if provider == "gemini":
        return camel(body["contents"][-1]["parts"])
    return body["messages"][-1]


def around(provider: str, part: Any) -> Any:
    """The wire form of ``look``'s prompt with ``part`` in its place."""
    if provider == "anthropic":
        text = [{"type": "text", "text": t} for t in ("Describe ", " in one line.")]
        return [text[0], part, text[1]]
    if provider == "gemini":
        return [{"text": "Describe "}, part, {"text": " in one line."}]
    return {"role": "user", "content": "Describe  in one line.", "images": [part]}


@mine
@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_from_each_source(
    provider: str, alloy_emulator: Scenario, kind: str, source: str, tmp_path: Path
) -> None:
    media = make(kind, source, provider, tmp_path)
    part = expected(provider, kind, source)
    # The expectations above are written out by hand; they must agree with the data.
    ways = CAPABILITIES[provider]("gpt-test").media.ways(media.kind)
    assert (part is not None) == ({"bytes": "inline", "path": "inline"}.get(source, source) in ways)
    if part is None:
        with pytest.raises(CapabilityError) as info:
            look(media)
        assert "'item'" in str(info.value) and provider in str(info.value)
        assert alloy_emulator.requests == []
        return
    alloy_emulator.enqueue(Reply(text="A sample."))
    assert look(media) == "A sample."
    assert sent_prompt(provider, alloy_emulator.requests[-1].json) == around(provider, part)


@mine
def test_a_file_uploaded_to_another_provider_is_refused(
    provider: str, alloy_emulator: Scenario
) -> None:
    with pytest.raises(CapabilityError) as info:
        look(Image.from_file_id("openai", "file-abc123", "image/png"))
    assert "'item'" in str(info.value)
    assert alloy_emulator.requests == []


def mixed(provider: str) -> tuple[Media, ...]:
    """Media the provider takes, of every kind it takes."""
    if provider == "ollama":
        return (Image.from_bytes(PNG), Image.from_bytes(PNG[:-4]))
    media: tuple[Media, ...] = (Image.from_bytes(PNG), Document.from_url(url_of("document")))
    return (*media, Audio.from_bytes(WAV)) if provider == "gemini" else media


@command
def several(items: list[Media]) -> str:
    """Look at {items}."""
    ...


@mine
def test_stream_and_async_send_the_same_parts(provider: str, alloy_emulator: Scenario) -> None:
    items = list(mixed(provider))
    alloy_emulator.enqueue(*(Reply(text="Seen.", chunk_chars=2) for _ in range(4)))
    assert several(items) == "Seen."
    assert "".join(several.stream(items)) == "Seen."

    async def both() -> tuple[str, str]:
        streamed = "".join([piece async for piece in several.stream_async(items)])
        return await several.async_(items), streamed

    assert asyncio.run(both()) == ("Seen.", "Seen.")
    sent = [sent_prompt(provider, r.json) for r in alloy_emulator.requests]
    assert [r.stream for r in alloy_emulator.requests] == [False, True, True, False]
    assert sent[1:] == [sent[0]] * 3
    media = sent[0]["images"] if provider == "ollama" else [p for p in sent[0] if "text" not in p]
    assert len(media) == len(items)


@mine
def test_template_placement_keeps_text_and_media_in_order(
    provider: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.enqueue(Reply(text="done"))
    after = (
        Image.from_bytes(PNG[:-4])
        if provider == "ollama"
        else Image.from_url("https://example.com/after.jpg")
    )
    compare(Image.from_bytes(PNG), after)
    sent = sent_prompt(provider, alloy_emulator.requests[-1].json)
    if provider == "ollama":
        # Ollama attaches images to the message: its text cannot hold them in place.
        assert sent == {
            "role": "user",
            "content": "Compare  with , then say done.",
            "images": [b64(PNG), b64(PNG[:-4])],
        }
        return
    texts = [p["text"] for p in sent if "text" in p]
    assert texts == ["Compare ", " with ", ", then say done."]
    if provider == "anthropic":
        assert [p["type"] for p in sent] == ["text", "image", "text", "image", "text"]
    else:
        assert [next(iter(p)) for p in sent] == ["text", "inlineData", "text", "fileData", "text"]


@mine
def test_a_tool_result_carries_its_image(provider: str, alloy_emulator: Scenario) -> None:
    call = ToolCall("call_1", "snapshot", "{}")
    result = ToolResult(
        "call_1", "snapshot", (TextPart("the chart"), MediaPart(Image.from_bytes(PNG)))
    )
    messages = (
        Message.user("Chart it."),
        Message("assistant", (call,)),
        Message("user", (result,)),
    )
    alloy_emulator.enqueue(Reply(text="A rising line."))
    get_backend(provider).complete(Request("gpt-test", messages))
    body = alloy_emulator.requests[-1].json
    if provider == "anthropic":
        [block] = body["messages"][-1]["content"]
        assert block["content"] == [
            {"type": "text", "text": "the chart"},
            {
                "type": "image",
                "source": {"type": "base64", "media_type": "image/png", "data": b64(PNG)},
            },
        ]
    elif provider == "gemini":
        [part] = camel(body["contents"][-1]["parts"])
        assert part["functionResponse"]["response"] == {"output": "the chart"}
        assert part["functionResponse"]["parts"] == [
            {
                "inlineData": {
                    "mimeType": "image/png",
                    "data": base64.urlsafe_b64encode(PNG).decode(),
                }
            }
        ]
    else:
        assert body["messages"][-1] == {
            "role": "tool",
            "content": "the chart",
            "images": [b64(PNG)],
            "tool_name": "snapshot",
        }


# --- the recorded image requests ------------------------------------------------------------

RECORDINGS = {
    "anthropic": ("anthropic__image-input__sync.json", "claude-sonnet-4-6"),
    "gemini": ("gemini__image-input__sync.json", "gemini-2.5-flash"),
}


def shape(value: Any) -> Any:
    """``value`` with base64 ``data`` decoded (either alphabet), null and empty fields
    dropped (google-genai 3.4 sends an empty ``generationConfig``) and keys in camelCase:
    what the API reads, whichever SDK wrote it."""
    if isinstance(value, dict):
        return {
            key: base64.b64decode(item, altchars=b"-_") if key == "data" else shape(item)
            for key, item in camel(value).items()
            if item is not None and item != {}
        }
    if isinstance(value, list):
        return [shape(item) for item in value]
    return value


def recorded_prompt(name: str, body: dict[str, Any]) -> tuple[str, bytes]:
    """The text and the image bytes of the recorded user turn."""
    if name == "anthropic":
        text, image = body["messages"][0]["content"]
        return text["text"], base64.b64decode(image["source"]["data"])
    text, image = body["contents"][0]["parts"]
    return text["text"], base64.urlsafe_b64decode(image["inlineData"]["data"])


@command
def describe(image: Image) -> str:
    """Describe the following image in one sentence"""
    ...


@pytest.mark.skipif(corpus_missing() is not None, reason=corpus_missing() or "")
@pytest.mark.parametrize("name", [n for n in RECORDINGS if n in BACKENDS])
def test_the_recorded_image_request_is_rebuilt_and_its_reply_decoded(
    name: str, alloy_emulator: Scenario
) -> None:
    filename, model = RECORDINGS[name]
    data = load(RECORDED / filename)
    recorded = data["interactions"][0]["request"]["body"]
    text, image = recorded_prompt(name, recorded)
    assert text == describe.__doc__  # the command's prompt is the recorded one
    alloy_emulator.replay(load_recording(RECORDED / filename))
    # The recording's model is deprecated in this SDK (a warning); the model is in the path
    # for Gemini and a body field for Anthropic, so it is left out of the comparison.
    with use_config(model=f"{name}:{model}", max_tokens=recorded.get("max_tokens")):
        result = describe.run(Image.from_bytes(image))
    [sent] = alloy_emulator.requests
    body = {k: v for k, v in sent.json.items() if k != "model"}
    assert shape(body) == shape({k: v for k, v in recorded.items() if k != "model"})

    expect = data["expect"]
    assert (result.value, result.finish_reason) == (expect["text"], expect["finish"])
    check_usage(result.usage, expect["usage"])  # the raw counts, and alloy's meaning of them


# --- what people see --------------------------------------------------------------------------

KEYS = {
    "ANTHROPIC_API_KEY": "sk-ant-alloymedia-5d2e1b9f8c",
    "GEMINI_API_KEY": "AIzaAlloyMediaGemini00042xyz",
    "OLLAMA_API_KEY": "ollama-alloymedia-91ab37cd",
}


@mine
def test_no_bytes_or_keys_in_reprs_logs_or_errors(
    provider: str,
    alloy_emulator: Scenario,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    for env, key in KEYS.items():
        monkeypatch.setenv(env, key)
    clear_instances()
    caplog.set_level(logging.DEBUG)
    image = Image.from_bytes(PNG)
    retry = Fault(status=500, message="try again", headers={"retry-after-ms": "1"})
    alloy_emulator.enqueue(retry, Reply(text="A sample."), Fault(status=400, message="bad image"))
    result = look.run(image)  # retried once, which alloy logs
    with pytest.raises(AlloyError) as failed:
        look.with_config(max_retries=0)(image)
    with pytest.raises(CapabilityError) as refused:
        look(Audio.from_bytes(WAV) if provider != "gemini" else Image.from_file_id("x", "f"))
    seen = [repr(result), str(result.messages), look.prompt(image), repr(image)]
    for err in (failed.value, refused.value):
        seen += [str(err), repr(err), *map(str, err.args)]
    ours = [r for r in caplog.records if r.name.split(".", 1)[0] == "alloy"]
    assert ours, "the retry was logged"
    seen += [record.getMessage() for record in ours] + [str(record.args) for record in ours]
    text = "\n".join(seen)
    assert "image/png" in text  # the placeholders are there ...
    leaks = [b64(PNG), base64.urlsafe_b64encode(PNG).decode(), "alloy-media-pixels"]
    assert [s for s in leaks if s in text] == []  # ... the bytes are not
    # Keys are scrubbed from every record, the SDKs' included. (The SDKs' own DEBUG records
    # of request bodies, such as anthropic's "Request options", do carry the base64.)
    everything = "\n".join([text, *(r.getMessage() for r in caplog.records)])
    assert [key for key in KEYS.values() if key in everything] == []
