"""What every encoder does with media parts the same way.

Each provider folder maps ``MediaPart`` to its own wire part; these helpers are the shared
rules: a text document the provider has no document form for goes as a text part, wrapped
so that the model can tell it from the prompt around it, and its bytes are decoded as UTF-8
(undecodable bytes replaced, never an exception).
"""

from __future__ import annotations

from .._media import Media
from .._media_policy import is_text_document
from .._messages import Request
from .base import MediaSupport

__all__ = ["as_text", "context_size", "is_text_document", "system_of", "text_document"]


def text_document(media: Media) -> str:
    """The text a text document is sent as: its content between document markers."""
    name = f' name="{media.filename}"' if media.filename else ""
    body = media.data.decode("utf-8", errors="replace")
    return f'<document{name} type="{media.media_type}">\n{body}\n</document>'


def as_text(media: Media, support: MediaSupport) -> str | None:
    """The text ``media`` goes as on a provider with ``support``, or None for a media part."""
    return text_document(media) if is_text_document(media, support) else None


def system_of(request: Request) -> str | None:
    """The system text of ``request``: its context's layers' system texts, then its own,
    a blank line apart."""
    if request.context is None:
        return request.system
    texts = [layer.system for layer in request.context.layers if layer.system]
    if request.system:
        texts.append(request.system)
    return "\n\n".join(texts) or None


def context_size(request: Request) -> int:
    """How many parts of the first user turn are the context's documents (planning put them
    there, every layer in order)."""
    return len(request.context.all_documents) if request.context is not None else 0
