"""Small shared definitions with no better home."""

from __future__ import annotations

from typing import Any

__all__ = ["MISSING"]

MISSING: Any = object()
"""A value that was not given (where ``None`` is a real value)."""
