"""The ``anthropic`` backend: Claude through the official ``anthropic`` SDK (see ``backend``)."""

from __future__ import annotations

from ._encode import DEFAULT_MAX_TOKENS as DEFAULT_MAX_TOKENS
from ._models import PROFILES as PROFILES
from .backend import AnthropicBackend as AnthropicBackend

__all__ = ["DEFAULT_MAX_TOKENS", "PROFILES", "AnthropicBackend"]
