"""OpenAI Files (``…/openai/v1/files``): upload, retrieve, content, delete and list.

What openai 3.52 sends: ``files.create`` posts ``multipart/form-data`` with the fields
``purpose`` and, when given, ``expires_after[anchor]`` and ``expires_after[seconds]`` (the
SDK flattens the ``expires_after`` dict with bracketed keys), then the ``file`` part, whose
filename is ``upload`` for a nameless stream. ``files.content`` asks for
``Accept: application/binary``. Answers are ``FileObject``s (``object: "file"``,
``status: "processed"``, ``expires_at`` null unless the file expires: batch files after 30
days by default, others only when ``expires_after`` says so), ``{"id", "object": "file",
"deleted": true}`` and a cursor list (``object: "list"``, ``data``, ``first_id``,
``last_id``, ``has_more``; newest first unless ``order=asc``). An unknown id is a 404
``invalid_request_error`` "No such File object: …" with ``param: "id"``; files of purpose
``assistants`` may not be downloaded (400).
"""

from __future__ import annotations

import time
from typing import Any

from ._base import BASE62
from ._base import FileAnswer
from ._base import FileRequest
from ._base import json_answer
from ._base import random_id
from ._base import sha256_hex
from ._store import FileStore
from ._store import StoredFile

__all__ = ["handle"]

_PURPOSES = ("assistants", "batch", "fine-tune", "vision", "user_data", "evals")
_EXPIRY_RANGE = (3600, 2_592_000)
_BATCH_EXPIRY = 30 * 24 * 3600
_MAX_LIMIT = 10_000


def handle(store: FileStore, request: FileRequest) -> FileAnswer:
    """Answer one request below ``/v1/files``."""
    tail = request.api_path.split("/")[3:]
    method = request.method
    if not tail and method == "POST":
        return _create(store, request)
    if not tail and method == "GET":
        return _list(store, request)
    if len(tail) == 1 and method in ("GET", "DELETE"):
        file = (store.get if method == "GET" else store.delete)("openai", tail[0])
        if file is None:
            return _missing(tail[0])
        if method == "GET":
            return json_answer(200, file_object(file))
        return json_answer(200, {"id": file.id, "object": "file", "deleted": True})
    if len(tail) == 2 and method == "GET":
        return _content(store, tail[0])
    return error(404, f"emulator: no endpoint {method} {request.api_path}")


def error(status: int, message: str, param: str | None = None) -> FileAnswer:
    body = {"message": message, "type": "invalid_request_error", "param": param, "code": None}
    return json_answer(status, {"error": body})


def file_object(file: StoredFile) -> dict[str, Any]:
    """The ``FileObject`` JSON."""
    return {
        "id": file.id,
        "object": "file",
        "bytes": file.size,
        "created_at": int(file.created_at),
        "expires_at": None if file.expires_at is None else int(file.expires_at),
        "filename": file.filename,
        "purpose": file.purpose,
        "status": "processed",
        "status_details": None,
    }


def _missing(file_id: str) -> FileAnswer:
    return error(404, f"No such File object: {file_id}", "id")


def _create(store: FileStore, request: FileRequest) -> FileAnswer:
    if not request.form:
        return error(400, "The request body must be multipart/form-data.")
    upload = request.form_field("file")
    if upload is None or upload.filename is None:
        return error(400, "Missing required parameter: 'file'.", "file")
    purpose_field = request.form_field("purpose")
    purpose = None if purpose_field is None else purpose_field.text
    if purpose is None:
        return error(400, "Missing required parameter: 'purpose'.", "purpose")
    if purpose not in _PURPOSES:
        allowed = ", ".join(repr(p) for p in _PURPOSES)
        return error(400, f"Invalid value for 'purpose': {purpose!r}; expected one of {allowed}.")
    expiry = _expires_in(request)
    if isinstance(expiry, FileAnswer):
        return expiry
    now = int(time.time())
    lifetime = expiry if expiry is not None else (_BATCH_EXPIRY if purpose == "batch" else None)
    file = store.add(
        StoredFile(
            provider="openai",
            id="file-" + random_id(BASE62, 22),
            filename=upload.filename,
            media_type=upload.content_type,
            size=upload.size,
            sha256=sha256_hex(upload.data),
            created_at=now,
            expires_at=None if lifetime is None else now + lifetime,
            purpose=purpose,
            expires_in=expiry,
            state="processed",
            metadata={part.name: part.text for part in request.form if part.filename is None},
            data=upload.data,
        )
    )
    return json_answer(200, file_object(file))


def _expires_in(request: FileRequest) -> int | FileAnswer | None:
    """``expires_after[seconds]`` as sent, or the error the API answers for it."""
    anchor = request.form_field("expires_after[anchor]")
    seconds = request.form_field("expires_after[seconds]")
    if anchor is None and seconds is None:
        return None
    if anchor is None or anchor.text != "created_at":
        shown = None if anchor is None else anchor.text
        return error(
            400,
            f"Invalid value for 'expires_after.anchor': {shown!r}; expected 'created_at'.",
            "expires_after.anchor",
        )
    low, high = _EXPIRY_RANGE
    value = seconds.text if seconds is not None else ""
    if not value.isdigit() or not low <= int(value) <= high:
        return error(
            400,
            f"Invalid value for 'expires_after.seconds': {value!r}; expected an integer "
            f"between {low} and {high}.",
            "expires_after.seconds",
        )
    return int(value)


def _content(store: FileStore, file_id: str) -> FileAnswer:
    file = store.get("openai", file_id)
    if file is None:
        return _missing(file_id)
    if file.purpose == "assistants":
        return error(400, "Not allowed to download files of purpose: assistants")
    return FileAnswer(200, (("content-type", "application/octet-stream"),), file.data)


def _list(store: FileStore, request: FileRequest) -> FileAnswer:
    files = store.listing("openai")
    purpose = request.param("purpose")
    if purpose:
        files = [file for file in files if file.purpose == purpose]
    order = request.param("order") or "desc"
    if order not in ("asc", "desc"):
        return error(400, f"Invalid value for 'order': {order!r}; expected 'asc' or 'desc'.")
    if order == "desc":
        files.reverse()
    after = request.param("after")
    if after:
        ids = [file.id for file in files]
        files = files[ids.index(after) + 1 :] if after in ids else []
    limit_text = request.param("limit") or str(_MAX_LIMIT)
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= _MAX_LIMIT:
        return error(400, f"Invalid value for 'limit': {limit_text!r}.", "limit")
    page = files[: int(limit_text)]
    return json_answer(
        200,
        {
            "object": "list",
            "data": [file_object(file) for file in page],
            "first_id": page[0].id if page else None,
            "last_id": page[-1].id if page else None,
            "has_more": len(files) > len(page),
        },
    )
