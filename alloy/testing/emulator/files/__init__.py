"""The providers' Files APIs: uploads kept in memory per scenario, with real wire shapes.

Each provider module exposes ``handle(store, request) -> FileAnswer``; ``serve`` picks one
by API prefix. Files API requests never take scripted items: they answer from the store.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping

from .._multipart import is_multipart
from . import anthropic
from . import gemini
from . import openai
from ._base import FileAnswer
from ._base import FileRequest
from ._store import FileStore
from ._store import StoredFile
from ._store import file_from_json
from ._store import file_to_json

__all__ = [
    "FileAnswer",
    "FileRequest",
    "FileStore",
    "StoredFile",
    "carries_file",
    "file_from_json",
    "file_to_json",
    "serve",
    "unready_file",
]

_HANDLERS: dict[str, Callable[[FileStore, FileRequest], FileAnswer]] = {
    "openai": openai.handle,
    "anthropic": anthropic.handle,
    "gemini": gemini.handle,
}


def serve(api: str, store: FileStore, request: FileRequest) -> FileAnswer:
    """Answer a request to ``api``'s Files API (``openai``, ``anthropic`` or ``gemini``)."""
    return _HANDLERS[api](store, request)


def unready_file(store: FileStore, body: object) -> FileAnswer | None:
    """Gemini's refusal of a model call that uses a file still processing (or failed)."""
    return gemini.unready_file(store, body)


def carries_file(headers: Mapping[str, str]) -> bool:
    """Whether the body is file bytes rather than a JSON request: a form upload, or a
    Gemini upload chunk (sent with ``content-type: application/json`` all the same)."""
    if is_multipart(headers.get("content-type", "")):
        return True
    return "upload" in headers.get("x-goog-upload-command", "").lower()
