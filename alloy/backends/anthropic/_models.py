"""What each Claude model can do: ``ModelProfile`` rows, first match winning.

The rows are data: ``capabilities(model)`` reads them for the command layer, and
``scripts/capability_matrix.py`` renders them into docs/providers.md.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from ..base import Capabilities
from ..base import MediaSupport
from ..base import ModelProfile
from ..base import profile_for

__all__ = [
    "FORCED_TOOL",
    "FORCED_TOOL_MODELS",
    "NAME",
    "NATIVE",
    "PROFILES",
    "capabilities",
    "profile",
]

NAME = "anthropic"
"""The backend's name, which also tags the provider data it produces."""

# Fields left out keep ``Capabilities``' defaults: native JSON schema output, native
# parallel tools, streaming.
# The Messages API takes requests up to 32 MB; images and PDFs by base64, URL or file id
# (the Files API), plain text documents as text sources. No audio.
MEDIA = MediaSupport(
    image=frozenset({"inline", "url", "file"}),
    image_types=frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"}),
    document=frozenset({"inline", "url", "file"}),
    document_types=frozenset({"application/pdf", "text/plain"}),
    document_url_types=frozenset({"application/pdf"}),  # a URL source is PDF only
    inline_limit=32 * 1024 * 1024,
    uploads=True,
)

NATIVE = Capabilities(
    schema_dialect="anthropic",
    media=MEDIA,
    tool_error_flag=True,
    # Constrained decoding takes only schemas the ``anthropic`` dialect can make strict; an
    # open map (``dict[str, T]``) or a recursive type goes through the forced output tool.
    loose_schema_output="tool_call",
)
"""Models with native structured output (``output_config.format``)."""

FORCED_TOOL = replace(NATIVE, structured_output="tool_call", loose_schema_output=None)
"""Models without it: the output schema is the input schema of a tool the model must call."""

# Anthropic's structured-outputs documentation lists Claude Opus 4.6, Sonnet 4.6, Sonnet 4.5,
# Opus 4.5 and Haiku 4.5 (and Google's Vertex page adds Opus 4.7); the public beta
# (anthropic-beta structured-outputs-2025-11-13) started with Sonnet 4.5 and Opus 4.1, and the
# 3.x and 4.0 models never had it. Opus 4.1 is listed here because the generally available
# ``output_config`` form is not documented for it, and a forced tool call works on every
# model. A name not listed (a newer model) is native.
FORCED_TOOL_MODELS = (
    "claude-instant",
    "claude-1",
    "claude-2",
    "claude-3",
    "claude-4-",
    "claude-opus-4-0",
    "claude-opus-4-1",
    "claude-opus-4-2025",
    "claude-sonnet-4-0",
    "claude-sonnet-4-2025",
)
"""Name prefixes of the models without native structured output."""

PROFILES: tuple[ModelProfile, ...] = (
    ModelProfile(FORCED_TOOL, FORCED_TOOL_MODELS),
    ModelProfile(NATIVE),
)
"""Claude's model rows, first match winning."""


@lru_cache(maxsize=512)  # pure, and asked on every call by the encoder
def profile(model: str) -> ModelProfile:
    """The row of ``model``, a name as the Messages API takes it (no normalising needed).

    >>> profile("claude-3-5-haiku-latest").capabilities.structured_output
    'tool_call'
    """
    return profile_for(PROFILES, model)


def capabilities(model: str) -> Capabilities:
    """What ``model`` can do: native JSON output unless it is one of ``FORCED_TOOL_MODELS``."""
    return profile(model).capabilities
