"""The ``ollama`` backend: Ollama's native ``/api/chat`` through the official ``ollama`` SDK.

Clients are ``ollama.Client`` / ``ollama.AsyncClient`` built with the SDK's defaults, so
``OLLAMA_HOST`` and ``OLLAMA_API_KEY`` (sent as a Bearer token) apply; ``provider_options=
{"ollama": {"host": ..., "headers": {...}}}`` override them. The SDK never retries (alloy
does) and sets no timeout: ``chat()`` takes none per call, so each client carries an httpx
request hook that applies the request's ``timeout`` from a context variable set around the
SDK call, or around each read of a stream (httpx reads the timeout of each request from
``request.extensions``; a stream's request goes out on its first read).

Streams (``stream``/``astream``) are the same call with ``stream=True``: the SDK's generator
of NDJSON chunks, classified by ``_ollama_stream`` and closed (closing the HTTP response)
when the caller closes or abandons the stream.

Structured output is enforced natively by every model (``format=<JSON schema>``, which
Ollama turns into a grammar). Native tool calling depends on the model: see
``CAPABILITY_TABLE``.
"""

from __future__ import annotations

import os
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Awaitable,
    Callable,
    Generator,
    Iterator,
    Mapping,
)
from contextvars import ContextVar, Token
from dataclasses import replace
from functools import lru_cache
from typing import Any, ClassVar, TypeVar, cast

import httpx
import ollama

from ..._deltas import Delta
from ..._errors import AlloyError, CapabilityError, ConfigurationError
from ..._messages import Request, Response
from .._clients import ClientCache
from .._http import scrub
from ..base import Capabilities
from ._decode import decode_response
from ._encode import CLIENT_OPTIONS, DIALECT, RESERVED_OPTIONS, encode_request
from ._errors import stream_failure, translate
from ._stream import ChunkClassifier

__all__ = ["CAPABILITY_TABLE", "OllamaBackend", "model_capabilities"]

_NAME = "ollama"

TOOLS = Capabilities(
    structured_output="json_schema",
    schema_dialect=DIALECT,
    tools=True,
    parallel_tools=True,
    tool_error_flag=False,
    streaming=True,
    # ``format`` constrains decoding but is not shown to the model (ollama/ollama#8162).
    schema_in_prompt=True,
)
"""Models with native tool calling; every model gets ``format`` (a grammar) for output."""
NO_TOOLS = replace(TOOLS, tools=False, parallel_tools=False)
"""Models without native tool calling: tools go through the ReAct text loop."""

# Native tool calling per model family, from the "tools" label of Ollama's model library
# (ollama.com/search?c=tools), which marks the models whose chat template renders tools and
# parses tool calls. A model name is matched without its ":tag" and any "namespace/" prefix,
# by prefix, first row first: variants without tools come before their family. A model not
# listed (a newer or custom model) is assumed to have tools, as most recent models do; if it
# has none, Ollama answers 400 "... does not support tools".
# fmt: off
_NO_TOOL_VARIANTS = (
    "llama3.2-vision", "qwen2.5vl", "qwen2-math", "mistral-openorca", "mistrallite",
    "granite3-guardian", "granite3.2-vision", "phi4-mini-reasoning",
)
_TOOL_FAMILIES = (
    "llama3.1", "llama3.2", "llama3.3", "llama4", "llama3-groq-tool-use", "qwen2", "qwen3", "qwq",
    "mistral", "mixtral", "ministral", "magistral", "devstral", "command-r", "command-a",
    "firefunction", "hermes3", "nemotron", "granite3", "granite4", "smollm2", "athene-v2", "cogito",
    "phi4-mini", "deepseek-r1", "deepseek-v3.1", "gpt-oss", "kimi-k2", "functiongemma",
)
_NO_TOOL_FAMILIES = (
    "llama2", "llama3", "codellama", "gemma", "codegemma", "phi", "llava", "bakllava", "tinyllama",
    "vicuna", "orca-mini", "deepseek-coder", "deepseek-llm", "deepseek-v2", "deepseek-v3",
    "starcoder", "granite-code", "moondream", "minicpm-v", "qwen",
)
# fmt: on
_ROWS = (
    (_NO_TOOL_VARIANTS, NO_TOOLS),
    (_TOOL_FAMILIES, TOOLS),
    (_NO_TOOL_FAMILIES, NO_TOOLS),
)

CAPABILITY_TABLE = (
    *((", ".join(f"`{prefix}*`" for prefix in prefixes), caps) for prefixes, caps in _ROWS),
    ("all other models", TOOLS),
)
"""Rows for the generated capability matrix; the first row matching a model applies."""


def model_capabilities(model: str) -> Capabilities:
    """What ``model`` can do on Ollama (see ``CAPABILITY_TABLE``).

    >>> model_capabilities("llama3.1:8b").tools, model_capabilities("gemma3:4b").tools
    (True, False)
    """
    family = model.lower().rsplit("/", 1)[-1].split(":", 1)[0]
    for prefixes, caps in _ROWS:
        if family.startswith(prefixes):
            return caps
    return TOOLS


# --- the backend -------------------------------------------------------------------------

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


class OllamaBackend:
    """Ollama models through ``Client.chat`` (``POST {host}/api/chat``).

    ``client_options`` are ``host`` and ``headers`` from ``provider_options={"ollama":
    {...}}``; other ``provider_options`` keys are ``chat()`` arguments (``think``,
    ``keep_alive``, ``logprobs``...), and their ``options`` (``{"num_ctx": 8192}``) merge
    with the ``temperature`` and ``num_predict`` alloy sets.

    >>> backend = OllamaBackend({"host": "http://gpu-box:11434"})
    >>> backend.capabilities("qwen3:8b").tools
    True
    """

    name = _NAME
    client_options: ClassVar[frozenset[str]] = CLIENT_OPTIONS
    reserved_options: ClassVar[frozenset[str]] = RESERVED_OPTIONS

    def __init__(self, client_options: Mapping[str, Any] | None = None):
        self._options = dict(client_options or {})
        self._secrets = _header_secrets(self._options.get("headers"))
        self._cache = ClientCache(
            lambda: self._build(ollama.Client, _apply_timeout),
            lambda: self._build(ollama.AsyncClient, _aapply_timeout),
            ollama.Client.close,
            ollama.AsyncClient.close,
        )

    def capabilities(self, model: str) -> Capabilities:
        """Per model family: see ``CAPABILITY_TABLE``."""
        return model_capabilities(model)

    def close(self) -> None:
        """Close the SDK clients (the registry calls this when it drops the backend)."""
        self._cache.close()

    def complete(self, request: Request) -> Response:
        """One ``Client.chat`` call."""
        params = self._encode(request)
        # ``stream`` is always False, so the call returns a ``ChatResponse`` (the SDK's
        # overloads cannot be picked with a dict of arguments, and one takes untyped callables).
        chat = cast(
            "Callable[..., ollama.ChatResponse]",
            self._cache.sync().chat,  # pyright: ignore[reportUnknownMemberType]
        )
        with self._call(request.timeout):
            raw = chat(**params)
        return decode_response(raw)

    async def acomplete(self, request: Request) -> Response:
        """One ``AsyncClient.chat`` call, with this event loop's client."""
        params = self._encode(request)
        client = await self._cache.aclient()
        chat = cast(
            "Callable[..., Awaitable[ollama.ChatResponse]]",
            client.chat,  # pyright: ignore[reportUnknownMemberType]
        )
        with self._call(request.timeout):
            raw = await chat(**params)
        return decode_response(raw)

    def stream(self, request: Request) -> Iterator[Delta]:
        """One ``Client.chat(stream=True)`` call, its chunks classified as they arrive."""
        params = self._encode(request, stream=True)
        chat = cast(
            "Callable[..., Generator[ollama.ChatResponse, None, None]]",
            self._cache.sync().chat,  # pyright: ignore[reportUnknownMemberType]
        )
        with self._call(request.timeout):
            chunks = chat(**params)  # checks the arguments; nothing is sent before a read
        read, classify = self._call(request.timeout, stream=True), ChunkClassifier()
        try:
            while True:
                with read:
                    chunk = next(chunks, None)
                if chunk is None:
                    return
                for delta in classify(chunk):
                    read.started = True
                    yield delta
        finally:
            chunks.close()  # leaves the SDK's ``with client.stream(...)``: closes the response

    async def astream(self, request: Request) -> AsyncIterator[Delta]:
        """The async twin of ``stream``, with this event loop's client."""
        params = self._encode(request, stream=True)
        client = await self._cache.aclient()
        chat = cast(
            "Callable[..., Awaitable[AsyncGenerator[ollama.ChatResponse, None]]]",
            client.chat,  # pyright: ignore[reportUnknownMemberType]
        )
        with self._call(request.timeout):
            chunks = await chat(**params)
        read, classify = self._call(request.timeout, stream=True), ChunkClassifier()
        try:
            while True:
                # Set and reset within one step of this generator: it may resume in another
                # task, whose context the timeout variable must not leak into.
                with read:
                    chunk = await anext(chunks, None)
                if chunk is None:
                    return
                for delta in classify(chunk):
                    read.started = True
                    yield delta
        finally:
            await chunks.aclose()

    def _encode(self, request: Request, *, stream: bool = False) -> dict[str, Any]:
        if request.tools and not self.capabilities(request.model).tools:
            raise CapabilityError(
                "native tool calling",
                _NAME,
                request.model,
                hint="Use tool_mode='react', or a model with tools (llama3.1, qwen3, "
                "mistral, gpt-oss...).",
            )
        return encode_request(request, stream=stream)

    def _build(self, cls: Callable[..., _T], hook: Callable[[httpx.Request], object]) -> _T:
        host, headers = self._options.get("host"), self._options.get("headers")
        if not (host is None or isinstance(host, str)) or not (
            headers is None or isinstance(headers, Mapping)
        ):
            raise ConfigurationError(
                f"{_NAME}: provider_options['ollama'] takes host as a str (such as "
                "'http://localhost:11434') and headers as a dict."
            )
        key = os.environ.get("OLLAMA_API_KEY")  # the SDK reads it now, as the client is built
        if key and key not in self._secrets:
            self._secrets = (*self._secrets, key)
        try:
            return cls(host=host, headers=headers, event_hooks={"request": [hook]})
        except (TypeError, ValueError, httpx.InvalidURL) as exc:
            raise ConfigurationError(
                f"{_NAME}: invalid client settings in provider_options['ollama']: "
                f"{scrub(str(exc), self._secrets)}"
            ) from exc

    def _call(self, timeout: float | None, *, stream: bool = False) -> _Boundary:
        return _Boundary(self._secrets, timeout, stream)


class _Boundary:
    """Around the SDK call, or each read of a stream: the call's timeout for the request
    hook, and every SDK and transport exception mapped to an alloy error (``__cause__``
    kept). A stream's reads map as a broken stream once it has yielded (``started``)."""

    __slots__ = ("_secrets", "_stream", "_timeout", "_token", "started")

    def __init__(self, secrets: tuple[str, ...], timeout: float | None, stream: bool):
        self._secrets, self._timeout, self._stream = secrets, timeout, stream
        self._token: Token[float | None] | None = None
        self.started = False

    def __enter__(self) -> None:
        self._token = _TIMEOUT.set(self._timeout)

    def __exit__(self, kind: object, exc: BaseException | None, traceback: object) -> None:
        if self._token is not None:
            _TIMEOUT.reset(self._token)
            self._token = None
        if not isinstance(exc, Exception) or isinstance(exc, AlloyError):
            return
        mapped = translate(exc, self._secrets, self._timeout)
        if self._stream:
            mapped = stream_failure(exc, mapped, self.started)
        if mapped is not None:
            raise mapped from exc


def _header_secrets(headers: object) -> tuple[str, ...]:
    if not isinstance(headers, Mapping):
        return ()
    secrets: list[str] = []
    for name, value in cast("Mapping[object, object]", headers).items():
        if str(name).lower() in ("authorization", "proxy-authorization", "x-api-key"):
            text = str(value)
            secrets.extend((text, text.split(" ", 1)[-1]))
    return tuple(s for s in secrets if s)
