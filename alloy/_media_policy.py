"""Whether a request's media can reach the provider, and which to upload first, decided
before any network call.

Each media part must be a kind the model takes (``Capabilities.media``), sent a way the
provider accepts (inline bytes, a URL it fetches, or a file uploaded to that same provider),
of a media type it reads, and the inline media of one request must fit the inline limit
(the provider's, or the ``media_inline_limit`` setting), counted in base64 as the providers
count it. With ``media_upload="auto"`` the largest inline media that the provider takes by
file are uploaded until the rest fits; ``"always"`` uploads every such medium; ``"never"``
uploads nothing. What still cannot go is a ``CapabilityError`` that names the parameter and
says what would work instead. Alloy never downloads a URL to make it fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ._errors import CapabilityError

if TYPE_CHECKING:
    from ._media import Media
    from ._messages import MediaPart
    from .backends.base import Capabilities
    from .backends.base import MediaSupport
    from .backends.base import MediaWay

__all__ = ["check_media", "is_text_document", "way_of"]

_MB = 1024 * 1024
_TEXT_TYPES = ("text/", "application/json")


def way_of(media: Media) -> MediaWay:
    """How ``media`` travels: ``inline`` (bytes, a path, a ``data:`` URL), ``url`` or ``file``."""
    if media.inline:
        return "inline"
    if media.source == "url":
        return "url"
    return "file"


def is_text_document(media: Media, support: MediaSupport) -> bool:
    """A text document the provider has no document form for: sent as text instead."""
    return (
        media.kind == "document"
        and media.media_type.startswith(_TEXT_TYPES)
        and media.media_type not in support.document_types
    )


def _what(part: MediaPart) -> str:
    kind = type(part.media).__name__
    return f"{kind} input (parameter {part.name!r})" if part.name else f"{kind} input"


def check_media(
    parts: Sequence[MediaPart],
    caps: Capabilities,
    backend: str,
    model: str,
    *,
    upload: str = "never",
    inline_limit: int | None = None,
    can_upload: bool = False,
) -> tuple[MediaPart, ...]:
    """The parts of ``parts`` to upload before the request; ``CapabilityError`` unless
    every part can then be sent to ``backend``.

    Args:
        upload: the ``media_upload`` setting.
        inline_limit: the ``media_inline_limit`` setting (None: the provider's limit).
        can_upload: the backend implements ``Uploader``.
    """
    support = caps.media
    inline = 0
    sized: list[tuple[int, MediaPart]] = []  # inline parts that could go as uploaded files
    family = backend.split("-", 1)[0]
    uploads = can_upload and support.uploads
    for part in parts:
        media = part.media
        ways = support.ways(media.kind)
        if not ways:
            raise CapabilityError(_what(part), backend, model, hint=_elsewhere(media.kind))
        way = way_of(media)
        if is_text_document(media, support):
            if way != "inline":
                raise CapabilityError(
                    f"{_what(part)} as a {media.media_type} {way}",
                    backend,
                    model,
                    hint="Text documents are sent as text here: pass the text itself, "
                    "or Document.from_bytes / from_path.",
                )
            inline += len(media.data)
            continue
        if way not in ways:
            raise CapabilityError(
                f"{_what(part)} by {'file id' if way == 'file' else way}",
                backend,
                model,
                hint=_other_ways(ways),
            )
        if way == "file" and media.provider != family:
            raise CapabilityError(
                f"{_what(part)}: a file uploaded to {media.provider}",
                backend,
                model,
                hint=f"A file id is valid only at the provider that holds it; upload the "
                f"file to {family} or pass its bytes.",
            )
        allowed = _types(support, media)
        by_url = way == "url" and media.kind == "document" and support.document_url_types
        if by_url:
            allowed = support.document_url_types
        if allowed is not None and media.media_type not in allowed:
            hint = (
                f"By URL it takes {', '.join(sorted(allowed))}; pass the bytes instead "
                "(from_path / from_bytes)."
                if by_url
                else f"It takes {', '.join(sorted(allowed))}; convert the file first."
            )
            raise CapabilityError(
                f"{_what(part)} of type {media.media_type}", backend, model, hint=hint
            )
        if way == "inline":
            size = media.encoded_size or 0
            inline += size
            if uploads and "file" in ways:
                sized.append((size, part))
    chosen: list[MediaPart] = []
    if upload == "always":
        chosen = [part for _, part in sized]
        inline -= sum(size for size, _ in sized)
    limit = support.inline_limit if inline_limit is None else inline_limit
    if limit is not None and inline > limit and upload == "auto":
        for size, part in sorted(sized, key=lambda item: -item[0]):
            if inline <= limit:
                break
            chosen.append(part)
            inline -= size
    if limit is not None and inline > limit:
        names = sorted({p.name for p in parts if p.name and p not in chosen and p.media.inline})
        which = f" (parameters {', '.join(repr(n) for n in names)})" if names else ""
        raise CapabilityError(
            f"{_size(inline)} of inline media in one request{which}; the limit is "
            f"{_size(limit)} of base64",
            backend,
            model,
            hint=_too_big_hint(upload, bool(sized)),
        )
    return tuple(chosen)


def _size(count: int) -> str:
    return f"{count / _MB:.1f} MB" if count >= _MB else f"{count} bytes"


def _too_big_hint(upload: str, uploadable: bool) -> str:
    if upload == "never" and uploadable:
        return "Set media_upload='auto' to upload what does not fit through the Files API."
    return (
        "Upload the file to the provider's Files API and pass "
        "Image/Audio/Document.from_file_id(...), pass a URL the provider can fetch, "
        "or send smaller files."
    )


def _types(support: MediaSupport, media: Media) -> frozenset[str] | None:
    if media.kind == "image":
        return support.image_types
    if media.kind == "audio":
        return support.audio_types
    return support.document_types


def _other_ways(ways: frozenset[MediaWay]) -> str:
    names = {"inline": "from_bytes / from_path", "url": "from_url", "file": "from_file_id"}
    usable = " or ".join(names[way] for way in ("inline", "url", "file") if way in ways)
    return f"This provider takes it by {usable}; alloy does not download URLs itself."


def _elsewhere(kind: str) -> str:
    return {
        "image": "Use a backend whose model reads images.",
        "audio": "Use a backend that takes audio (gemini, or openai-chat with an audio model).",
        "document": "Use a backend that reads documents (openai, anthropic, gemini), or pass "
        "the document's text.",
    }[kind]
