"""Multimodal argument types. The names are reserved now; providers receive them later.

Passing one to a command today raises ``CapabilityError`` instead of silently sending its
``repr`` as text.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Audio", "Document", "Image", "Media"]


@dataclass(frozen=True, slots=True)
class _MediaBase:
    data: bytes | None = None
    url: str | None = None
    media_type: str | None = None

    def __repr__(self) -> str:
        size = f"{len(self.data)} bytes" if self.data is not None else self.url
        return f"{type(self).__name__}({size}, media_type={self.media_type!r})"


class Image(_MediaBase):
    """An image argument: bytes with a media type, or a URL."""


class Audio(_MediaBase):
    """An audio argument: bytes with a media type, or a URL."""


class Document(_MediaBase):
    """A document argument (PDF and the like): bytes with a media type, or a URL."""


Media = (Image, Audio, Document)
