"""Streamed ``/api/chat`` replies: SDK chunks → deltas → the shared ``Assembler``.

First the pure classification, on the real recorded NDJSON bodies (every line parsed by the
SDK's ``ChatResponse``, as its stream reader does) and on edge cases, always compared with
what ``decode_response`` makes of the same reply sent whole. Then the backend's ``stream``
and ``astream`` over an ``httpx.MockTransport`` (no socket): the request, the timeout hook,
the error boundary and closing the response.
"""
# The ollama SDK's chat() (a parameter typed with a bare Callable), its context managers and
# its clients' httpx attribute are partly untyped.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false
# pyright: reportUnknownArgumentType=false
# pyright: reportPrivateUsage=false

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import ollama
import pytest
from ollama import ChatResponse

import alloy
from alloy._deltas import Assembler
from alloy._deltas import Delta
from alloy._deltas import Finish
from alloy._deltas import ReasoningDelta
from alloy._deltas import TextDelta
from alloy._deltas import ToolCallDelta
from alloy._deltas import UsageDelta
from alloy._messages import Message
from alloy._messages import ProviderData
from alloy._messages import Request
from alloy._messages import Response
from alloy._usage import Usage
from alloy.backends.base import StreamDecoder as DecoderProtocol
from alloy.backends.ollama import OllamaBackend
from alloy.backends.ollama._decode import decode_response
from alloy.backends.ollama._encode import encode_request
from alloy.backends.ollama._stream import StreamDecoder
from alloy.backends.ollama.backend import _TIMEOUT
from alloy.testing import use_backend
from tests.recorded import check_reply
from tests.recorded import last_body
from tests.recorded import load
from tests.recorded import recorded

STREAMS = [p for p in recorded("ollama__*__stream.json") if "openai-compat" not in p.name]


# --- helpers -----------------------------------------------------------------------------


def ndjson(body: str) -> list[dict[str, Any]]:
    """The objects of an NDJSON body, one per non-empty line."""
    return [json.loads(line) for line in body.splitlines() if line.strip()]


def chunk(content: str = "", *, done: bool = False, **fields: Any) -> dict[str, Any]:
    """One line of a stream; ``message_fields`` go into its message."""
    message: dict[str, Any] = {"role": "assistant", "content": content}
    message.update(fields.pop("message_fields", {}))
    line: dict[str, Any] = {
        "model": "llama3.1",
        "created_at": "2026-01-01T00:00:00Z",
        "message": message,
        "done": done,
    }
    if done:
        line.update(done_reason="stop", prompt_eval_count=10, eval_count=5)
    line.update(fields)
    return line


def classify(lines: Iterable[dict[str, Any]]) -> list[Delta]:
    decoder = StreamDecoder()
    return [delta for line in lines for delta in decoder.feed(ChatResponse(**line))]


def assemble(deltas: Iterable[Delta]) -> Response:
    assembler = Assembler("ollama")
    for delta in deltas:
        assembler.feed(delta)
    return assembler.response()


def fold(lines: list[dict[str, Any]]) -> dict[str, Any]:
    """The ``stream: false`` answer for a stream's lines: pieces joined, the final counts."""
    final = dict(lines[-1])
    message: dict[str, Any] = dict(final["message"])
    for key in ("content", "thinking"):
        message[key] = "".join(line["message"].get(key) or "" for line in lines)
    calls: list[Any] = [c for line in lines for c in line["message"].get("tool_calls") or []]
    if calls:
        message["tool_calls"] = calls
    final["message"] = message
    return final


def whole(lines: list[dict[str, Any]]) -> Response:
    return decode_response(ChatResponse(**fold(lines)))


def call(name: str, **arguments: Any) -> dict[str, Any]:
    return {"function": {"name": name, "arguments": arguments}}


# --- recorded streams --------------------------------------------------------------------


@pytest.mark.parametrize("path", STREAMS, ids=lambda p: p.name.removesuffix(".json"))
def test_recorded_stream(path: Path) -> None:
    lines = ndjson(last_body(path))
    response = assemble(classify(lines))
    check_reply(response, load(path)["expect"])
    assert response == whole(lines)


def test_recorded_text_arrives_in_pieces(corpus: Path) -> None:
    assert STREAMS
    for path in STREAMS:
        lines = ndjson(last_body(path))
        deltas = classify(lines)
        pieces = [d.text for d in deltas if isinstance(d, TextDelta)]
        assert len(pieces) == sum(1 for line in lines if line["message"].get("content"))
        assert isinstance(deltas[-1], Finish)
        assert sum(isinstance(d, Finish) for d in deltas) == 1


# --- classification edge cases -----------------------------------------------------------


def test_text_pieces_then_usage_and_finish_on_the_done_line() -> None:
    deltas = classify([chunk("Hel"), chunk("lo"), chunk(done=True)])
    assert deltas == [
        TextDelta("Hel"),
        TextDelta("lo"),
        UsageDelta(Usage.of(10, 5)),
        Finish("stop", "llama3.1", finish="stop"),
    ]


def test_empty_pieces_yield_nothing() -> None:
    assert classify([chunk(""), chunk("", message_fields={"thinking": ""})]) == []


def test_without_the_done_line_there_is_no_finish() -> None:
    deltas = classify([chunk("Hel"), chunk("lo")])
    assert not any(isinstance(d, Finish) for d in deltas)
    with pytest.raises(alloy.StreamError, match="terminal event"):
        assemble(deltas)


def test_a_done_false_line_with_counts_is_not_the_end() -> None:
    deltas = classify([chunk("Hi", done_reason="stop", eval_count=3)])
    assert deltas == [TextDelta("Hi")]


def test_text_on_the_done_line_comes_before_the_finish() -> None:
    lines = [chunk("Hel"), chunk("lo", done=True)]
    deltas = classify(lines)
    assert deltas[:2] == [TextDelta("Hel"), TextDelta("lo")]
    assert isinstance(deltas[-1], Finish)
    assert assemble(deltas) == whole(lines)


def test_thinking_becomes_reasoning_and_is_kept_for_the_next_turn() -> None:
    lines = [
        chunk(message_fields={"thinking": "The user "}),
        chunk(message_fields={"thinking": "greets me."}),
        chunk("Hi!"),
        chunk(done=True),
    ]
    deltas = classify(lines)
    assert deltas[:3] == [
        ReasoningDelta("The user "),
        ReasoningDelta("greets me."),
        TextDelta("Hi!"),
    ]
    response = assemble(deltas)
    assert response.reasoning == "The user greets me."
    assert response.provider_data == ProviderData("ollama", {"thinking": "The user greets me."})
    assert response.text == "Hi!"
    assert response == whole(lines)


def test_a_reply_without_thinking_has_no_provider_data() -> None:
    response = assemble(classify([chunk("Hi"), chunk(done=True)]))
    assert response.reasoning is None and response.provider_data is None


def test_tool_calls_arrive_whole_with_the_ids_complete_gives_them() -> None:
    lines = [
        chunk(message_fields={"tool_calls": [call("get_weather", city="Paris")]}),
        chunk(message_fields={"tool_calls": [call("get_time", city="Tōkyō")]}),
        chunk(done=True, done_reason="stop"),
    ]
    deltas = classify(lines)
    first, second = (d for d in deltas if isinstance(d, ToolCallDelta))
    assert (first.index, first.name, first.arguments) == (0, "get_weather", '{"city": "Paris"}')
    assert (second.index, second.name, second.arguments) == (1, "get_time", '{"city": "Tōkyō"}')
    response = assemble(deltas)
    assert response == whole(lines)  # same ids, positions counted across lines
    assert [c.id for c in response.tool_calls] == [c.id for c in whole(lines).tool_calls]
    assert response.tool_calls[0].id.startswith("call_0_")


def test_several_tool_calls_in_one_line() -> None:
    both = [call("a", x=1), call("b")]
    lines = [chunk(message_fields={"tool_calls": both}), chunk(done=True)]
    response = assemble(classify(lines))
    assert [(c.name, c.arguments) for c in response.tool_calls] == [("a", '{"x": 1}'), ("b", "{}")]
    assert response == whole(lines)


def test_a_cached_prompt_has_no_input_count() -> None:
    lines = [chunk("Hi"), chunk(done=True, prompt_eval_count=None, eval_count=2)]
    response = assemble(classify(lines))
    assert response.usage == Usage(None, 2, None, None, None)
    assert response.usage == whole(lines).usage


def test_the_raw_done_reason_and_the_model_of_the_done_line() -> None:
    lines = [chunk("Hi"), chunk(done=True, done_reason="length", model="qwen3:8b")]
    response = assemble(classify(lines))
    assert (response.finish_reason, response.model) == ("length", "qwen3:8b")
    assert response == whole(lines)


def test_a_done_line_without_a_model() -> None:
    response = assemble(classify([chunk(done=True, model=None)]))
    assert response.model is None and response.text == ""


def test_each_stream_has_its_own_decoder_state() -> None:
    lines = [chunk(message_fields={"tool_calls": [call("a")]}), chunk(done=True)]
    first, second = assemble(classify(lines)), assemble(classify(lines))
    assert first.tool_calls[0].id == second.tool_calls[0].id


def test_the_decoder_keeps_no_text() -> None:
    decoder = StreamDecoder()
    for _ in range(1000):
        decoder.feed(ChatResponse(**chunk("x" * 100)))
    assert decoder._thinking == []  # text is only handed on, never accumulated here


def test_the_decoder_is_finished_by_the_done_line_only() -> None:
    decoder: DecoderProtocol = StreamDecoder()
    decoder.feed(ChatResponse(**chunk("Hi", done_reason="stop", eval_count=3)))
    assert not decoder.finished
    decoder.feed(ChatResponse(**chunk(done=True)))
    assert decoder.finished


# --- failures while reading a stream ------------------------------------------------------


def _malformed() -> list[Exception]:
    errors: list[Exception] = []
    try:
        json.loads("{not json")
    except json.JSONDecodeError as exc:
        errors.append(exc)
    try:
        not_a_chunk: dict[str, Any] = {"message": 5}
        ChatResponse(**not_a_chunk)
    except Exception as exc:  # noqa: BLE001 - pydantic's ValidationError
        errors.append(exc)
    errors.append(AttributeError("'list' object has no attribute 'get'"))
    return errors


def across_a_read(exc: Exception, *, started: bool) -> BaseException:
    """What leaves the boundary around one read of a stream when the read raises ``exc``."""
    read = OllamaBackend()._reads(5.0)
    read.started = started
    try:
        with read:
            raise exc
    except BaseException as crossed:  # noqa: BLE001 - what crosses is under test
        return crossed
    raise AssertionError("the boundary swallowed the exception")


@pytest.mark.parametrize("started", [False, True])
@pytest.mark.parametrize("exc", _malformed(), ids=lambda e: type(e).__name__)
def test_a_malformed_line_is_a_stream_error(exc: Exception, started: bool) -> None:
    error = across_a_read(exc, started=started)
    assert type(error) is alloy.StreamError and not error.retryable
    assert "not an Ollama chat chunk" in str(error)
    assert error.__cause__ is exc


def test_a_broken_connection_before_any_delta_maps_as_for_complete() -> None:
    error = across_a_read(httpx.ReadError("reset"), started=False)
    assert type(error) is alloy.ProviderConnectionError and error.retryable


@pytest.mark.parametrize(
    ("exc", "retryable"),
    [(httpx.RemoteProtocolError("peer closed"), True), (httpx.DecodingError("bad gzip"), False)],
    ids=["connection", "other-transport"],
)
def test_a_broken_connection_after_a_delta_is_a_stream_error(
    exc: Exception, retryable: bool
) -> None:
    error = across_a_read(exc, started=True)
    assert type(error) is alloy.StreamError
    assert error.retryable is retryable  # as the same failure of a call
    assert type(exc).__name__ in str(error)


@pytest.mark.parametrize("started", [False, True])
def test_timeouts_and_stream_errors_keep_their_mapping(started: bool) -> None:
    timeout = across_a_read(httpx.ReadTimeout("slow"), started=started)
    assert type(timeout) is alloy.ProviderTimeout
    in_stream = across_a_read(ollama.ResponseError("boom"), started=started)
    assert type(in_stream) is alloy.StreamError and "boom" in str(in_stream)
    not_ours = RuntimeError("not ours")
    assert across_a_read(not_ours, started=started) is not_ours


# --- the backend over a mock transport ---------------------------------------------------

HOST = "http://ollama.test:11434"
HANG = object()  # a body item: wait until cancelled


class Body(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body sent item by item: bytes, an exception to raise, or ``HANG``."""

    def __init__(self, *items: object):
        self.items = items
        self.closed = False

    def __iter__(self) -> Iterator[bytes]:
        for item in self.items:
            if isinstance(item, Exception):
                raise item
            assert isinstance(item, bytes)
            yield item

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for item in self.items:
            if item is HANG:
                await asyncio.Event().wait()
            if isinstance(item, Exception):
                raise item
            assert isinstance(item, bytes)
            yield item

    def close(self) -> None:
        self.closed = True

    async def aclose(self) -> None:
        self.closed = True


def ndline(body: dict[str, Any]) -> bytes:
    return (json.dumps(body) + "\n").encode()


class Server:
    """Answers every request with ``status`` and a fresh ``Body`` of ``items``."""

    def __init__(self, *items: object, status: int = 200, headers: dict[str, str] | None = None):
        self.items, self.status, self.headers = items, status, headers or {}
        self.requests: list[httpx.Request] = []
        self.bodies: list[Body] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        body = Body(*self.items)
        self.bodies.append(body)
        headers = {"content-type": "application/x-ndjson", **self.headers}
        return httpx.Response(self.status, headers=headers, stream=body)


def backend_for(server: Server, monkeypatch: pytest.MonkeyPatch) -> OllamaBackend:
    backend = OllamaBackend({"host": HOST})

    def build(cls: Callable[..., Any], event_hooks: dict[str, list[Any]]) -> Any:
        return cls(host=HOST, transport=httpx.MockTransport(server), event_hooks=event_hooks)

    monkeypatch.setattr(backend, "_build", build)
    return backend


def ask(timeout: float | None = 7.0) -> Request:
    return Request("llama3.1", (Message.user("hi"),), max_tokens=9, timeout=timeout)


HELLO = (ndline(chunk("Hel")), ndline(chunk("lo")), ndline(chunk(done=True)))


def drain(backend: OllamaBackend, request: Request, mode: str) -> Response:
    if mode == "sync":
        return assemble(backend.stream(request))

    async def run() -> Response:
        return assemble([d async for d in backend.astream(request)])

    return asyncio.run(run())


MODES = pytest.mark.parametrize("mode", ["sync", "async"])


@MODES
def test_the_streamed_request_differs_only_in_the_stream_flag(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = Server(*HELLO)
    response = drain(backend_for(server, monkeypatch), ask(), mode)
    assert response.text == "Hello" and response.finish_reason == "stop"
    (sent,) = server.requests
    assert sent.url.path == "/api/chat"
    body = json.loads(sent.content)
    assert body["stream"] is True
    assert encode_request(ask(), stream=True) == {**encode_request(ask()), "stream": True}
    assert body["options"] == {"num_predict": 9}
    assert server.bodies[0].closed


@MODES
@pytest.mark.parametrize("timeout", [7.0, None])
def test_the_timeout_applies_to_the_streamed_request(
    mode: str, timeout: float | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = Server(*HELLO)
    drain(backend_for(server, monkeypatch), ask(timeout), mode)
    expected = httpx.Timeout(timeout).as_dict() if timeout else httpx.Timeout(None).as_dict()
    assert server.requests[0].extensions["timeout"] == expected
    assert _TIMEOUT.get() is None


def test_the_timeout_does_not_leak_into_the_consumer(monkeypatch: pytest.MonkeyPatch) -> None:
    stream = backend_for(Server(*HELLO), monkeypatch).stream(ask(3.0))
    seen = [_TIMEOUT.get() for _ in stream]
    assert seen == [None, None, None, None]


def test_an_async_stream_may_resume_in_other_tasks(monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(*HELLO)
    backend = backend_for(server, monkeypatch)

    async def run() -> list[Delta]:
        stream = backend.astream(ask(3.0))
        deltas: list[Delta] = []
        while True:
            # Each step in a task of its own, so in a context of its own.
            task = asyncio.ensure_future(anext(stream, None))
            delta = await task
            assert _TIMEOUT.get() is None
            if delta is None:
                return deltas
            deltas.append(delta)

    response = assemble(asyncio.run(run()))
    assert response.text == "Hello"
    assert server.requests[0].extensions["timeout"] == httpx.Timeout(3.0).as_dict()


def test_closing_a_stream_closes_the_response(monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(*HELLO)
    stream = backend_for(server, monkeypatch).stream(ask())
    assert next(stream) == TextDelta("Hel")
    assert not server.bodies[0].closed
    stream.close()  # type: ignore[attr-defined]
    assert server.bodies[0].closed


def test_breaking_out_of_a_stream_closes_the_response(monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(*HELLO)
    for delta in backend_for(server, monkeypatch).stream(ask()):
        assert delta == TextDelta("Hel")
        break
    assert server.bodies[0].closed


def test_closing_an_async_stream_closes_the_response(monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(*HELLO)
    backend = backend_for(server, monkeypatch)

    async def run() -> None:
        stream = backend.astream(ask())
        assert await anext(stream) == TextDelta("Hel")
        assert not server.bodies[0].closed
        await stream.aclose()  # type: ignore[attr-defined]
        assert server.bodies[0].closed  # now, not when the loop finalizes generators

    asyncio.run(run())


def test_cancelling_an_async_stream_closes_the_response(monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(ndline(chunk("Hel")), HANG, *HELLO[1:])
    backend = backend_for(server, monkeypatch)
    got: list[Delta] = []

    async def run() -> None:
        first = asyncio.Event()

        async def consume() -> None:
            async for delta in backend.astream(ask()):
                got.append(delta)
                first.set()

        task = asyncio.ensure_future(consume())
        await first.wait()
        await asyncio.sleep(0.01)  # the stream now waits for its next line
        assert not server.bodies[0].closed
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert server.bodies[0].closed

    asyncio.run(run())
    assert got == [TextDelta("Hel")]


@MODES
@pytest.mark.parametrize(
    "bad",
    [b"{not json\n", b"[1, 2]\n", b'"text"\n', b'{"message": 5}\n'],
    ids=["not-json", "list", "string", "not-a-chunk"],
)
@pytest.mark.parametrize("after", [0, 1])
def test_a_malformed_line(
    mode: str, bad: bytes, after: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = Server(*HELLO[:after], bad, *HELLO[after:])
    with pytest.raises(alloy.StreamError, match="not an Ollama chat chunk") as info:
        drain(backend_for(server, monkeypatch), ask(), mode)
    assert not info.value.retryable
    assert server.bodies[0].closed


@MODES
@pytest.mark.parametrize("after", [0, 1])
def test_an_error_line(mode: str, after: int, monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(*HELLO[:after], ndline({"error": "model runner crashed"}), *HELLO[after:])
    with pytest.raises(alloy.StreamError, match="model runner crashed") as info:
        drain(backend_for(server, monkeypatch), ask(), mode)
    assert info.value.status_code is None


@MODES
def test_a_reset_after_a_delta_is_a_stream_error(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = Server(HELLO[0], httpx.ReadError("connection reset"))
    with pytest.raises(alloy.StreamError, match="ReadError") as info:
        drain(backend_for(server, monkeypatch), ask(), mode)
    assert info.value.retryable
    assert isinstance(info.value.__cause__, httpx.ReadError)


@MODES
def test_a_reset_before_any_delta_is_a_connection_error(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The first line has no delta (an empty piece), so nothing reached the caller yet.
    server = Server(ndline(chunk("")), httpx.ReadError("connection reset"))
    with pytest.raises(alloy.ProviderConnectionError) as info:
        drain(backend_for(server, monkeypatch), ask(), mode)
    assert info.value.retryable


@MODES
def test_a_hung_stream_is_a_timeout(mode: str, monkeypatch: pytest.MonkeyPatch) -> None:
    server = Server(HELLO[0], httpx.ReadTimeout("timed out"))
    with pytest.raises(alloy.ProviderTimeout, match="within 7s"):
        drain(backend_for(server, monkeypatch), ask(), mode)


@MODES
def test_an_http_error_before_the_stream_maps_as_for_complete(
    mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = json.dumps({"error": "slow down"}).encode()
    server = Server(body, status=429, headers={"retry-after": "3", "x-request-id": "req-1"})
    with pytest.raises(alloy.RateLimitError, match="slow down") as info:
        drain(backend_for(server, monkeypatch), ask(), mode)
    assert (info.value.retry_after, info.value.request_id) == (3.0, "req-1")


@MODES
def test_a_refused_connection(mode: str) -> None:
    backend = OllamaBackend({"host": "http://127.0.0.1:9"})
    with pytest.raises(alloy.ProviderConnectionError, match="cannot connect to Ollama"):
        drain(backend, ask(1.0), mode)
    backend.close()


@alloy.tool
def noop() -> str:
    """Do nothing."""
    return ""


@MODES
@pytest.mark.parametrize("tool_mode", ["native", "auto"])
def test_a_model_without_tools_is_planned_before_any_request(
    mode: str, tool_mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Planning decides from the model's profile: "native" fails before any request, "auto"
    # streams the ReAct text protocol, so the request carries no tools.
    server = Server(ndline(chunk("Final Answer: hi")), ndline(chunk(done=True)))
    cmd = alloy.command(tools=[noop], output=str)(lambda: "hi").with_config(
        model="gemma3:4b", tool_mode=tool_mode
    )

    def run() -> str:
        if mode == "sync":
            return cmd.stream().result().value

        async def arun() -> str:
            return (await cmd.stream_async().result()).value

        return asyncio.run(arun())

    with use_backend(backend_for(server, monkeypatch)):
        if tool_mode == "native":
            with pytest.raises(alloy.CapabilityError, match="gemma3:4b"):
                run()
            assert not server.requests
        else:
            assert run() == "hi"
            (sent,) = server.requests
            body = json.loads(sent.content)
            assert not body.get("tools")  # the SDK sends an empty list
            assert "noop" in body["messages"][0]["content"]  # taught in the system prompt
