"""The framework-free ASGI application: routing, recording, and serving script items."""

from __future__ import annotations

import asyncio
import http
import json
import time
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import replace
from typing import Any
from typing import cast

from ._control import handle_control
from ._exchange import Exchange
from ._exchange import Receive
from ._exchange import Scope
from ._exchange import Send
from ._items import Fault
from ._items import Item
from ._items import Reply
from ._items import Verbatim
from ._limits import too_large
from ._proxy import Outgoing
from ._proxy import Proxy
from ._proxy import target_path
from ._record import RecordedRequest
from ._record import form_of
from ._record import masked
from ._routing import Route
from ._routing import parse_route
from ._routing import split_scenario
from ._state import Mismatch
from ._state import Registry
from ._state import ScenarioState
from .batches import BatchContext
from .batches import serve as serve_batches
from .files import FileRequest
from .files import carries_file
from .files import serve
from .files import unready_file
from .wire import WIRES
from .wire import EventStream
from .wire import JsonBody
from .wire import RenderContext
from .wire import WireFormat
from .wire._base import cut_point
from .wire._base import dumps
from .wire._base import html_page

__all__ = ["EmulatorApp"]

_JSON = ("content-type", "application/json")
_MALFORMED_BODY = b'{"id": "chatcmpl-broken", "object": "chat.completion", "choices": [{'


class EmulatorApp:
    """ASGI 3 app; one instance per server, holding the scenario registry. With a ``proxy``
    every request (the control plane aside) is forwarded instead of answered."""

    def __init__(self, registry: Registry, proxy: Proxy | None = None) -> None:
        self.registry = registry
        self.proxy = proxy
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Future[None] | None = None
        self._closing = False

    def reopen(self) -> None:
        """Undo ``shutdown()`` before serving again."""
        self._closing = False

    def shutdown(self) -> None:
        """Release hung and slow answers; callable from any thread."""
        self._closing = True
        loop, stopping = self._loop, self._stopping
        if loop is not None and stopping is not None and not loop.is_closed():

            def release() -> None:
                if not stopping.done():
                    stopping.set_result(None)

            loop.call_soon_threadsafe(release)

    def _stop_future(self) -> asyncio.Future[None]:
        loop = asyncio.get_running_loop()
        if self._stopping is None or self._loop is not loop:
            self._loop, self._stopping = loop, loop.create_future()
            # A request racing shutdown() must not create a future nobody will resolve.
            if self._closing:
                self._stopping.set_result(None)
        return self._stopping

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        path = str(scope["path"])
        if path.startswith("/__emu__/"):
            await handle_control(self.registry, scope, receive, send)
            return
        arrived = time.monotonic()
        body = await _read_body(receive)
        if body is None:
            return
        name, rest = split_scenario(path)
        route = asked = parse_route(rest)
        try:
            state = self.registry.get(name)
        except ValueError:
            state, route = self.registry.default, parse_route("/_invalid_scenario")
        raw_headers = _header_pairs(scope)
        raw_query = bytes(scope.get("query_string", b"")).decode("latin-1")
        headers, query, digests = masked(_joined(raw_headers), raw_query)
        # An uploaded file stays bytes, even a JSON one: it is not the request's JSON.
        data = None if carries_file(headers) else _parse_json(body)
        retry = headers.get("x-stainless-retry-count", "")
        record = RecordedRequest(
            provider=route.provider,
            scenario=state.name,
            method=str(scope["method"]),
            path=path,
            query=query,
            headers=headers,
            body=body,
            json=data,
            stream=route.wants_stream(_as_object(data)),
            attempt=int(retry) if retry.isdigit() else None,
            arrived_at=arrived,
            key_digests=digests,
            form=form_of(headers, body),
        )
        exchange = Exchange(receive, send, record, self._stop_future())
        self.registry.arrive(state, record)
        try:
            if self.proxy is None:
                await self._serve(state, route, exchange)
            else:
                raw_path = bytes(scope.get("raw_path") or path.encode()).decode("latin-1")
                outgoing = Outgoing(
                    method=record.method,
                    target=target_path(raw_path, path, asked.api_path),
                    path=asked.api_path,
                    query=raw_query,
                    headers=raw_headers,
                    body=body,
                    provider="ollama" if asked.api == "ollama" else _model_call(asked),
                    stream=record.stream,
                )
                await self.proxy.forward(exchange, outgoing, WIRES[asked.envelope])
        finally:
            exchange.finish()
            self.registry.depart(state)

    async def _serve(self, state: ScenarioState, route: Route, exchange: Exchange) -> None:
        record = exchange.record
        wire = WIRES[route.envelope]
        if route.provider == "unknown":
            message = f"emulator: no endpoint {record.method} {record.path}"
            await _send_error(exchange, wire, 404, message)
            return
        api = route.files_api
        if api is not None or route.provider == "gemini-caches":
            await _send_files(state, route, exchange, wire, api)
            return
        if route.batch_api is not None:
            await _send_files(state, route, exchange, wire, route.batch_api, batches=True)
            return
        limit = state.max_request_bytes
        if route.generates and limit is not None and len(record.body) > limit:
            await exchange.respond(*too_large(route, limit))
            return
        cached_tokens = 0
        if route.provider == "gemini":
            refusal, cached_tokens = state.caches.check(route.model, record.json)
            refusal = refusal or unready_file(state.files, record.json)
            if refusal is not None:
                await exchange.respond(refusal.status, refusal.headers, refusal.body)
                return
        rejection = state.replay.check(route.provider, record.json)
        if rejection is not None:
            await exchange.respond(rejection.status, [_JSON], dumps(rejection.body).encode())
            return
        item = state.take(record, route.api_path)
        if isinstance(item, Mismatch):
            expected = f"{item.expected.method} {item.expected.path}"
            message = f"emulator: replay expected {expected}, got {record.method} {route.api_path}"
            await _send_error(exchange, wire, 404, message)
            return
        if item is None:
            # 400, not 5xx: nothing a retry could fix, so the test fails at once with this.
            message = (
                f"emulator: no scripted reply left: the queue of scenario {state.name!r} is "
                f"empty for {record.method} {route.api_path}. Enqueue a Reply or Fault for "
                "every model call, or give the scenario a set_default(...)"
            )
            await _send_error(exchange, wire, 400, message)
            return
        record.item = item
        if isinstance(item, Verbatim):
            await _send_verbatim(exchange, item)
        elif isinstance(item, Fault):
            await _send_fault(exchange, wire, item)
        else:
            reply = _cached(state, route, record, item)
            if cached_tokens:
                # The cache's tokens are part of the prompt, as promptTokenCount counts them.
                reply = replace(
                    reply,
                    input_tokens=reply.input_tokens + cached_tokens,
                    cached_tokens=cached_tokens,
                )
            await _send_reply(exchange, wire, route, reply, state)


async def _send_files(
    state: ScenarioState,
    route: Route,
    exchange: Exchange,
    wire: WireFormat,
    api: str | None,
    *,
    batches: bool = False,
) -> None:
    """Answer from the scenario's file store (``api`` None: its Gemini cached contents), or
    from its batches; these calls never take scripted items (a batch's lines do)."""
    record = exchange.record
    prefix = record.path[: len(record.path) - len(route.api_path)]
    request = FileRequest(
        method=record.method,
        api_path=route.api_path,
        query=record.query,
        headers=record.headers,
        body=record.body,
        form=record.form,
        json=record.json,
        origin=f"http://{record.headers.get('host', '127.0.0.1')}{prefix}",
    )
    try:
        if batches and api is not None:
            context = BatchContext(state.batches, state.files, _taker(state))
            answer = serve_batches(api, context, request)
        elif api is None:
            answer = state.caches.handle(request)
        else:
            answer = serve(api, state.files, request)
    except Exception as exc:  # noqa: BLE001 - a bad request must answer, not kill the server
        what = "batch" if batches else "Files"
        await _send_error(exchange, wire, 500, f"emulator: cannot answer the {what} API: {exc}")
        return
    await exchange.respond(answer.status, answer.headers, answer.body)


def _taker(state: ScenarioState) -> Callable[[str, Any, str], Item | str]:
    """How a batch line takes its item: as a realtime call with its body would, from the
    queue or the default (which sees a ``RecordedRequest`` that is not in the log)."""

    def take(provider: str, body: Any, api_path: str) -> Item | str:
        record = RecordedRequest(
            provider=provider,
            scenario=state.name,
            method="POST",
            path=api_path,
            query="",
            headers={},
            body=dumps(body).encode(),
            json=body,
            stream=False,
            attempt=None,
            arrived_at=time.monotonic(),
        )
        item = state.take(record, api_path)
        if isinstance(item, Mismatch):
            expected = f"{item.expected.method} {item.expected.path}"
            return f"emulator: replay expected {expected}, got a batch line for {api_path}"
        if item is None:
            return (
                f"emulator: no scripted reply left: the queue of scenario {state.name!r} is "
                f"empty for a batch line to {api_path}. Enqueue a Reply or Fault for every "
                "line, script_batch_item(key, ...), or give the scenario a set_default(...)"
            )
        return item

    return take


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when the client left before sending it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(bytes(message.get("body", b"")))
        if not message.get("more_body", False):
            return b"".join(chunks)


def _parse_json(body: bytes) -> Any:
    if not body:
        return None
    try:
        return json.loads(body)
    except (ValueError, RecursionError):  # a body nested too deep is no JSON to the emulator
        return None


def _as_object(data: Any) -> Mapping[str, Any]:
    return cast("Mapping[str, Any]", data) if isinstance(data, Mapping) else {}


def _header_pairs(scope: Scope) -> list[tuple[str, str]]:
    """The request headers as sent, in order, names in lower case."""
    return [
        (bytes(name).decode("latin-1").lower(), bytes(value).decode("latin-1"))
        for name, value in scope.get("headers", [])
    ]


def _joined(pairs: list[tuple[str, str]]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for name, value in pairs:
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


def _model_call(route: Route) -> str:
    """The wire format of a model call, ``""`` for any other endpoint."""
    return route.provider if route.generates else ""


async def _send_verbatim(exchange: Exchange, item: Verbatim) -> None:
    """A recorded answer: whole, or in its recorded chunks, each flushed on its own."""
    if item.chunk_sizes is None:
        await exchange.respond(item.status, item.headers.items(), item.body_bytes)
        return
    await exchange.start(item.status, item.headers.items())
    exchange.watch()
    for piece in item.chunks():
        if exchange.gone:
            await exchange.abandon()
            return
        await exchange.body(piece, more=True)
    await exchange.body(b"", more=False)


async def _send_error(exchange: Exchange, wire: WireFormat, status: int, message: str) -> None:
    body = dumps(wire.error_body(status, message)).encode()
    await exchange.respond(status, [_JSON], body)


async def _send_fault(exchange: Exchange, wire: WireFormat, fault: Fault) -> None:
    if not await exchange.pause(fault.delay):
        await exchange.abandon()
        return
    if fault.reset:
        await exchange.reset()
        return
    if fault.hang:
        await exchange.wait_gone()
        await exchange.abandon()
        return
    headers = list(fault.headers.items())
    names = {name.lower() for name, _ in headers}
    status, content_type = fault.status, "application/json"
    if fault.malformed:
        status, body = 200, _MALFORMED_BODY
    elif fault.html:
        body = _html_page(fault.status).encode()
        content_type = "text/html; charset=utf-8"
    elif fault.body is None:
        body = dumps(wire.error_body(fault.status, fault.message)).encode()
    elif isinstance(fault.body, (str, bytes)):
        raw: str | bytes = fault.body
        body = raw.encode() if isinstance(raw, str) else raw
        content_type = "text/plain; charset=utf-8"
    else:
        body = dumps(fault.body).encode()
    if "content-type" not in names:
        headers.append(("content-type", content_type))
    await exchange.respond(status, headers, body)


def _html_page(status: int) -> str:
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Error"
    return html_page(f"{status} {phrase}")


def _cached(state: ScenarioState, route: Route, record: RecordedRequest, reply: Reply) -> Reply:
    """``reply`` with the cache counts of the simulated prompt cache, when it is on."""
    request = _as_object(record.json)
    model = request.get("model")
    name = model if isinstance(model, str) else route.model or ""
    counts = state.prompt_cache.account(route.provider, request, name, reply.input_tokens)
    if counts is None:
        return reply
    return replace(reply, cached_tokens=counts[0], cache_write_tokens=counts[1])


async def _send_reply(
    exchange: Exchange, wire: WireFormat, route: Route, reply: Reply, state: ScenarioState
) -> None:
    record = exchange.record
    request = _as_object(record.json)
    requested_model = request.get("model")
    model = reply.model or (requested_model if isinstance(requested_model, str) else None)
    ctx = RenderContext(
        request=request,
        stream=record.stream,
        model=model or route.model or "emulator-model",
        created=int(time.time()),
    )
    try:
        rendered = wire.render(reply, ctx)
    except Exception as exc:  # noqa: BLE001 - a bad script must answer, not kill the server
        await _send_error(exchange, wire, 500, f"emulator: cannot render reply: {exc}")
        return
    state.replay.remember(route.provider, rendered.turn)
    if not await exchange.pause(reply.delay):
        await exchange.abandon()
        return
    headers = [("x-request-id", f"req_emulator_{id(record):x}"), *reply.headers.items()]
    if isinstance(rendered, JsonBody):
        body = dumps(rendered.body).encode()
        if reply.chunk_delay:
            await _trickle(exchange, reply, rendered.status, [_JSON, *headers], body)
            return
        await exchange.respond(rendered.status, [_JSON, *headers], body)
        return
    await _send_stream(exchange, reply, rendered, headers)


async def _trickle(
    exchange: Exchange, reply: Reply, status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    """Send ``body`` ``chunk_chars`` bytes at a time, ``chunk_delay`` apart."""
    await exchange.start(status, headers)
    exchange.watch()
    size = max(1, reply.chunk_chars)
    for start in range(0, len(body), size):
        if start and not await exchange.pause(reply.chunk_delay):
            await exchange.abandon()
            return
        await exchange.body(body[start : start + size], more=True)
    await exchange.body(b"", more=False)


async def _send_stream(
    exchange: Exchange, reply: Reply, stream: EventStream, headers: list[tuple[str, str]]
) -> None:
    await exchange.start(
        200, [("content-type", stream.content_type), ("cache-control", "no-cache"), *headers]
    )
    exchange.watch()
    cut = cut_point(reply, len(stream.events))
    body = stream.events if cut is None else stream.events[: cut[0]]
    for index, event in enumerate(body):
        if not await _between_events(exchange, reply, index):
            return
        await exchange.body(event, more=True)
    if not await _between_events(exchange, reply, len(body)):
        return
    kind = "complete" if cut is None else cut[1]
    if kind == "abort":
        # Give the loop a turn so the events already written reach the client before the RST.
        await asyncio.sleep(0.01)
        await exchange.reset()
        return
    tail = {"complete": stream.terminal, "error": stream.error}.get(kind, [])
    for event in tail:
        await exchange.body(event, more=True)
    await exchange.body(stream.malformed if kind == "malformed" else b"", more=False)


async def _between_events(exchange: Exchange, reply: Reply, index: int) -> bool:
    """Apply ``chunk_delay`` and ``stall`` before event ``index``; False if abandoned."""
    wait = reply.chunk_delay if index else 0.0
    if reply.stall_after is not None and index == reply.stall_after:
        wait += reply.stall
    if await exchange.pause(wait):
        return True
    await exchange.abandon()
    return False
