"""Whether a request's media can reach the provider, decided before any network call.

Each media part must be a kind the model takes (``Capabilities.media``), sent a way the
provider accepts (inline bytes, a URL it fetches, or a file uploaded to that same provider),
of a media type it reads, and the inline media of one request must fit the provider's
inline limit, counted in base64 as the provider counts it. Anything else is a
``CapabilityError`` that names the parameter and says what would work instead. Alloy never
downloads a URL to make it fit.
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


def check_media(parts: Sequence[MediaPart], caps: Capabilities, backend: str, model: str) -> None:
    """``CapabilityError`` unless every part of ``parts`` can be sent to ``backend``."""
    support = caps.media
    inline = 0
    family = backend.split("-", 1)[0]
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
        if allowed is not None and media.media_type not in allowed:
            raise CapabilityError(
                f"{_what(part)} of type {media.media_type}",
                backend,
                model,
                hint=f"It takes {', '.join(sorted(allowed))}; convert the file first.",
            )
        if way == "inline":
            inline += media.encoded_size or 0
    limit = support.inline_limit
    if limit is not None and inline > limit:
        raise CapabilityError(
            f"{inline / _MB:.1f} MB of inline media in one request (its limit is "
            f"{limit / _MB:.0f} MB of base64)",
            backend,
            model,
            hint="Upload the file to the provider's Files API and pass "
            "Image/Audio/Document.from_file_id(...), pass a URL the provider can fetch, "
            "or send smaller files.",
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
