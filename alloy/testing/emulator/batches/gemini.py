"""Gemini batch mode (``…/gemini/{version}/models/{m}:batchGenerateContent`` and
``…/{version}/batches``).

What google-genai 3.4 sends: ``batches.create`` posts ``{"batch": {"displayName"?,
"inputConfig": {"requests": {"requests": [{"request": {REST JSON}, "metadata"?}]}} |
{"fileName": "files/…"}}}``; the file holds JSONL lines ``{"key", "request"}``. ``get`` is
``GET batches/{id}``, ``cancel`` ``POST batches/{id}:cancel``, ``delete`` ``DELETE
batches/{id}``, ``list`` ``GET batches?pageSize=&pageToken=`` (``{"operations": [...],
"nextPageToken"}``).

Every answer is an operation ``{"name": "batches/…", "metadata": {"@type", "model",
"displayName", "createTime", "updateTime", "endTime", "state": "BATCH_STATE_*",
"batchStats", "output"}, "done"}``; the SDK maps the states to ``JOB_STATE_*``. An inline
batch answers ``output.inlinedResponses.inlinedResponses`` in input order, each with the
request's ``metadata`` and a ``response`` or an ``error``; a file batch answers
``output.responsesFile``, a generated file of JSONL ``{"key", "response" | "error"}`` lines in
shuffled order that ``files.download`` fetches. An inline body over ``max_bytes`` is the
API's 400 "Request payload size exceeds the limit".
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import cast

from ..files import FileAnswer
from ..files import FileRequest
from ..files import StoredFile
from ..files._base import LOWER36
from ..files._base import json_answer
from ..files._base import random_id
from ..files._base import rfc3339
from ..files._base import sha256_hex
from ..files.gemini import error
from ..wire._base import dumps
from ._answers import BatchContext
from ._answers import answer
from ._jobs import TERMINAL
from ._jobs import BatchLine
from ._jobs import Job
from ._jobs import mapping
from ._jobs import shuffled

__all__ = ["handle"]

_CREATE = re.compile(r"/(?P<version>v[^/]+)/models/(?P<model>[^/:]+):batchGenerateContent")
_BATCHES = re.compile(r"/(?P<version>v[^/]+)/batches(?:/(?P<id>[^/:]+)(?P<verb>:cancel)?)?")
_STATES = {
    "validating": "BATCH_STATE_PENDING",
    "in_progress": "BATCH_STATE_RUNNING",
    "finalizing": "BATCH_STATE_RUNNING",
    "cancelling": "BATCH_STATE_RUNNING",
    "completed": "BATCH_STATE_SUCCEEDED",
    "failed": "BATCH_STATE_FAILED",
    "cancelled": "BATCH_STATE_CANCELLED",
    "expired": "BATCH_STATE_EXPIRED",
}
# What a line not run answers with (google.rpc codes: CANCELLED, DEADLINE_EXCEEDED, ABORTED).
_NOT_RUN = {
    "cancelled": {"code": 1, "message": "The batch was cancelled before this request ran."},
    "expired": {"code": 4, "message": "The batch expired before this request ran."},
    "failed": {"code": 10, "message": "The batch failed before this request ran."},
}
_DEFAULT_PAGE, _MAX_PAGE = 10, 1000


def handle(ctx: BatchContext, request: FileRequest, size: int) -> FileAnswer:
    """Answer ``:batchGenerateContent`` or a request below ``{version}/batches``."""
    created = _CREATE.fullmatch(request.api_path)
    if created is not None and request.method == "POST":
        return _create(ctx, request, size, created["model"], created["version"])
    match = _BATCHES.fullmatch(request.api_path)
    if match is None:
        return _no_endpoint(request)
    job_id, method = match["id"], request.method
    if job_id is None:
        return _list(ctx, request) if method == "GET" else _no_endpoint(request)
    job = ctx.store.get("gemini", "batches/" + job_id)
    if job is None:
        return error(404, "Requested entity was not found.")
    if match["verb"] and method == "POST":
        if job.phase(ctx.store.now()) in TERMINAL:
            return error(400, f"Batch {job.id} has already ended.", status="FAILED_PRECONDITION")
        ctx.store.cancel(job)
        return json_answer(200, {})
    if match["verb"]:
        return _no_endpoint(request)
    if method == "GET":
        return json_answer(200, operation(ctx, job))
    if method == "DELETE":
        ctx.store.delete(job)
        return json_answer(200, {})
    return _no_endpoint(request)


def operation(ctx: BatchContext, job: Job) -> dict[str, Any]:
    """The batch as the operation the API answers with, at the scenario clock's now."""
    now = ctx.store.now()
    phase = job.phase(now)
    counts = job.counts(now)
    ended = phase in TERMINAL
    metadata: dict[str, Any] = {
        "@type": "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch",
        "model": job.model,
        "displayName": job.extra.get("display_name") or "",
        "createTime": rfc3339(job.created_at),
        "updateTime": rfc3339(
            min(now, job.done_at) if not ended else min(now, job.cutoff, job.done_at)
        ),
        "state": _STATES[phase],
        "name": job.id,
        "batchStats": {
            "requestCount": str(len(job.lines)),
            "successfulRequestCount": str(counts.get("succeeded", 0)),
            "failedRequestCount": str(counts.get("errored", 0)),
            "pendingRequestCount": str(counts.get("processing", 0)),
        },
    }
    if ended:
        metadata["endTime"] = metadata["updateTime"]
    output = _output(ctx, job, phase) if ended and not job.errors else None
    if output is not None:
        metadata["output"] = output
    body: dict[str, Any] = {"name": job.id, "metadata": metadata, "done": ended}
    if phase == "failed":
        message = job.fail_message or "; ".join(str(e.get("message")) for e in job.errors)
        body["error"] = {"code": 13, "message": message or "emulated batch failure"}
    elif output is not None:
        body["response"] = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1main."
            "GenerateContentBatchOutput",
            **output,
        }
    return body


def _line_answer(job: Job, index: int, phase: str, now: float) -> dict[str, Any]:
    state = job.line_state(index, now)
    outcome = job.outcomes[index]
    if state == "succeeded":
        return {"response": outcome.body}
    if state == "errored":
        envelope = outcome.body
        inner = mapping(envelope).get("error")
        return {"error": inner if inner is not None else envelope}
    return {"error": _NOT_RUN.get(phase, _NOT_RUN["failed"])}


def _output(ctx: BatchContext, job: Job, phase: str) -> dict[str, Any] | None:
    now = ctx.store.now()
    if job.source == "inline":
        answers: list[dict[str, Any]] = []
        for index in range(len(job.lines)):
            entry = _line_answer(job, index, phase, now)
            metadata = job.extra["metadata"][index]
            if metadata is not None:
                entry["metadata"] = metadata
            answers.append(entry)
        return {"inlinedResponses": {"inlinedResponses": answers}}
    if "output" not in job.files:
        rows = [
            dumps({"key": job.lines[index].key, **_line_answer(job, index, phase, now)})
            for index in job.order
        ]
        data = ("\n".join(rows) + "\n").encode()
        name = "files/batch-" + random_id(LOWER36, 12)
        version = job.extra["version"]
        ctx.files.add(
            StoredFile(
                provider="gemini",
                id=name,
                filename=None,
                media_type="application/jsonl",
                size=len(data),
                sha256=sha256_hex(data),
                created_at=now,
                uri=f"{job.extra['origin']}/{version}/{name}",
                metadata={"source": "GENERATED", "displayName": f"{job.id} output"},
                data=data,
            )
        )
        job.files["output"] = name
    return {"responsesFile": job.files["output"]}


def _create(
    ctx: BatchContext, request: FileRequest, size: int, model: str, version: str
) -> FileAnswer:
    batch = _get(request.json, "batch")
    source = _get(batch, "inputConfig")
    if not isinstance(source, Mapping):
        return error(400, "batch.input_config is required.")
    limits = ctx.store.limits("gemini")
    file_name = _get(source, "fileName")
    if file_name is not None:
        parsed = _file_lines(ctx, file_name)
        if isinstance(parsed, FileAnswer):
            return parsed
        lines, metadata = parsed, [None] * len(parsed)
    else:
        if size > limits.max_bytes:
            return error(400, f"Request payload size exceeds the limit: {limits.max_bytes} bytes.")
        entries = _get(_get(source, "requests"), "requests")
        if not isinstance(entries, list) or not entries:
            return error(400, "batch.input_config.requests.requests must not be empty.")
        lines, metadata = list[BatchLine](), list[Any]()
        for index, raw in enumerate(cast("Sequence[Any]", entries)):
            asked, meta = _get(raw, "request"), _get(raw, "metadata")
            if not isinstance(asked, Mapping):
                return error(
                    400, f"batch.input_config.requests.requests[{index}].request is required."
                )
            key = _get(meta, "key")
            lines.append(
                BatchLine(key if isinstance(key, str) else str(index), dict(mapping(asked)))
            )
            metadata.append(meta)
    if len(lines) > limits.max_requests:
        return error(
            400, f"A batch may hold at most {limits.max_requests} requests, not {len(lines)}."
        )
    path = f"/{version}/models/{model}:generateContent"
    outcomes = tuple(answer(ctx, line.key, "gemini", line.body, path, model) for line in lines)
    job_id = "batches/" + random_id(LOWER36, 24)
    display = _get(batch, "displayName")
    job = ctx.store.add(
        Job(
            provider="gemini",
            id=job_id,
            created_at=ctx.store.now(),
            timing=ctx.store.timing,
            lines=tuple(lines),
            outcomes=outcomes,
            line_ids=tuple(line.key for line in lines),
            order=shuffled(len(lines), job_id),
            model=f"models/{model}",
            source="inline" if file_name is None else "file",
            extra={
                "display_name": display if isinstance(display, str) else None,
                "metadata": metadata,
                "version": version,
                "origin": request.origin,
                "file_name": file_name,
            },
        )
    )
    return json_answer(200, operation(ctx, job))


def _file_lines(ctx: BatchContext, name: Any) -> list[BatchLine] | FileAnswer:
    file = ctx.files.get("gemini", str(name))
    if file is None:
        return error(
            403, f"You do not have permission to access the File {name} or it may not exist."
        )
    lines: list[BatchLine] = []
    rows = [row for row in file.data.decode("utf-8", "replace").splitlines() if row.strip()]
    for number, row in enumerate(rows):
        try:
            entry: Any = json.loads(row)
        except ValueError:
            return error(400, f"Line {number + 1} of {name} is not valid JSON.")
        request, key = _get(entry, "request"), _get(entry, "key")
        if not isinstance(request, Mapping):
            return error(400, f"Line {number + 1} of {name} has no request object.")
        lines.append(
            BatchLine(key if isinstance(key, str) else str(number), dict(mapping(request)))
        )
    if not lines:
        return error(400, f"The input file {name} has no requests.")
    return lines


def _list(ctx: BatchContext, request: FileRequest) -> FileAnswer:
    jobs = ctx.store.listing("gemini")
    size_text = request.param("pageSize") or str(_DEFAULT_PAGE)
    token = request.param("pageToken") or "0"
    if not size_text.isdigit() or not token.isdigit():
        return error(400, "Invalid pageSize or pageToken.")
    size = min(max(int(size_text), 1), _MAX_PAGE)
    first = int(token)
    body: dict[str, Any] = {}
    page = jobs[first : first + size]
    if page:
        body["operations"] = [operation(ctx, job) for job in page]
    if first + size < len(jobs):
        body["nextPageToken"] = str(first + size)
    return json_answer(200, body)


def _get(value: Any, key: str) -> Any:
    return cast("Mapping[str, Any]", value).get(key) if isinstance(value, Mapping) else None


def _no_endpoint(request: FileRequest) -> FileAnswer:
    return error(404, f"emulator: no endpoint {request.method} {request.api_path}")
