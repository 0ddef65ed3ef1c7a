"""The ``ollama`` backend: Ollama's native ``/api/chat`` through the official ``ollama`` SDK.

Clients are ``ollama.Client`` / ``ollama.AsyncClient`` built with the SDK's defaults, so
``OLLAMA_HOST`` and ``OLLAMA_API_KEY`` (sent as a Bearer token) apply; ``provider_options=
{"ollama": {"host": ..., "headers": {...}}}`` override them. The SDK never retries (alloy
does) and sets no timeout: ``chat()`` takes none per call, so each client carries an httpx
request hook that applies the request's ``timeout`` from a context variable set around the
SDK call, or around each read of a stream (httpx reads the timeout of each request from
``request.extensions``; a stream's request goes out on its first read).

Streams (``stream``/``astream``) are the same call with ``stream=True``: the SDK's generator
of NDJSON chunks, decoded by ``_stream.StreamDecoder`` and closed (closing the HTTP response)
when the caller closes or abandons the stream.

Structured output is enforced natively by every model (``format=<JSON schema>``, which
Ollama turns into a grammar). Native tool calling depends on the model: see
``_models.PROFILES``.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Generator
from collections.abc import Iterator
from collections.abc import Mapping
from contextvars import ContextVar
from contextvars import Token
from functools import lru_cache
from typing import Any
from typing import ClassVar
from typing import TypeVar
from typing import cast

import httpx
import ollama

from ..._deltas import Delta
from ..._errors import ConfigurationError
from ..._messages import Request
from ..._messages import Response
from .._boundary import ErrorBoundary
from .._boundary import Secrets
from .._clients import ClientCache
from .._clients import build_client
from .._deadline import async_hooks
from .._deadline import hooks
from .._deadline import with_hooks
from .._reasoning import ReasoningRow
from ..base import Capabilities
from ._decode import decode_response
from ._encode import CLIENT_OPTIONS
from ._encode import RESERVED_OPTIONS
from ._encode import encode_request
from ._errors import KEY_HINT
from ._errors import malformed_line
from ._errors import translate
from ._errors import translate_read
from ._models import NAME
from ._models import REASONING
from ._models import capabilities
from ._stream import StreamDecoder

__all__ = ["OllamaBackend"]

_T = TypeVar("_T")

# The timeout of the SDK call in progress, read by the clients' request hook.
_TIMEOUT: ContextVar[float | None] = ContextVar("alloy_ollama_timeout", default=None)


def _apply_timeout(request: httpx.Request) -> None:
    seconds = _TIMEOUT.get()
    if seconds is not None:
        request.extensions = {**request.extensions, "timeout": dict(_timeouts(seconds))}


@lru_cache(maxsize=64)
def _timeouts(seconds: float) -> dict[str, float | None]:
    """httpx's per-request timeout dict for ``seconds`` (built once per value, copied per
    request: constructing ``httpx.Timeout`` each time costs several µs)."""
    return httpx.Timeout(seconds).as_dict()


async def _aapply_timeout(request: httpx.Request) -> None:
    _apply_timeout(request)


class _Timeout:
    """The call's timeout, for the request hook, while a block runs: the SDK call, or one
    read of a stream. Reusable for every read of one stream, not re-entrant."""

    __slots__ = ("_seconds", "_token")

    def __init__(self, seconds: float | None):
        self._seconds = seconds
        self._token: Token[float | None] | None = None

    def __enter__(self) -> None:
        self._token = _TIMEOUT.set(self._seconds)

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _TIMEOUT.reset(self._token)
            self._token = None


class OllamaBackend:
    """Ollama models through ``Client.chat`` (``POST {host}/api/chat``).

    ``client_options`` are ``host`` and ``headers`` from ``provider_options={"ollama":
    {...}}``; other ``provider_options`` keys are ``chat()`` arguments
    (``keep_alive``, ``logprobs``...), and their ``options`` (``{"num_ctx": 8192}``) merge
    with the ``temperature`` and ``num_predict`` alloy sets.

    >>> backend = OllamaBackend({"host": "http://gpu-box:11434"})
    >>> backend.capabilities("qwen3:8b").tools
    True
    """

    name = NAME
    client_options: ClassVar[frozenset[str]] = CLIENT_OPTIONS
    reserved_options: ClassVar[frozenset[str]] = RESERVED_OPTIONS
    reasoning_rows: ClassVar[tuple[ReasoningRow, ...]] = REASONING

    def __init__(self, client_options: Mapping[str, Any] | None = None):
        self._options = dict(client_options or {})
        self._secrets = Secrets(_header_secrets(self._options.get("headers")))
        self._cache = ClientCache(
            # The timeout hook runs first: the deadline hook reads the timeout it sets.
            lambda: self._build(
                ollama.Client, with_hooks({"request": [_apply_timeout]}, hooks(httpx))
            ),
            lambda: self._build(
                ollama.AsyncClient, with_hooks({"request": [_aapply_timeout]}, async_hooks(httpx))
            ),
            ollama.Client.close,
            ollama.AsyncClient.close,
        )

    def capabilities(self, model: str) -> Capabilities:
        """Per model family: see ``PROFILES``."""
        return capabilities(model)

    def close(self) -> None:
        """Close the SDK clients (the registry calls this when it drops the backend)."""
        self._cache.close()

    def account(self) -> tuple[str, str]:
        """The host the sync client sends to, and the fingerprint of the credential it sends
        (an ``Authorization`` header, or ``OLLAMA_API_KEY``; none for a local server)."""
        from ..._store import account_fingerprint

        # ollama.Client keeps its host and headers only on its httpx client, as it sends them.
        client: Any = self._cache.sync()
        http = cast("httpx.Client", client._client)
        base_url = str(http.base_url)
        return base_url, account_fingerprint(http.headers.get("authorization", ""), base_url)

    def complete(self, request: Request) -> Response:
        """One ``Client.chat`` call."""
        raw: ollama.ChatResponse = self._chat(encode_request(request), request.timeout)
        return decode_response(raw)

    async def acomplete(self, request: Request) -> Response:
        """One ``AsyncClient.chat`` call, with this event loop's client."""
        raw: ollama.ChatResponse = await self._achat(encode_request(request), request.timeout)
        return decode_response(raw)

    def stream(self, request: Request) -> Iterator[Delta]:
        """One ``Client.chat(stream=True)`` call, its chunks decoded as they arrive."""
        params = encode_request(request, stream=True)
        # Checks the arguments; nothing is sent before the first read.
        chunks: Generator[ollama.ChatResponse, None, None] = self._chat(params, request.timeout)
        timeout, read = _Timeout(request.timeout), self._reads(request.timeout)
        decoder = StreamDecoder()
        try:
            while True:
                with timeout, read:
                    chunk = next(chunks, None)
                if chunk is None:
                    return
                for delta in decoder.feed(chunk):
                    read.started = True
                    yield delta
        finally:
            chunks.close()  # leaves the SDK's ``with client.stream(...)``: closes the response

    async def astream(self, request: Request) -> AsyncIterator[Delta]:
        """The async twin of ``stream``, with this event loop's client."""
        params = encode_request(request, stream=True)
        chunks: AsyncGenerator[ollama.ChatResponse, None] = await self._achat(
            params, request.timeout
        )
        timeout, read = _Timeout(request.timeout), self._reads(request.timeout)
        decoder = StreamDecoder()
        try:
            while True:
                # Set and reset within one step of this generator: it may resume in another
                # task, whose context the timeout variable must not leak into.
                with timeout, read:
                    chunk = await anext(chunks, None)
                if chunk is None:
                    return
                for delta in decoder.feed(chunk):
                    read.started = True
                    yield delta
        finally:
            await chunks.aclose()

    def _chat(self, params: dict[str, Any], timeout: float | None) -> Any:
        """``Client.chat(**params)``: a ``ChatResponse``, or with ``stream`` its generator."""
        chat = _chat_of(self._cache.sync())
        with _Timeout(timeout), self._boundary(timeout):
            return chat(**params)

    async def _achat(self, params: dict[str, Any], timeout: float | None) -> Any:
        """``AsyncClient.chat(**params)``, with this event loop's client."""
        chat = _chat_of(await self._cache.aclient())
        with _Timeout(timeout), self._boundary(timeout):
            return await chat(**params)

    def _boundary(self, timeout: float | None) -> ErrorBoundary:
        """The boundary around one SDK call."""
        return ErrorBoundary(translate, self._secrets, timeout)

    def _reads(self, timeout: float | None) -> ErrorBoundary:
        """The boundary around each read of a stream: a malformed line breaks the stream
        wherever it comes, anything else once the stream has yielded a delta."""
        return ErrorBoundary(
            translate_read, self._secrets, timeout, stream=True, malformed=malformed_line
        )

    def _build(self, cls: Callable[..., _T], event_hooks: dict[str, list[Any]]) -> _T:
        host, headers = self._options.get("host"), self._options.get("headers")
        if not (host is None or isinstance(host, str)) or not (
            headers is None or isinstance(headers, Mapping)
        ):
            raise ConfigurationError(
                f"{NAME}: provider_options['ollama'] takes host as a str (such as "
                "'http://localhost:11434') and headers as a dict."
            )
        self._secrets.add((os.environ.get("OLLAMA_API_KEY"),))  # the SDK reads it now

        def make() -> _T:
            try:
                return cls(host=host, headers=headers, event_hooks=event_hooks)
            except httpx.InvalidURL as exc:
                # Not a ValueError, but the same mistake: a host that is no URL.
                raise ValueError(str(exc)) from exc

        return build_client(
            make, provider=NAME, secrets=self._secrets, key_hint=KEY_HINT, key_attributes=()
        )


def _chat_of(client: ollama.Client | ollama.AsyncClient) -> Callable[..., Any]:
    """``client.chat``, to call with a dict of arguments: its overloads (on ``stream``)
    cannot be picked from one, and one of its parameters is an untyped callable."""
    return client.chat  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]


def _header_secrets(headers: object) -> list[str]:
    """The credentials in the ``headers`` option, whole and without their scheme."""
    if not isinstance(headers, Mapping):
        return []
    secrets: list[str] = []
    for name, value in cast("Mapping[object, object]", headers).items():
        if str(name).lower() in ("authorization", "proxy-authorization", "x-api-key"):
            text = str(value)
            secrets.extend((text, text.split(" ", 1)[-1]))
    return secrets
