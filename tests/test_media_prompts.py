"""Media in prompts: placement by the template, lists from the body and ``ask``, the checks
made before any network call, and the codec."""

from __future__ import annotations

from dataclasses import replace

import pytest

from alloy import CapabilityError
from alloy import ConfigurationError
from alloy import Document
from alloy import Image
from alloy import ask
from alloy import command
from alloy._codec import dump_message
from alloy._codec import load_message
from alloy._messages import MediaPart
from alloy._messages import Message
from alloy._messages import TextPart
from alloy.backends.base import Capabilities
from alloy.backends.base import MediaSupport
from alloy.backends.fake import FakeBackend
from alloy.testing import use_backend

PNG = Image.from_bytes(b"\x89PNG\r\n\x1a\n" + bytes(1024))
JPEG = Image.from_bytes(b"\xff\xd8\xff\xe0" + bytes(64))
PDF = Document.from_bytes(b"%PDF-1.7\n" + bytes(64))


@command
def compare(before: Image, after: Image, notes: str) -> str:
    """List what changed between {before} and {after}. Context: {notes:>8}"""


@command
def summarize(report: Document, pages: list[Image], tone: str) -> str:
    """Summarize the report in a {tone} tone."""


@command
def described(picture: Image) -> str:
    return ["Describe", picture, "in one line."]  # type: ignore[return-value]


def _kinds(parts: tuple[object, ...]) -> list[str]:
    return [
        f"media:{p.name}" if isinstance(p, MediaPart) else f"text:{p.text}"  # type: ignore[attr-defined]
        for p in parts
    ]


def test_placeholders_place_media_in_order() -> None:
    fake = FakeBackend()
    with use_backend(fake):
        compare(PNG, JPEG, "kitchen")
    parts = fake.requests[0].messages[0].parts
    assert _kinds(parts) == [
        "text:List what changed between ",
        "media:before",
        "text: and ",
        "media:after",
        "text:. Context:  kitchen",
    ]
    assert [p.media for p in parts if isinstance(p, MediaPart)] == [PNG, JPEG]


def test_unplaced_media_follow_the_text_in_parameter_order() -> None:
    fake = FakeBackend()
    with use_backend(fake):
        summarize(PDF, [PNG, JPEG], "dry")
    parts = fake.requests[0].messages[0].parts
    assert _kinds(parts) == [
        "text:Summarize the report in a dry tone.",
        "media:report",
        "media:pages",
        "media:pages",
    ]


def test_a_body_may_return_text_and_media() -> None:
    fake = FakeBackend()
    with use_backend(fake):
        described(PNG)
    parts = fake.requests[0].messages[0].parts
    assert [type(p) for p in parts] == [TextPart, MediaPart, TextPart]
    assert described.prompt(PNG) == "Describe<Image image/png 1 KB>in one line."

    @command
    def wrong(picture: Image) -> str:
        return ["Describe", 42]  # type: ignore[return-value]

    with pytest.raises(ConfigurationError, match="holds int"):
        wrong.prompt(PNG)


def test_prompt_shows_placeholders_never_bytes() -> None:
    text = compare.prompt(PNG, JPEG, "x")
    assert text == (
        "List what changed between <Image image/png 1 KB> and <Image image/jpeg 68 B>. "
        "Context:        x"
    )


def test_a_prompt_of_only_media_is_not_empty() -> None:
    @command
    def only(picture: Image) -> str:
        """{picture}"""

    fake = FakeBackend()
    with use_backend(fake):
        only(PNG)
    assert _kinds(fake.requests[0].messages[0].parts) == ["media:picture"]


def test_ask_takes_a_list_of_text_and_media() -> None:
    fake = FakeBackend()
    with use_backend(fake):
        ask(["What is in", PNG, "?"], context={"room": "kitchen"})
    parts = fake.requests[0].messages[0].parts
    assert [type(p) for p in parts] == [TextPart, MediaPart, TextPart, TextPart]
    assert '"room": "kitchen"' in parts[-1].text  # type: ignore[union-attr]
    with pytest.raises(ConfigurationError, match="holds float"), use_backend(fake):
        ask(["x", 1.5])  # type: ignore[list-item]


def _fake(**media: object) -> FakeBackend:
    support = MediaSupport(**media)  # type: ignore[arg-type]
    return FakeBackend(capabilities=Capabilities(media=support))


def test_a_kind_the_model_does_not_take_is_refused_before_any_request() -> None:
    fake = _fake(image=frozenset({"inline"}))
    with use_backend(fake), pytest.raises(CapabilityError, match="'report'"):
        summarize(PDF, [PNG], "dry")
    assert fake.requests == []


@pytest.mark.parametrize(
    ("value", "match"),
    [
        (Image.from_url("https://x.example/a.png"), "by url"),
        (Image.from_file_id("fake", "f-1"), "by file id"),
    ],
)
def test_a_way_the_provider_does_not_take_is_refused(value: Image, match: str) -> None:
    fake = _fake(image=frozenset({"inline"}))
    with use_backend(fake), pytest.raises(CapabilityError, match=match) as caught:
        described(value)
    assert "'picture'" in str(caught.value) and "from_bytes / from_path" in str(caught.value)
    assert fake.requests == []


def test_a_file_of_another_provider_is_refused() -> None:
    fake = _fake(image=frozenset({"file"}))
    with use_backend(fake), pytest.raises(CapabilityError, match="uploaded to openai"):
        described(Image.from_file_id("openai", "file-1"))


def test_a_media_type_the_provider_does_not_read_is_refused() -> None:
    fake = _fake(image=frozenset({"inline"}), image_types=frozenset({"image/png"}))
    with use_backend(fake):
        described(PNG)
        with pytest.raises(CapabilityError, match="image/jpeg"):
            described(JPEG)
    assert len(fake.requests) == 1


def test_inline_media_over_the_limit_are_refused_counting_base64() -> None:
    # 1032 bytes of PNG are 1376 of base64: over a 1300-byte limit, under 1400.
    fake = _fake(image=frozenset({"inline"}), inline_limit=1300)
    with use_backend(fake), pytest.raises(CapabilityError, match="inline media"):
        described(PNG)
    with use_backend(replace_limit(fake, 1400)):
        described(PNG)


def replace_limit(fake: FakeBackend, limit: int) -> FakeBackend:
    caps = fake.capabilities("m")
    return FakeBackend(capabilities=replace(caps, media=replace(caps.media, inline_limit=limit)))


def test_text_documents_go_as_text_where_there_is_no_document_form() -> None:
    fake = _fake(document=frozenset({"inline"}))  # PDF only
    notes = Document.from_bytes(b"line one\nline two", "text/plain", filename="notes.txt")
    with use_backend(fake):
        summarize(notes, [], "dry")
        with pytest.raises(CapabilityError, match="text/plain url"):
            summarize(Document.from_url("https://x.example/n.txt"), [], "dry")
    assert len(fake.requests) == 1


def test_media_parts_round_trip_through_the_codec(tmp_path: object) -> None:
    message = Message(
        "user",
        (
            TextPart("a"),
            MediaPart(PNG, "before"),
            MediaPart(Image.from_url("https://x.example/b.png", detail="low")),
            MediaPart(Document.from_file_id("anthropic", "file_1")),
        ),
    )
    raw = dump_message(message)
    assert raw["parts"][1]["sha256"] == PNG.sha256
    assert load_message(raw) == message
    assert replace(message, parts=message.parts[:1]) != message


def test_documents_by_url_may_be_limited_to_fewer_types() -> None:
    fake = _fake(
        document=frozenset({"inline", "url"}),
        document_types=frozenset({"application/pdf", "text/plain"}),
        document_url_types=frozenset({"application/pdf"}),
    )
    with use_backend(fake):
        summarize(Document.from_url("https://x.example/r.pdf"), [], "dry")
        summarize(Document.from_bytes(b"words", "text/plain"), [], "dry")
        with pytest.raises(CapabilityError, match="By URL it takes application/pdf"):
            summarize(Document.from_url("https://x.example/r.txt"), [], "dry")
    assert len(fake.requests) == 2
