"""Media values: constructors, media types, sizes, hashes, and reprs that never show bytes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from alloy import Audio
from alloy import ConfigurationError
from alloy import Document
from alloy import Image
from alloy._media import sniff

PNG = b"\x89PNG\r\n\x1a\n" + bytes(2048)
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)
PDF = b"%PDF-1.7\n" + b"x" * 100
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(32)
SIGNATURES = [
    (PNG, "image/png"),
    (JPEG, "image/jpeg"),
    (b"GIF89a" + bytes(8), "image/gif"),
    (b"RIFF\x00\x00\x00\x00WEBPVP8 ", "image/webp"),
    (PDF, "application/pdf"),
    (WAV, "audio/wav"),
    (b"ID3\x04" + bytes(16), "audio/mpeg"),
    (b"\xff\xfb\x90\x00" + bytes(16), "audio/mpeg"),
    (b"fLaC" + bytes(16), "audio/flac"),
    (b"OggS" + bytes(16), "audio/ogg"),
]


@pytest.mark.parametrize(("head", "media_type"), SIGNATURES)
def test_leading_bytes_name_the_media_type(head: bytes, media_type: str) -> None:
    assert sniff(head[:16]) == media_type


def test_unknown_bytes_have_no_media_type() -> None:
    assert sniff(b"hello world") is None
    with pytest.raises(ConfigurationError, match="media_type="):
        Image.from_bytes(b"hello world")


def test_from_bytes_keeps_size_hash_and_a_repr_without_bytes() -> None:
    image = Image.from_bytes(PNG)
    assert (image.source, image.media_type, image.size) == ("bytes", "image/png", len(PNG))
    assert image.sha256 == hashlib.sha256(PNG).hexdigest()
    assert image.encoded_size == len(image.base64())
    assert repr(image) == "Image(bytes, image/png, 2 KB)"
    assert "\\x" not in repr(image) and "PNG" not in repr(image)
    assert image.placeholder() == "<Image image/png 2 KB>"
    assert image.data_url().startswith("data:image/png;base64,iVBORw0KGgo")


def test_the_kind_must_match_the_media_type() -> None:
    with pytest.raises(ConfigurationError, match="not image/\\*"):
        Image.from_bytes(PDF)
    with pytest.raises(ConfigurationError, match="not audio/\\*"):
        Audio.from_bytes(PNG)
    assert Document.from_bytes(b"plain words", "text/plain").media_type == "text/plain"
    with pytest.raises(ConfigurationError, match="takes bytes"):
        Image.from_bytes("a.png")  # type: ignore[arg-type]
    with pytest.raises(ConfigurationError, match="no bytes"):
        Image.from_bytes(b"")


def test_a_path_is_read_lazily_and_once(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(PDF)
    document = Document.from_path(path)
    assert (document.source, document.media_type, document.filename) == (
        "path",
        "application/pdf",
        "scan.pdf",
    )
    assert document.size == len(PDF)  # from the file system, without reading
    path.write_bytes(PDF + b"more")  # changed before the first read: the new bytes count
    assert document.data == PDF + b"more"
    path.unlink()
    assert document.data == PDF + b"more"  # read once, kept
    assert "scan.pdf" in repr(document) and "%PDF" not in repr(document)


def test_a_path_without_extension_is_sniffed_and_a_missing_one_is_an_error(
    tmp_path: Path,
) -> None:
    path = tmp_path / "upload"
    path.write_bytes(WAV)
    assert Audio.from_path(path).media_type == "audio/wav"
    with pytest.raises(ConfigurationError, match="is not a file"):
        Image.from_path(tmp_path / "missing.png")


def test_urls_are_not_fetched_and_their_credentials_not_shown() -> None:
    image = Image.from_url("https://cdn.example.com/a/cat.JPG?sig=s3cr3t")
    assert (image.source, image.media_type, image.size, image.sha256) == (
        "url",
        "image/jpeg",
        None,
        None,
    )
    assert "s3cr3t" not in repr(image) and "s3cr3t" not in image.placeholder()
    with pytest.raises(ConfigurationError, match="cannot tell the media type"):
        Image.from_url("https://cdn.example.com/render")
    assert Image.from_url("https://cdn.example.com/render", "image/png").media_type == "image/png"
    with pytest.raises(ConfigurationError, match="takes a URL"):
        Image.from_url("cat.png")
    with pytest.raises(ConfigurationError, match="has no bytes here"):
        _ = image.data


def test_a_data_url_is_inline_content() -> None:
    image = Image.from_bytes(PNG)
    again = Image.from_url(image.data_url())
    assert again.source == "bytes" and again.data == PNG and again == image
    with pytest.raises(ConfigurationError, match="not valid base64"):
        Image.from_url("data:image/png;base64,@@@")


def test_file_ids_belong_to_one_provider() -> None:
    doc = Document.from_file_id("openai-chat", "file-abc")
    assert (doc.source, doc.provider, doc.file_id, doc.media_type) == (
        "file",
        "openai",
        "file-abc",
        "application/pdf",
    )
    assert repr(doc) == "Document(file, application/pdf, openai file file-abc)"
    with pytest.raises(ConfigurationError):
        Image.from_file_id("", "x")


def test_equal_content_is_equal_media() -> None:
    assert Image.from_bytes(PNG) == Image.from_bytes(bytes(PNG))
    assert hash(Image.from_bytes(PNG)) == hash(Image.from_bytes(bytes(PNG)))
    assert Image.from_bytes(PNG) != Image.from_bytes(PNG, detail="low")
    assert Image.from_bytes(PNG) != Image.from_bytes(JPEG)
    assert Image.from_url("https://x/a.png") == Image.from_url("https://x/a.png")
