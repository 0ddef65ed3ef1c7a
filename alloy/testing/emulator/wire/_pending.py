"""Error envelopes for providers whose Reply synthesis is not written yet.

Faults already work on these paths; a ``Reply`` gets a 501. Each provider's renderer module
will take over its envelope (PROVIDERS.md 3.7).
"""

from __future__ import annotations

from typing import Any

from ._base import WireFormat

__all__ = ["PENDING"]

_ANTHROPIC_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    529: "overloaded_error",
}
_GEMINI_STATUSES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}


def _anthropic_error(status: int, message: str) -> dict[str, Any]:
    kind = _ANTHROPIC_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": None}


def _gemini_error(status: int, message: str) -> dict[str, Any]:
    name = _GEMINI_STATUSES.get(status, "INTERNAL" if status >= 500 else "FAILED_PRECONDITION")
    return {"error": {"code": status, "message": message, "status": name}}


def _ollama_error(status: int, message: str) -> dict[str, Any]:
    return {"error": message}


PENDING = (
    WireFormat(provider="anthropic", error_body=_anthropic_error),
    WireFormat(provider="gemini", error_body=_gemini_error),
    WireFormat(provider="ollama", error_body=_ollama_error),
)
