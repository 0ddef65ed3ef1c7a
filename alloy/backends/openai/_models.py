"""What the OpenAI models can do, for both OpenAI backends.

One row per API today: every model takes a JSON schema natively and calls tools in parallel,
over the Responses API and Chat Completions alike. The APIs differ in media: Responses
content has no audio part, and only Responses takes a document by URL. An
OpenAI-compatible server behind ``openai-chat`` that lacks something says so in its error
reply.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from .._caching import CACHE_TTLS
from .._caching import PromptCacheSupport
from .._reasoning import ReasoningRow
from .._reasoning import ReasoningSupport
from .._reasoning import support_for
from ..base import Capabilities
from ..base import MediaSupport
from ..base import ModelProfile
from ..base import profile_for

__all__ = [
    "CHAT_PROFILES",
    "CHAT_REASONING",
    "PROFILES",
    "REASONING",
    "capabilities",
    "profile",
]

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

# Caching is automatic; alloy adds a cache key, and a lifetime through
# ``prompt_cache_retention``, whose "24h" is an upper bound that no asked lifetime exceeds.
CACHE = PromptCacheSupport("key", ttls=tuple((ttl, "24h") for ttl in CACHE_TTLS))

# Native JSON schema output and native parallel tools (``Capabilities``' defaults); the wire
# has no error flag for tool results.
PROFILES: tuple[ModelProfile, ...] = (
    ModelProfile(
        Capabilities(schema_dialect="openai", media=RESPONSES_MEDIA, prompt_cache=CACHE),
        label="all models",
    ),
)
"""The Responses API's rows, first match winning; the last row stands for every other model."""

CHAT_PROFILES: tuple[ModelProfile, ...] = (
    ModelProfile(
        Capabilities(schema_dialect="openai", media=CHAT_MEDIA, prompt_cache=CACHE),
        label="all models",
    ),
)
"""The Chat Completions API's rows."""


# Efforts per family, from OpenAI's model pages: gpt-5 has ``minimal`` and cannot switch
# reasoning off; gpt-5.1 replaced ``minimal`` with ``none`` (off); later gpt-5.x add
# ``xhigh``; the pro models think at ``high`` only; o-series take low/medium/high; o1-mini and
# o1-preview take no effort at all. A model not named here gets every value through, and
# its own error reply if it refuses one.
_O_SERIES = ReasoningSupport("effort", ("low", "medium", "high"))
REASONING: tuple[ReasoningRow, ...] = (
    ReasoningRow(None, ("gpt-4", "gpt-3.5", "chatgpt-", "gpt-realtime", "gpt-audio")),
    ReasoningRow(ReasoningSupport("effort", ("high",)), ("gpt-5-pro", "gpt-5.2-pro")),
    ReasoningRow(ReasoningSupport("effort", ("none", "low", "medium", "high")), ("gpt-5.1",)),
    ReasoningRow(
        ReasoningSupport("effort", ("none", "low", "medium", "high", "xhigh")), ("gpt-5.",)
    ),
    ReasoningRow(ReasoningSupport("effort", ("minimal", "low", "medium", "high")), ("gpt-5",)),
    ReasoningRow(None, ("o1-mini", "o1-preview")),
    ReasoningRow(_O_SERIES, ("o1", "o3", "o4", "gpt-oss")),
    ReasoningRow(ReasoningSupport("effort")),
)
"""Reasoning over the Responses API (``reasoning.effort``, summaries with ``summary:
"auto"``), first match winning."""

# Chat Completions takes the same efforts (``reasoning_effort``) but returns no reasoning
# text for OpenAI's models; OpenAI-compatible servers (the last row) send theirs in
# ``reasoning_content`` unasked.
CHAT_REASONING: tuple[ReasoningRow, ...] = (
    *(
        row if row.support is None else replace(row, support=replace(row.support, text="none"))
        for row in REASONING[:-1]
    ),
    ReasoningRow(ReasoningSupport("effort", text="full", shown_alone=False)),
)
"""Reasoning over Chat Completions, first match winning."""


def profile(model: str, profiles: tuple[ModelProfile, ...] = PROFILES) -> ModelProfile:
    """The row of ``model`` in ``profiles``, named as the API takes it (no prefix to
    remove)."""
    return profile_for(profiles, model)


@lru_cache(maxsize=512)  # pure, and asked once per planned call
def capabilities(model: str, profiles: tuple[ModelProfile, ...] = PROFILES) -> Capabilities:
    """What the command layer may ask of ``model`` over the API of ``profiles``.

    >>> capabilities("gpt-5-mini").structured_output
    'json_schema'
    """
    rows = CHAT_REASONING if profiles is CHAT_PROFILES else REASONING
    return replace(profile(model, profiles).capabilities, reasoning=support_for(rows, model))
