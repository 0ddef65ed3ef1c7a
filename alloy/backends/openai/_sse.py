"""Streaming for both OpenAI backends: open the response, read its server-sent events, map
the failures. What the events mean is the business of a classifier (one per API).

The body is read raw (``with_streaming_response``), not through the SDK's ``Stream``:

* the SDK's ``Stream`` ends the same way on ``data: [DONE]`` and on a clean EOF, so a Chat
  Completions stream cut short would pass as complete;
* it builds a pydantic object per event (about 100 µs each), which dominates the cost of a
  long reply streamed in small pieces; ``json.loads`` of the same event takes about 3 µs.

Failures, by when they happen:

* opening the stream (HTTP status, refused, reset, timeout before the headers): mapped by
  the same ``ErrorBoundary`` as ``complete``, so alloy's retries apply;
* a malformed chunk or an error event in the stream: ``StreamError``;
* a transport failure while reading: mapped like ``complete``'s while no delta has been
  yielded (nothing was shown yet, so a retry is safe), a ``StreamError`` after; a timeout is
  always a ``ProviderTimeout`` (a hung stream).

Closing the delta iterator (``close()``/``aclose()``, ``break``, cancellation) closes the HTTP
response, which drops the connection of a body not read to its end.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, Protocol, cast

import httpx2
import openai

from ..._deltas import Delta
from ..._errors import ProviderError, ProviderTimeout, StreamError
from .._http import body_message, error_for_transport, scrub
from ._shared import OpenAIClients

__all__ = [
    "Classifier",
    "ErrorEvent",
    "MalformedChunk",
    "SSEDecoder",
    "StreamFault",
    "areceive",
    "dig",
    "load_object",
    "mapping",
    "receive",
    "string",
]

# What reading a response body can raise: httpx2's errors and the sockets' own.
_READ_ERRORS = (httpx2.HTTPError, httpx2.StreamError, OSError)
_EOL = re.compile(rb"\r\n|\r|\n")
_decode_json = json.JSONDecoder().decode
_RETRYABLE_CODES = ("server_error", "overloaded", "rate_limit", "timeout", "unavailable")

Opener = Callable[[], AbstractContextManager["openai.APIResponse[Any]"]]
AsyncOpener = Callable[[], Awaitable[AbstractAsyncContextManager["openai.AsyncAPIResponse[Any]"]]]


class StreamFault(Exception):
    """Raised by a classifier; the reader turns it into a ``StreamError``."""


class MalformedChunk(StreamFault):
    """An event whose data is not the JSON object the API sends."""


class ErrorEvent(StreamFault):
    """The provider reported an error inside the stream; ``error`` is its error object."""

    def __init__(self, error: Any):
        super().__init__("error event")
        self.error = error


class Classifier(Protocol):
    """Turns the data of each server-sent event into deltas (no I/O)."""

    @property
    def finished(self) -> bool:
        """Whether the terminal event was seen (nothing after it is read)."""
        ...

    def event(self, data: bytes) -> list[Delta]:
        """The deltas of one event, in order; raises ``StreamFault``."""
        ...


def load_object(data: bytes) -> dict[str, Any]:
    """The JSON object in an event's data, or ``MalformedChunk``."""
    try:
        value = _decode_json(data.decode())
    except ValueError as exc:  # JSONDecodeError, or UnicodeDecodeError for bad UTF-8
        raise MalformedChunk(f"an event is not JSON: {_preview(data)}") from exc
    if not isinstance(value, dict):
        raise MalformedChunk(f"an event is not a JSON object: {_preview(data)}")
    return cast("dict[str, Any]", value)


def dig(obj: Any, *path: str) -> int | None:
    """The integer at ``obj[path[0]][path[1]]...``, or ``None`` where any step is missing."""
    value = obj
    for key in path:
        current = mapping(value)
        if current is None:
            return None
        value = current.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def mapping(value: Any) -> dict[str, Any] | None:
    """``value`` if it is a JSON object, else ``None``."""
    return cast("dict[str, Any]", value) if isinstance(value, dict) else None


def string(value: Any) -> str | None:
    """``value`` if it is a non-empty string, else ``None``."""
    return value if isinstance(value, str) and value else None


def _preview(data: bytes) -> str:
    text = data[:120].decode("utf-8", "replace")
    return repr(text + ("…" if len(data) > 120 else ""))


class SSEDecoder:
    """Incremental server-sent events: feed raw bytes, get the data of each complete event.

    Lines end at CR, LF or CRLF (only those: JSON may hold U+2028 unescaped, which
    ``str.splitlines`` would split). ``event:``/``id:``/``retry:`` fields and comments are
    skipped (both APIs put the event type inside the JSON). Linear in the input: a line split
    over many network chunks is gathered in one buffer and joined once.
    """

    __slots__ = ("_data", "_partial", "_pending_cr", "events")

    def __init__(self) -> None:
        self._partial = bytearray()
        self._pending_cr = False
        self._data: list[bytes] = []
        self.events = 0
        """How many events were dispatched so far."""

    def feed(self, chunk: bytes) -> list[bytes]:
        """The data of every event completed by ``chunk``."""
        out: list[bytes] = []
        start = 1 if self._pending_cr and chunk.startswith(b"\n") else 0
        for match in _EOL.finditer(chunk, start):
            line = chunk[start : match.start()]
            if self._partial:
                self._partial += line
                line = bytes(self._partial)
                self._partial.clear()
            self._line(line, out)
            start = match.end()
        if chunk:
            # A CR that ends a chunk may be the first half of a CRLF.
            self._pending_cr = chunk.endswith(b"\r")
        self._partial += chunk[start:]
        return out

    def end(self) -> list[bytes]:
        """At EOF: the last event, even if its blank line never came."""
        out: list[bytes] = []
        if self._partial:
            self._line(bytes(self._partial), out)
            self._partial.clear()
        self._line(b"", out)
        return out

    def _line(self, line: bytes, out: list[bytes]) -> None:
        if not line:
            if self._data:
                out.append(self._data[0] if len(self._data) == 1 else b"\n".join(self._data))
                self._data = []
                self.events += 1
            return
        if line.startswith(b"data:"):
            value = line[5:]
            self._data.append(value[1:] if value.startswith(b" ") else value)
        # Other fields (event, id, retry) and ":" comments carry nothing alloy needs.


class _Reader:
    """One stream's decoder and classifier, and the mapping of its failures."""

    def __init__(
        self,
        clients: OpenAIClients,
        timeout: float | None,
        classifier: Classifier,
        request_id: str | None,
        content_type: str,
    ):
        self._clients = clients
        self._timeout = timeout
        self._classifier = classifier
        self._request_id = request_id
        self._content_type = content_type
        self._sse = SSEDecoder()
        self.started = False

    @property
    def finished(self) -> bool:
        return self._classifier.finished

    def feed(self, chunk: bytes) -> list[Delta]:
        return self._classify(self._sse.feed(chunk))

    def end(self) -> list[Delta]:
        deltas = self._classify(self._sse.end())
        if not self._sse.events and "event-stream" not in self._content_type:
            raise StreamError(
                f"the server answered {self._content_type or 'a body without a content type'} "
                "instead of an event stream. Check that the base URL is right and that the "
                "server supports streaming",
                provider=self._clients.provider,
                request_id=self._request_id,
                retryable=False,
            )
        return deltas

    def _classify(self, events: list[bytes]) -> list[Delta]:
        out: list[Delta] = []
        classifier = self._classifier
        try:
            for data in events:
                out += classifier.event(data)
                if classifier.finished:
                    break
        except StreamFault as fault:
            raise self._stream_error(fault) from fault.__cause__
        if out:
            self.started = True
        return out

    def _stream_error(self, fault: StreamFault) -> StreamError:
        provider, secrets = self._clients.provider, self._clients.secrets
        if not isinstance(fault, ErrorEvent):
            return StreamError(
                f"malformed stream: {scrub(str(fault), secrets)}. A proxy or the provider "
                "corrupted the stream; try again later",
                provider=provider,
                request_id=self._request_id,
                retryable=False,
            )
        error = fault.error
        message = body_message(error, "the provider reported an error")
        fields = mapping(error) or {}
        code = str(fields.get("code") or fields.get("type") or "")
        retryable = any(word in code for word in _RETRYABLE_CODES)
        return StreamError(
            f"the provider reported an error in the stream: {scrub(message, secrets)}"
            + (f" ({code})" if code else "")
            + ". The reply is incomplete",
            provider=provider,
            request_id=self._request_id,
            retryable=retryable,
        )

    def broken(self, exc: Exception) -> ProviderError:
        """The alloy error for a transport failure while reading the body."""
        provider, secrets = self._clients.provider, self._clients.secrets
        mapped = error_for_transport(provider, exc, self._timeout, secrets)
        if mapped is not None and (not self.started or isinstance(mapped, ProviderTimeout)):
            return mapped
        return StreamError(
            f"the stream broke before its end ({type(exc).__name__}: "
            f"{scrub(str(exc), secrets)}). The reply is incomplete; try again",
            provider=provider,
            request_id=self._request_id,
            retryable=mapped is not None,
        )


def receive(
    clients: OpenAIClients,
    open_stream: Opener,
    timeout: float | None,
    classifier: Callable[[str | None], Classifier],
) -> Iterator[Delta]:
    """The deltas of one streamed call with a sync client.

    ``open_stream`` returns the SDK's ``with_streaming_response`` context manager;
    ``classifier`` builds the classifier for the response's request id.
    """
    with clients.errors(timeout):
        opened = open_stream().__enter__()
    response = opened.http_response
    request_id = opened.request_id
    reader = _Reader(clients, timeout, classifier(request_id), request_id, _content_type(response))
    try:
        for chunk in response.iter_bytes():
            yield from reader.feed(chunk)
            if reader.finished:
                return
        yield from reader.end()
    except _READ_ERRORS as exc:
        raise reader.broken(exc) from exc
    finally:
        response.close()


async def areceive(
    clients: OpenAIClients,
    open_stream: AsyncOpener,
    timeout: float | None,
    classifier: Callable[[str | None], Classifier],
) -> AsyncIterator[Delta]:
    """The async twin of ``receive`` (an async generator: ``aclose()`` closes the response)."""
    with clients.errors(timeout):
        manager = await open_stream()
        opened = await manager.__aenter__()
    response = opened.http_response
    request_id = opened.request_id
    reader = _Reader(clients, timeout, classifier(request_id), request_id, _content_type(response))
    try:
        async for chunk in response.aiter_bytes():
            for delta in reader.feed(chunk):
                yield delta
            if reader.finished:
                return
        for delta in reader.end():
            yield delta
    except _READ_ERRORS as exc:
        raise reader.broken(exc) from exc
    finally:
        await response.aclose()


def _content_type(response: httpx2.Response) -> str:
    return response.headers.get("content-type", "")
