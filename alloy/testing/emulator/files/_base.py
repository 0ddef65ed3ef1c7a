"""What a Files API handler receives and returns, and the helpers every provider shares."""

from __future__ import annotations

import hashlib
import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone
from typing import Any
from urllib.parse import parse_qs

from .._multipart import FormPart
from ..wire._base import dumps

__all__ = [
    "FileAnswer",
    "FileRequest",
    "empty_answer",
    "json_answer",
    "random_id",
    "rfc3339",
    "sha256_hex",
]

BASE62 = string.ascii_letters + string.digits
LOWER36 = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class FileRequest:
    """One Files API request, below its scenario and API prefix.

    ``origin`` is the URL of the API root as this client reached it (for example
    ``http://127.0.0.1:PORT/_s/NAME/gemini``), for answers that carry URLs back to the
    emulator.
    """

    method: str
    api_path: str
    query: str
    headers: Mapping[str, str]
    body: bytes
    form: tuple[FormPart, ...]
    json: Any
    origin: str

    def form_field(self, name: str) -> FormPart | None:
        return next((part for part in self.form if part.name == name), None)

    def param(self, name: str) -> str | None:
        """The first query parameter called ``name``."""
        values = parse_qs(self.query, keep_blank_values=True).get(name)
        return values[0] if values else None

    def params(self, name: str) -> list[str]:
        """Every value of a query parameter, whether repeated or comma-separated."""
        found = parse_qs(self.query, keep_blank_values=True)
        values = [*found.get(name, []), *found.get(f"{name}[]", [])]
        return [item for value in values for item in value.split(",") if item]


@dataclass(frozen=True)
class FileAnswer:
    """A complete HTTP answer."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


def json_answer(status: int, value: Any, headers: tuple[tuple[str, str], ...] = ()) -> FileAnswer:
    return FileAnswer(
        status, (("content-type", "application/json"), *headers), dumps(value).encode()
    )


def empty_answer(status: int, headers: tuple[tuple[str, str], ...]) -> FileAnswer:
    return FileAnswer(status, (("content-type", "text/plain; charset=utf-8"), *headers), b"")


def random_id(alphabet: str, length: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(length))


def rfc3339(unix: float) -> str:
    """``2025-03-29T12:39:16.599879Z``: the UTC timestamps Google and Anthropic send."""
    return datetime.fromtimestamp(unix, timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
