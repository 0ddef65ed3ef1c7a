"""What the OpenAI models can do, for both OpenAI backends.

One row per API today: every model takes a JSON schema natively and calls tools in parallel,
over the Responses API and Chat Completions alike. The APIs differ in media: Responses
content has no audio part, and only Responses takes a document by URL. An
OpenAI-compatible server behind ``openai-chat`` that lacks something says so in its error
reply.
"""

from __future__ import annotations

from ..base import Capabilities
from ..base import MediaSupport
from ..base import ModelProfile
from ..base import profile_for

__all__ = ["CHAT_PROFILES", "PROFILES", "capabilities", "profile"]

_MB = 1024 * 1024

# OpenAI documents a 50 MB total for the files of one request; images count too.
RESPONSES_MEDIA = MediaSupport(
    image=frozenset({"inline", "url", "file"}),
    document=frozenset({"inline", "url", "file"}),
    inline_limit=50 * _MB,
    uploads=True,
)
"""``input_image`` (data URL, URL or file id) and ``input_file`` (data, URL or file id)."""

CHAT_MEDIA = MediaSupport(
    image=frozenset({"inline", "url"}),
    audio=frozenset({"inline"}),
    audio_types=frozenset({"audio/wav", "audio/mpeg"}),
    document=frozenset({"inline", "file"}),
    inline_limit=50 * _MB,
    uploads=True,
)
"""``image_url`` (data URL or URL), ``input_audio`` (WAV or MP3 bytes) and ``file`` (PDF
data or file id)."""

# Native JSON schema output and native parallel tools (``Capabilities``' defaults); the wire
# has no error flag for tool results.
PROFILES: tuple[ModelProfile, ...] = (
    ModelProfile(Capabilities(schema_dialect="openai", media=RESPONSES_MEDIA), label="all models"),
)
"""The Responses API's rows, first match winning; the last row stands for every other model."""

CHAT_PROFILES: tuple[ModelProfile, ...] = (
    ModelProfile(Capabilities(schema_dialect="openai", media=CHAT_MEDIA), label="all models"),
)
"""The Chat Completions API's rows."""


def profile(model: str, profiles: tuple[ModelProfile, ...] = PROFILES) -> ModelProfile:
    """The row of ``model`` in ``profiles``, named as the API takes it (no prefix to
    remove)."""
    return profile_for(profiles, model)


def capabilities(model: str, profiles: tuple[ModelProfile, ...] = PROFILES) -> Capabilities:
    """What the command layer may ask of ``model`` over the API of ``profiles``.

    >>> capabilities("gpt-5-mini").structured_output
    'json_schema'
    """
    return profile(model, profiles).capabilities
