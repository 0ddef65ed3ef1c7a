"""What each Claude model can do: ``ModelProfile`` rows, first match winning.

The rows are data: ``capabilities(model)`` reads them for the command layer, and
``scripts/capability_matrix.py`` renders them into docs/providers.md.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from .._caching import PromptCacheSupport
from .._reasoning import ReasoningEffort
from .._reasoning import ReasoningRow
from .._reasoning import ReasoningSupport
from .._reasoning import support_for
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
    "REASONING",
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

# Cache breakpoints (``cache_control``), at most four a request, living 5 minutes or an hour.
CACHE = PromptCacheSupport(
    "breakpoints", ttls=(("5m", "5m"), ("30m", "1h"), ("1h", "1h")), max_breakpoints=4
)

NATIVE = Capabilities(
    schema_dialect="anthropic",
    media=MEDIA,
    prompt_cache=CACHE,
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


# Thinking, from Anthropic's extended and adaptive thinking pages: Opus 4.7 and later think
# adaptively only (a ``budget_tokens`` request is refused); Opus 4.6 and Sonnet 4.6 think
# adaptively and still take a budget; Claude 3.7 and the 4.0 to 4.5 models take a budget
# (at least 1024 tokens, below ``max_tokens``), efforts being turned into budgets; Claude 3.5
# and older do not think. Thinking is off unless asked for, and can always be switched off.
# Thinking also refuses a temperature, and its budget counts against ``max_tokens``.
_ADAPTIVE_EFFORTS: tuple[ReasoningEffort, ...] = ("none", "low", "medium", "high", "xhigh", "max")
ADAPTIVE = ReasoningSupport(
    "adaptive", _ADAPTIVE_EFFORTS, temperature=False, budget_in_max_tokens=True
)
REASONING: tuple[ReasoningRow, ...] = (
    ReasoningRow(
        replace(ADAPTIVE, budget=(1024, None)),
        ("claude-opus-4-6", "claude-sonnet-4-6"),
    ),
    ReasoningRow(
        ReasoningSupport(
            "budget",
            budget=(1024, None),
            shown_alone=False,
            temperature=False,
            budget_in_max_tokens=True,
        ),
        (
            "claude-3-7-sonnet",
            "claude-sonnet-4",
            "claude-opus-4-0",
            "claude-opus-4-1",
            "claude-opus-4-5",
            "claude-opus-4-2025",
            "claude-haiku-4",
            "claude-4-",
        ),
    ),
    ReasoningRow(None, ("claude-3", "claude-2", "claude-1", "claude-instant")),
    ReasoningRow(ADAPTIVE, label="all other models (Claude Opus 4.7 and later)"),
)
"""Claude's thinking rows, first match winning."""


@lru_cache(maxsize=512)  # pure, and asked on every call by the encoder
def profile(model: str) -> ModelProfile:
    """The row of ``model``, a name as the Messages API takes it (no normalising needed).

    >>> profile("claude-3-5-haiku-latest").capabilities.structured_output
    'tool_call'
    """
    return profile_for(PROFILES, model)


@lru_cache(maxsize=512)
def capabilities(model: str) -> Capabilities:
    """What ``model`` can do: native JSON output unless it is one of ``FORCED_TOOL_MODELS``."""
    return replace(profile(model).capabilities, reasoning=support_for(REASONING, model))
