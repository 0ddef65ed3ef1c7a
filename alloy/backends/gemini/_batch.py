"""Gemini batch mode for the ``gemini`` backend (``alloy.backends._batching.Batcher``).

A line is ``{"key": key, "request": body}``, the body being the REST JSON the realtime
``generate_content`` call sends (built by the SDK, ``_wire``; the model is in the batch call,
not in the body). Two routes, as the API has:

- inline, while the lines total at most ``INLINE_LIMIT`` bytes: each body goes back into the
  SDK's ``InlinedRequest`` (its ``contents`` and ``GenerateContentConfig``, read from their
  REST names), which the SDK turns into the same REST JSON, with ``metadata={"key": key}``.
  Answers come in input order, each with its metadata.
- a JSONL file above that (or for a body the SDK types cannot hold): the lines go up as
  they are with ``files.upload`` and the batch reads ``files/…``; answers come as a
  ``responsesFile`` in no particular order, fetched with ``files.download``.

The batch's ``display_name`` is alloy's marker, and so is the input file's: after a crash
``batch_find`` lists the batches for it and owns the file (or deletes it when no batch was
made). Clean-up deletes the input file and the output file; the batch itself is kept.
"""

from __future__ import annotations

import io
import json
from collections.abc import Generator
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol
from typing import cast

import pydantic
from google import genai
from google.genai import types

from ..._errors import ProviderError
from .._batching import BatchLimits
from .._batching import BatchOutcome
from .._batching import BatchPoll
from .._batching import ProviderBatch
from .._boundary import ErrorBoundary
from .._boundary import Secrets
from .._http import error_for_status
from .._wire import wire_request
from ._decode import decode_response
from ._encode import encode_request
from ._models import NAME

if TYPE_CHECKING:
    from ..._messages import Request

__all__ = ["INLINE_LIMIT", "LIMITS", "Batches"]

INLINE_LIMIT = 20_000_000
"""The most bytes of lines sent inline in the create call; more go as a JSONL file."""

LIMITS = BatchLimits(max_requests=1_000_000, max_bytes=2 * 1024**3)
"""One batch: its JSONL input file may hold 2 GB (the API sets no request count)."""

_ENDED = frozenset(
    {"JOB_STATE_SUCCEEDED", "JOB_STATE_FAILED", "JOB_STATE_CANCELLED", "JOB_STATE_EXPIRED"}
)
# google.rpc codes, and their HTTP statuses, for a line's error.
_CANCELLED, _DEADLINE = 1, 4
_RPC_STATUS = {3: 400, 5: 404, 7: 403, 8: 429, 9: 400, 13: 500, 14: 503, 16: 401}
_NAMED_STATUS = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
    "DEADLINE_EXCEEDED": 504,
}


class _Clients(Protocol):
    """What these methods use of ``backend.GeminiClients``."""

    @property
    def secrets(self) -> Secrets: ...

    def sync(self) -> genai.Client: ...

    def errors(self, timeout: float | None, *, stream: bool = False) -> ErrorBoundary: ...


class Batches:
    """The batch methods of ``GeminiBackend`` (a mixin over its ``GeminiClients``)."""

    @property
    def _sdk_clients(self) -> _Clients:
        # Looked up by name: importing ``GeminiClients`` would make an import circle.
        clients: _Clients = getattr(self, "_clients")  # noqa: B009
        return clients

    def batch_limits(self) -> BatchLimits:
        return LIMITS

    def batch_line(self, request: Request, key: str) -> dict[str, Any]:
        return {"key": key, "request": wire_request(NAME, encode_request(request)).body}

    def batch_submit(
        self, model: str, lines: Sequence[Mapping[str, Any]], marker: str
    ) -> ProviderBatch:
        clients = self._sdk_clients
        client = clients.sync()
        data = "".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines).encode()
        inline = _inlined(lines) if len(data) <= INLINE_LIMIT else None
        config = types.CreateBatchJobConfig(display_name=marker)
        if inline is not None:
            with _guarded(clients):
                made = client.batches.create(model=model, src=inline, config=config)
            return ProviderBatch(_name(made))
        upload = types.UploadFileConfig(mime_type="application/jsonl", display_name=marker)
        with _guarded(clients):
            stored = client.files.upload(file=io.BytesIO(data), config=upload)
        if not stored.name:
            raise ProviderError(f"{NAME}: the uploaded batch input has no name", provider=NAME)
        try:
            with _guarded(clients):
                made = client.batches.create(model=model, src=stored.name, config=config)
        except ProviderError:
            _delete(clients, stored.name)
            raise
        return ProviderBatch(_name(made), (stored.name,))

    def batch_find(self, marker: str) -> ProviderBatch | None:
        clients = self._sdk_clients
        client = clients.sync()
        with _guarded(clients):
            found = next((b for b in client.batches.list() if b.display_name == marker), None)
            inputs = tuple(
                f.name for f in client.files.list() if f.display_name == marker and f.name
            )
        if found is None:
            for name in inputs:  # uploaded, but the batch was never made: an orphan
                _delete(clients, name)
            return None
        return ProviderBatch(_name(found), inputs)

    def batch_poll(self, batch_id: str) -> BatchPoll:
        clients = self._sdk_clients
        with _guarded(clients):
            found = clients.sync().batches.get(name=batch_id)
        state = _state(found)
        stats = found.completion_stats  # Vertex AI only: the Developer API gives no counts
        counts: dict[str, int] = {}
        if stats is not None:
            counts = {
                "succeeded": int(stats.successful_count or 0),
                "failed": int(stats.failed_count or 0),
                "pending": int(stats.incomplete_count or 0),
            }
        error = None
        if state == "JOB_STATE_FAILED":
            error = (found.error.message if found.error else None) or "the batch failed"
        return BatchPoll(state in _ENDED, state, counts, error)

    def batch_results(self, batch_id: str) -> dict[str, BatchOutcome]:
        clients = self._sdk_clients
        client = clients.sync()
        with _guarded(clients):
            found = client.batches.get(name=batch_id)
        expired = _state(found) == "JOB_STATE_EXPIRED"
        dest = found.dest
        outcomes: dict[str, BatchOutcome] = {}
        for inlined in (dest.inlined_responses if dest else None) or []:
            key = (inlined.metadata or {}).get("key")
            if key is None:
                continue  # not one of alloy's lines: its item has no result
            if inlined.error is not None:
                error = inlined.error
                outcomes[key] = self._error(error.code, None, error.message, expired)
            elif inlined.response is not None:
                outcomes[key] = _decoded(key, inlined.response)
        if dest is not None and dest.file_name:
            with _guarded(clients):
                data = client.files.download(file=dest.file_name)
            outcomes.update(self._rows(data.decode("utf-8", "replace").splitlines(), expired))
        return outcomes

    def batch_cancel(self, batch_id: str) -> None:
        clients = self._sdk_clients
        with _guarded(clients):
            clients.sync().batches.cancel(name=batch_id)

    def batch_cleanup(self, batch_id: str, files: tuple[str, ...]) -> None:
        clients = self._sdk_clients
        owned = list(files)
        try:
            with _guarded(clients):
                dest = clients.sync().batches.get(name=batch_id).dest
            if dest is not None and dest.file_name:
                owned.append(dest.file_name)
        except ProviderError:
            pass  # best effort: the inputs still go
        for name in owned:
            _delete(clients, name)

    def _rows(self, rows: Iterable[str], expired: bool) -> dict[str, BatchOutcome]:
        """The outcomes of a ``responsesFile``'s lines (``{"key", "response" | "error"}``)."""
        outcomes: dict[str, BatchOutcome] = {}
        for raw in rows:
            if not raw.strip():
                continue
            try:
                row: Any = json.loads(raw)
                key = row["key"]
            except (ValueError, KeyError, TypeError, RecursionError) as exc:
                raise _unreadable(
                    f"a batch result line cannot be read ({type(exc).__name__})"
                ) from None
            if not isinstance(key, str):
                raise _unreadable("a batch result line has no key")
            error, response = row.get("error"), row.get("response")
            if isinstance(error, Mapping):
                fields = cast("Mapping[str, Any]", error)
                outcomes[key] = self._error(
                    fields.get("code"), fields.get("status"), fields.get("message"), expired
                )
                continue
            try:
                reply = types.GenerateContentResponse.model_validate(response)
            except (pydantic.ValidationError, ValueError, TypeError, RecursionError):
                outcomes[key] = _unreadable(f"the batch reply for {key} cannot be read")
                continue
            outcomes[key] = _decoded(key, reply)
        return outcomes

    def _error(self, code: object, status: object, message: object, expired: bool) -> BatchOutcome:
        """A line's error: not run (cancelled, or expired in an expired batch), or the alloy
        error of its status."""
        if code == _CANCELLED:
            return "cancelled"
        if code == _DEADLINE and expired:
            return "expired"
        http = _NAMED_STATUS.get(status) if isinstance(status, str) else None
        if http is None and isinstance(code, int):
            http = code if 100 <= code < 600 else _RPC_STATUS.get(code, 500)
        text = message if isinstance(message, str) and message else "the request failed"
        return error_for_status(NAME, http or 500, text, secrets=self._sdk_clients.secrets.values)


def _inlined(lines: Sequence[Mapping[str, Any]]) -> list[types.InlinedRequest] | None:
    """The lines as the SDK's inline requests, or None when a body does not fit its types
    (then the lines go in a file, as they are)."""
    found: list[types.InlinedRequest] = []
    try:
        for line in lines:
            body = dict(cast("Mapping[str, Any]", line["request"]))
            contents: Any = body.pop("contents", [])
            config: dict[str, Any] = {**body.pop("generationConfig", {}), **body}
            found.append(
                types.InlinedRequest(
                    contents=[types.Content.model_validate(c) for c in contents],
                    config=types.GenerateContentConfig.model_validate(config) if config else None,
                    metadata={"key": str(line["key"])},
                )
            )
    except (pydantic.ValidationError, TypeError, KeyError):
        return None
    return found


def _decoded(key: str, reply: types.GenerateContentResponse) -> BatchOutcome:
    try:
        return decode_response(reply)
    except Exception as exc:  # noqa: BLE001 - an unreadable reply is its line's error
        return _unreadable(f"the batch reply for {key} cannot be read ({type(exc).__name__})")


def _state(job: types.BatchJob) -> str:
    state = job.state
    return state.value if state is not None else "JOB_STATE_UNSPECIFIED"


def _name(job: types.BatchJob) -> str:
    if not job.name:
        raise _unreadable("the batch has no name")
    return job.name


@contextmanager
def _guarded(clients: _Clients) -> Generator[None]:
    """The backend's error boundary, and a ``ProviderError`` for an answer the SDK fails to
    parse (it raises ``TypeError`` and the like from its converters for a malformed batch)."""
    try:
        with clients.errors(None):
            yield
    except (TypeError, ValueError, KeyError, AttributeError, RecursionError) as exc:
        raise _unreadable(f"the batch API's answer cannot be read ({type(exc).__name__})") from None


def _delete(clients: _Clients, name: str) -> None:
    try:
        with _guarded(clients):
            clients.sync().files.delete(name=name)
    except ProviderError:
        pass  # best effort: the API deletes files after 48 hours anyway


def _unreadable(what: str) -> ProviderError:
    return ProviderError(f"{NAME}: {what}", provider=NAME, retryable=False)
