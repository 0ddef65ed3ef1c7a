"""Multimodal arguments: ``Image``, ``Audio`` and ``Document``.

A media value is a part of a prompt, like text: the prompt builder places it where the
docstring names it, and each backend encodes it the way its provider takes it (inline bytes,
a URL the provider fetches, or a file uploaded to the provider). Four sources:

- ``from_bytes``: bytes in memory;
- ``from_path``: a local file, read only when a backend needs its bytes (and then once);
- ``from_url``: a URL, sent as a URL to providers that fetch them; alloy never downloads it;
- ``from_file_id``: a file already uploaded to one provider's Files API.

The media type comes from the caller, else the leading bytes, else the file extension; it
must belong to the kind (an ``Image`` is ``image/*``). Nothing here touches the network, and
no ``repr`` shows the bytes: a media value prints as its kind, type, size and where it is.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar
from typing import Literal

from ._errors import ConfigurationError

if TYPE_CHECKING:
    # Imported where used: ``import alloy`` loads neither pathlib, hashlib nor
    # typing_extensions (with its import of inspect) for media values (about 20 ms).
    from pathlib import Path

    from typing_extensions import Self

__all__ = ["Audio", "Document", "Image", "Media", "MediaKind", "MediaSource", "sniff"]

MediaKind = Literal["image", "audio", "document"]
MediaSource = Literal["bytes", "path", "url", "file"]

# Leading bytes of the formats alloy recognises without an extension.
_SIGNATURES: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"),
    (b"\xff\xd8\xff", 0, "image/jpeg"),
    (b"GIF87a", 0, "image/gif"),
    (b"GIF89a", 0, "image/gif"),
    (b"%PDF-", 0, "application/pdf"),
    (b"fLaC", 0, "audio/flac"),
    (b"OggS", 0, "audio/ogg"),
    (b"ID3", 0, "audio/mpeg"),
)

# Extensions ``mimetypes`` gets wrong or lacks on some systems.
_EXTENSIONS = {
    ".webp": "image/webp",
    ".flac": "audio/flac",
    ".ogg": "audio/ogg",
    ".oga": "audio/ogg",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".m4a": "audio/mp4",
    ".aac": "audio/aac",
    ".md": "text/markdown",
    ".csv": "text/csv",
}

_KIB = 1024


def sniff(head: bytes) -> str | None:
    """The media type of data that starts with ``head``, from its signature, or None.

    >>> sniff(b"%PDF-1.7 ...")
    'application/pdf'
    """
    for signature, offset, media_type in _SIGNATURES:
        if head[offset : offset + len(signature)] == signature:
            return media_type
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return "audio/wav"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and head[1] & 0x06:
        return "audio/mpeg"  # an MPEG audio frame header without an ID3 tag
    return None


def _from_name(name: str) -> str | None:
    suffix = os.path.splitext(name.split("?", 1)[0].split("#", 1)[0])[1].lower()
    if not suffix:
        return None
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    import mimetypes  # only when a name is all there is to go on

    return mimetypes.types_map.get(suffix)


def _size_text(size: int) -> str:
    if size < _KIB:
        return f"{size} B"
    if size < _KIB * _KIB:
        return f"{size / _KIB:.0f} KB"
    return f"{size / (_KIB * _KIB):.1f} MB"


class Media:
    """What ``Image``, ``Audio`` and ``Document`` share. Build one with a ``from_*``
    constructor of those classes.

    Attributes:
        kind: ``"image"``, ``"audio"`` or ``"document"``.
        source: ``"bytes"``, ``"path"``, ``"url"`` or ``"file"`` (an uploaded file's id).
        media_type: the MIME type, such as ``image/png``.
        path / url / file_id / provider: where the content is, for those sources.
        filename: the name sent to providers that want one (documents).
        detail: the resolution hint (``"low"``, ``"high"``, ``"auto"``) for providers that
            take one, else None.
    """

    kind: ClassVar[MediaKind]
    _prefixes: ClassVar[tuple[str, ...]]

    __slots__ = (
        "_data",
        "_sha256",
        "detail",
        "file_id",
        "filename",
        "media_type",
        "path",
        "provider",
        "source",
        "url",
    )

    def __init__(
        self,
        source: MediaSource,
        media_type: str,
        *,
        data: bytes | None = None,
        path: Path | None = None,
        url: str | None = None,
        file_id: str | None = None,
        provider: str | None = None,
        filename: str | None = None,
        detail: str | None = None,
    ):
        if type(self) is Media:
            raise TypeError("use Image, Audio or Document")
        self.source: MediaSource = source
        self.media_type = self._checked_type(media_type)
        self._data = data
        self._sha256: str | None = None
        self.path = path
        self.url = url
        self.file_id = file_id
        self.provider = provider
        self.filename = filename
        self.detail = detail

    # --- constructors ----------------------------------------------------------------

    @classmethod
    def from_bytes(
        cls,
        data: bytes,
        media_type: str | None = None,
        *,
        filename: str | None = None,
        detail: str | None = None,
    ) -> Self:
        """Content in memory; the media type is sniffed from the bytes when not given."""
        if not isinstance(data, (bytes, bytearray, memoryview)):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ConfigurationError(
                f"{cls.__name__}.from_bytes takes bytes, not {type(data).__name__}"
                + (
                    ": for a file, use from_path; for a URL, from_url."
                    if isinstance(data, str)
                    else "."
                )
            )
        raw = bytes(data)
        if not raw:
            raise ConfigurationError(f"{cls.__name__}.from_bytes got no bytes.")
        found = media_type or sniff(raw[:16]) or (_from_name(filename) if filename else None)
        return cls(
            "bytes", cls._required(found, "the bytes"), data=raw, filename=filename, detail=detail
        )

    @classmethod
    def from_path(
        cls,
        path: str | os.PathLike[str],
        media_type: str | None = None,
        *,
        detail: str | None = None,
    ) -> Self:
        """A local file, read when a backend first needs it. The media type comes from the
        extension, else from the file's first bytes."""
        from pathlib import Path

        where = Path(path)
        if not where.is_file():
            raise ConfigurationError(
                f"{cls.__name__}.from_path: {str(where)!r} is not a file. Check the path."
            )
        found = media_type or _from_name(where.name)
        if found is None:
            with where.open("rb") as handle:
                found = sniff(handle.read(16))
        return cls(
            "path",
            cls._required(found, repr(where.name)),
            path=where,
            filename=where.name,
            detail=detail,
        )

    @classmethod
    def from_url(
        cls, url: str, media_type: str | None = None, *, detail: str | None = None
    ) -> Self:
        """A URL for the provider to fetch (``https://``, ``gs://`` for Gemini, or a
        ``data:`` URL). Alloy does not download it: the media type comes from the caller or
        the URL's extension."""
        if not isinstance(url, str) or ("://" not in url and not url.startswith("data:")):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ConfigurationError(
                f"{cls.__name__}.from_url takes a URL such as 'https://example.com/a.png'; "
                "for a local file use from_path."
            )
        if url.startswith("data:"):
            return cls._from_data_url(url, detail)
        found = media_type or _from_name(url.rsplit("/", 1)[-1])
        name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1] or None
        return cls("url", cls._required(found, "the URL"), url=url, filename=name, detail=detail)

    @classmethod
    def from_file_id(cls, provider: str, file_id: str, media_type: str | None = None) -> Self:
        """A file already uploaded to ``provider``'s Files API (``"openai"``,
        ``"anthropic"`` or ``"gemini"``; for Gemini the id is the file's URI)."""
        if not provider or not file_id:
            raise ConfigurationError(
                f"{cls.__name__}.from_file_id takes the provider name and the file id."
            )
        base = provider.split("-", 1)[0]  # openai-chat uses OpenAI's files
        found = media_type or cls._default_type()
        return cls("file", found, file_id=file_id, provider=base)

    @classmethod
    def _from_data_url(cls, url: str, detail: str | None) -> Self:
        import base64
        import binascii

        header, _, payload = url.partition(",")
        media_type = header[5:].split(";", 1)[0] or None
        try:
            raw = (
                base64.b64decode(payload, validate=True)
                if ";base64" in header
                else payload.encode()
            )
        except (binascii.Error, ValueError):
            raise ConfigurationError(
                f"{cls.__name__}.from_url: the data: URL's payload is not valid base64."
            ) from None
        return cls.from_bytes(raw, media_type, detail=detail)

    @classmethod
    def _default_type(cls) -> str:
        return {"image": "image/png", "audio": "audio/wav", "document": "application/pdf"}[cls.kind]

    @classmethod
    def _required(cls, media_type: str | None, what: str) -> str:
        if media_type is None:
            raise ConfigurationError(
                f"{cls.__name__}: cannot tell the media type of {what}. "
                f"Pass media_type= (such as {cls._default_type()!r})."
            )
        return media_type

    @classmethod
    def _checked_type(cls, media_type: str) -> str:
        lowered = media_type.strip().lower()
        if not lowered.startswith(cls._prefixes):
            kinds = " or ".join(p + "*" if p.endswith("/") else p for p in cls._prefixes)
            raise ConfigurationError(
                f"{cls.__name__} got media type {media_type!r}, which is not {kinds}. "
                "Use the class for that kind (Image, Audio or Document)."
            )
        return lowered

    # --- content ---------------------------------------------------------------------

    @property
    def data(self) -> bytes:
        """The bytes: read from the path on first use. A URL or an uploaded file has none
        here (``ConfigurationError``)."""
        if self._data is None:
            if self.path is None:
                raise ConfigurationError(
                    f"{self!r} has no bytes here: it is sent by reference ({self.source})."
                )
            try:
                self._data = self.path.read_bytes()
            except OSError as exc:
                raise ConfigurationError(
                    f"{type(self).__name__}.from_path: cannot read {str(self.path)!r} "
                    f"({exc.strerror or exc}). Check that the file exists and is readable."
                ) from None
        return self._data

    @property
    def inline(self) -> bool:
        """Whether the content is here (bytes or a path), as opposed to a reference."""
        return self.source in ("bytes", "path")

    @property
    def size(self) -> int | None:
        """Bytes of content, for bytes and paths (a path's size from the file system)."""
        if self._data is not None:
            return len(self._data)
        if self.path is not None:
            try:
                return self.path.stat().st_size
            except OSError:
                return None
        return None

    @property
    def encoded_size(self) -> int | None:
        """Bytes the content takes in base64, as providers count inline limits."""
        size = self.size
        return None if size is None else 4 * ((size + 2) // 3)

    @property
    def sha256(self) -> str | None:
        """The hex SHA-256 of the content (bytes and paths), computed once."""
        if self._sha256 is None and self.inline:
            import hashlib

            self._sha256 = hashlib.sha256(self.data).hexdigest()
        return self._sha256

    def base64(self) -> str:
        """The content in base64, as inline parts carry it."""
        import base64

        return base64.b64encode(self.data).decode("ascii")

    def data_url(self) -> str:
        """The content as a ``data:`` URL."""
        if self.source == "url" and self.url is not None and self.url.startswith("data:"):
            return self.url
        return f"data:{self.media_type};base64,{self.base64()}"

    # --- presentation ------------------------------------------------------------------

    def placeholder(self) -> str:
        """How the value shows in ``cmd.prompt()``: ``<Image image/png 12 KB>``."""
        size = self.size
        where = _size_text(size) if size is not None else self._where()
        return f"<{type(self).__name__} {self.media_type} {where}>"

    def _where(self) -> str:
        if self.source == "url" and self.url is not None:
            from ._redact import mask_urls

            return mask_urls(self.url)
        if self.source == "file":
            return f"{self.provider} file {self.file_id}"
        return str(self.path)

    def __repr__(self) -> str:
        size = self.size
        parts = [self.source, self.media_type]
        if self.source == "path":
            parts.append(repr(str(self.path)))
        elif self.source in ("url", "file"):
            parts.append(self._where())
        if size is not None:
            parts.append(_size_text(size))
        return f"{type(self).__name__}({', '.join(parts)})"

    def _identity(self) -> tuple[Any, ...]:
        if self.inline:
            return (self.kind, "content", self.sha256, self.media_type)
        return (self.kind, self.source, self.url, self.provider, self.file_id, self.media_type)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Media):
            return NotImplemented
        return self._identity() == other._identity() and self.detail == other.detail

    def __hash__(self) -> int:
        return hash(self._identity())

    # --- pickling ----------------------------------------------------------------------

    def __getstate__(self) -> dict[str, Any]:
        state = {name: getattr(self, name) for name in Media.__slots__}
        if self.source == "path":
            # A file stays a file: the bytes read so far are not sent, and are read again
            # (where the value is unpickled) when a backend needs them.
            state["_data"] = state["_sha256"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        for name in Media.__slots__:
            setattr(self, name, state.get(name))


class Image(Media):
    """An image argument (PNG, JPEG, GIF, WEBP, ...).

    >>> Image.from_bytes(b"\\x89PNG\\r\\n\\x1a\\n" + bytes(100))
    Image(bytes, image/png, 108 B)
    """

    kind: ClassVar[MediaKind] = "image"
    _prefixes: ClassVar[tuple[str, ...]] = ("image/",)
    __slots__ = ()


class Audio(Media):
    """An audio argument (WAV, MP3, FLAC, OGG, ...)."""

    kind: ClassVar[MediaKind] = "audio"
    _prefixes: ClassVar[tuple[str, ...]] = ("audio/",)
    __slots__ = ()


class Document(Media):
    """A document argument: PDF, or text (plain, Markdown, CSV, HTML, JSON)."""

    kind: ClassVar[MediaKind] = "document"
    _prefixes: ClassVar[tuple[str, ...]] = ("application/pdf", "text/", "application/json")
    __slots__ = ()
