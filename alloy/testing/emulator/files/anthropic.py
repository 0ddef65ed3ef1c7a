"""Anthropic Files (``…/anthropic/v1/files``): upload, metadata, download, delete and list.

What anthropic 2.11 sends: ``client.files`` (generally available) and ``client.beta.files``
both post ``multipart/form-data`` to ``/v1/files`` with a ``file`` part and, when given, an
``expires_in_seconds`` field (3600 to 7776000); neither sends an ``anthropic-beta`` header
unless the beta call is given ``betas=[…]``. Answers are ``FileMetadata`` (``type: "file"``,
``filename`` reduced to its last path component, ``unnamed`` plus an extension when absent,
``mime_type``, ``size_bytes``, RFC 3339 ``created_at``, ``downloadable: false`` and, for an
expiring file, ``expires_at``), ``{"id", "type": "file_deleted"}`` and a page
(``data``, ``next_page`` cursor prefixed ``page_``; newest first; ``limit`` 1 to 1000,
default 20; ``ids`` filters). Uploaded files cannot be downloaded: the download answers 400
with ``error.details.error_code: "file_not_downloadable"``, which the SDK raises as
``FileNotDownloadableError``. An unknown id is a 404 ``not_found_error``.
"""

from __future__ import annotations

import mimetypes
import time
from typing import Any

from ._base import BASE62
from ._base import FileAnswer
from ._base import FileRequest
from ._base import json_answer
from ._base import random_id
from ._base import rfc3339
from ._base import sha256_hex
from ._store import FileStore
from ._store import StoredFile

__all__ = ["handle"]

_EXPIRY_RANGE = (3600, 7_776_000)
_DEFAULT_LIMIT = 20
_MAX_LIMIT = 1000
_ERROR_TYPES = {400: "invalid_request_error", 404: "not_found_error"}


def handle(store: FileStore, request: FileRequest) -> FileAnswer:
    """Answer one request below ``/v1/files``."""
    tail = request.api_path.split("/")[3:]
    method = request.method
    if not tail and method == "POST":
        return _upload(store, request)
    if not tail and method == "GET":
        return _list(store, request)
    if len(tail) == 1 and method in ("GET", "DELETE"):
        file = (store.get if method == "GET" else store.delete)("anthropic", tail[0])
        if file is None:
            return _missing(tail[0])
        if method == "GET":
            return json_answer(200, file_metadata(file))
        return json_answer(200, {"id": file.id, "type": "file_deleted"})
    if len(tail) == 2 and method == "GET":
        if store.get("anthropic", tail[0]) is None:
            return _missing(tail[0])
        return error(
            400,
            "This file cannot be downloaded: only files created by tools can be.",
            "file_not_downloadable",
        )
    return error(404, f"emulator: no endpoint {method} {request.api_path}")


def error(status: int, message: str, error_code: str | None = None) -> FileAnswer:
    """The ``{"type": "error", "error": {…}}`` envelope, with ``details`` when coded."""
    body: dict[str, Any] = {"type": _ERROR_TYPES.get(status, "api_error"), "message": message}
    if error_code is not None:
        body["details"] = {"error_code": error_code}
    return json_answer(status, {"type": "error", "error": body, "request_id": None})


def file_metadata(file: StoredFile) -> dict[str, Any]:
    """The ``FileMetadata`` JSON."""
    metadata: dict[str, Any] = {
        "id": file.id,
        "type": "file",
        "filename": file.filename,
        "mime_type": file.media_type,
        "size_bytes": file.size,
        "created_at": rfc3339(file.created_at),
        "downloadable": False,
    }
    if file.expires_at is not None:
        metadata["expires_at"] = rfc3339(file.expires_at)
    return metadata


def _missing(file_id: str) -> FileAnswer:
    return error(404, f"File not found: {file_id}")


def _upload(store: FileStore, request: FileRequest) -> FileAnswer:
    if not request.form:
        return error(400, "The request body must be multipart/form-data.")
    upload = request.form_field("file")
    if upload is None:
        return error(400, "file: Field required")
    expiry = request.form_field("expires_in_seconds")
    seconds: int | None = None
    if expiry is not None:
        low, high = _EXPIRY_RANGE
        if not expiry.text.isdigit() or not low <= int(expiry.text) <= high:
            return error(400, f"expires_in_seconds: must be an integer between {low} and {high}")
        seconds = int(expiry.text)
    media_type = upload.content_type or "application/octet-stream"
    now = time.time()
    file = store.add(
        StoredFile(
            provider="anthropic",
            id="file_011C" + random_id(BASE62, 20),
            filename=_filename(upload.filename, media_type),
            media_type=media_type,
            size=upload.size,
            sha256=sha256_hex(upload.data),
            created_at=now,
            expires_at=None if seconds is None else now + seconds,
            expires_in=seconds,
            metadata={part.name: part.text for part in request.form if part.filename is None},
            data=upload.data,
        )
    )
    return json_answer(200, file_metadata(file))


def _filename(sent: str | None, media_type: str) -> str:
    name = (sent or "").replace("\\", "/").rsplit("/", 1)[-1]
    return name or "unnamed" + (mimetypes.guess_extension(media_type) or "")


def _list(store: FileStore, request: FileRequest) -> FileAnswer:
    files = list(reversed(store.listing("anthropic")))
    ids = request.params("ids")
    if ids:
        wanted = set(ids)
        chosen = [file for file in files if file.id in wanted]
        return json_answer(200, _page(chosen, None))
    limit_text = request.param("limit") or str(_DEFAULT_LIMIT)
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= _MAX_LIMIT:
        return error(400, f"limit: must be an integer between 1 and {_MAX_LIMIT}")
    cursor = request.param("page") or "page_0"
    start = cursor.removeprefix("page_")
    if not cursor.startswith("page_") or not start.isdigit():
        return error(400, f"page: invalid page cursor {cursor!r}")
    first, limit = int(start), int(limit_text)
    page = files[first : first + limit]
    more = first + limit < len(files)
    return json_answer(200, _page(page, f"page_{first + limit}" if more else None))


def _page(files: list[StoredFile], next_page: str | None) -> dict[str, Any]:
    return {"data": [file_metadata(file) for file in files], "next_page": next_page}
