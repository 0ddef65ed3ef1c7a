"""Streaming for both OpenAI backends: open the response, read its server-sent events, map
the failures. What the events mean is the business of a stream decoder (one per API).

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
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import AbstractAsyncContextManager
from contextlib import AbstractContextManager
from contextlib import AsyncExitStack
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any
from typing import cast

import openai

from ..._deltas import Delta
from ..._errors import AlloyError
from ..._errors import ProviderError
from ..._errors import StreamError
from .._boundary import ErrorBoundary
from .._boundary import Secrets
from .._boundary import Translate
from ..base import StreamDecoder
from ._errors import MalformedChunk
from ._errors import StreamFault
from ._errors import stream_error

__all__ = ["Reading", "SSEDecoder", "areceive", "load_object", "receive"]

_EOL = re.compile(rb"\r\n|\r|\n")
_decode_json = json.JSONDecoder().decode

Opener = Callable[[], AbstractContextManager["openai.APIResponse[Any]"]]
AsyncOpener = Callable[[], Awaitable[AbstractAsyncContextManager["openai.AsyncAPIResponse[Any]"]]]


@dataclass(frozen=True, slots=True)
class Reading:
    """What reading one stream needs besides the response.

    Attributes:
        provider: the backend's name, for the errors.
        translate: the backend's exception translation.
        secrets: the keys to scrub.
        timeout: the call's timeout.
        decoder: builds the stream decoder for the response's request id.
    """

    provider: str
    translate: Translate
    secrets: Secrets
    timeout: float | None
    decoder: Callable[[str | None], StreamDecoder]


def load_object(data: bytes) -> dict[str, Any]:
    """The JSON object in an event's data, or ``MalformedChunk``."""
    try:
        value = _decode_json(data.decode())
    except ValueError as exc:  # JSONDecodeError, or UnicodeDecodeError for bad UTF-8
        raise MalformedChunk(f"an event is not JSON: {_preview(data)}") from exc
    if not isinstance(value, dict):
        raise MalformedChunk(f"an event is not a JSON object: {_preview(data)}")
    return cast("dict[str, Any]", value)


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
    """One response's events through its stream decoder, and the boundary of its reads."""

    def __init__(
        self, reading: Reading, opened: openai.APIResponse[Any] | openai.AsyncAPIResponse[Any]
    ):
        self._reading = reading
        self._request_id = request_id = opened.request_id
        self._content_type = opened.http_response.headers.get("content-type", "")
        self._decoder = reading.decoder(request_id)
        self._sse = SSEDecoder()
        self.boundary = ErrorBoundary(
            self._translate, reading.secrets, reading.timeout, stream=True
        )
        """Around every read: once a delta is out (``started``), a failure breaks the stream."""

    @property
    def finished(self) -> bool:
        return self._decoder.finished

    def feed(self, chunk: bytes) -> list[Delta]:
        return self._decode(self._sse.feed(chunk))

    def end(self) -> list[Delta]:
        deltas = self._decode(self._sse.end())
        if not self._sse.events and "event-stream" not in self._content_type:
            raise StreamError(
                f"the server answered {self._content_type or 'a body without a content type'} "
                "instead of an event stream. Check that the base URL is right and that the "
                "server supports streaming",
                provider=self._reading.provider,
                request_id=self._request_id,
                retryable=False,
            )
        return deltas

    def _decode(self, events: list[bytes]) -> list[Delta]:
        out: list[Delta] = []
        decoder = self._decoder
        try:
            for data in events:
                out += decoder.feed(data)
                if decoder.finished:
                    break
        except StreamFault as fault:
            reading = self._reading
            error = stream_error(fault, reading.provider, reading.secrets, self._request_id)
            raise error from fault.__cause__
        if out:
            self.boundary.started = True
        return out

    def _translate(
        self, exc: Exception, secrets: Secrets, timeout: float | None
    ) -> AlloyError | None:
        # The headers came, so the request id is known: a broken stream keeps it.
        mapped = self._reading.translate(exc, secrets, timeout)
        if isinstance(mapped, ProviderError) and mapped.request_id is None:
            mapped.request_id = self._request_id
        return mapped


def receive(open_stream: Opener, reading: Reading) -> Iterator[Delta]:
    """The deltas of one streamed call with a sync client.

    ``open_stream`` returns the SDK's ``with_streaming_response`` context manager; leaving
    it closes the response.
    """
    with ExitStack() as stack:
        with ErrorBoundary(reading.translate, reading.secrets, reading.timeout):
            opened = stack.enter_context(open_stream())
        reader = _Reader(reading, opened)
        with reader.boundary:
            for chunk in opened.http_response.iter_bytes():
                yield from reader.feed(chunk)
                if reader.finished:
                    return
            yield from reader.end()


async def areceive(open_stream: AsyncOpener, reading: Reading) -> AsyncIterator[Delta]:
    """The async twin of ``receive`` (an async generator: ``aclose()`` closes the response)."""
    async with AsyncExitStack() as stack:
        with ErrorBoundary(reading.translate, reading.secrets, reading.timeout):
            opened = await stack.enter_async_context(await open_stream())
        reader = _Reader(reading, opened)
        with reader.boundary:
            async for chunk in opened.http_response.aiter_bytes():
                for delta in reader.feed(chunk):
                    yield delta
                if reader.finished:
                    return
            for delta in reader.end():
                yield delta
