"""A batch item's outcome as stored JSON, and back: the reply (the codec's JSON), the alloy
error of its line (class, message, status, request id; never the SDK exception), or that it
expired or was cancelled before it ran."""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from ._errors import AlloyError
from ._errors import AuthenticationError
from ._errors import BatchItemNotRun
from ._errors import ProviderError
from ._errors import ProviderTimeout
from ._errors import RateLimitError

if TYPE_CHECKING:
    from .backends.base import BatchOutcome

__all__ = ["loaded_error", "stored"]


def stored(outcome: BatchOutcome) -> dict[str, Any]:
    from ._codec import dump_response

    if isinstance(outcome, str):
        return {"state": outcome}
    if isinstance(outcome, ProviderError):
        # The message without what the error adds to it again when it is made once more.
        text = str(outcome).removeprefix(f"{outcome.provider}: ")
        if outcome.request_id:
            text = text.removesuffix(f" [request id {outcome.request_id}]")
        if outcome.status_code is not None:
            text = text.removesuffix(f" (HTTP {outcome.status_code})")
        return {
            "error": {
                "class": type(outcome).__name__,
                "message": text,
                "request_id": outcome.request_id,
                "provider": outcome.provider,
                "status_code": outcome.status_code,
                "retryable": outcome.retryable,
            }
        }
    return {"response": dump_response(outcome)}


_ERRORS: dict[str, type[ProviderError]] = {
    "ProviderError": ProviderError,
    "RateLimitError": RateLimitError,
    "AuthenticationError": AuthenticationError,
    "ProviderTimeout": ProviderTimeout,
}


def loaded_error(stored: dict[str, Any], provider: str) -> AlloyError:
    """The error of a stored outcome of ``provider``'s batch that holds no reply."""
    state = stored.get("state")
    if state in ("expired", "cancelled"):
        return BatchItemNotRun(str(state), provider=provider)
    raw: dict[str, Any] = stored.get("error") or {}
    cls = _ERRORS.get(str(raw.get("class")), ProviderError)
    status = raw.get("status_code")
    request_id = raw.get("request_id")
    return cls(
        str(raw.get("message") or "the item failed"),
        provider=str(raw.get("provider") or "batch"),
        status_code=status if isinstance(status, int) else None,
        request_id=request_id if isinstance(request_id, str) else None,
        retryable=bool(raw.get("retryable")),
    )
