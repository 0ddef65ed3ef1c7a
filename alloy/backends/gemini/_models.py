"""What each family of models served by the Gemini API can do, by model-name prefix.

``PROFILES`` is the one table: ``capabilities`` answers the command layer, the encoder reads
``system_prompt`` and ``schema_with_tools``, and the docs' capability matrix is rendered from
the same rows. Names are looked up as the API reads them, without a leading ``models/``.
"""

from __future__ import annotations

from functools import lru_cache

from ..base import Capabilities
from ..base import MediaSupport
from ..base import ModelProfile
from ..base import profile_for

__all__ = ["CAPABILITIES", "GEMMA", "NAME", "PROFILES", "capabilities", "profile"]

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

CAPABILITIES = Capabilities(schema_dialect="gemini", tool_error_flag=True, media=MEDIA)
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


@lru_cache(maxsize=512)  # pure, and asked on every call by the encoder
def profile(model: str) -> ModelProfile:
    """The row of ``model`` (``"gemini-2.5-flash"``, ``"models/gemma-3-27b-it"``...).

    >>> profile("models/gemma-3-27b-it").system_prompt
    False
    """
    return profile_for(PROFILES, model.removeprefix("models/"))


def capabilities(model: str) -> Capabilities:
    """What the command layer may ask of ``model``."""
    return profile(model).capabilities
