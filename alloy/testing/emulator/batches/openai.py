"""OpenAI Batch (``…/openai/v1/batches``): create, retrieve, cancel and list.

What openai 3.52 sends: ``batches.create`` posts ``{"input_file_id", "endpoint",
"completion_window": "24h", "metadata"?, "output_expires_after"?}``; ``retrieve`` is
``GET batches/{id}``, ``cancel`` ``POST batches/{id}/cancel``, ``list`` ``GET
batches?after=&limit=`` (a cursor page, newest first). The input file (uploaded with
``purpose="batch"``) holds JSONL lines ``{"custom_id", "method": "POST", "url", "body"}``.

The input is validated as the API does: one JSON object a line, ``custom_id`` a unique
string, ``method`` POST, ``url`` the batch's endpoint, ``body`` an object, one ``model`` for
every line, at most ``max_requests`` lines and ``max_bytes`` bytes. Bad input makes the batch
``failed`` once validating is over, with ``errors.data[]`` (``code``, ``message``, ``param``,
``line``; the codes are the emulator's). At the end the answers are written to an output
file (2xx answers) and an error file (the rest, and the lines not run, with the API's
``batch_expired`` and ``batch_cancelled``), both purpose ``batch_output``, lines shuffled.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Mapping
from typing import Any
from typing import cast

from ..files import FileAnswer
from ..files import FileRequest
from ..files import StoredFile
from ..files._base import BASE62
from ..files._base import json_answer
from ..files._base import random_id
from ..files._base import sha256_hex
from ..files.openai import error
from ..wire._base import dumps
from ._answers import BatchContext
from ._answers import answer
from ._jobs import TERMINAL
from ._jobs import BatchLine
from ._jobs import Job
from ._jobs import mapping
from ._jobs import shuffled

__all__ = ["handle"]

_WIRES = {"/v1/chat/completions": "openai-chat", "/v1/responses": "openai-responses"}
_WINDOW = "24h"
_MAX_METADATA = 16
_DEFAULT_PAGE, _MAX_PAGE = 20, 100
_NOT_RUN = {
    "expired": (
        "batch_expired",
        "This request could not be executed before the completion window expired.",
    ),
    "cancelled": (
        "batch_cancelled",
        "This request was not executed because the batch was cancelled.",
    ),
    "failed": ("batch_failed", "This request was not executed because the batch failed."),
}


def handle(ctx: BatchContext, request: FileRequest) -> FileAnswer:
    """Answer one request below ``/v1/batches``."""
    tail = request.api_path.split("/")[3:]
    method = request.method
    if not tail:
        if method == "POST":
            return _create(ctx, request.json)
        if method == "GET":
            return _list(ctx, request)
    elif len(tail) <= 2:
        job = ctx.store.get("openai", tail[0])
        if job is None:
            return error(404, f"No batch found with id '{tail[0]}'.", "batch_id")
        if len(tail) == 1 and method == "GET":
            return json_answer(200, batch_object(ctx, job))
        if tail[1:] == ["cancel"] and method == "POST":
            phase = job.phase(ctx.store.now())
            if phase in TERMINAL:
                return error(409, f"Cannot cancel a batch with status '{phase}'.")
            ctx.store.cancel(job)
            return json_answer(200, batch_object(ctx, job))
    return error(404, f"emulator: no endpoint {method} {request.api_path}")


def batch_object(ctx: BatchContext, job: Job) -> dict[str, Any]:
    """The ``Batch`` JSON at the scenario clock's now."""
    now = ctx.store.now()
    phase = job.phase(now)
    if phase in TERMINAL and phase != "failed":
        _write_files(ctx, job, phase)
    counts = job.counts(now)
    done = counts.get("succeeded", 0)
    failed = counts.get("errored", 0)
    tokens_in, cached, tokens_out, reasoning = job.usage(now)
    ran = not job.errors and now >= job.run_start

    def at(mark: float | None, reached: bool) -> int | None:
        return int(mark) if mark is not None and reached else None

    errors = list(job.errors)
    if job.failed_at is not None and phase == "failed":
        errors.append(
            {"code": "batch_failed", "message": job.fail_message, "param": None, "line": None}
        )
    return {
        "id": job.id,
        "object": "batch",
        "endpoint": job.endpoint,
        "model": job.model,
        "errors": {"object": "list", "data": errors} if errors and phase == "failed" else None,
        "input_file_id": job.extra["input_file_id"],
        "completion_window": _WINDOW,
        "status": phase,
        "output_file_id": job.files.get("output"),
        "error_file_id": job.files.get("error"),
        "created_at": int(job.created_at),
        "in_progress_at": at(job.run_start, ran),
        "expires_at": int(job.expires_at),
        "finalizing_at": at(job.run_end, phase in ("finalizing", "completed")),
        "completed_at": at(job.done_at, phase == "completed"),
        "failed_at": at(job.failed_at or job.run_start, phase == "failed"),
        "expired_at": at(job.expires_at, phase == "expired"),
        "cancelling_at": at(job.cancel_at, phase in ("cancelling", "cancelled")),
        "cancelled_at": at((job.cancel_at or 0) + job.timing.cancel_lag, phase == "cancelled"),
        "request_counts": {"total": len(job.lines), "completed": done, "failed": failed},
        "usage": {
            "input_tokens": tokens_in,
            "input_tokens_details": {"cached_tokens": cached},
            "output_tokens": tokens_out,
            "output_tokens_details": {"reasoning_tokens": reasoning},
            "total_tokens": tokens_in + tokens_out,
        },
        "metadata": job.extra.get("metadata"),
    }


def _create(ctx: BatchContext, body: Any) -> FileAnswer:
    if not isinstance(body, Mapping):
        return error(400, "The request body must be a JSON object.")
    data = cast("Mapping[str, Any]", body)
    for name in ("input_file_id", "endpoint", "completion_window"):
        if not isinstance(data.get(name), str):
            return error(400, f"Missing required parameter: '{name}'.", name)
    endpoint = str(data["endpoint"])
    if endpoint not in _WIRES:
        allowed = ", ".join(repr(e) for e in _WIRES)
        return error(
            400,
            f"Invalid value for 'endpoint': {endpoint!r}; the emulator serves {allowed}.",
            "endpoint",
        )
    if data["completion_window"] != _WINDOW:
        return error(
            400,
            f"Invalid value for 'completion_window': "
            f"{data['completion_window']!r}; expected '24h'.",
            "completion_window",
        )
    metadata = data.get("metadata")
    if metadata is not None and (
        not isinstance(metadata, Mapping) or len(cast("Mapping[str, Any]", metadata)) > 16
    ):
        return error(400, f"Invalid 'metadata': at most {_MAX_METADATA} string pairs.", "metadata")
    file_id = str(data["input_file_id"])
    file = ctx.files.get("openai", file_id)
    if file is None:
        return error(404, f"No such File object: {file_id}", "input_file_id")
    if file.purpose != "batch":
        return error(
            400,
            f"File {file_id} has purpose {file.purpose!r}; a batch input file "
            "must have purpose 'batch'.",
            "input_file_id",
        )
    lines, problems = _parse(ctx, file.data, endpoint)
    models = [mapping(line.body).get("model") for line in lines]
    model = next((name for name in models if isinstance(name, str)), None)
    now = ctx.store.now()
    wire = _WIRES[endpoint]
    outcomes = (
        ()
        if problems
        else tuple(answer(ctx, line.key, wire, line.body, endpoint, str(model)) for line in lines)
    )
    job_id = "batch_" + secrets.token_hex(16)
    job = ctx.store.add(
        Job(
            provider="openai",
            id=job_id,
            created_at=now,
            timing=ctx.store.timing,
            lines=tuple(lines),
            outcomes=outcomes,
            line_ids=tuple("batch_req_" + secrets.token_hex(16) for _ in lines),
            order=shuffled(len(lines), job_id),
            model=model,
            endpoint=endpoint,
            source="file",
            errors=tuple(problems),
            extra={"input_file_id": file_id, "metadata": metadata},
        )
    )
    return json_answer(200, batch_object(ctx, job))


def _parse(
    ctx: BatchContext, data: bytes, endpoint: str
) -> tuple[list[BatchLine], list[dict[str, Any]]]:
    """The lines of an input file, and the validation errors (empty when it is good)."""
    limits = ctx.store.limits("openai")
    if len(data) > limits.max_bytes:
        message = f"The input file exceeds the maximum size of {limits.max_bytes} bytes."
        return [], [_problem("file_too_large", message, None)]
    lines: list[BatchLine] = []
    problems: list[dict[str, Any]] = []
    seen: set[str] = set()
    models: set[str] = set()
    rows = [row for row in data.decode("utf-8", "replace").splitlines() if row.strip()]
    if not rows:
        return [], [_problem("empty_file", "The input file has no requests.", None)]
    if len(rows) > limits.max_requests:
        message = f"The batch has {len(rows)} requests; the limit is {limits.max_requests}."
        return [], [_problem("too_many_requests", message, None)]
    for number, row in enumerate(rows, start=1):
        try:
            parsed: Any = json.loads(row)
        except ValueError:
            problems.append(_problem("invalid_json_line", "This line is not valid JSON.", number))
            continue
        entry = mapping(parsed)
        custom_id, body = entry.get("custom_id"), entry.get("body")
        if not isinstance(custom_id, str) or not custom_id:
            problems.append(_problem("missing_custom_id", "custom_id must be a string.", number))
        elif custom_id in seen:
            message = f"The custom_id {custom_id!r} is used by more than one request."
            problems.append(_problem("duplicate_custom_id", message, number))
        if entry.get("method") != "POST":
            problems.append(_problem("invalid_method", "method must be 'POST'.", number))
        if entry.get("url") != endpoint:
            message = f"url must be the batch's endpoint {endpoint!r}, not {entry.get('url')!r}."
            problems.append(_problem("mismatched_url", message, number))
        if not isinstance(body, Mapping):
            problems.append(_problem("invalid_body", "body must be a JSON object.", number))
        else:
            model = cast("Mapping[str, Any]", body).get("model")
            if isinstance(model, str):
                models.add(model)
            if len(models) > 1:
                message = "Every request of a batch must use the same model."
                problems.append(_problem("mismatched_model", message, number))
        key = custom_id if isinstance(custom_id, str) else str(number)
        seen.add(key)
        lines.append(BatchLine(key, body))
    return lines, problems


def _problem(code: str, message: str, line: int | None) -> dict[str, Any]:
    return {"code": code, "message": message, "param": None, "line": line}


def _write_files(ctx: BatchContext, job: Job, phase: str) -> None:
    """Make the output and error files once the batch has ended (once per batch)."""
    if job.files or not job.lines:
        return
    now = ctx.store.now()
    output: list[str] = []
    failed: list[str] = []
    for index in job.order:
        state = job.line_state(index, now)
        line: dict[str, Any] = {"id": job.line_ids[index], "custom_id": job.lines[index].key}
        if state in ("succeeded", "errored"):
            outcome = job.outcomes[index]
            line["response"] = {
                "status_code": outcome.status,
                "request_id": "req_" + secrets.token_hex(16),
                "body": outcome.body,
            }
            line["error"] = None
            (output if outcome.ok else failed).append(dumps(line))
        else:
            code, message = _NOT_RUN.get(phase, _NOT_RUN["failed"])
            line["response"] = None
            line["error"] = {"code": code, "message": message}
            failed.append(dumps(line))
    for role, rows in (("output", output), ("error", failed)):
        if rows:
            job.files[role] = _store_file(ctx, f"batch_{job.id}_{role}.jsonl", rows, now)


def _store_file(ctx: BatchContext, name: str, rows: list[str], now: float) -> str:
    data = ("\n".join(rows) + "\n").encode()
    file = ctx.files.add(
        StoredFile(
            provider="openai",
            id="file-" + random_id(BASE62, 22),
            filename=name,
            media_type="application/jsonl",
            size=len(data),
            sha256=sha256_hex(data),
            created_at=int(now),
            purpose="batch_output",
            state="processed",
            data=data,
        )
    )
    return file.id


def _list(ctx: BatchContext, request: FileRequest) -> FileAnswer:
    jobs = ctx.store.listing("openai")
    after = request.param("after")
    if after:
        ids = [job.id for job in jobs]
        jobs = jobs[ids.index(after) + 1 :] if after in ids else []
    limit_text = request.param("limit") or str(_DEFAULT_PAGE)
    if not limit_text.isdigit() or not 1 <= int(limit_text) <= _MAX_PAGE:
        return error(400, f"Invalid value for 'limit': {limit_text!r}.", "limit")
    page = jobs[: int(limit_text)]
    return json_answer(
        200,
        {
            "object": "list",
            "data": [batch_object(ctx, job) for job in page],
            "first_id": page[0].id if page else None,
            "last_id": page[-1].id if page else None,
            "has_more": len(jobs) > len(page),
        },
    )
