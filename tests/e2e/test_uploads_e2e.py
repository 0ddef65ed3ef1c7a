"""Uploads through the real SDKs and the emulator's Files APIs, at the command level: the
``media_upload`` policy against a limit, one upload reused by later calls, by a second
process and by ten concurrent calls, a new one near expiry, and Gemini's wait for ACTIVE."""

from __future__ import annotations

import contextvars
import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from alloy import CapabilityError
from alloy import Document
from alloy import ProviderError
from alloy import command
from alloy import use_config
from alloy._store import find_upload
from alloy._store import open_store
from alloy._store import remember_upload
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

UPLOADING = ("openai", "openai-chat", "anthropic", "gemini")
PDF = b"%PDF-1.7\n" + bytes(6000)  # 8,012 bytes of base64
OK = Reply(text="a summary")
LIMIT = 4000
"""The ``media_inline_limit`` of these tests: under the document's size, so it is uploaded."""


@command
def summarize(report: Document) -> str:
    """Summarize the report."""


# Only the backends with a Files API (ollama has none); the ``provider`` fixture of
# tests/e2e/conftest.py takes its backend from these parameters.
UPLOADERS = pytest.mark.parametrize("provider", UPLOADING, indirect=True)


@pytest.fixture
def uploading(provider: str, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "alloy.db"
    with use_config(store=str(path)), use_config(media_inline_limit=LIMIT):
        yield path


def _doc() -> Document:
    return Document.from_bytes(PDF, filename="q3.pdf")


def _sent_ids(scenario: Scenario) -> list[str]:
    """The file ids or URIs the model calls referred to (not the uploads themselves)."""
    found: list[str] = []
    for request in scenario.requests:
        text = json.dumps(request.json) if request.json is not None else ""
        for stored in scenario.files:
            if (stored.uri or stored.id) in text or stored.id in text:
                found.append(stored.id)
    return found


@UPLOADERS
def test_a_document_over_the_inline_limit_is_uploaded_once_and_reused(
    provider: str, alloy_emulator: Scenario, uploading: Path
) -> None:
    alloy_emulator.enqueue(OK, OK)
    assert summarize(_doc()) == "a summary"
    assert summarize(_doc()) == "a summary"
    (stored,) = alloy_emulator.files
    assert (stored.filename, stored.size) == ("q3.pdf", len(PDF))
    assert _sent_ids(alloy_emulator) == [stored.id, stored.id]
    if provider != "gemini":
        assert stored.expires_in == 7 * 24 * 3600


@UPLOADERS
def test_never_refuses_before_any_request(
    provider: str, alloy_emulator: Scenario, uploading: Path
) -> None:
    with use_config(media_upload="never"), pytest.raises(CapabilityError, match="'report'"):
        summarize(_doc())
    assert alloy_emulator.requests == [] and alloy_emulator.files == []


@UPLOADERS
def test_the_providers_own_limit_answers_when_alloy_sends_inline(
    provider: str, alloy_emulator: Scenario, tmp_path: Path
) -> None:
    alloy_emulator.set_limits(max_request_bytes=6000)
    with use_config(store=str(tmp_path / "alloy.db")):
        # The provider's inline limit is megabytes: alloy sends the document inline, and the
        # server's own too-large answer comes back, not retried.
        with pytest.raises(ProviderError) as caught:
            summarize(_doc())
        assert caught.value.status_code in (400, 413) and not caught.value.retryable
        assert len(alloy_emulator.requests) == 1 and alloy_emulator.files == []
        alloy_emulator.enqueue(OK)
        with use_config(media_inline_limit=LIMIT):  # under the server's limit: uploaded
            assert summarize(_doc()) == "a summary"
    assert len(alloy_emulator.files) == 1


@UPLOADERS
def test_an_upload_close_to_its_expiry_is_made_again(
    provider: str, alloy_emulator: Scenario, uploading: Path
) -> None:
    alloy_emulator.enqueue(OK, OK)
    summarize(_doc())
    store = open_store(uploading)
    rows = store_rows(store)
    assert len(rows) == 1
    key, file_id = rows[0]
    remember_upload(store, key, file_id=file_id, size=len(PDF), expires_at=time.time() + 60)
    store.close()
    summarize(_doc())
    assert len(alloy_emulator.files) == 2


def store_rows(store: Any) -> list[tuple[Any, str]]:
    from alloy._store import UploadKey

    with store.read() as conn:
        rows = conn.execute(
            "SELECT backend, base_url, account, sha256, media_type, file_id FROM uploads"
        ).fetchall()
    found = []
    for row in rows:
        key = UploadKey(*row[:5])
        assert find_upload(store, key) is not None
        found.append((key, row[5]))
    return found


@UPLOADERS
def test_ten_concurrent_calls_upload_once(
    provider: str, alloy_emulator: Scenario, uploading: Path
) -> None:
    alloy_emulator.enqueue(*(OK,) * 10)
    with ThreadPoolExecutor(10) as pool:
        futures = [
            pool.submit(contextvars.copy_context().run, summarize, _doc()) for _ in range(10)
        ]
        assert [future.result() for future in futures] == ["a summary"] * 10
    assert len(alloy_emulator.files) == 1


SECOND_PROCESS = textwrap.dedent(
    """
    import sys
    from alloy import Document, command, use_config

    @command
    def summarize(report: Document) -> str:
        \"\"\"Summarize the report.\"\"\"

    with use_config(model=sys.argv[1], store=sys.argv[2], media_inline_limit=4000):
        print(summarize(Document.from_bytes(b"%PDF-1.7\\n" + bytes(6000), filename="q3.pdf")))
    """
)


@UPLOADERS
def test_a_second_process_reuses_the_upload(
    provider: str, alloy_emulator: Scenario, uploading: Path
) -> None:
    alloy_emulator.enqueue(OK, OK)
    env = {**os.environ, **alloy_emulator.env()}
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-c", SECOND_PROCESS, f"{provider}:gpt-test", str(uploading)],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == "a summary"
    assert len(alloy_emulator.files) == 1


def test_gemini_waits_until_the_file_is_active(alloy_emulator: Scenario, tmp_path: Path) -> None:
    alloy_emulator.set_file_processing(2)
    alloy_emulator.enqueue(OK)
    store = use_config(store=str(tmp_path / "alloy.db"), media_inline_limit=LIMIT)
    with store, use_config(model="gemini:gemini-2.5-flash"):
        assert summarize(_doc()) == "a summary"  # the emulator refuses a file not yet ACTIVE
    (stored,) = alloy_emulator.files
    assert stored.state == "ACTIVE"
    gets = [r for r in alloy_emulator.requests if r.method == "GET"]
    assert len(gets) >= 2  # polled through PROCESSING
