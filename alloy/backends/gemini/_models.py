"""What each family of models served by the Gemini API can do, by model-name prefix.

``PROFILES`` is the one table: ``capabilities`` answers the command layer, the encoder reads
``system_prompt`` and ``schema_with_tools``, and the docs' capability matrix is rendered from
the same rows. Names are looked up as the API reads them, without a leading ``models/``.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from .._caching import CACHE_TTLS
from .._caching import PromptCacheSupport
from .._caching import ttl_seconds
from .._reasoning import EFFORTS
from .._reasoning import ReasoningEffort
from .._reasoning import ReasoningRow
from .._reasoning import ReasoningSupport
from .._reasoning import support_for
from ..base import Capabilities
from ..base import MediaSupport
from ..base import ModelProfile
from ..base import profile_for

__all__ = [
    "CAPABILITIES",
    "GEMMA",
    "NAME",
    "PROFILES",
    "REASONING",
    "capabilities",
    "profile",
]

NAME = "gemini"
"""The backend's registry name, and the tag on the provider data it keeps."""

# Fields left out keep ``Capabilities``' defaults: native JSON schema output, native
# parallel tools, streaming.
# Every kind inline (``inlineData``), by URL or uploaded file (``fileData``). The inline
# limit is the 20 MB per request of the API's documentation (newer pages quote more).
MEDIA = MediaSupport(
    image=frozenset({"inline", "url", "file"}),
    audio=frozenset({"inline", "url", "file"}),
    document=frozenset({"inline", "url", "file"}),
    document_types=frozenset(
        {"application/pdf", "text/plain", "text/html", "text/csv", "text/markdown"}
    ),
    inline_limit=20 * 1024 * 1024,
    uploads=True,
)

# Explicit cached contents (``cachedContents``) live as long as asked, to the second.
CACHE = PromptCacheSupport(
    "explicit", ttls=tuple((ttl, f"{ttl_seconds(ttl)}s") for ttl in CACHE_TTLS)
)

CAPABILITIES = Capabilities(
    schema_dialect="gemini", tool_error_flag=True, media=MEDIA, prompt_cache=CACHE
)
"""Gemini models: native JSON-schema output and native parallel function calling. A failed
tool's result is sent as ``{"error": ...}`` instead of ``{"output": ...}``, the convention
Gemini's function-calling documentation sets."""

GEMMA = Capabilities(
    structured_output="prompt",
    schema_dialect="gemini",
    tools=False,
    parallel_tools=False,
    media=MediaSupport(image=frozenset({"inline"}), inline_limit=20 * 1024 * 1024),
)
"""Gemma served by the Gemini API rejects JSON mode, function calling and system
instructions ("... is not enabled for models/gemma-3-27b-it"): schema by instructions,
tools through ReAct."""

PROFILES: tuple[ModelProfile, ...] = (
    ModelProfile(GEMMA, ("gemma-",), system_prompt=False, schema_with_tools=False),
    # Gemini 3 takes a response schema and function declarations in one request.
    ModelProfile(CAPABILITIES, ("gemini-3",), schema_with_tools=True),
    # Gemini 2.x answers 400 ("Function calling with a response mime type:
    # 'application/json' is unsupported"), so on tool turns the schema is left out and the
    # turn without tools that ends the command enforces it.
    ModelProfile(CAPABILITIES, schema_with_tools=False),
)
"""The Gemini API's model families, first match winning."""


# Thinking, from the Gemini API's thinking page: Gemini 3 takes a thinking level (Pro: low
# or high; Flash also minimal and medium) and still a budget, and cannot switch thinking
# off; Gemini 2.5 takes a budget (Pro 128-32768, never off; Flash 0-24576 and Flash-Lite
# 512-24576, 0 switching it off), efforts being turned into budgets. Thoughts come back only
# with ``include_thoughts``. Gemini 2.0 and older, and Gemma, do not think.
_LEVELS = ReasoningSupport("level", ("minimal", "low", "medium", "high"), budget=(128, 32768))
_OFF_OR_ON = EFFORTS
_ON: tuple[ReasoningEffort, ...] = EFFORTS[1:]  # "none" is the first
REASONING: tuple[ReasoningRow, ...] = (
    ReasoningRow(None, ("gemma-", "gemini-2.0", "gemini-1.")),
    ReasoningRow(
        ReasoningSupport("level", ("low", "high"), budget=(128, 32768)), ("gemini-3-pro",)
    ),
    ReasoningRow(_LEVELS, ("gemini-3",)),
    ReasoningRow(ReasoningSupport("budget", _ON, budget=(128, 32768)), ("gemini-2.5-pro",)),
    ReasoningRow(
        ReasoningSupport("budget", _OFF_OR_ON, budget=(512, 24576)), ("gemini-2.5-flash-lite",)
    ),
    ReasoningRow(ReasoningSupport("budget", _OFF_OR_ON, budget=(1, 24576)), ("gemini-2.5",)),
    ReasoningRow(_LEVELS, label="all other models (Gemini 3 and later)"),
)
"""The Gemini API's thinking rows, first match winning."""


@lru_cache(maxsize=512)  # pure, and asked on every call by the encoder
def profile(model: str) -> ModelProfile:
    """The row of ``model`` (``"gemini-2.5-flash"``, ``"models/gemma-3-27b-it"``...).

    >>> profile("models/gemma-3-27b-it").system_prompt
    False
    """
    return profile_for(PROFILES, model.removeprefix("models/"))


@lru_cache(maxsize=512)
def capabilities(model: str) -> Capabilities:
    """What the command layer may ask of ``model``."""
    reasoning = support_for(REASONING, model.removeprefix("models/"))
    return replace(profile(model).capabilities, reasoning=reasoning)
