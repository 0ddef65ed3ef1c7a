"""Each backend's ``Uploader`` through its real SDK against the emulator's Files APIs: one
file stored exactly as sent, its id usable in the next model call, Gemini's wait for an
ACTIVE file, failures as alloy errors, and account fingerprints that never hold the key.

The emulator answers Files API calls without scripted items, so a ``Fault`` cannot make an
upload fail with 401, and it checks no keys: HTTP failures are shown with the 404 of an
unknown path and a closed port instead, through the same boundary as model calls.
"""

from __future__ import annotations

import socket
import time
from typing import Any

import pytest

from alloy import AuthenticationError
from alloy import Document
from alloy import ProviderConnectionError
from alloy import ProviderError
from alloy import ProviderTimeout
from alloy import command
from alloy import use_config
from alloy._store import account_fingerprint
from alloy.backends import clear_instances
from alloy.backends import get_backend
from alloy.backends.base import Uploader
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

PDF = b"%PDF-1.7\n" + b"alloy-upload-pages" * 8
DAY = 86400
# backend → (the emulator API it talks to, the from_file_id provider, a model name)
BACKENDS = {
    "openai": ("openai", "openai", "gpt-5-mini"),
    "openai-chat": ("openai", "openai", "gpt-5-mini"),
    "anthropic": ("anthropic", "anthropic", "claude-opus-4-7"),
    "gemini": ("gemini", "gemini", "gemini-2.5-flash"),
}
every_backend = pytest.mark.parametrize("name", list(BACKENDS))
KEY = "sk-alloy-upload-key-0123456789"


@command
def summarize(report: Document) -> str:
    """Summarize {report} in one line."""
    ...


@pytest.fixture(autouse=True)
def fresh_backends() -> Any:
    clear_instances()
    yield
    clear_instances()


def options(name: str, base_url: str, key: str = KEY) -> dict[str, Any]:
    return {"base_url": base_url, "api_key": key}


def uploader(name: str, scenario: Scenario, key: str = KEY) -> Uploader:
    backend = get_backend(name, options(name, scenario.base_url(BACKENDS[name][0]), key))
    assert isinstance(backend, Uploader)
    return backend


def report() -> Document:
    return Document.from_bytes(PDF, filename="r.pdf")


@every_backend
def test_one_file_stored_as_sent_and_usable_next(name: str, alloy_emulator: Scenario) -> None:
    api, provider, model = BACKENDS[name]
    media = report()
    before = time.time()
    uploaded = uploader(name, alloy_emulator).upload(media, expires_in=DAY)

    [stored] = alloy_emulator.files
    assert (stored.provider, stored.filename, stored.media_type) == (
        api,
        "r.pdf",
        "application/pdf",
    )
    assert (stored.size, stored.sha256, stored.data) == (len(PDF), media.sha256, PDF)
    if api == "gemini":
        # The API keeps every upload 48 hours; no expiry is sent.
        assert (stored.expires_in, stored.state, uploaded.file_id) == (None, "ACTIVE", stored.uri)
        assert uploaded.expires_at == pytest.approx(before + 48 * 3600, abs=60)
    else:
        assert (stored.expires_in, uploaded.file_id) == (DAY, stored.id)
        assert stored.purpose == ("user_data" if api == "openai" else None)
        assert uploaded.expires_at == pytest.approx(stored.expires_at, abs=1)

    alloy_emulator.enqueue(Reply(text="One line."))
    settings = {name: options(name, alloy_emulator.base_url(api))}
    with use_config(model=f"{name}:{model}", provider_options=settings):
        reply = summarize(Document.from_file_id(provider, uploaded.file_id, "application/pdf"))
    assert reply == "One line."
    assert uploaded.file_id in alloy_emulator.requests[-1].body.decode()


@pytest.mark.parametrize(
    ("name", "asked", "sent"), [("openai", 60, 3600), ("anthropic", 10**9, 7776000)]
)
def test_expiry_is_clamped_to_what_the_api_takes(
    name: str, asked: int, sent: int, alloy_emulator: Scenario
) -> None:
    uploader(name, alloy_emulator).upload(report(), expires_in=asked)
    assert [f.expires_in for f in alloy_emulator.files] == [sent]


def test_gemini_waits_while_the_file_is_processing(alloy_emulator: Scenario) -> None:
    alloy_emulator.set_file_processing(2)
    uploaded = uploader("gemini", alloy_emulator).upload(report(), expires_in=DAY)

    looks = [r for r in alloy_emulator.requests if r.method == "GET"]
    assert len(looks) == 3  # two PROCESSING answers, then ACTIVE
    assert [f.state for f in alloy_emulator.files] == ["ACTIVE"]
    # The emulator refuses a generateContent naming a file that is not ACTIVE: this passes.
    alloy_emulator.enqueue(Reply(text="Read."))
    settings = {"gemini": options("gemini", alloy_emulator.base_url("gemini"))}
    with use_config(model="gemini:gemini-2.5-flash", provider_options=settings):
        assert summarize(Document.from_file_id("gemini", uploaded.file_id, "application/pdf"))


def test_gemini_failed_processing_is_a_provider_error(alloy_emulator: Scenario) -> None:
    alloy_emulator.set_file_processing(0, fail=True)
    with pytest.raises(ProviderError, match="failed processing: emulator: the file failed") as info:
        uploader("gemini", alloy_emulator).upload(report(), expires_in=DAY)
    assert not isinstance(info.value, ProviderTimeout)
    assert info.value.retryable is False


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@every_backend
def test_http_failures_are_alloy_errors_without_the_key(
    name: str, alloy_emulator: Scenario
) -> None:
    # No API lives there: the emulator answers 404, as for any unknown path.
    backend = get_backend(name, options(name, f"{alloy_emulator.url}/nowhere"))
    assert isinstance(backend, Uploader)
    with pytest.raises(ProviderError) as info:
        backend.upload(report(), expires_in=DAY)
    assert info.value.status_code == 404 and not isinstance(info.value, AuthenticationError)
    assert KEY not in str(info.value)

    closed = get_backend(name, options(name, f"http://127.0.0.1:{_closed_port()}"))
    assert isinstance(closed, Uploader)
    with pytest.raises(ProviderConnectionError) as refused:
        closed.upload(report(), expires_in=DAY)
    assert KEY not in str(refused.value)
    assert alloy_emulator.files == []


@every_backend
def test_upload_account_tells_keys_apart_and_never_holds_one(
    name: str, alloy_emulator: Scenario
) -> None:
    first = uploader(name, alloy_emulator, "sk-first-key-aaaaaaaaaa").upload_account()
    second = uploader(name, alloy_emulator, "sk-second-key-bbbbbbbbb").upload_account()
    assert first[0] == second[0] and first[1] != second[1]
    assert first[0].rstrip("/") == alloy_emulator.base_url(BACKENDS[name][0])
    assert first[1] == account_fingerprint("sk-first-key-aaaaaaaaaa", first[0])
    keys = ("sk-first-key-aaaaaaaaaa", "sk-second-key-bbbbbbbbb")
    assert not [key for key in keys for part in (*first, *second) if key in part]


def test_gemini_account_uses_the_key_the_client_found(
    alloy_emulator: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-from-the-environment")
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    backend = get_backend("gemini", {"base_url": alloy_emulator.base_url("gemini")})
    assert isinstance(backend, Uploader)
    base_url, account = backend.upload_account()
    assert account == account_fingerprint("AIza-from-the-environment", base_url)
