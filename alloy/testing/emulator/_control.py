"""The control plane under ``/__emu__/``: scripting an emulator from another process.

Endpoints (JSON in, JSON out; ``scenario`` null or absent means the default scenario):

* ``POST /__emu__/enqueue`` ``{"scenario", "items": [{"kind": "reply"|"fault"|"verbatim", …}]}``
* ``GET /__emu__/requests?scenario=NAME`` -> list of recorded requests (body as text)
* ``POST /__emu__/reset`` ``{"scenario"}``
* ``POST /__emu__/default`` ``{"scenario", "item": {…} | null}``
* ``POST /__emu__/limits`` ``{"scenario", "max_request_bytes": int | null}``
* ``POST /__emu__/file_processing`` ``{"scenario", "polls": int, "fail": bool}``
* ``POST /__emu__/strict_reasoning`` ``{"scenario", "on": bool}``
* ``POST /__emu__/prompt_cache`` ``{"scenario", "hits": bool}``
* ``POST /__emu__/cache_clock`` ``{"scenario", "seconds": number}``
* ``POST /__emu__/expire_cached_contents`` ``{"scenario"}``
* ``POST /__emu__/cache_minimum`` ``{"scenario", "tokens": int}``
* ``POST /__emu__/advance`` ``{"scenario", "seconds": number}`` (the scenario clock)
* ``POST /__emu__/batch_timing`` ``{"scenario", "validating"?, "running"?, "finalizing"?,
  "cancel_lag"?, "expires_after"?}``
* ``POST /__emu__/batch_limits`` ``{"scenario", "api", "max_requests", "max_bytes"}``
* ``POST /__emu__/batch_item`` ``{"scenario", "key", "item": {…}}``
* ``POST /__emu__/fail_batch`` ``{"scenario", "id": str | null, "message"}`` -> ``{"id"}``
* ``GET /__emu__/batches?scenario=NAME`` -> list of submitted batches
* ``GET /__emu__/files?scenario=NAME`` -> list of uploaded files (bytes as ``data_base64``)
* ``GET /__emu__/cached_contents?scenario=NAME`` -> list of Gemini cached contents
* ``GET /__emu__/stats?scenario=NAME`` -> in-flight gauges, queue length, size limit and
  whether strict reasoning and the prompt cache simulation are on
* ``GET /__emu__/health`` -> ``{"ok": true}``
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import asdict
from typing import Any
from typing import cast
from urllib.parse import parse_qs

from ._exchange import Receive
from ._exchange import Scope
from ._exchange import Send
from ._exchange import encode_headers
from ._items import item_from_json
from ._record import request_to_json
from ._routing import DEFAULT_SCENARIO
from ._state import Registry
from ._state import ScenarioState
from .files import file_to_json

__all__ = ["handle_control"]


class _BadRequest(Exception):
    pass


async def handle_control(registry: Registry, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one control-plane request."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunks.append(bytes(message.get("body", b"")))
        if not message.get("more_body", False):
            break
    try:
        status, result = _dispatch(registry, scope, b"".join(chunks))
    except (_BadRequest, ValueError, TypeError, KeyError) as exc:
        status, result = 400, {"error": f"{type(exc).__name__}: {exc}"}
    body = json.dumps(result).encode()
    headers = [("content-type", "application/json"), ("content-length", str(len(body)))]
    await send(
        {"type": "http.response.start", "status": status, "headers": encode_headers(headers)}
    )
    await send({"type": "http.response.body", "body": body, "more_body": False})


def _dispatch(registry: Registry, scope: Scope, raw: bytes) -> tuple[int, Any]:
    action = str(scope["path"])[len("/__emu__/") :]
    method = str(scope["method"])
    query = parse_qs(bytes(scope.get("query_string", b"")).decode("latin-1"))
    if method == "GET":
        state = registry.get(query.get("scenario", [DEFAULT_SCENARIO])[0] or DEFAULT_SCENARIO)
        if action == "requests":
            return 200, [request_to_json(request) for request in state.snapshot()]
        if action == "files":
            return 200, [file_to_json(file) for file in state.files.snapshot()]
        if action == "batches":
            return 200, [asdict(batch) for batch in state.batches.snapshot()]
        if action == "cached_contents":
            return 200, [asdict(cache) for cache in state.caches.snapshot()]
        if action == "stats":
            return 200, {
                "scenario": state.name,
                "in_flight": state.in_flight,
                "peak_in_flight": state.peak_in_flight,
                "pending": state.pending,
                "server_peak_in_flight": registry.peak_in_flight,
                "max_request_bytes": state.max_request_bytes,
                "strict_reasoning": state.replay.strict,
                "prompt_cache_hits": state.prompt_cache.hits,
            }
        if action == "health":
            return 200, {"ok": True}
        return 404, {"error": f"no control endpoint GET /__emu__/{action}"}
    if method != "POST":
        return 405, {"error": f"method {method} not allowed"}
    payload = _object(json.loads(raw) if raw.strip() else {})
    state = _scenario(registry, payload)
    if action == "enqueue":
        raw_items = payload.get("items", [])
        if not isinstance(raw_items, list):
            raise _BadRequest("items must be a list")
        entries = cast("Iterable[Any]", raw_items)
        items = tuple(item_from_json(_object(item)) for item in entries)
        state.enqueue(items)
        return 200, {"queued": len(items), "pending": state.pending}
    if action == "reset":
        state.reset()
        if state is registry.default:
            registry.reset_peak()
        return 200, {"ok": True}
    if action == "default":
        item = payload.get("item")
        state.set_default(None if item is None else item_from_json(_object(item)))
        return 200, {"ok": True}
    if action == "limits":
        state.set_limits(payload.get("max_request_bytes"))
        return 200, {"ok": True}
    if action == "file_processing":
        polls, fail = payload.get("polls", 0), payload.get("fail", False)
        if isinstance(polls, bool) or not isinstance(polls, int) or not isinstance(fail, bool):
            raise _BadRequest("polls must be an integer and fail a boolean")
        state.files.set_processing(polls, fail)
        return 200, {"ok": True}
    if action == "strict_reasoning":
        state.replay.set_strict(payload.get("on", True))
        return 200, {"ok": True}
    if action == "prompt_cache":
        state.prompt_cache.set_hits(payload.get("hits"))
        return 200, {"ok": True}
    if action in ("advance", "cache_clock"):
        state.caches.advance(payload.get("seconds", 0))
        return 200, {"ok": True}
    if action == "batch_timing":
        timing = {k: v for k, v in payload.items() if k != "scenario" and v is not None}
        state.batches.set_timing(**timing)
        return 200, {"ok": True}
    if action == "batch_limits":
        api = payload.get("api")
        if not isinstance(api, str):
            raise _BadRequest("api must be openai, anthropic or gemini")
        state.batches.set_limits(api, payload.get("max_requests"), payload.get("max_bytes"))
        return 200, {"ok": True}
    if action == "batch_item":
        key = payload.get("key")
        if not isinstance(key, str):
            raise _BadRequest("key must be a string")
        state.batches.script(key, item_from_json(_object(payload.get("item"))))
        return 200, {"ok": True}
    if action == "fail_batch":
        batch_id, message = payload.get("id"), payload.get("message", "emulated failure")
        if (batch_id is not None and not isinstance(batch_id, str)) or not isinstance(message, str):
            raise _BadRequest("id must be a string or null and message a string")
        return 200, {"id": state.batches.fail(batch_id, message)}
    if action == "expire_cached_contents":
        state.caches.expire_all()
        return 200, {"ok": True}
    if action == "cache_minimum":
        state.caches.set_minimum(payload.get("tokens", 0))
        return 200, {"ok": True}
    return 404, {"error": f"no control endpoint POST /__emu__/{action}"}


def _object(value: Any) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise _BadRequest("expected a JSON object")
    return cast("Mapping[str, Any]", value)


def _scenario(registry: Registry, payload: Mapping[str, Any]) -> ScenarioState:
    name = payload.get("scenario")
    if name is None:
        return registry.default
    if not isinstance(name, str):
        raise _BadRequest("scenario must be a string or null")
    return registry.get(name)
