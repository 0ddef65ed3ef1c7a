"""The ``gemini`` backend: Google's Gemini API through the official ``google-genai`` SDK.

encode (``Request`` → ``models.generate_content`` arguments) → one SDK call → decode (the
SDK's ``GenerateContentResponse`` → alloy ``Response``); the encoder and decoder live in
``_encode`` and ``_decode``, what each model can do in ``_models``. A streamed call sends the
same arguments to ``generate_content_stream``, and ``_stream`` turns its chunks into deltas.

How the SDK is driven, and why:

* Clients are built with the SDK's own defaults, so ``GEMINI_API_KEY`` / ``GOOGLE_API_KEY``,
  ``GOOGLE_GEMINI_BASE_URL`` and ``GOOGLE_GENAI_API_VERSION`` work; ``provider_options=
  {"gemini": {...}}`` keys ``api_key``, ``base_url``, ``api_version``, ``headers``,
  ``http_options`` (an ``HttpOptions`` or its dict), ``vertexai``, ``project``,
  ``location`` and ``credentials`` configure ``genai.Client``. Every other key is a
  ``GenerateContentConfig`` field sent with each request (``thinking_config``,
  ``safety_settings``...), in snake_case or camelCase. Thought summaries, which become
  ``Response.reasoning``, come with ``{"thinking_config": {"include_thoughts": True}}``.
* Each ``genai.Client`` stays referenced until it is closed: a collected client closes its
  HTTP client under any call still using it.
* One client for blocking calls, and one per event loop for ``acomplete``, closed when its
  loop shuts down (``ClientCache``). The async one is given its own ``httpx2`` transport,
  which keeps the SDK on httpx2 even where ``aiohttp`` is installed (the SDK would switch
  to it, with other exceptions and a hidden retry of connection errors).
* A stream is read through the SDK's nested generators. Closing the blocking one reaches
  the response at once; an async generator's ``aclose()`` does not reach the ones it
  holds, so alloy's async clients note each response a stream opens (an httpx2 response
  hook, scoped by a context variable) and ``astream`` closes those itself. (With an
  ``httpx_async_client`` of your own, the SDK's generators close it when collected.)
* The SDK retries nothing unless ``retry_options`` is set; alloy retries, so setting it is
  refused. The SDK has no default timeout: ``Request.timeout`` goes with each request, in
  the milliseconds ``HttpOptions.timeout`` takes.
"""

from __future__ import annotations

import io
import os
import ssl
import time
from collections.abc import AsyncGenerator
from collections.abc import AsyncIterator
from collections.abc import Generator
from collections.abc import Iterator
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any
from typing import ClassVar
from typing import cast

import httpx2
from google import genai
from google.genai import types

from ..._deltas import Delta
from ..._errors import CapabilityError
from ..._errors import ConfigurationError
from ..._errors import ProviderError
from ..._errors import ProviderTimeout
from ..._media import Media
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
from ..base import StreamDecoder as Decoder
from ..base import UploadedFile
from ._batch import Batches
from ._caches import Accounts
from ._decode import decode_response
from ._encode import CLIENT_OPTIONS
from ._encode import RESERVED_OPTIONS
from ._encode import encode_request
from ._errors import KEY_HINT
from ._errors import malformed_chunk
from ._errors import translate
from ._models import NAME
from ._models import REASONING
from ._models import capabilities as model_capabilities
from ._stream import StreamDecoder

__all__ = ["GeminiBackend", "GeminiClients"]

_KEY_ENV = ("GEMINI_API_KEY", "GOOGLE_API_KEY")
_VERTEX_ENV = ("GOOGLE_GENAI_USE_VERTEXAI", "GOOGLE_GENAI_USE_ENTERPRISE")
# Client options that are fields of ``HttpOptions`` rather than ``genai.Client`` arguments.
_HTTP_FIELDS = ("base_url", "api_version", "headers")
# ``async_client_args`` that belong to the transport alloy builds for the async client.
_TRANSPORT_ARGS = ("verify", "cert", "trust_env", "http1", "http2", "limits")
# How long an uploaded file may stay PROCESSING, and the pauses between looks at it.
_PROCESSING_LIMIT = 600.0
_FIRST_POLL, _LONGEST_POLL = 0.2, 2.0
# The Gemini API keeps an uploaded file for 48 hours, whatever the caller asks.
_FILE_LIFETIME = 48 * 3600
# The responses opened while ``astream`` waits for its next chunk (None: not streaming).
_OPENED: ContextVar[list[httpx2.Response] | None] = ContextVar("alloy_gemini_opened", default=None)


class GeminiBackend(Accounts, Batches):
    """Gemini models through ``client.models.generate_content``.

    ``client_options`` are the client settings from ``provider_options={"gemini": {...}}``;
    anything unset comes from the SDK's defaults and environment variables.

    Uploads and explicit caches (``upload``, ``create_cached_context``...) share the
    account of ``_caches.Accounts``.

    >>> backend = GeminiBackend({"api_key": "AIza..."})
    >>> backend.capabilities("gemini-2.5-flash").schema_dialect
    'gemini'
    """

    name = NAME
    client_options: ClassVar[frozenset[str]] = CLIENT_OPTIONS
    reserved_options: ClassVar[frozenset[str]] = RESERVED_OPTIONS
    reasoning_rows: ClassVar[tuple[ReasoningRow, ...]] = REASONING
    _clients: GeminiClients

    def __init__(self, client_options: Mapping[str, Any] | None = None):
        self._clients = GeminiClients(client_options or {})

    def capabilities(self, model: str) -> Capabilities:
        """Per model family: Gemini models have native JSON schema and tools, Gemma neither."""
        return model_capabilities(model)

    def close(self) -> None:
        """Close the SDK clients (the registry calls this when it drops the backend)."""
        self._clients.close()

    def complete(self, request: Request) -> Response:
        """One ``models.generate_content`` call with the blocking client."""
        params = encode_request(request)
        client = self._clients.sync()
        with self._clients.errors(request.timeout):
            # The ignore: the SDK's signature names PIL.Image, which pyright cannot resolve.
            raw = client.models.generate_content(**params)  # pyright: ignore[reportUnknownMemberType]
        return decode_response(raw)

    async def acomplete(self, request: Request) -> Response:
        """One ``aio.models.generate_content`` call with this event loop's client."""
        params = encode_request(request, config_dict=True)
        client = await self._clients.aclient()
        with self._clients.errors(request.timeout):
            raw = await client.aio.models.generate_content(**params)  # pyright: ignore[reportUnknownMemberType]
        return decode_response(raw)

    def stream(self, request: Request) -> Iterator[Delta]:
        """One ``models.generate_content_stream`` call with the blocking client, as deltas.

        Closing this generator closes the SDK's chunk generator, and with it the response.
        """
        params = encode_request(request)
        client = self._clients.sync()
        decoder: Decoder = StreamDecoder()  # typed as the contract, which it must satisfy
        boundary = self._clients.errors(request.timeout, stream=True)
        with boundary:
            # A generator, typed as an iterator by the SDK: ``close`` reaches the response.
            chunks = cast(
                "Generator[types.GenerateContentResponse, None, None]",
                client.models.generate_content_stream(**params),  # pyright: ignore[reportUnknownMemberType]
            )
            try:
                for chunk in chunks:
                    for delta in decoder.feed(chunk):
                        boundary.started = True
                        yield delta
            finally:
                chunks.close()

    async def astream(self, request: Request) -> AsyncIterator[Delta]:
        """One ``aio.models.generate_content_stream`` call, as deltas; closing or cancelling
        it closes the SDK's chunk generator and the responses it opened."""
        params = encode_request(request, config_dict=True)
        client = await self._clients.aclient()
        decoder: Decoder = StreamDecoder()  # typed as the contract, which it must satisfy
        boundary = self._clients.errors(request.timeout, stream=True)
        opened: list[httpx2.Response] = []
        with boundary:
            chunks = cast(
                "AsyncGenerator[types.GenerateContentResponse, None]",
                await client.aio.models.generate_content_stream(**params),  # pyright: ignore[reportUnknownMemberType]
            )
            try:
                while True:
                    token = _OPENED.set(opened)  # reset before yielding: nothing leaks out
                    try:
                        chunk = await anext(chunks)
                    except StopAsyncIteration:
                        break
                    finally:
                        _OPENED.reset(token)
                    for delta in decoder.feed(chunk):
                        boundary.started = True
                        yield delta
            finally:
                await chunks.aclose()
                for response in opened:
                    await response.aclose()

    def upload(self, media: Media, *, expires_in: int) -> UploadedFile:
        """``files.upload``, then ``files.get`` until the file is ACTIVE; its URI is the id.

        ``expires_in`` is ignored: the API deletes every uploaded file after 48 hours.
        A file still PROCESSING after ten minutes is a ``ProviderTimeout``; a FAILED one a
        ``ProviderError`` with the API's reason.
        """
        client = self._clients.sync()
        if client.vertexai:
            raise CapabilityError(
                "uploads", NAME, hint="Vertex AI has no Files API: use a gs:// URL instead."
            )
        config = types.UploadFileConfig(mime_type=media.media_type, display_name=media.filename)
        with self._clients.errors(None):
            stored = client.files.upload(file=io.BytesIO(media.data), config=config)
            stored = _processed(client, stored)
        if not stored.uri:
            raise ProviderError(f"the uploaded file {stored.name} has no URI.", provider=NAME)
        expires = stored.expiration_time
        expires_at = expires.timestamp() if expires else time.time() + _FILE_LIFETIME
        return UploadedFile(file_id=stored.uri, expires_at=expires_at)


def _processed(client: genai.Client, stored: types.File) -> types.File:
    """``stored`` once it has left PROCESSING (videos and long audio take a while)."""
    deadline = time.monotonic() + _PROCESSING_LIMIT
    pause = _FIRST_POLL
    while stored.state == types.FileState.PROCESSING:
        if stored.name is None:
            raise ProviderError("the uploaded file has no name to look it up.", provider=NAME)
        if time.monotonic() + pause > deadline:
            raise ProviderTimeout(
                f"the uploaded file {stored.name} was still PROCESSING after "
                f"{_PROCESSING_LIMIT:.0f} s.",
                provider=NAME,
            )
        time.sleep(pause)
        pause = min(pause * 2, _LONGEST_POLL)
        stored = client.files.get(name=stored.name)
    if stored.state == types.FileState.FAILED:
        reason = (stored.error.message if stored.error else None) or "no reason given"
        raise ProviderError(
            f"the uploaded file {stored.name} failed processing: {reason}",
            provider=NAME,
            retryable=False,
        )
    return stored


class GeminiClients:
    """The ``genai.Client``s of one backend instance, and the error boundary around them."""

    def __init__(self, options: Mapping[str, Any]):
        self._options = dict(options)
        self._secrets = Secrets((self._options.get("api_key"),))
        self._ssl: ssl.SSLContext | None = None
        self._cache: ClientCache[genai.Client, genai.Client] = ClientCache(
            lambda: self._build(for_async=False),
            lambda: self._build(for_async=True),
            lambda client: client.close(),
            _aclose,
        )

    def sync(self) -> genai.Client:
        """The client for blocking calls, created on first use."""
        return self._cache.sync()

    async def aclient(self) -> genai.Client:
        """The client of the running event loop (use its ``.aio``)."""
        return await self._cache.aclient()

    def close(self) -> None:
        """Close the clients; they are created again on next use."""
        self._cache.close()

    @property
    def secrets(self) -> Secrets:
        """API keys in use, to scrub from error messages."""
        return self._secrets

    def errors(self, timeout: float | None, *, stream: bool = False) -> ErrorBoundary:
        """The boundary that turns SDK and transport exceptions into alloy errors; in a
        stream, a chunk the SDK cannot parse breaks it even before its first delta."""
        return ErrorBoundary(
            translate, self._secrets, timeout, stream=stream, malformed=malformed_chunk
        )

    def _build(self, *, for_async: bool) -> genai.Client:
        options = dict(self._options)

        def make() -> genai.Client:
            http_options = _http_options(options, for_async, self._tls())
            try:
                return genai.Client(**options, http_options=http_options)
            except ValueError as exc:
                # The SDK says "no key" with a plain ValueError, like any bad setting.
                if "No API key" not in str(exc):
                    raise
                raise ConfigurationError(f"{NAME}: no API key. To fix: {KEY_HINT}.") from exc

        client = build_client(
            make, provider=NAME, secrets=self._secrets, key_hint=KEY_HINT, key_attributes=()
        )
        # The SDK keeps the key it found in the environment private: scrub those too.
        self._secrets.add(os.environ.get(name) for name in _KEY_ENV)
        return client

    def _tls(self) -> ssl.SSLContext | None:
        """One TLS context for every client of this backend, built on first use.

        Left to itself the SDK loads the CA store three times per ``genai.Client`` (about
        80 ms), and an async client is built for every event loop. The context is the one
        the SDK would make for httpx2 (``httpx2.create_ssl_context``: the system store, or
        ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``). Vertex AI is left to the SDK, which may load a
        client certificate.
        """
        if self._options.get("vertexai") or any(
            os.environ.get(name, "").lower() in ("1", "true") for name in _VERTEX_ENV
        ):
            return None
        if self._ssl is None:
            self._ssl = httpx2.create_ssl_context()
        return self._ssl


async def _note_opened(response: httpx2.Response) -> None:
    """Response hook of the async clients: note a response opened for ``astream``."""
    opened = _OPENED.get()
    if opened is not None:
        opened.append(response)


async def _aclose(client: genai.Client) -> None:
    await client.aio.aclose()
    client.close()


def _http_options(
    options: dict[str, Any], for_async: bool, tls: ssl.SSLContext | None
) -> types.HttpOptions:
    """The client's ``HttpOptions``: ``http_options`` with the plain client keys on top.

    Removes ``http_options``, ``base_url``, ``api_version`` and ``headers`` from ``options``.
    ``tls`` is the TLS context for HTTP clients that ``http_options`` does not give one.
    """
    given: Any = options.pop("http_options", None)
    if given is None:
        http = types.HttpOptions()
    elif isinstance(given, types.HttpOptions):
        http = given.model_copy()
    elif isinstance(given, Mapping):
        http = types.HttpOptions.model_validate(dict(given))  # pyright: ignore[reportUnknownArgumentType]
    else:
        raise ConfigurationError(
            f"{NAME}: http_options must be a google.genai.types.HttpOptions or a dict, "
            f"not {type(given).__name__}."
        )
    updates: dict[str, Any] = {key: options.pop(key) for key in _HTTP_FIELDS if key in options}
    if "headers" in updates:
        updates["headers"] = {**(http.headers or {}), **updates["headers"]}
    if http.retry_options is not None:
        raise ConfigurationError(
            f"{NAME}: http_options.retry_options would make the SDK retry on top of alloy's "
            "own retries. Set max_retries / max_retry_wait instead."
        )
    client_args = dict(http.client_args or {})
    async_args = dict(http.async_client_args or {})
    if tls is not None:
        client_args.setdefault("verify", tls)
        async_args.setdefault("verify", tls)
        async_args.setdefault("ssl", tls)  # what the SDK's websockets (Live API) would use
    own_client = http.httpx_async_client or getattr(http, "aiohttp_client", None)
    if for_async and not own_client and "transport" not in async_args:
        transport = {key: async_args[key] for key in _TRANSPORT_ARGS if key in async_args}
        async_args["transport"] = httpx2.AsyncHTTPTransport(**transport)
    if for_async and not own_client:
        added = {**async_hooks(httpx2)}
        added["response"] = [*added["response"], _note_opened]
        async_args["event_hooks"] = with_hooks(async_args.get("event_hooks"), added)
    if not http.httpx_client:
        client_args["event_hooks"] = with_hooks(client_args.get("event_hooks"), hooks(httpx2))
    updates["client_args"] = client_args
    updates["async_client_args"] = async_args
    return http.model_copy(update=updates)
