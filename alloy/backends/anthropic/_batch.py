"""Anthropic Message Batches for the ``anthropic`` backend (``alloy.backends._batching``).

A line is ``{"custom_id": key, "params": body}``, the body being what the realtime
``messages.create`` call sends (built by the SDK, ``_wire``): the SDK posts ``requests``
untransformed, so ``params`` must be plain JSON, ``temperature`` at its top level. A batch
has no metadata, so alloy's marker cannot travel with it and ``batch_find`` answers
``UNKNOWN``: a process stopped between the create call and the store write leaves the part
``ambiguous``, for ``adopt(id)`` or ``resubmit()``.

Results are the ``results(id)`` JSONL, in no particular order: a ``succeeded`` message is
decoded by the realtime decoder, an ``errored`` line becomes the alloy error of its error
``type``, ``canceled`` and ``expired`` lines never ran. Nothing is deleted afterwards: a batch
owns no files, and the API keeps its results for 29 days (alloy has them in its store).
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal
from typing import cast

from anthropic.types import Message as SDKMessage

from ..._errors import ProviderError
from .._batching import UNKNOWN
from .._batching import BatchLimits
from .._batching import BatchOutcome
from .._batching import BatchPoll
from .._batching import ProviderBatch
from .._boundary import ErrorBoundary
from .._http import body_message
from .._http import error_for_status
from .._wire import wire_request
from ._decode import decode_response
from ._encode import encode_request
from ._errors import in_stream_status
from ._errors import malformed
from ._errors import translate
from ._models import NAME

if TYPE_CHECKING:
    import anthropic

    from ..._messages import Request
    from .._boundary import Secrets
    from .._clients import ClientCache

__all__ = ["LIMITS", "Batches"]

LIMITS = BatchLimits(max_requests=100_000, max_bytes=256 * 1024 * 1024)
"""One batch: 100,000 requests, 256 MB of request body."""

_NOT_RUN: dict[str, Literal["expired", "cancelled"]] = {
    "canceled": "cancelled",
    "expired": "expired",
}


class Batches:
    """The batch methods of ``AnthropicBackend`` (a mixin over its client and secrets)."""

    _cache: ClientCache[anthropic.Anthropic, anthropic.AsyncAnthropic]
    _secrets: Secrets

    def _errors(self) -> ErrorBoundary:
        return ErrorBoundary(translate, self._secrets, None, malformed=malformed)

    def batch_limits(self) -> BatchLimits:
        return LIMITS

    def batch_line(self, request: Request, key: str) -> dict[str, Any]:
        params = {k: v for k, v in encode_request(request).items() if k != "stream"}
        body = dict(wire_request(NAME, params).body)
        body.pop("stream", None)  # the batch API refuses streamed requests
        return {"custom_id": key, "params": body}

    def batch_submit(
        self, model: str, lines: Sequence[Mapping[str, Any]], marker: str
    ) -> ProviderBatch:
        # ``marker`` has nowhere to go: Message Batches carry no metadata.
        requests = cast("Any", [dict(line) for line in lines])
        with self._errors():
            batch = self._cache.sync().messages.batches.create(requests=requests)
        return ProviderBatch(batch.id)

    def batch_find(self, marker: str) -> Literal["unknown"]:
        return UNKNOWN

    def batch_poll(self, batch_id: str) -> BatchPoll:
        with self._errors():
            found = self._cache.sync().messages.batches.retrieve(batch_id)
        counts = found.request_counts
        listed = {
            "processing": counts.processing,
            "succeeded": counts.succeeded,
            "errored": counts.errored,
            "canceled": counts.canceled,
            "expired": counts.expired,
        }
        state = str(found.processing_status)
        return BatchPoll(state == "ended", state, listed)

    def batch_results(self, batch_id: str) -> dict[str, BatchOutcome]:
        outcomes: dict[str, BatchOutcome] = {}
        with self._errors():
            results = self._cache.sync().messages.batches.results(batch_id)
            try:
                for entry in results:
                    key: object = getattr(entry, "custom_id", None)
                    if not isinstance(key, str):
                        raise _unreadable("a result line has no custom_id")
                    outcomes[key] = self._outcome(key, getattr(entry, "result", None))
            except (ValueError, TypeError, RecursionError) as exc:
                # The SDK parses each line with json.loads: a line that is not JSON.
                raise _unreadable(f"a result line cannot be read ({type(exc).__name__})") from None
            finally:
                results.close()
        return outcomes

    def batch_cancel(self, batch_id: str) -> None:
        with self._errors():
            self._cache.sync().messages.batches.cancel(batch_id)

    def batch_cleanup(self, batch_id: str, files: tuple[str, ...]) -> None:
        """Nothing to delete: a Message Batch owns no files. The batch itself is kept (the
        API drops its results after 29 days; ``messages.batches.delete`` removes it sooner)."""

    def _outcome(self, key: str, result: object) -> BatchOutcome:
        kind = getattr(result, "type", None)
        if kind in _NOT_RUN:
            return _NOT_RUN[kind]
        if kind == "succeeded":
            message = getattr(result, "message", None)
            if isinstance(message, SDKMessage):
                try:
                    return decode_response(message)
                except Exception as exc:  # noqa: BLE001 - an unreadable reply is its line's error
                    return _unreadable(f"the batch reply for {key} cannot be read ({exc!r:.80})")
            return _unreadable(f"the batch reply for {key} is not a message")
        if kind == "errored":
            raw: Any = getattr(result, "error", None)
            body: object = raw.to_dict() if hasattr(raw, "to_dict") else raw
            request_id = _field(body, "request_id")
            return error_for_status(
                NAME,
                in_stream_status(body),
                body_message(body, "the request failed"),
                request_id=request_id if isinstance(request_id, str) else None,
                secrets=self._secrets.values,
            )
        return _unreadable(f"the batch result for {key} has an unknown type {kind!r:.40}")


def _unreadable(what: str) -> ProviderError:
    return ProviderError(f"{NAME}: {what}", provider=NAME, retryable=False)


def _field(value: object, key: str) -> object:
    """``value[key]`` when ``value`` is a JSON object (the wire is not trusted)."""
    return cast("Mapping[str, object]", value).get(key) if isinstance(value, Mapping) else None
