"""What every encoder does with media parts the same way.

Each provider folder maps ``MediaPart`` to its own wire part; these helpers are the shared
rules: a text document the provider has no document form for goes as a text part, wrapped
so that the model can tell it from the prompt around it, and its bytes are decoded as UTF-8
(undecodable bytes replaced, never an exception).
"""

from __future__ import annotations

from .._media import Media
from .._media_policy import is_text_document
from .base import MediaSupport

__all__ = ["as_text", "is_text_document", "text_document"]


def text_document(media: Media) -> str:
    """The text a text document is sent as: its content between document markers."""
    name = f' name="{media.filename}"' if media.filename else ""
    body = media.data.decode("utf-8", errors="replace")
    return f'<document{name} type="{media.media_type}">\n{body}\n</document>'


def as_text(media: Media, support: MediaSupport) -> str | None:
    """The text ``media`` goes as on a provider with ``support``, or None for a media part."""
    return text_document(media) if is_text_document(media, support) else None
