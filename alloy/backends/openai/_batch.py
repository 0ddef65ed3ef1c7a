"""The OpenAI Batch API for both OpenAI backends (``alloy.backends._batching.Batcher``).

Lines go up as one JSONL file (``files.create(purpose="batch")``), the batch is created on
the backend's endpoint (``/v1/responses`` or ``/v1/chat/completions``) with the alloy job's
marker in its ``metadata``, and results come back as output and error files whose lines are
in no particular order. A line's ``response.body`` is the API's reply object, decoded by the
backend's realtime decoder; an error line becomes the alloy error for its status.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import ClassVar
from typing import cast

from ..._errors import ProviderError
from .._batching import BatchLimits
from .._batching import BatchOutcome
from .._batching import BatchPoll
from .._batching import ProviderBatch
from .._http import body_message
from .._http import error_for_status
from .._wire import wire_request

if TYPE_CHECKING:
    import openai

    from ..._messages import Request
    from .._boundary import ErrorBoundary
    from .._boundary import Secrets
    from .._clients import ClientCache

__all__ = ["LIMITS", "MARKER", "Batches"]

MARKER = "alloy_batch"
"""The ``metadata`` key that names the alloy job (and part) a batch belongs to."""

LIMITS = BatchLimits(max_requests=50_000, max_bytes=200 * 1024 * 1024)
"""One batch: 50,000 requests, a 200 MB input file."""

_ENDED = frozenset({"completed", "expired", "cancelled", "failed"})
_NOT_RUN = {"batch_expired": "expired", "batch_cancelled": "cancelled"}


class Batches:
    """The batch methods of ``OpenAIBase`` (a mixin: it uses the backend's client, API and
    error translation)."""

    name: str
    api: ClassVar[Any]
    """The backend's ``_shared.Api`` (not imported here: ``_shared`` imports this module)."""
    _clients: ClientCache[openai.OpenAI, openai.AsyncOpenAI]
    _secrets: Secrets

    def _boundary(self, timeout: float | None) -> ErrorBoundary:
        raise NotImplementedError

    def batch_limits(self) -> BatchLimits:
        return LIMITS

    def batch_line(self, request: Request, key: str) -> dict[str, Any]:
        wire = wire_request(self.name, self.api.encode(request))
        return {"custom_id": key, "method": "POST", "url": wire.path, "body": wire.body}

    def batch_submit(
        self, model: str, lines: Sequence[Mapping[str, Any]], marker: str
    ) -> ProviderBatch:
        client = self._clients.sync()
        data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
        url = str(lines[0]["url"])
        with self._boundary(None):
            upload = client.files.create(file=("alloy-batch.jsonl", data), purpose="batch")
        try:
            with self._boundary(None):
                batch = client.batches.create(
                    input_file_id=upload.id,
                    endpoint=cast("Any", url),  # one of the SDK's Literal endpoints
                    completion_window="24h",
                    metadata={MARKER: marker},
                )
        except ProviderError:
            _delete(self, upload.id)
            raise
        return ProviderBatch(batch.id, (upload.id,))

    def batch_find(self, marker: str) -> ProviderBatch | None:
        client = self._clients.sync()
        with self._boundary(None):
            for batch in client.batches.list(limit=100):
                if (batch.metadata or {}).get(MARKER) == marker:
                    return ProviderBatch(batch.id, (batch.input_file_id,))
        return None

    def batch_poll(self, batch_id: str) -> BatchPoll:
        with self._boundary(None):
            found = self._clients.sync().batches.retrieve(batch_id)
        counts = found.request_counts
        listed = {} if counts is None else {"total": counts.total, "completed": counts.completed}
        if counts is not None:
            listed["failed"] = counts.failed
        error = None
        if found.status == "failed" and found.errors is not None:
            error = "; ".join(e.message or e.code or "" for e in found.errors.data or []) or None
        return BatchPoll(found.status in _ENDED, found.status, listed, error)

    def batch_results(self, batch_id: str) -> dict[str, BatchOutcome]:
        client = self._clients.sync()
        with self._boundary(None):
            found = client.batches.retrieve(batch_id)
        outcomes: dict[str, BatchOutcome] = {}
        for file_id in (found.output_file_id, found.error_file_id):
            if not file_id:
                continue
            with self._boundary(None):
                text = client.files.content(file_id).text
            for raw in text.splitlines():
                if raw.strip():
                    key, outcome = _outcome(self, raw)
                    outcomes[key] = outcome
        return outcomes

    def batch_cancel(self, batch_id: str) -> None:
        with self._boundary(None):
            self._clients.sync().batches.cancel(batch_id)

    def batch_cleanup(self, batch_id: str, files: tuple[str, ...]) -> None:
        owned = list(files)
        try:
            with self._boundary(None):
                found = self._clients.sync().batches.retrieve(batch_id)
            owned += [f for f in (found.output_file_id, found.error_file_id) if f]
        except ProviderError:
            pass  # best effort: the inputs still go
        for file_id in owned:
            _delete(self, file_id)


def _delete(backend: Batches, file_id: str) -> None:
    try:
        with backend._boundary(None):  # pyright: ignore[reportPrivateUsage]
            backend._clients.sync().files.delete(file_id)  # pyright: ignore[reportPrivateUsage]
    except ProviderError:
        pass  # best effort: the provider drops batch files on its own in time


def _outcome(backend: Batches, raw: str) -> tuple[str, BatchOutcome]:
    """One output or error line: its key and outcome. A line that cannot be read is a
    ``ProviderError`` for its key (or raised, when even the key is unreadable)."""
    name = backend.name
    try:
        line = json.loads(raw)
        key = str(line["custom_id"])
    except (ValueError, KeyError, TypeError, RecursionError) as exc:
        raise ProviderError(
            f"{name}: a batch result line cannot be read ({type(exc).__name__})",
            provider=name,
            retryable=False,
        ) from None
    error: Any = line.get("error")
    response: Any = line.get("response")
    code = _field(error, "code")
    if code in _NOT_RUN:
        return key, "expired" if _NOT_RUN[code] == "expired" else "cancelled"
    status, body = _field(response, "status_code"), _field(response, "body")
    if status == 200 and isinstance(body, Mapping):
        try:
            reply = backend.api.reply.model_validate(body)
            return key, backend.api.decode(reply)
        except Exception as exc:  # noqa: BLE001 - any unreadable reply is that line's error
            return key, ProviderError(
                f"{name}: the batch reply for {key} cannot be read ({type(exc).__name__})",
                provider=name,
                retryable=False,
            )
    message = body_message(body if body is not None else error, "the request failed")
    return key, error_for_status(
        name,
        status if isinstance(status, int) else 500,
        message,
        secrets=backend._secrets.values,  # pyright: ignore[reportPrivateUsage]
    )


def _field(value: object, key: str) -> Any:
    """``value[key]`` when ``value`` is a JSON object (the wire is not trusted)."""
    return cast("Mapping[str, Any]", value).get(key) if isinstance(value, Mapping) else None
