"""What the OpenAI models can do, for both OpenAI backends.

One row today: every model takes a JSON schema natively and calls tools in parallel, over
the Responses API and Chat Completions alike. An OpenAI-compatible server behind
``openai-chat`` that lacks either says so in its error reply.
"""

from __future__ import annotations

from ..base import Capabilities
from ..base import ModelProfile
from ..base import profile_for

__all__ = ["PROFILES", "capabilities", "profile"]

PROFILES: tuple[ModelProfile, ...] = (
    # Native JSON schema output and native parallel tools (``Capabilities``' defaults); the
    # wire has no error flag for tool results.
    ModelProfile(Capabilities(schema_dialect="openai"), label="all models"),
)
"""Per-model rows, first match winning; the last row stands for every other model."""


def profile(model: str) -> ModelProfile:
    """The row of ``model``, named as the API takes it (no prefix to remove)."""
    return profile_for(PROFILES, model)


def capabilities(model: str) -> Capabilities:
    """What the command layer may ask of ``model``.

    >>> capabilities("gpt-5-mini").structured_output
    'json_schema'
    """
    return profile(model).capabilities
