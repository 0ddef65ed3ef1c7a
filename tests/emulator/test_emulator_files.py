"""The OpenAI, Anthropic and Gemini Files APIs through the real SDKs (strict validation where
the SDK has it): uploads, metadata, content, deletion, listing, errors, Gemini's resumable
protocol and processing states, and what the scenario keeps for assertions."""

from __future__ import annotations

import base64
import hashlib
import io
import json
from pathlib import Path

import anthropic
import httpx2
import openai
import pytest
from anthropic import Anthropic
from anthropic.types import FileNotDownloadableError
from google import genai
from google.genai import errors
from google.genai import types
from openai import AsyncOpenAI
from openai import OpenAI

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import RemoteEmulator
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

PDF = b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"  # a few KB, every byte value
NOTES = b"Meeting notes\r\nline two\n" * 50


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- OpenAI --------------------------------------------------------------------------------


def test_openai_upload_retrieve_content_list_delete(client: OpenAI, scenario: Scenario) -> None:
    created = client.files.create(
        file=("report.pdf", PDF, "application/pdf"),
        purpose="user_data",
        expires_after={"anchor": "created_at", "seconds": 3600},
    )
    assert created.id.startswith("file-")
    assert (created.object, created.status, created.purpose) == ("file", "processed", "user_data")
    assert (created.filename, created.bytes) == ("report.pdf", len(PDF))
    assert created.expires_at == created.created_at + 3600

    assert client.files.retrieve(created.id) == created
    assert client.files.content(created.id).content == PDF
    assert [f.id for f in client.files.list()] == [created.id]
    deleted = client.files.delete(created.id)
    assert (deleted.id, deleted.deleted, deleted.object) == (created.id, True, "file")
    assert list(client.files.list()) == []

    (stored,) = scenario.files
    assert (stored.provider, stored.id, stored.deleted) == ("openai", created.id, True)
    assert (stored.filename, stored.media_type, stored.purpose) == (
        "report.pdf",
        "application/pdf",
        "user_data",
    )
    assert (stored.size, stored.sha256, stored.data) == (len(PDF), _sha(PDF), PDF)
    assert (stored.expires_in, stored.expires_at) == (3600, created.expires_at)
    # expires_after goes on the wire flattened with brackets, as form fields.
    assert stored.metadata == {
        "purpose": "user_data",
        "expires_after[anchor]": "created_at",
        "expires_after[seconds]": "3600",
    }
    upload = scenario.requests[0]
    assert (upload.provider, upload.item, upload.status) == ("openai-files", None, 200)
    assert upload.form_field("file").data == PDF  # type: ignore[union-attr]


def test_openai_unknown_file_is_the_404_envelope(client: OpenAI) -> None:
    for call in (client.files.retrieve, client.files.content, client.files.delete):
        with pytest.raises(openai.NotFoundError) as caught:
            call("file-missing")
        assert caught.value.body == {
            "message": "No such File object: file-missing",
            "type": "invalid_request_error",
            "param": "id",
            "code": None,
        }


def test_openai_defaults_and_refusals(client: OpenAI, scenario: Scenario) -> None:
    batch = client.files.create(file=io.BytesIO(b'{"custom_id": "1"}\n'), purpose="batch")
    assert batch.filename == "upload"  # the SDK's name for a nameless stream
    assert batch.expires_at == batch.created_at + 30 * 24 * 3600  # batch files expire
    assert scenario.files[0].expires_in is None

    kept = client.files.create(file=("a.txt", b"x", "text/plain"), purpose="assistants")
    assert kept.expires_at is None  # other purposes persist until deleted
    with pytest.raises(openai.BadRequestError, match="Not allowed to download files of purpose"):
        client.files.content(kept.id)

    with pytest.raises(openai.BadRequestError, match="'purpose'") as bad_purpose:
        client.files.create(file=("a.txt", b"x"), purpose="nonsense")  # type: ignore[arg-type]
    assert isinstance(bad_purpose.value.body, dict)
    assert bad_purpose.value.body["type"] == "invalid_request_error"
    with pytest.raises(openai.BadRequestError, match=r"expires_after\.seconds"):
        client.files.create(
            file=("a.txt", b"x"),
            purpose="user_data",
            expires_after={"anchor": "created_at", "seconds": 60},
        )
    assert len(scenario.files) == 2


def test_openai_list_filters_orders_and_pages(client: OpenAI) -> None:
    ids = [
        client.files.create(file=(f"f{i}.txt", b"x", "text/plain"), purpose=purpose).id
        for i, purpose in enumerate(["user_data", "batch", "user_data"])
    ]
    assert [f.id for f in client.files.list()] == ids[::-1]  # newest first
    assert [f.id for f in client.files.list(order="asc")] == ids
    assert [f.id for f in client.files.list(purpose="user_data")] == [ids[2], ids[0]]
    first = client.files.list(limit=1, order="asc")
    assert [f.id for f in first.data] == ids[:1] and first.has_more
    assert len(list(first.iter_pages())) == 3  # pages follow the `after` cursor
    assert [f.id for f in client.files.list(limit=1, order="asc")] == ids  # auto-paging


async def test_openai_async_upload(aclient: AsyncOpenAI, scenario: Scenario) -> None:
    created = await aclient.files.create(file=("a.pdf", PDF, "application/pdf"), purpose="vision")
    assert (await aclient.files.content(created.id)).content == PDF
    assert scenario.files[0].sha256 == _sha(PDF)


# --- Anthropic -----------------------------------------------------------------------------


def test_anthropic_upload_metadata_download_list_delete(
    claude: Anthropic, scenario: Scenario
) -> None:
    uploaded = claude.files.upload(
        file=("notes/2026/notes.txt", NOTES, "text/plain"), expires_in_seconds=7200
    )
    assert uploaded.id.startswith("file_")
    assert (uploaded.type, uploaded.filename, uploaded.mime_type) == (
        "file",
        "notes.txt",
        "text/plain",
    )
    assert (uploaded.size_bytes, uploaded.downloadable) == (len(NOTES), False)
    assert uploaded.expires_at is not None
    assert (uploaded.expires_at - uploaded.created_at).total_seconds() == pytest.approx(7200)

    assert claude.files.retrieve_metadata(uploaded.id) == uploaded
    assert [f.id for f in claude.files.list()] == [uploaded.id]
    assert [f.id for f in claude.beta.files.list()] == [uploaded.id]
    # Uploaded files are not downloadable; only files tools create are.
    with pytest.raises(FileNotDownloadableError) as refused:
        claude.files.download(uploaded.id)
    assert refused.value.error_code == "file_not_downloadable"
    deleted = claude.files.delete(uploaded.id)
    assert (deleted.id, deleted.type) == (uploaded.id, "file_deleted")
    with pytest.raises(anthropic.NotFoundError) as missing:
        claude.files.retrieve_metadata(uploaded.id)
    assert missing.value.type == "not_found_error"

    (stored,) = scenario.files
    assert (stored.provider, stored.filename, stored.media_type) == (
        "anthropic",
        "notes.txt",
        "text/plain",
    )
    assert (stored.expires_in, stored.metadata) == (7200, {"expires_in_seconds": "7200"})
    assert (stored.data, stored.deleted) == (NOTES, True)


def test_anthropic_sends_no_beta_header(claude: Anthropic, scenario: Scenario) -> None:
    claude.files.upload(file=("a.txt", b"a", "text/plain"))
    claude.beta.files.upload(file=("b.txt", b"b", "text/plain"))
    claude.beta.files.upload(file=("c.txt", b"c", "text/plain"), betas=["files-api-2025-04-14"])
    betas = [r.headers.get("anthropic-beta") for r in scenario.requests]
    assert betas == [None, None, "files-api-2025-04-14"]
    assert all(r.query == "" for r in scenario.requests)


def test_anthropic_names_list_pages_and_refusals(claude: Anthropic, scenario: Scenario) -> None:
    unnamed = claude.files.upload(file=("", b"{}", "application/json"))
    assert unnamed.filename == "unnamed.json"
    assert claude.files.upload(file=io.BytesIO(b"raw")).mime_type == "application/octet-stream"
    ids = [f.id for f in claude.files.list()]
    assert len(ids) == 2 and ids[1] == unnamed.id  # newest first
    first = claude.files.list(limit=1)
    assert [f.id for f in first.data] == ids[:1] and first.next_page == "page_1"
    assert [f.id for f in claude.files.list(limit=1)] == ids  # follows next_page
    assert [f.id for f in claude.files.list(ids=[unnamed.id])] == [unnamed.id]

    for call in (claude.files.retrieve_metadata, claude.files.download, claude.files.delete):
        with pytest.raises(anthropic.NotFoundError):
            call("file_missing")
    with pytest.raises(anthropic.BadRequestError, match="expires_in_seconds"):
        claude.files.upload(file=("a.txt", b"a"), expires_in_seconds=10)
    assert len(scenario.files) == 2


# --- Gemini --------------------------------------------------------------------------------


def test_gemini_resumable_upload_get_list_delete(gemini: genai.Client, scenario: Scenario) -> None:
    uploaded = gemini.files.upload(
        file=io.BytesIO(PDF), config={"mime_type": "application/pdf", "display_name": "Q3 report"}
    )
    assert uploaded.name is not None and uploaded.name.startswith("files/")
    file_id = uploaded.name.removeprefix("files/")
    assert len(file_id) == 12 and file_id.isalnum() and file_id.islower()
    assert (uploaded.display_name, uploaded.mime_type, uploaded.size_bytes) == (
        "Q3 report",
        "application/pdf",
        len(PDF),
    )
    assert uploaded.state == types.FileState.ACTIVE
    assert uploaded.source == types.FileSource.UPLOADED
    # sha256Hash is base64 of the hex digest, as the API sends it.
    assert uploaded.sha256_hash is not None
    assert base64.b64decode(uploaded.sha256_hash).decode() == _sha(PDF)
    assert uploaded.uri == f"{scenario.base_url('gemini')}/v1/files/{file_id}"
    assert uploaded.create_time and uploaded.expiration_time
    assert (uploaded.expiration_time - uploaded.create_time).total_seconds() == pytest.approx(
        48 * 3600
    )

    assert gemini.files.get(name=uploaded.name) == uploaded
    assert [f.name for f in gemini.files.list()] == [uploaded.name]
    with pytest.raises(errors.ClientError) as refused:
        gemini.files.download(file=uploaded.name)  # uploaded files are not downloadable
    assert refused.value.code == 400
    gemini.files.delete(name=uploaded.name)
    with pytest.raises(errors.ClientError) as gone:
        gemini.files.get(name=uploaded.name)
    assert (gone.value.code, gone.value.status) == (403, "PERMISSION_DENIED")
    assert (
        gone.value.message
        == f"You do not have permission to access the File {file_id} or it may not exist."
    )
    assert list(gemini.files.list()) == []

    start, chunk, *_ = scenario.requests
    assert start.path.endswith("/gemini/upload/v1/files") and start.query == ""
    assert start.headers["x-goog-upload-protocol"] == "resumable"
    assert start.headers["x-goog-upload-command"] == "start"
    assert start.headers["x-goog-upload-header-content-length"] == str(len(PDF))
    assert start.headers["x-goog-upload-header-content-type"] == "application/pdf"
    assert start.json == {
        "file": {
            "display_name": "Q3 report",
            "mime_type": "application/pdf",
            "size_bytes": len(PDF),
        }
    }
    # The upload URL stays inside the scenario prefix.
    assert chunk.path == start.path and "upload_id=" in chunk.query
    assert chunk.headers["x-goog-upload-command"] == "upload, finalize"
    assert chunk.headers["x-goog-upload-offset"] == "0"
    assert "x-goog-api-key" in start.headers and "x-goog-api-key" not in chunk.headers
    assert (chunk.body, chunk.json) == (PDF, None)

    (stored,) = scenario.files
    assert (stored.provider, stored.id, stored.uri) == ("gemini", uploaded.name, uploaded.uri)
    assert (stored.filename, stored.media_type, stored.state) == (
        "Q3 report",
        "application/pdf",
        "ACTIVE",
    )
    assert (stored.data, stored.deleted) == (PDF, True)
    assert stored.metadata == {
        "displayName": "Q3 report",
        "mimeType": "application/pdf",
        "sizeBytes": len(PDF),
    }


def test_gemini_upload_from_a_path_and_by_name(
    gemini: genai.Client, scenario: Scenario, tmp_path: Path
) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(NOTES)
    uploaded = gemini.files.upload(file=path)
    assert uploaded.mime_type == "text/plain"  # the SDK guesses it from the name
    assert scenario.files[0].filename == "notes.txt"  # sent as X-Goog-Upload-File-Name

    named = gemini.files.upload(
        file=io.BytesIO(b"x"), config={"mime_type": "text/plain", "name": "my-notes"}
    )
    assert named.name == "files/my-notes"
    with pytest.raises(errors.ClientError) as taken:
        gemini.files.upload(
            file=io.BytesIO(b"y"), config={"mime_type": "text/plain", "name": "my-notes"}
        )
    assert taken.value.code == 409
    assert [f.name for f in gemini.files.list(config={"page_size": 1})] == [
        uploaded.name,
        named.name,
    ]


def test_gemini_processing_then_active(gemini: genai.Client, scenario: Scenario) -> None:
    scenario.set_file_processing(polls=2)
    uploaded = gemini.files.upload(file=io.BytesIO(b"video"), config={"mime_type": "video/mp4"})
    assert uploaded.state == types.FileState.PROCESSING
    assert uploaded.name is not None
    states = []
    current = uploaded
    while current.state == types.FileState.PROCESSING:  # how callers wait for a file
        current = gemini.files.get(name=uploaded.name)
        states.append(current.state)
    assert states == [
        types.FileState.PROCESSING,
        types.FileState.PROCESSING,
        types.FileState.ACTIVE,
    ]
    assert gemini.files.get(name=uploaded.name).state == types.FileState.ACTIVE
    assert scenario.files[0].state == "ACTIVE"
    # Listing is not a status check: it moves nothing on.
    other = gemini.files.upload(file=io.BytesIO(b"more"), config={"mime_type": "video/mp4"})
    listed = {f.name: f.state for f in gemini.files.list()}
    assert listed[other.name] == types.FileState.PROCESSING


def test_gemini_processing_then_failed(gemini: genai.Client, scenario: Scenario) -> None:
    scenario.set_file_processing(polls=1, fail=True)
    uploaded = gemini.files.upload(file=io.BytesIO(b"bad"), config={"mime_type": "video/mp4"})
    assert uploaded.name is not None
    assert gemini.files.get(name=uploaded.name).state == types.FileState.PROCESSING
    failed = gemini.files.get(name=uploaded.name)
    assert failed.state == types.FileState.FAILED
    assert failed.error is not None and failed.error.message
    scenario.set_file_processing()  # back to ACTIVE at once, for later uploads
    later = gemini.files.upload(file=io.BytesIO(b"ok"), config={"mime_type": "video/mp4"})
    assert later.state == types.FileState.ACTIVE


def test_gemini_refuses_a_file_that_is_not_active_yet(
    gemini: genai.Client, scenario: Scenario
) -> None:
    scenario.set_file_processing(polls=1)
    scenario.enqueue(Reply(text="described"))
    video = gemini.files.upload(file=io.BytesIO(b"frames"), config={"mime_type": "video/mp4"})
    assert video.name is not None and video.uri is not None
    part = types.Part.from_uri(file_uri=video.uri, mime_type="video/mp4")

    def describe() -> str | None:
        return gemini.models.generate_content(
            model="gemini-2.5-flash", contents=[part, "describe"]
        ).text

    with pytest.raises(errors.ClientError) as early:
        describe()
    assert (early.value.code, early.value.status) == (400, "FAILED_PRECONDITION")
    file_id = video.name.removeprefix("files/")
    assert (
        early.value.message
        == f"The File {file_id} is not in an ACTIVE state and usage is not allowed."
    )
    assert scenario.pending == 1  # the refusal took no scripted reply
    while gemini.files.get(name=video.name).state != types.FileState.ACTIVE:
        pass
    assert describe() == "described"
    assert (
        scenario.requests[-1].json["contents"][0]["parts"][0]["fileData"]["file_uri"] == video.uri
    )
    # A failed file is refused too, and the real API's URI form names the same file.
    scenario.set_file_processing(fail=True)
    broken = gemini.files.upload(file=io.BytesIO(b"x"), config={"mime_type": "video/mp4"})
    assert broken.name is not None
    real = types.Part.from_uri(
        file_uri=f"https://generativelanguage.googleapis.com/v1beta/{broken.name}",
        mime_type="video/mp4",
    )
    with pytest.raises(errors.ClientError, match="not in an ACTIVE state"):
        gemini.models.generate_content(model="gemini-2.5-flash", contents=[real])


async def test_gemini_async_upload(gemini: genai.Client, scenario: Scenario) -> None:
    uploaded = await gemini.aio.files.upload(
        file=io.BytesIO(NOTES), config={"mime_type": "text/plain"}
    )
    assert uploaded.name is not None
    assert (await gemini.aio.files.get(name=uploaded.name)).size_bytes == len(NOTES)
    assert scenario.files[0].data == NOTES
    await gemini.aio.aclose()


def test_gemini_resumable_protocol_in_chunks(scenario: Scenario) -> None:
    """The SDK sends 8 MiB chunks; smaller ones exercise the same protocol directly."""
    data = b"0123456789" * 300
    opening = {
        "x-goog-upload-protocol": "resumable",
        "x-goog-upload-command": "start",
        "x-goog-upload-header-content-length": str(len(data)),
        "x-goog-upload-header-content-type": "text/plain",
    }
    with httpx2.Client(base_url=scenario.base_url("gemini"), timeout=10.0) as http:

        def start() -> str:
            answer = http.post("/upload/v1beta/files", headers=opening, json={"file": {}})
            assert answer.status_code == 200
            assert answer.headers["x-goog-upload-status"] == "active"
            return answer.headers["x-goog-upload-url"]

        def send(url: str, command: str, offset: int, body: bytes = b"") -> httpx2.Response:
            headers = {"x-goog-upload-command": command, "x-goog-upload-offset": str(offset)}
            return http.post(url, headers=headers, content=body)

        url = start()
        assert url.startswith(scenario.base_url("gemini") + "/upload/v1beta/files?upload_id=")
        first = send(url, "upload", 0, data[:1000])
        assert first.headers["x-goog-upload-status"] == "active"
        assert first.headers["x-goog-upload-size-received"] == "1000"
        query = send(url, "query", 0)
        assert query.headers["x-goog-upload-size-received"] == "1000"
        wrong = send(url, "upload", 5, data[1000:2000])
        assert wrong.status_code == 400 and wrong.headers["x-goog-upload-status"] == "final"

        # A bad offset ends the session; start again and finish in two chunks.
        url = start()
        assert send(url, "upload", 0, data[:1000]).headers["x-goog-upload-status"] == "active"
        final = send(url, "upload, finalize", 1000, data[1000:])
        assert final.status_code == 200 and final.headers["x-goog-upload-status"] == "final"
        file = final.json()["file"]
        assert (file["sizeBytes"], file["mimeType"]) == (str(len(data)), "text/plain")
        assert file["uri"] == f"{scenario.base_url('gemini')}/v1beta/{file['name']}"
        again = send(url, "upload, finalize", len(data))
        assert again.status_code == 404 and again.headers["x-goog-upload-status"] == "final"

        short = send(start(), "upload, finalize", 0, b"too short")  # declared 3000 bytes
        assert short.status_code == 400 and short.headers["x-goog-upload-status"] == "final"
        cancelled = send(start(), "cancel", 0)
        assert cancelled.headers["x-goog-upload-status"] == "cancelled"

        plain = http.post("/upload/v1beta/files", content=b"raw bytes")
        assert plain.status_code == 400 and plain.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert [f.size for f in scenario.files] == [len(data)]
    assert scenario.files[0].data == data


# --- Scripts, strictness, isolation, reprs, the control plane --------------------------------


def test_uploads_take_no_scripted_reply(
    client: OpenAI, claude: Anthropic, gemini: genai.Client, scenario: Scenario
) -> None:
    scenario.set_default(None)  # strict: a model call with nothing queued is an error
    scenario.enqueue(Reply(text="first"), Reply(text="second"))
    client.files.create(file=("a.txt", b"a", "text/plain"), purpose="user_data")
    claude.files.upload(file=("b.txt", b"b", "text/plain"))
    uploaded = gemini.files.upload(file=io.BytesIO(b"c"), config={"mime_type": "text/plain"})
    assert uploaded.name is not None
    gemini.files.get(name=uploaded.name)
    client.files.list()
    assert scenario.pending == 2
    completion = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}]
    )
    assert completion.choices[0].message.content == "first"
    assert scenario.pending == 1
    assert [r.item for r in scenario.requests[:-1]] == [None] * (len(scenario.requests) - 1)
    assert scenario.requests[-1].item == Reply(text="first")


def test_files_are_per_scenario_and_reset(
    emulator: Emulator, client: OpenAI, scenario: Scenario
) -> None:
    created = client.files.create(file=("a.txt", b"a", "text/plain"), purpose="user_data")
    other = emulator.scenario()
    with OpenAI(base_url=other.base_url("openai"), api_key="t", max_retries=0) as elsewhere:
        with pytest.raises(openai.NotFoundError):
            elsewhere.files.retrieve(created.id)
        assert list(elsewhere.files.list()) == []
    assert other.files == []
    scenario.set_file_processing(polls=3)
    scenario.reset()
    assert scenario.files == []
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve(created.id)


def test_no_file_bytes_in_any_repr(
    client: OpenAI, claude: Anthropic, gemini: genai.Client, scenario: Scenario
) -> None:
    secret = json.dumps({"token": "NEVER-PRINT-THIS-" * 30}).encode()
    client.files.create(file=("s.json", secret, "application/json"), purpose="user_data")
    claude.files.upload(file=("s.json", secret, "application/json"))
    gemini.files.upload(file=io.BytesIO(secret), config={"mime_type": "application/json"})
    shown = (
        repr(scenario.requests)
        + repr(scenario.files)
        + str(scenario.requests)
        + str(scenario.files)
    )
    assert "NEVER-PRINT-THIS" not in shown
    assert _sha(secret) in shown
    # Gemini's upload chunk is the file itself; a JSON file is still not the request's JSON.
    assert all(r.json is None for r in scenario.requests if "upload_id=" in r.query)


def test_remote_emulator_files_and_processing(emulator: Emulator) -> None:
    remote = RemoteEmulator(emulator.url).scenario()
    remote.set_file_processing(polls=1)
    options = types.HttpOptions(base_url=remote.base_url("gemini"), timeout=10_000)
    with genai.Client(api_key="k", http_options=options) as sdk:
        uploaded = sdk.files.upload(file=io.BytesIO(PDF), config={"mime_type": "application/pdf"})
        assert uploaded.state == types.FileState.PROCESSING
    (stored,) = remote.files
    assert (stored.provider, stored.id, stored.state) == ("gemini", uploaded.name, "PROCESSING")
    assert stored.data == PDF
    # The chunk's bytes (not UTF-8) come back intact over the control plane.
    chunk = next(r for r in remote.requests if "upload_id=" in r.query)
    assert chunk.body == PDF
    remote.reset()
    assert remote.files == []
