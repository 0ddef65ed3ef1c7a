"""The ``anthropic`` backend: Claude through the official ``anthropic`` SDK (see ``backend``)."""

from __future__ import annotations

from .backend import CAPABILITY_TABLE as CAPABILITY_TABLE
from .backend import DEFAULT_MAX_TOKENS as DEFAULT_MAX_TOKENS
from .backend import AnthropicBackend as AnthropicBackend

__all__ = ["CAPABILITY_TABLE", "DEFAULT_MAX_TOKENS", "AnthropicBackend"]
