"""Images, audio and documents on the two OpenAI wires: one content item per ``MediaPart``.

Responses content is ``input_text | input_image | input_file``; Chat Completions content is
``text | image_url | input_audio | file``. Planning (``_media_policy.check_media``) has
already refused whatever ``_models`` says an API does not take, so in a command's prompt
every media part reaching these functions has a wire form. A ``Request`` built by hand, or
a tool result (which planning does not see), can still hold one that has none: that is a
``CapabilityError`` here, before the request is sent, rather than a part the provider
rejects or, worse, one silently left out.
"""

from __future__ import annotations

from typing import Any

from ..._errors import CapabilityError
from ..._media import Media
from ..._messages import ContentPart
from ..._messages import TextPart
from .._parts import as_text
from ._models import CHAT_MEDIA
from ._models import RESPONSES_MEDIA

# No __all__: a private module of this folder; its siblings import what they use by name.

_AUDIO_FORMATS = {"audio/wav": "wav", "audio/mpeg": "mp3"}
"""The media types ``input_audio`` takes, as its ``format`` names them."""


def responses_item(part: ContentPart, backend: str) -> dict[str, Any]:
    """The Responses content item of ``part``: user content and tool outputs alike."""
    if isinstance(part, TextPart):
        return {"type": "input_text", "text": part.text}
    media = part.media
    text = as_text(media, RESPONSES_MEDIA)
    if text is not None:
        return {"type": "input_text", "text": text}
    if media.kind == "image":
        # ``detail`` is required on a user message's image (the SDK's TypedDict says so).
        item: dict[str, Any] = {"type": "input_image", "detail": media.detail or "auto"}
        if media.source == "file":
            item["file_id"] = media.file_id
        else:
            item["image_url"] = _url(media)
        return item
    if media.kind == "document":
        if media.source == "file":
            item = {"type": "input_file", "file_id": media.file_id}
        elif media.source == "url" and media.url is not None:
            item = {"type": "input_file", "file_url": media.url}
        else:
            item = {"type": "input_file", "file_data": media.data_url(), "filename": _name(media)}
        if media.detail is not None:
            item["detail"] = media.detail
        return item
    raise _unsent(
        media,
        backend,
        "Responses content has no audio part; use openai-chat with an audio model, or gemini.",
    )


def chat_part(part: ContentPart, backend: str) -> dict[str, Any]:
    """The Chat Completions content part of ``part``."""
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    media = part.media
    text = as_text(media, CHAT_MEDIA)
    if text is not None:
        return {"type": "text", "text": text}
    if media.kind == "image" and media.source != "file":
        return {
            "type": "image_url",
            "image_url": {"url": _url(media), "detail": media.detail or "auto"},
        }
    if media.kind == "audio" and media.inline and media.media_type in _AUDIO_FORMATS:
        audio = {"data": media.base64(), "format": _AUDIO_FORMATS[media.media_type]}
        return {"type": "input_audio", "input_audio": audio}
    if media.kind == "document" and media.source == "file":
        return {"type": "file", "file": {"file_id": media.file_id}}
    if media.kind == "document" and media.inline:
        return {"type": "file", "file": {"file_data": media.data_url(), "filename": _name(media)}}
    raise _unsent(
        media,
        backend,
        "Chat Completions takes images as bytes or URLs, audio as WAV or MP3 bytes, and "
        "documents as bytes or OpenAI file ids; the openai backend (Responses) takes images "
        "and documents every way.",
    )


def _url(media: Media) -> str:
    """An image's ``image_url``: the URL itself, or its bytes as a data URL."""
    if media.source == "url" and media.url is not None:
        return media.url
    return media.data_url()


def _name(media: Media) -> str:
    # OpenAI refuses ``file_data`` without a filename, and bytes may come without one; only
    # PDFs get here (text documents go as text), so the subtype is the extension.
    return media.filename or f"document.{media.media_type.rsplit('/', 1)[-1]}"


def _unsent(media: Media, backend: str, hint: str) -> CapabilityError:
    way = {"bytes": "inline", "path": "inline", "url": "by URL", "file": "by file id"}
    kind = type(media).__name__
    return CapabilityError(
        f"{kind} input {way[media.source]} ({media.media_type})", backend, hint=hint
    )
