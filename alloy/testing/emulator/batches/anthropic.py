"""Anthropic Message Batches (``…/anthropic/v1/messages/batches``).

What anthropic sends: ``messages.batches.create`` posts ``{"requests": [{"custom_id",
"params"}]}`` with ``params`` untransformed; ``retrieve``, ``cancel`` (``POST …/cancel``),
``delete`` (``DELETE``) and ``list`` (``?after_id=&before_id=&limit=``, newest first);
``results`` retrieves the batch, then GETs its ``results_url``, an absolute URL, here on the
emulator itself, answering JSONL ``{"custom_id", "result": {"type": "succeeded", "message"}
| {"type": "errored", "error"} | {"type": "canceled"} | {"type": "expired"}}``, shuffled.

Requests are checked where it is cheap (a ``custom_id`` of 1 to 64 letters, digits, ``_``
and ``-``, unique; ``params`` with ``model``, ``messages`` and a ``max_tokens`` of at least
1), and bad ones refuse the whole batch with a 400 ``invalid_request_error``, as the API
does. Over ``max_requests`` is a 400, over ``max_bytes`` a 413 ``request_too_large``. Only an
ended batch may be deleted; a batch that ``fail`` ended has its unfinished lines errored.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import cast

from ..files import FileAnswer
from ..files import FileRequest
from ..files._base import BASE62
from ..files._base import json_answer
from ..files._base import random_id
from ..files._base import rfc3339
from ..wire._base import dumps
from ..wire.anthropic import error_body
from ._answers import BatchContext
from ._answers import answer
from ._jobs import TERMINAL
from ._jobs import BatchLine
from ._jobs import Job
from ._jobs import shuffled

__all__ = ["handle"]

_CUSTOM_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PATH = "/v1/messages"
_DEFAULT_PAGE, _MAX_PAGE = 20, 1000


def handle(ctx: BatchContext, request: FileRequest, size: int) -> FileAnswer:
    """Answer one request below ``/v1/messages/batches``; ``size`` is the body's bytes."""
    tail = request.api_path.split("/")[4:]
    method = request.method
    if not tail:
        if method == "POST":
            return _create(ctx, request.json, size, request.origin)
        if method == "GET":
            return _list(ctx, request)
    elif len(tail) <= 2:
        job = ctx.store.get("anthropic", tail[0])
        if job is None:
            return error(404, f"No message batch found with id '{tail[0]}'.")
        ended = job.phase(ctx.store.now()) in TERMINAL
        if len(tail) == 1 and method == "GET":
            return json_answer(200, batch_object(ctx, job))
        if len(tail) == 1 and method == "DELETE":
            if not ended:
                return error(
                    400,
                    f"Batch {job.id} cannot be deleted while it is in progress; cancel it first.",
                )
            ctx.store.delete(job)
            return json_answer(200, {"id": job.id, "type": "message_batch_deleted"})
        if tail[1:] == ["cancel"] and method == "POST":
            if not ended:
                ctx.store.cancel(job)
            return json_answer(200, batch_object(ctx, job))
        if tail[1:] == ["results"] and method == "GET":
            if not ended:
                return error(
                    400,
                    f"Batch {job.id} has not ended yet; results are available "
                    "once processing_status is 'ended'.",
                )
            return _results(ctx, job)
    return error(404, f"emulator: no endpoint {method} {request.api_path}")


def error(status: int, message: str) -> FileAnswer:
    return json_answer(status, error_body(status, message))


def batch_object(ctx: BatchContext, job: Job) -> dict[str, Any]:
    """The ``MessageBatch`` JSON at the scenario clock's now."""
    now = ctx.store.now()
    phase = job.phase(now)
    counts = job.counts(now)
    ended = phase in TERMINAL
    status = "ended" if ended else ("canceling" if phase == "cancelling" else "in_progress")
    ended_at = min(now, job.done_at if phase == "completed" else _end(job))
    return {
        "id": job.id,
        "type": "message_batch",
        "processing_status": status,
        "request_counts": {
            "processing": counts.get("processing", 0),
            "succeeded": counts.get("succeeded", 0),
            "errored": counts.get("errored", 0) + counts.get("failed", 0),
            "canceled": counts.get("cancelled", 0),
            "expired": counts.get("expired", 0),
        },
        "ended_at": rfc3339(ended_at) if ended else None,
        "created_at": rfc3339(job.created_at),
        "expires_at": rfc3339(job.expires_at),
        "archived_at": None,
        "cancel_initiated_at": None if job.cancel_at is None else rfc3339(job.cancel_at),
        "results_url": f"{job.extra['origin']}/v1/messages/batches/{job.id}/results"
        if ended
        else None,
    }


def _end(job: Job) -> float:
    if job.cancel_at is not None and job.cancel_at <= job.cutoff:
        return job.cancel_at + job.timing.cancel_lag
    return job.cutoff


def _create(ctx: BatchContext, body: Any, size: int, origin: str) -> FileAnswer:
    limits = ctx.store.limits("anthropic")
    if size > limits.max_bytes:
        message = "Request exceeds the maximum size"
        return json_answer(
            413,
            {
                "type": "error",
                "error": {"type": "request_too_large", "message": message},
                "request_id": None,
            },
        )
    requests = (
        cast("Mapping[str, Any]", body).get("requests") if isinstance(body, Mapping) else None
    )
    if not isinstance(requests, list) or not requests:
        return error(400, "requests: Field required: a list of at least one request")
    entries = cast("Sequence[Any]", requests)
    if len(entries) > limits.max_requests:
        return error(
            400,
            f"requests: List should have at most {limits.max_requests} items "
            f"after validation, not {len(entries)}",
        )
    lines: list[BatchLine] = []
    seen: set[str] = set()
    for index, raw in enumerate(entries):
        checked = _check(index, raw, seen)
        if isinstance(checked, FileAnswer):
            return checked
        lines.append(checked)
    now = ctx.store.now()
    outcomes = tuple(
        answer(ctx, line.key, "anthropic", line.body, _PATH, str(line.body.get("model")))
        for line in lines
    )
    models = {str(line.body.get("model")) for line in lines}
    job_id = "msgbatch_" + random_id(BASE62, 24)
    job = ctx.store.add(
        Job(
            provider="anthropic",
            id=job_id,
            created_at=now,
            timing=ctx.store.timing,
            lines=tuple(lines),
            outcomes=outcomes,
            line_ids=tuple(line.key for line in lines),
            order=shuffled(len(lines), job_id),
            model=models.pop() if len(models) == 1 else None,
            extra={"origin": origin},
        )
    )
    return json_answer(200, batch_object(ctx, job))


def _check(index: int, raw: Any, seen: set[str]) -> BatchLine | FileAnswer:
    where = f"requests.{index}"
    entry = cast("Mapping[str, Any]", raw) if isinstance(raw, Mapping) else None
    if entry is None:
        return error(400, f"{where}: Input should be an object")
    custom_id = entry.get("custom_id")
    if not isinstance(custom_id, str) or _CUSTOM_ID.fullmatch(custom_id) is None:
        return error(
            400, f"{where}.custom_id: String should match pattern '^[a-zA-Z0-9_-]{{1,64}}$'"
        )
    if custom_id in seen:
        return error(
            400, f"Duplicate custom_id: {custom_id!r}. Each request must have a unique custom_id."
        )
    seen.add(custom_id)
    params = entry.get("params")
    if not isinstance(params, Mapping):
        return error(400, f"{where}.params: Field required")
    body = dict(cast("Mapping[str, Any]", params))
    for name in ("model", "max_tokens", "messages"):
        if name not in body:
            return error(400, f"{where}.params.{name}: Field required")
    tokens = body["max_tokens"]
    if isinstance(tokens, bool) or not isinstance(tokens, int) or tokens < 1:
        return error(400, f"{where}.params.max_tokens: Input should be greater than or equal to 1")
    if body.get("stream") is True:
        return error(400, f"{where}.params.stream: streaming is not supported in batches")
    return BatchLine(custom_id, body)


def _results(ctx: BatchContext, job: Job) -> FileAnswer:
    now = ctx.store.now()
    rows: list[str] = []
    for index in job.order:
        state = job.line_state(index, now)
        outcome = job.outcomes[index]
        if state == "succeeded":
            result: dict[str, Any] = {"type": "succeeded", "message": outcome.body}
        elif state == "errored":
            result = {"type": "errored", "error": outcome.body}
        elif state == "failed":
            message = job.fail_message or "emulated batch failure"
            result = {"type": "errored", "error": error_body(500, message)}
        else:
            result = {"type": "canceled" if state == "cancelled" else "expired"}
        rows.append(dumps({"custom_id": job.lines[index].key, "result": result}))
    data = ("\n".join(rows) + "\n").encode()
    return FileAnswer(200, (("content-type", "application/binary"),), data)


def _list(ctx: BatchContext, request: FileRequest) -> FileAnswer:
    jobs = ctx.store.listing("anthropic")
    ids = [job.id for job in jobs]
    after, before = request.param("after_id"), request.param("before_id")
    if after:
        jobs = jobs[ids.index(after) + 1 :] if after in ids else []
    elif before:
        jobs = jobs[: ids.index(before)] if before in ids else []
    limit_text = request.param("limit") or str(_DEFAULT_PAGE)
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= _MAX_PAGE:
        return error(400, f"limit: Input should be between 1 and {_MAX_PAGE}")
    limit = int(limit_text)
    page = jobs[-limit:] if before and not after else jobs[:limit]
    return json_answer(
        200,
        {
            "data": [batch_object(ctx, job) for job in page],
            "has_more": len(jobs) > len(page),
            "first_id": page[0].id if page else None,
            "last_id": page[-1].id if page else None,
        },
    )
