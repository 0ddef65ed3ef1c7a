"""A scenario's uploaded files, its open Gemini upload sessions, and how Gemini files process.

The app mutates the store from uvicorn's loop thread while a test reads ``snapshot()`` from
its own, so every access takes the lock. Files are kept after deletion (marked ``deleted``)
so that a test can still assert what was uploaded.
"""

from __future__ import annotations

import base64
import threading
from collections.abc import Mapping
from dataclasses import asdict
from dataclasses import dataclass
from dataclasses import field
from dataclasses import replace
from typing import Any

__all__ = ["FileStore", "StoredFile", "UploadSession", "file_from_json", "file_to_json"]


@dataclass(frozen=True)
class StoredFile:
    """A file uploaded to one of the emulated Files APIs, as the test may assert on it.

    ``provider`` is ``openai``, ``anthropic`` or ``gemini``; ``id`` is what the provider
    calls the file (``file-…``, ``file_…``, or Gemini's ``files/…`` name). ``filename`` and
    ``media_type`` are as sent (Gemini's filename is the ``X-Goog-Upload-File-Name`` header
    the SDK sends for path uploads, else the display name). ``purpose`` is OpenAI's;
    ``expires_in`` is the lifetime asked for, in seconds (OpenAI's
    ``expires_after[seconds]``, Anthropic's ``expires_in_seconds``); ``expires_at`` is when
    it would expire (Unix seconds), if it does. ``state`` is Gemini's processing state
    (``PROCESSING``, ``ACTIVE``, ``FAILED``) as last answered, ``processed`` for OpenAI and
    None for Anthropic. ``metadata`` is everything sent beside the bytes: the form fields,
    or Gemini's ``file`` object from the start of the upload. ``uri`` is Gemini's file URI
    (what ``fileData.fileUri`` refers to). The repr leaves the bytes (``data``) out.
    """

    provider: str
    id: str
    filename: str | None
    media_type: str | None
    size: int
    sha256: str
    created_at: float
    expires_at: float | None = None
    purpose: str | None = None
    expires_in: int | None = None
    state: str | None = None
    uri: str | None = None
    deleted: bool = False
    metadata: Mapping[str, Any] = field(default_factory=dict[str, Any])
    data: bytes = field(default=b"", repr=False)


def file_to_json(file: StoredFile) -> dict[str, Any]:
    """Encode for the control plane; the bytes travel as ``data_base64``."""
    data = asdict(file)
    data["metadata"] = dict(file.metadata)
    data["data_base64"] = base64.b64encode(data.pop("data")).decode("ascii")
    return data


def file_from_json(data: Mapping[str, Any]) -> StoredFile:
    """Inverse of ``file_to_json``."""
    values = dict(data)
    raw = base64.b64decode(str(values.pop("data_base64", "")), validate=True)
    return StoredFile(data=raw, **values)


@dataclass
class UploadSession:
    """A Gemini resumable upload between its ``start`` and its ``finalize``."""

    id: str
    version: str
    origin: str
    metadata: Mapping[str, Any]
    declared_size: int | None
    media_type: str | None
    filename: str | None
    name: str | None
    received: bytearray = field(default_factory=bytearray)


@dataclass
class _Processing:
    """How many ``files.get`` calls still answer PROCESSING, and what comes after."""

    polls_left: int
    fail: bool


class FileStore:
    """The Files API state of one scenario; ``clear()`` forgets it all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[tuple[str, str], StoredFile] = {}
        self._processing: dict[tuple[str, str], _Processing] = {}
        self._sessions: dict[str, UploadSession] = {}
        self._polls = 0
        self._fail = False

    def clear(self) -> None:
        with self._lock:
            self._files.clear()
            self._processing.clear()
            self._sessions.clear()
            self._polls, self._fail = 0, False

    def set_processing(self, polls: int, fail: bool) -> None:
        """For Gemini files uploaded from now on: ``polls`` ``files.get`` calls answer
        PROCESSING, then the file is ACTIVE (FAILED when ``fail``)."""
        if polls < 0:
            raise ValueError(f"polls must be 0 or more, not {polls}")
        with self._lock:
            self._polls, self._fail = polls, fail

    def add(self, file: StoredFile) -> StoredFile:
        """Store a new file; a Gemini file gets its initial state from ``set_processing``."""
        key = (file.provider, file.id)
        with self._lock:
            if file.provider == "gemini":
                if self._polls:
                    file = replace(file, state="PROCESSING")
                    self._processing[key] = _Processing(self._polls, self._fail)
                else:
                    file = replace(file, state="FAILED" if self._fail else "ACTIVE")
            self._files[key] = file
            return file

    def get(self, provider: str, file_id: str) -> StoredFile | None:
        """A file that exists (was uploaded and not deleted)."""
        with self._lock:
            file = self._files.get((provider, file_id))
            return None if file is None or file.deleted else file

    def exists(self, provider: str, file_id: str) -> bool:
        """Whether the id was ever taken, deleted or not."""
        with self._lock:
            return (provider, file_id) in self._files

    def poll(self, provider: str, file_id: str) -> StoredFile | None:
        """``get``, as a status check: a processing file moves on one step."""
        key = (provider, file_id)
        with self._lock:
            file = self._files.get(key)
            if file is None or file.deleted:
                return None
            processing = self._processing.get(key)
            if processing is None:
                return file
            if processing.polls_left > 0:
                processing.polls_left -= 1
                return file
            del self._processing[key]
            file = self._files[key] = replace(file, state="FAILED" if processing.fail else "ACTIVE")
            return file

    def listing(self, provider: str) -> list[StoredFile]:
        """The provider's existing files, oldest first."""
        with self._lock:
            return [f for f in self._files.values() if f.provider == provider and not f.deleted]

    def delete(self, provider: str, file_id: str) -> StoredFile | None:
        key = (provider, file_id)
        with self._lock:
            file = self._files.get(key)
            if file is None or file.deleted:
                return None
            self._processing.pop(key, None)
            self._files[key] = replace(file, deleted=True)
            return file

    def snapshot(self) -> list[StoredFile]:
        """Every file uploaded since the last ``clear()``, deleted ones included, in order."""
        with self._lock:
            return list(self._files.values())

    def open_session(self, session: UploadSession) -> None:
        with self._lock:
            self._sessions[session.id] = session

    def session(self, session_id: str) -> UploadSession | None:
        with self._lock:
            return self._sessions.get(session_id)

    def close_session(self, session_id: str) -> None:
        with self._lock:
            self._sessions.pop(session_id, None)
