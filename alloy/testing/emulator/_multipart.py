"""``multipart/form-data`` request bodies (RFC 7578), parsed with the standard library.

The parts are cut at the boundary by hand rather than with ``email.parser``: the email
package treats bodies as text lines, and a file part is arbitrary bytes whose line endings
must come through unchanged. Only each part's header block goes through ``email``, which
knows how to unquote ``name="…"`` and RFC 2231 ``filename*=`` parameters.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from email.message import Message
from email.parser import HeaderParser
from email.utils import collapse_rfc2231_value

__all__ = ["FormPart", "MultipartError", "is_multipart", "parse_form"]

# A field value at most this long is shown in reprs; anything longer, and every part that
# carries a filename, is shown as its size and digest.
_SHOWN_VALUE = 200
# WHATWG's multipart/form-data encoding writes these three characters of a filename as
# percent escapes, and leaves every other '%' alone.
_ESCAPES = (("%22", '"'), ("%0D", "\r"), ("%0A", "\n"))


class MultipartError(ValueError):
    """The body is not well-formed ``multipart/form-data``."""


@dataclass(frozen=True, repr=False)
class FormPart:
    """One part of a ``multipart/form-data`` body.

    ``data`` holds the part's bytes; the repr never shows a file's bytes, only its size and
    SHA-256, so that recorded uploads can be printed and logged.
    """

    name: str
    filename: str | None
    content_type: str | None
    data: bytes
    headers: Mapping[str, str] = field(default_factory=dict[str, str])

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def sha256(self) -> str:
        """The hex SHA-256 of ``data``."""
        return hashlib.sha256(self.data).hexdigest()

    @property
    def text(self) -> str:
        """``data`` as UTF-8 (undecodable bytes replaced): how form fields are read."""
        return self.data.decode("utf-8", "replace")

    def __repr__(self) -> str:
        head = f"FormPart(name={self.name!r}"
        if self.filename is None and self.size <= _SHOWN_VALUE and _is_utf8(self.data):
            return f"{head}, value={self.text!r})"
        return (
            f"{head}, filename={self.filename!r}, content_type={self.content_type!r}, "
            f"size={self.size}, sha256={self.sha256!r})"
        )


def is_multipart(content_type: str) -> bool:
    """Whether a ``content-type`` header value announces ``multipart/form-data``."""
    return content_type.split(";", 1)[0].strip().lower() == "multipart/form-data"


def parse_form(body: bytes, content_type: str) -> tuple[FormPart, ...]:
    """The parts of ``body``, in order; raises ``MultipartError`` when it is malformed."""
    delimiter = b"--" + _boundary(content_type)
    start = body.find(delimiter)
    if start < 0 or (start > 0 and not body[:start].endswith(b"\r\n")):
        raise MultipartError("the body does not start with the boundary")
    parts: list[FormPart] = []
    position = start + len(delimiter)
    while not body.startswith(b"--", position):
        line_end = body.find(b"\r\n", position)
        # Only linear whitespace may follow a boundary on its line (RFC 2046 transport padding).
        if line_end < 0 or body[position:line_end].strip(b" \t"):
            raise MultipartError("a boundary line is malformed")
        end = body.find(b"\r\n" + delimiter, line_end + 2)
        if end < 0:
            raise MultipartError("the closing boundary is missing")
        parts.append(_part(body[line_end + 2 : end]))
        position = end + 2 + len(delimiter)
    return tuple(parts)


def _boundary(content_type: str) -> bytes:
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_boundary()
    if not boundary or len(boundary) > 70:
        raise MultipartError("the content-type has no valid boundary parameter")
    return boundary.encode("latin-1", "replace")


def _part(raw: bytes) -> FormPart:
    split = raw.find(b"\r\n\r\n")
    if raw.startswith(b"\r\n"):
        head, data = b"", raw[2:]
    elif split >= 0:
        head, data = raw[:split], raw[split + 4 :]
    else:
        raise MultipartError("a part has no blank line after its headers")
    # Header values are UTF-8 in practice (httpx sends non-ASCII filenames raw), so parse
    # them as text: the bytes parser would turn those filenames into surrogate escapes.
    message = HeaderParser().parsestr(head.decode("utf-8", "replace") + "\r\n\r\n")
    disposition = message.get("content-disposition")
    if disposition is None or message.get_content_disposition() != "form-data":
        raise MultipartError("a part has no 'Content-Disposition: form-data' header")
    name = message.get_param("name", header="content-disposition")
    if name is None:
        raise MultipartError("a part has no name")
    filename = message.get_filename()
    if filename is not None:
        filename = _unescape(filename)
    headers = {key.lower(): str(value) for key, value in message.items()}
    return FormPart(
        name=collapse_rfc2231_value(name),
        filename=filename,
        content_type=headers.get("content-type"),
        data=data,
        headers=headers,
    )


def _unescape(value: str) -> str:
    """Undo the escapes the HTML form encoding (and so httpx) applies to field values."""
    for escaped, char in _ESCAPES:
        value = value.replace(escaped, char)
    return value


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
