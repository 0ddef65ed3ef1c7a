"""The ``ollama`` backend: Ollama's native ``/api/chat`` through the official ``ollama`` SDK.

Clients are ``ollama.Client`` / ``ollama.AsyncClient`` built with the SDK's defaults, so
``OLLAMA_HOST`` and ``OLLAMA_API_KEY`` (sent as a Bearer token) apply; ``provider_options=
{"ollama": {"host": ..., "headers": {...}}}`` override them. The SDK never retries (alloy
does) and sets no timeout: ``chat()`` takes none per call, so each client carries an httpx
request hook that applies the request's ``timeout`` from a context variable set around the
SDK call (httpx reads the timeout of each request from ``request.extensions``).

Structured output is enforced natively by every model (``format=<JSON schema>``, which
Ollama turns into a grammar). Native tool calling depends on the model: see
``CAPABILITY_TABLE``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Awaitable, Callable, Generator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import replace
from typing import Any, TypeVar, cast

import httpx
import ollama
import pydantic

from .._errors import (
    AlloyError,
    CapabilityError,
    ConfigurationError,
    ProviderConnectionError,
    ProviderError,
    StreamError,
)
from .._messages import Request, Response
from ._clients import ClientCache
from ._http import body_message, error_for_status, error_for_transport, scrub
from ._ollama_decode import decode_response
from ._ollama_encode import DIALECT, encode_request
from .base import Capabilities

__all__ = ["CAPABILITY_TABLE", "OllamaBackend", "model_capabilities"]

_NAME = "ollama"
_KEY_HINT = (
    "set OLLAMA_API_KEY (sent as a Bearer token) or pass "
    "provider_options={'ollama': {'headers': {'Authorization': 'Bearer ...'}}}"
)

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
        request.extensions = {**request.extensions, "timeout": httpx.Timeout(seconds).as_dict()}


async def _aapply_timeout(request: httpx.Request) -> None:
    _apply_timeout(request)


class OllamaBackend:
    """Ollama models through ``Client.chat`` (``POST {host}/api/chat``, not streamed).

    ``client_options`` are ``host`` and ``headers`` from ``provider_options={"ollama":
    {...}}``; other ``provider_options`` keys are ``chat()`` arguments (``think``,
    ``keep_alive``, ``logprobs``...), and their ``options`` (``{"num_ctx": 8192}``) merge
    with the ``temperature`` and ``num_predict`` alloy sets.

    >>> backend = OllamaBackend({"host": "http://gpu-box:11434"})
    >>> backend.capabilities("qwen3:8b").tools
    True
    """

    name = _NAME

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

    def _encode(self, request: Request) -> dict[str, Any]:
        if request.tools and not self.capabilities(request.model).tools:
            raise CapabilityError(
                "native tool calling",
                _NAME,
                request.model,
                hint="Use tool_mode='react', or a model with tools (llama3.1, qwen3, "
                "mistral, gpt-oss...).",
            )
        return encode_request(request)

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

    @contextmanager
    def _call(self, timeout: float | None) -> Generator[None, None, None]:
        """Around the SDK call: its timeout, and every SDK and transport exception mapped to
        an alloy error (``__cause__`` kept)."""
        token = _TIMEOUT.set(timeout)
        try:
            yield
        except AlloyError:
            raise
        except Exception as exc:
            mapped = _translate(exc, self._secrets, timeout)
            if mapped is None:
                raise
            raise mapped from exc
        finally:
            _TIMEOUT.reset(token)


def _header_secrets(headers: object) -> tuple[str, ...]:
    if not isinstance(headers, Mapping):
        return ()
    secrets: list[str] = []
    for name, value in cast("Mapping[object, object]", headers).items():
        if str(name).lower() in ("authorization", "proxy-authorization", "x-api-key"):
            text = str(value)
            secrets.extend((text, text.split(" ", 1)[-1]))
    return tuple(s for s in secrets if s)


# --- the error boundary ------------------------------------------------------------------

# Raw exceptions the SDK lets through from httpx or JSON parsing (PROVIDERS.md §5).
_TRANSPORT = (json.JSONDecodeError, httpx.HTTPError, httpx.InvalidURL, httpx.StreamError, OSError)

# An auth failure's message may echo the credential the server received, which alloy does
# not always know (a proxy's key): anything shaped like a token is masked in those.
_TOKEN = re.compile(
    r"(?i)\bbearer\s+\S+|\b(?=[\w.-]*\d)(?=[\w.-]*[a-z])[a-z0-9][\w.-]{15,}",
)


def _translate(
    exc: Exception, secrets: tuple[str, ...], timeout: float | None
) -> AlloyError | None:
    """The alloy error for ``exc``, or ``None`` when it is not the SDK's or the transport's."""
    failed = _failed_response(exc)
    if isinstance(exc, ollama.ResponseError):
        if exc.status_code < 0 and failed is None:
            # An ``{"error": ...}`` line inside a stream (the HTTP status was already 200).
            return StreamError(
                f"the stream reported an error: {scrub(str(exc.error), secrets)}",
                provider=_NAME,
                retryable=False,
            )
        status = failed.status_code if failed is not None else exc.status_code
        return _status_error(status, exc.error, failed, secrets)
    if failed is not None:
        # Raised by the SDK while it read an odd error body (a JSON list, say): the same
        # HTTP error.
        return _status_error(failed.status_code, failed.text, failed, secrets)
    if type(exc) is ConnectionError:
        # The SDK's own "Failed to connect to Ollama" for httpx's ConnectError (refused, DNS),
        # raised ``from None``: the httpx error is the context and says where and why.
        return _not_reachable(exc.__context__, secrets)
    if isinstance(exc, pydantic.ValidationError):
        if exc.title == "ChatResponse":
            return ProviderError(
                f"the reply is not an Ollama chat response: {scrub(str(exc), secrets)}",
                provider=_NAME,
                retryable=False,
            )
        return ConfigurationError(
            f"{_NAME}: the ollama SDK refused the request ({exc.title}): {exc}. "
            "Check provider_options['ollama']."
        )
    if isinstance(exc, TypeError) and "unexpected keyword argument" in str(exc):
        return ConfigurationError(
            f"{_NAME}: Client.chat() does not take an option ({exc}). provider_options"
            "['ollama'] takes host and headers, chat() arguments (think, keep_alive, "
            "logprobs, top_logprobs) and model options as options={...}."
        )
    if isinstance(exc, TypeError) and "must be a mapping" in str(exc):
        return ProviderError(
            "the reply body is JSON but not an object. Check the host.",
            provider=_NAME,
            retryable=False,
        )
    if isinstance(exc, _TRANSPORT):
        return error_for_transport(_NAME, exc, timeout, secrets) or ProviderError(
            f"{type(exc).__name__}: {scrub(str(exc), secrets)}", provider=_NAME
        )
    return None


def _status_error(
    status: int, body: object, failed: httpx.Response | None, secrets: tuple[str, ...]
) -> ProviderError:
    message = body_message(body, f"HTTP {status}")
    if status in (401, 403):
        message = _TOKEN.sub(_mask, message)
    headers = failed.headers if failed is not None else None
    return error_for_status(
        _NAME,
        status,
        message,
        headers=headers,
        request_id=headers.get("x-request-id") if headers is not None else None,
        key_hint=_KEY_HINT,
        secrets=secrets,
    )


def _failed_response(exc: BaseException) -> httpx.Response | None:
    """The HTTP response of the ``HTTPStatusError`` that ``exc`` was raised while handling.

    ``ResponseError`` keeps no headers, but the SDK raises it (``from None``) while handling
    httpx's ``HTTPStatusError``, which stays its ``__context__``: the headers there carry
    Retry-After and the request id.
    """
    context = exc.__context__
    while context is not None:
        if isinstance(context, httpx.HTTPStatusError):
            return context.response
        context = context.__context__
    return None


def _not_reachable(cause: BaseException | None, secrets: tuple[str, ...]) -> ProviderError:
    where = ""
    if isinstance(cause, httpx.RequestError):
        try:
            url = cause.request.url
            where = f" at {url.scheme}://{url.netloc.decode()}"
        except RuntimeError:  # no request attached
            pass
    why = f" ({scrub(str(cause), secrets)})" if cause is not None and str(cause) else ""
    return ProviderConnectionError(
        f"cannot connect to Ollama{where}{why}. Start it (`ollama serve`), or point alloy at "
        "it with OLLAMA_HOST or provider_options={'ollama': {'host': ...}}.",
        provider=_NAME,
    )


def _mask(match: re.Match[str]) -> str:
    return "Bearer ***" if match.group(0).lower().startswith("bearer") else "***"
