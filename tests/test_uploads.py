"""Uploading media: the ``media_upload`` policy, reuse through the store (across processes,
until expiry), and one upload for many concurrent calls. Through the fake backend, which
"uploads" like a provider; the provider uploads are tested against the emulator."""

from __future__ import annotations

import asyncio
import contextvars
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from alloy import CapabilityError
from alloy import Document
from alloy import Image
from alloy import command
from alloy import use_config
from alloy._messages import MediaPart
from alloy._store import UploadKey
from alloy._store import find_upload
from alloy._store import open_store
from alloy._store import remember_upload
from alloy.backends.fake import FakeBackend
from alloy.testing import use_backend

PNG = b"\x89PNG\r\n\x1a\n" + bytes(3000)  # 4,008 bytes of base64
SMALL = b"\x89PNG\r\n\x1a\n" + bytes(30)


@command
def describe(picture: Image, note: Image) -> str:
    """Describe {picture}, then {note}."""


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "alloy.db"
    with use_config(store=str(path)):
        yield path


def _sent(fake: FakeBackend) -> list[tuple[str, str | None]]:
    parts = fake.requests[-1].messages[0].parts
    return [(p.media.source, p.media.file_id) for p in parts if isinstance(p, MediaPart)]


def test_auto_uploads_the_largest_media_until_the_rest_fits(store: Path) -> None:
    fake = FakeBackend()
    big, small = Image.from_bytes(PNG), Image.from_bytes(SMALL)
    with use_backend(fake), use_config(media_inline_limit=1000):
        describe(big, small)
    assert fake.uploads == [big]
    assert _sent(fake) == [("file", "fake-file-1"), ("bytes", None)]


def test_never_refuses_before_any_request_and_says_how_to_upload(store: Path) -> None:
    fake = FakeBackend()
    never = use_config(media_inline_limit=1000, media_upload="never")
    with use_backend(fake), never, pytest.raises(CapabilityError, match="media_upload='auto'"):
        describe(Image.from_bytes(PNG), Image.from_bytes(SMALL))
    assert fake.requests == [] and fake.uploads == []


def test_always_uploads_every_medium_the_provider_takes_by_file(store: Path) -> None:
    fake = FakeBackend()
    with use_backend(fake), use_config(media_upload="always"):
        describe(Image.from_bytes(PNG), Image.from_bytes(SMALL))
    assert len(fake.uploads) == 2
    assert [source for source, _ in _sent(fake)] == ["file", "file"]


def test_the_same_content_is_uploaded_once_and_reused(store: Path) -> None:
    fake = FakeBackend()
    with use_backend(fake), use_config(media_upload="always"):
        describe(Image.from_bytes(PNG), Image.from_bytes(PNG))  # twice in one call
        describe(Image.from_bytes(PNG), Image.from_bytes(PNG))  # and again
        asyncio.run(describe.async_(Image.from_bytes(PNG), Image.from_bytes(PNG)))
        describe.stream(Image.from_bytes(PNG), Image.from_bytes(PNG)).result()
    assert len(fake.uploads) == 1
    assert _sent(fake) == [("file", "fake-file-1"), ("file", "fake-file-1")]


def test_an_upload_near_its_expiry_is_made_again(store: Path) -> None:
    fake = FakeBackend()
    image = Image.from_bytes(PNG)
    with use_backend(fake), use_config(media_upload="always"):
        describe(image, image)
        db = open_store(store)
        key = UploadKey("fake", "fake:", "fake-account", image.sha256 or "", "image/png")
        found = find_upload(db, key)
        assert found is not None and found.file_id == "fake-file-1"
        # The provider deletes it in ten minutes: too soon to count on it for this call.
        remember_upload(db, key, file_id="fake-file-1", size=len(PNG), expires_at=time.time() + 600)
        describe(image, image)
        db.close()
    assert len(fake.uploads) == 2
    assert _sent(fake) == [("file", "fake-file-2"), ("file", "fake-file-2")]


def test_ten_concurrent_calls_upload_once(store: Path) -> None:
    fake = FakeBackend()
    with use_backend(fake), use_config(media_upload="always"):

        def call(_: int) -> str:
            return describe(Image.from_bytes(PNG), Image.from_bytes(SMALL))

        with ThreadPoolExecutor(10) as pool:
            # Each thread runs in a copy of this context: the fake and the settings with it.
            futures = [pool.submit(contextvars.copy_context().run, call, n) for n in range(10)]
            [future.result() for future in futures]
    assert len(fake.requests) == 10
    assert sorted(m.size or 0 for m in fake.uploads) == [len(SMALL), len(PNG)]


SECOND_PROCESS = textwrap.dedent(
    """
    import sys
    from alloy import Document, command, use_config
    from alloy.backends.fake import FakeBackend
    from alloy.testing import use_backend

    @command
    def summarize(report: Document) -> str:
        \"\"\"Summarize the report.\"\"\"

    fake = FakeBackend()
    with use_backend(fake), use_config(store=sys.argv[1], media_upload="always"):
        summarize(Document.from_bytes(b"%PDF-1.7 " + b"q3" * 5000, filename="q3.pdf"))
    print(len(fake.uploads), fake.requests[0].messages[0].parts[-1].media.file_id)
    """
)


def test_a_second_process_reuses_the_first_ones_upload(tmp_path: Path) -> None:
    path = str(tmp_path / "shared.db")
    runs = [
        subprocess.run(
            [sys.executable, "-c", SECOND_PROCESS, path],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.split()
        for _ in range(2)
    ]
    assert runs == [["1", "fake-file-1"], ["0", "fake-file-1"]]


def test_text_documents_and_references_are_never_uploaded(store: Path) -> None:
    @command
    def read(notes: Document, scan: Image) -> str:
        """Read {notes} and {scan}."""

    fake = FakeBackend()
    with use_backend(fake), use_config(media_upload="always"):
        read(
            Document.from_bytes(b'{"a": 1}', "application/json"), Image.from_url("https://x/a.png")
        )
    assert fake.uploads == []
