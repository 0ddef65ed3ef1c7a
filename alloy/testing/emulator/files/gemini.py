"""Gemini Files (``…/gemini/upload/{version}/files`` and ``…/gemini/{version}/files``).

What google-genai 3.4 sends (``files.upload``; its default API version is ``v1``, and the
emulator answers whatever version the path names):

1. ``POST upload/{version}/files`` with ``X-Goog-Upload-Protocol: resumable``,
   ``X-Goog-Upload-Command: start``, ``X-Goog-Upload-Header-Content-Length`` and
   ``-Content-Type``, ``X-Goog-Upload-File-Name`` for a path, and a JSON body
   ``{"file": {"mime_type", "size_bytes", "display_name", "name"}}`` (snake_case). The SDK
   requires an ``x-goog-upload-url`` header on the answer; it keeps that URL's path and
   query but swaps in its own base URL's scheme and host, so the URL must stay inside the
   scenario and API prefix.
2. ``POST <upload url>`` once per 8 MiB chunk, with ``X-Goog-Upload-Command: upload`` (and
   ``, finalize`` on the last), ``X-Goog-Upload-Offset`` and the start headers again, but
   no API key. The SDK retries (with one-second sleeps) any answer without
   ``x-goog-upload-status``, goes on while it is ``active``, and needs ``final`` on the
   last, with ``{"file": File}``.

A ``File`` carries ``name`` (``files/`` and 12 lowercase letters and digits, which the SDK
expects when it parses a file URI), ``uri``, ``mimeType``, ``sizeBytes`` (a string, as
int64 fields are), RFC 3339 ``createTime``/``updateTime``, ``expirationTime`` 48 hours on,
``sha256Hash`` (base64 of the hex digest, as the API sends it), ``state`` and
``source: "UPLOADED"``. ``files.get`` moves a processing file on (``set_processing``),
``files.delete`` answers ``{}``, and an unknown or deleted file is the API's 403
``PERMISSION_DENIED`` "You do not have permission to access the File … or it may not
exist." ``files.download`` works only for generated files (a batch's ``responsesFile``,
``source: "GENERATED"`` with a ``downloadUri``): the SDK refuses a ``File`` without
``download_uri`` before sending anything, and asked by name for an uploaded file the
emulator answers 400 ``INVALID_ARGUMENT`` (in its own words; the API's were not
verifiable).
"""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import cast
from urllib.parse import quote

from ._base import LOWER36
from ._base import FileAnswer
from ._base import FileRequest
from ._base import empty_answer
from ._base import json_answer
from ._base import random_id
from ._base import rfc3339
from ._base import sha256_hex
from ._store import FileStore
from ._store import StoredFile
from ._store import UploadSession

__all__ = ["handle", "unready_file"]

_LIFETIME = 48 * 3600
_CHUNK_GRANULARITY = "8388608"
_DEFAULT_PAGE = 10
_MAX_PAGE = 100
_NAME = re.compile(r"files/[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?")
_PATH = re.compile(
    r"(?P<upload>/upload)?/(?P<version>v[^/]+)/files(?:/(?P<id>[^/:]+)(?P<verb>:.*)?)?"
)
_FILE_URI = re.compile(r"/(files/[a-z0-9-]+)$")
_STATUSES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
}
# Every answer on an upload URL says where the upload stands: without the header the SDK
# sleeps and retries, so errors carry ``final`` too, which makes it raise at once.
_FINAL = (("x-goog-upload-status", "final"),)


def handle(store: FileStore, request: FileRequest) -> FileAnswer:
    """Answer one request below ``[upload/]{version}/files``."""
    match = _PATH.fullmatch(request.api_path)
    method = request.method
    if match is None:
        return _no_endpoint(request)
    version, file_id, verb = match["version"], match["id"], match["verb"]
    if match["upload"]:
        if file_id is not None or method != "POST":
            return _no_endpoint(request)
        session_id = request.param("upload_id")
        if session_id is None:
            return _start(store, request, version)
        return _transfer(store, request, session_id)
    if file_id is None:
        return _list(store, request) if method == "GET" else _no_endpoint(request)
    if verb is None and method == "GET":
        file = store.poll("gemini", "files/" + file_id)
        return _missing(file_id) if file is None else json_answer(200, file_resource(file))
    if verb is None and method == "DELETE":
        file = store.delete("gemini", "files/" + file_id)
        return _missing(file_id) if file is None else json_answer(200, {})
    if verb == ":download" and method == "GET":
        file = store.get("gemini", "files/" + file_id)
        if file is None:
            return _missing(file_id)
        if file.metadata.get("source") == "GENERATED":
            return FileAnswer(
                200, (("content-type", file.media_type or "application/jsonl"),), file.data
            )
        return error(
            400, f"File files/{file_id} was uploaded; only generated files can be downloaded."
        )
    return _no_endpoint(request)


def unready_file(store: FileStore, body: Any) -> FileAnswer | None:
    """The API's refusal of a ``generateContent`` body whose ``fileData`` names one of the
    scenario's files that is not ACTIVE yet (or failed); None when there is no such file.

    Files are matched by the ``files/…`` end of ``fileUri``, so a URI in the real API's form
    finds the emulated file too; URIs of files the scenario does not hold are not checked.
    """
    for uri in _file_uris(body):
        match = _FILE_URI.search(uri)
        file = None if match is None else store.get("gemini", match.group(1))
        if file is not None and file.state != "ACTIVE":
            file_id = file.id.removeprefix("files/")
            message = f"The File {file_id} is not in an ACTIVE state and usage is not allowed."
            return error(400, message, status="FAILED_PRECONDITION")
    return None


def _file_uris(body: Any) -> list[str]:
    uris: list[str] = []
    for content in _items(_get(body, "contents")):
        for part in _items(_get(content, "parts")):
            # google-genai 3.4 writes ``fileData`` with snake_case keys inside; the API
            # takes either spelling of both.
            data = _get(part, "fileData") or _get(part, "file_data")
            uri = _get(data, "fileUri") or _get(data, "file_uri")
            if isinstance(uri, str):
                uris.append(uri)
    return uris


def _get(value: Any, key: str) -> Any:
    return cast("Mapping[str, Any]", value).get(key) if isinstance(value, Mapping) else None


def _items(value: Any) -> Sequence[Any]:
    return cast("Sequence[Any]", value) if isinstance(value, list) else ()


def error(
    code: int,
    message: str,
    headers: tuple[tuple[str, str], ...] = (),
    *,
    status: str | None = None,
) -> FileAnswer:
    """The ``{"error": {code, message, status}}`` envelope."""
    status = status or _STATUSES.get(code, "INTERNAL")
    return json_answer(
        code, {"error": {"code": code, "message": message, "status": status}}, headers
    )


def file_resource(file: StoredFile) -> dict[str, Any]:
    """The ``File`` JSON; like the API's, it has no ``displayName`` when none was given."""
    created = rfc3339(file.created_at)
    generated = file.metadata.get("source") == "GENERATED"
    resource: dict[str, Any] = {"name": file.id}
    display_name = file.metadata.get("displayName")
    if isinstance(display_name, str) and display_name:
        resource["displayName"] = display_name
    resource.update(
        {
            "mimeType": file.media_type,
            "sizeBytes": str(file.size),
            "createTime": created,
            "updateTime": created,
            "expirationTime": rfc3339(file.created_at + _LIFETIME),
            "sha256Hash": base64.b64encode(file.sha256.encode("ascii")).decode("ascii"),
            "uri": file.uri,
            "state": file.state,
            "source": "GENERATED" if generated else "UPLOADED",
        }
    )
    if generated:
        # A batch's output: what ``files.download`` needs to accept the ``File``.
        resource["downloadUri"] = f"{file.uri}:download?alt=media"
    if file.state == "FAILED":
        resource["error"] = {
            "code": 3,
            "message": "emulator: the file failed processing (set_file_processing(fail=True))",
        }
    return resource


def _no_endpoint(request: FileRequest) -> FileAnswer:
    return error(404, f"emulator: no endpoint {request.method} {request.api_path}")


def _missing(file_id: str) -> FileAnswer:
    return error(
        403, f"You do not have permission to access the File {file_id} or it may not exist."
    )


def _start(store: FileStore, request: FileRequest, version: str) -> FileAnswer:
    headers = request.headers
    if (
        headers.get("x-goog-upload-protocol", "").lower() != "resumable"
        or headers.get("x-goog-upload-command", "").lower() != "start"
    ):
        return error(
            400,
            "emulator: only resumable uploads are emulated (X-Goog-Upload-Protocol: "
            "resumable, X-Goog-Upload-Command: start)",
        )
    metadata = _metadata(request.json)
    declared = headers.get("x-goog-upload-header-content-length")
    if declared is not None and not declared.isdigit():
        return error(400, f"Invalid X-Goog-Upload-Header-Content-Length: {declared!r}")
    name = metadata.get("name")
    if name is not None:
        if not isinstance(name, str) or _NAME.fullmatch(name) is None:
            return error(
                400,
                f"Invalid file name {name!r}: expected files/ and up to 40 "
                "lowercase letters, digits or dashes",
            )
        if store.exists("gemini", name):
            return error(409, f"File {name} already exists.")
    media_type = headers.get("x-goog-upload-header-content-type") or metadata.get("mimeType")
    display_name = metadata.get("displayName")
    session = UploadSession(
        id=random_id(LOWER36 + "-_", 64),
        version=version,
        origin=request.origin,
        metadata=metadata,
        declared_size=None if declared is None else int(declared),
        media_type=media_type if isinstance(media_type, str) else None,
        filename=headers.get("x-goog-upload-file-name")
        or (display_name if isinstance(display_name, str) else None),
        name=name,
    )
    store.open_session(session)
    url = (
        f"{request.origin}/upload/{version}/files"
        f"?upload_id={quote(session.id)}&upload_protocol=resumable"
    )
    return empty_answer(
        200,
        (
            ("x-goog-upload-status", "active"),
            ("x-goog-upload-url", url),
            ("x-goog-upload-control-url", url),
            ("x-goog-upload-chunk-granularity", _CHUNK_GRANULARITY),
            ("x-guploader-uploadid", session.id),
        ),
    )


def _metadata(data: Any) -> dict[str, Any]:
    """The start body's ``file`` object with camelCase keys (the SDK sends snake_case,
    which the API accepts too)."""
    file = cast("Mapping[str, Any]", data).get("file") if isinstance(data, Mapping) else None
    if not isinstance(file, Mapping):
        return {}
    return {_camel(str(key)): value for key, value in cast("Mapping[str, Any]", file).items()}


def _camel(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _transfer(store: FileStore, request: FileRequest, session_id: str) -> FileAnswer:
    session = store.session(session_id)
    if session is None:
        return error(
            404, f"emulator: no upload session {session_id!r} (finished or never started)", _FINAL
        )
    commands = {
        part.strip().lower() for part in request.headers.get("x-goog-upload-command", "").split(",")
    }
    received = str(len(session.received))
    if "cancel" in commands:
        store.close_session(session_id)
        return empty_answer(200, (("x-goog-upload-status", "cancelled"),))
    if "query" in commands:
        return empty_answer(
            200, (("x-goog-upload-status", "active"), ("x-goog-upload-size-received", received))
        )
    if not commands & {"upload", "finalize"}:
        return error(
            400, "emulator: X-Goog-Upload-Command must be upload, finalize, query or cancel", _FINAL
        )
    if "upload" in commands:
        offset = request.headers.get("x-goog-upload-offset")
        if offset != received:
            store.close_session(session_id)
            return error(
                400,
                f"X-Goog-Upload-Offset is {offset!r}, but {received} bytes were received",
                _FINAL,
            )
        session.received.extend(request.body)
    if "finalize" not in commands:
        return empty_answer(
            200,
            (
                ("x-goog-upload-status", "active"),
                ("x-goog-upload-size-received", str(len(session.received))),
            ),
        )
    store.close_session(session_id)
    return _finalize(store, session)


def _finalize(store: FileStore, session: UploadSession) -> FileAnswer:
    data = bytes(session.received)
    if session.declared_size is not None and session.declared_size != len(data):
        return error(
            400,
            f"The upload declared {session.declared_size} bytes "
            f"(X-Goog-Upload-Header-Content-Length) but sent {len(data)}.",
            _FINAL,
        )
    name = session.name or "files/" + random_id(LOWER36, 12)
    now = time.time()
    file = store.add(
        StoredFile(
            provider="gemini",
            id=name,
            filename=session.filename,
            media_type=session.media_type or "application/octet-stream",
            size=len(data),
            sha256=sha256_hex(data),
            created_at=now,
            expires_at=now + _LIFETIME,
            uri=f"{session.origin}/{session.version}/{name}",
            metadata=session.metadata,
            data=data,
        )
    )
    return json_answer(200, {"file": file_resource(file)}, _FINAL)


def _list(store: FileStore, request: FileRequest) -> FileAnswer:
    files = store.listing("gemini")
    size_text = request.param("pageSize") or str(_DEFAULT_PAGE)
    token = request.param("pageToken") or "0"
    if not size_text.isdigit() or not token.isdigit():
        return error(400, "Invalid pageSize or pageToken.")
    size = min(max(int(size_text), 1), _MAX_PAGE)
    first = int(token)
    page = files[first : first + size]
    body: dict[str, Any] = {}
    if page:
        body["files"] = [file_resource(file) for file in page]
    if first + size < len(files):
        body["nextPageToken"] = str(first + size)
    return json_answer(200, body)
