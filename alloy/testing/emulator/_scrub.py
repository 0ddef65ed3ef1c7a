"""What counts as a credential in a proxy recording, and how it is kept out of the file.

A recording is meant to be committed next to the tests, so it must hold no secret. Headers
and query parameters whose name looks like a credential (``authorization``, ``x-api-key``,
``x-goog-api-key``, ``api-key``, ``cookie``, ``set-cookie``, ``key=``, ``access_token=``,
anything with ``auth``, ``key``, ``token``, ``secret``, ``password``, ``session`` or
``signature`` as a word of its name) are dropped, and so is any header whose value looks
like one (``Bearer …``, ``Basic …``, an ``sk-…`` or ``AIza…`` key). The values dropped
from a request, when 16 characters or longer, are also masked wherever they appear in what
is kept (bodies, other headers), with as many ``*`` as they had bytes, so that the body
keeps its length and its recorded chunk sizes still add up.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Iterable
from collections.abc import Sequence

__all__ = ["Secrets", "credential_name", "mask_pieces", "scrub_headers", "scrub_query"]

_WORDS = frozenset(
    {
        "apikey",
        "auth",
        "authorization",
        "cookie",
        "cookie2",
        "credential",
        "credentials",
        "jwt",
        "key",
        "passwd",
        "password",
        "secret",
        "session",
        "sig",
        "signature",
        "token",
    }
)
_SEPARATORS = re.compile(r"[-_.\s]+")
_LOOKS_SECRET = re.compile(
    r"^\s*(bearer|basic|token)\s+\S|\bsk-[A-Za-z0-9_-]{16,}|\bAIza[0-9A-Za-z_-]{30,}",
    re.IGNORECASE,
)
_MIN_MASKED = 16


def credential_name(name: str) -> bool:
    """Whether a header or query parameter of this name may carry a credential."""
    return any(word in _WORDS for word in _SEPARATORS.split(name.lower()))


class Secrets:
    """The credentials one request carried, to be masked in everything recorded of it."""

    def __init__(self) -> None:
        self._values: set[bytes] = set()

    def add(self, value: str) -> None:
        """Remember a credential value, and its token after an auth scheme."""
        for candidate in (value, value.partition(" ")[2], urllib.parse.unquote_plus(value)):
            candidate = candidate.strip()
            if len(candidate) >= _MIN_MASKED:
                self._values.add(candidate.encode("utf-8", "surrogateescape"))

    def mask(self, data: bytes) -> bytes:
        """``data`` with every remembered credential overwritten by ``*`` (same length)."""
        for value in sorted(self._values, key=len, reverse=True):
            data = data.replace(value, b"*" * len(value))
        return data

    def mask_text(self, text: str) -> str:
        return self.mask(text.encode("utf-8", "surrogateescape")).decode("utf-8", "surrogateescape")


def scrub_headers(
    headers: Iterable[tuple[str, str]], secrets: Secrets, *, drop: frozenset[str]
) -> dict[str, str]:
    """The headers fit to record, by lower-case name (repeats joined with ``, ``): without
    the names in ``drop`` and without credentials, whose values go to ``secrets`` (mask
    what is kept once every credential of the request is known)."""
    kept: dict[str, str] = {}
    for raw_name, value in headers:
        name = raw_name.lower()
        if name in drop:
            continue
        if credential_name(name) or _LOOKS_SECRET.search(value):
            secrets.add(value)
            continue
        kept[name] = f"{kept[name]}, {value}" if name in kept else value
    return kept


def scrub_query(query: str, secrets: Secrets) -> str:
    """The query string without credential parameters (whose values go to ``secrets``); the
    others stay as they were sent, in order."""
    kept: list[str] = []
    for part in query.split("&") if query else ():
        name, _, value = part.partition("=")
        if credential_name(urllib.parse.unquote_plus(name)):
            secrets.add(value)
        else:
            kept.append(part)
    return "&".join(kept)


def mask_pieces(pieces: Sequence[bytes], secrets: Secrets) -> list[bytes]:
    """``pieces`` masked as one body (a credential may straddle two), cut again where they
    were cut."""
    body = secrets.mask(b"".join(pieces))
    cut: list[bytes] = []
    start = 0
    for piece in pieces:
        cut.append(body[start : start + len(piece)])
        start += len(piece)
    return cut
