"""The ``anthropic`` backend: Claude through the official ``anthropic`` SDK's Messages API.

encode (``_encode``) → one ``client.messages.create`` call → decode
(``_decode``, or ``_stream`` for the events of a streamed call, made with
the same arguments plus ``stream=True``). How alloy's settings travel:

- ``system`` is the top-level ``system``; ``max_tokens`` is required by the API, so when none
  is set alloy sends ``DEFAULT_MAX_TOKENS`` (4096), plus the thinking budget when
  ``provider_options={"anthropic": {"thinking": {"type": "enabled", "budget_tokens": N}}}``
  turns extended thinking on.
- ``temperature`` goes in ``extra_body``: the 2.11 SDK's ``create`` no longer takes it,
  though older models still honour it. Claude Opus 4.7 and later refuse it (HTTP 400).
- Structured output is native (``output_config.format``, a JSON schema in the ``anthropic``
  dialect) for models that support it, which is every model not listed in
  ``CAPABILITY_TABLE``. Older models, and schemas constrained decoding cannot express
  (``dict[str, T]``, recursive types), get a forced call of a tool whose ``input_schema`` is
  the output schema; its ``input`` comes back as the reply text.
- Tools are ``{name, description, input_schema}``; results go back as ``tool_result`` blocks
  with ``is_error``. Several tool calls in one turn are allowed.
- The reply's content blocks are kept in ``provider_data`` and sent back verbatim when the
  assistant turn is re-encoded, thinking blocks and their signatures included; the thinking
  text is ``Response.reasoning``.
- Usage: ``input_tokens`` as Anthropic counts it (cache reads and writes excluded),
  ``cached_input_tokens`` from ``cache_read_input_tokens``, ``reasoning_tokens`` from
  ``output_tokens_details.thinking_tokens`` when the API reports it, else ``None``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Generator, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import replace
from typing import Any, ClassVar, TypeVar, cast

import anthropic
import httpx2
from anthropic.types import Message as SDKMessage

from ..._deltas import Delta
from ..._errors import AlloyError, ConfigurationError, ProviderError
from ..._messages import Request, Response
from .._clients import ClientCache
from .._http import body_message, error_for_status, error_for_transport, scrub
from ..base import Capabilities
from ._decode import decode_response
from ._encode import (
    CLIENT_OPTIONS,
    DEFAULT_MAX_TOKENS,
    OUTPUT_TOOL,
    RESERVED_OPTIONS,
    encode_request,
)
from ._stream import StreamDecoder, broken_stream, in_stream_status

__all__ = ["CAPABILITY_TABLE", "DEFAULT_MAX_TOKENS", "AnthropicBackend"]

_NAME = "anthropic"
_KEY_HINT = "set ANTHROPIC_API_KEY or pass provider_options={'anthropic': {'api_key': ...}}"

NATIVE = Capabilities(
    structured_output="json_schema",
    schema_dialect="anthropic",
    tools=True,
    parallel_tools=True,
    tool_error_flag=True,
    streaming=True,
)
FORCED_TOOL = replace(NATIVE, structured_output="tool_call")

# Models without native structured outputs. Anthropic's structured-outputs documentation
# lists Claude Opus 4.6, Sonnet 4.6, Sonnet 4.5, Opus 4.5 and Haiku 4.5 (and Google's Vertex
# page adds Opus 4.7); the public beta (anthropic-beta structured-outputs-2025-11-13) started
# with Sonnet 4.5 and Opus 4.1, and the 3.x and 4.0 models never had it. Opus 4.1 is listed
# here because the generally available ``output_config`` form is not documented for it, and
# a forced tool call works on every model. A name not listed (a newer model) is native.
FORCED_TOOL_MODELS = (
    "claude-instant",
    "claude-1",
    "claude-2",
    "claude-3",
    "claude-4-",
    "claude-opus-4-0",
    "claude-opus-4-1",
    "claude-opus-4-2025",
    "claude-sonnet-4-0",
    "claude-sonnet-4-2025",
)

CAPABILITY_TABLE = (
    (", ".join(f"`{prefix}*`" for prefix in FORCED_TOOL_MODELS), FORCED_TOOL),
    ("all other models", NATIVE),
)
"""Rows for the generated capability matrix; the first row matching a model applies."""

_T = TypeVar("_T")

# Raw exceptions the SDK lets through from its HTTP stack or JSON parsing (PROVIDERS.md §5).
_TRANSPORT = (
    json.JSONDecodeError,
    httpx2.HTTPError,
    httpx2.InvalidURL,
    httpx2.StreamError,
    OSError,
)


class AnthropicBackend:
    """Claude models through ``client.messages.create``.

    ``client_options`` are the SDK client settings from
    ``provider_options={"anthropic": {...}}`` (``api_key``, ``auth_token``, ``base_url``,
    ``default_headers``); anything unset comes from the SDK's defaults, so
    ``ANTHROPIC_API_KEY`` and ``ANTHROPIC_BASE_URL`` work.

    >>> backend = AnthropicBackend({"api_key": "sk-ant-..."})
    >>> backend.capabilities("claude-sonnet-4-5").structured_output
    'json_schema'
    >>> backend.capabilities("claude-3-5-haiku-latest").structured_output
    'tool_call'
    """

    name = _NAME
    client_options: ClassVar[frozenset[str]] = CLIENT_OPTIONS
    reserved_options: ClassVar[frozenset[str]] = RESERVED_OPTIONS

    def __init__(self, client_options: Mapping[str, Any] | None = None):
        self._options = dict(client_options or {})
        self._secrets: tuple[str, ...] = tuple(
            value
            for key in ("api_key", "auth_token")
            if isinstance(value := self._options.get(key), str) and value
        )
        self._cache = ClientCache(
            lambda: self._build(anthropic.Anthropic),
            lambda: self._build(anthropic.AsyncAnthropic),
            lambda client: client.close(),
            lambda client: client.close(),
        )

    def capabilities(self, model: str) -> Capabilities:
        """Native JSON output unless the model is one of ``FORCED_TOOL_MODELS``."""
        return FORCED_TOOL if model.startswith(FORCED_TOOL_MODELS) else NATIVE

    def close(self) -> None:
        """Close the SDK clients (the registry calls this when it drops the backend)."""
        self._cache.close()

    def complete(self, request: Request) -> Response:
        """One ``messages.create`` call with the sync client."""
        params = self._encode(request)
        client = self._cache.sync()
        # Typed as returning ``object``: with a ``dict[str, Any]`` of arguments the type
        # checkers cannot pick one of the SDK's stream/non-stream overloads.
        create = cast("Callable[..., object]", client.messages.create)
        with self._errors(request.timeout):
            raw = create(**params)
        return decode_response(self._expect(raw, SDKMessage))

    async def acomplete(self, request: Request) -> Response:
        """One ``messages.create`` call with this event loop's async client."""
        params = self._encode(request)
        client = await self._cache.aclient()
        create = cast("Callable[..., Awaitable[object]]", client.messages.create)
        with self._errors(request.timeout):
            raw = await create(**params)
        return decode_response(self._expect(raw, SDKMessage))

    def stream(self, request: Request) -> Iterator[Delta]:
        """One ``messages.create(stream=True)`` call with the sync client, as deltas.

        The SDK's raw event stream is read inside ``with``, so closing this generator early
        closes the HTTP response. Failures after the first delta break the stream
        (``StreamError``; a rate limit, a timeout or a rejected key keep their own class).
        """
        params = {**self._encode(request), "stream": True}
        client = self._cache.sync()
        create = cast("Callable[..., object]", client.messages.create)
        progress = _Progress()
        with self._errors(request.timeout, progress):
            events = cast(
                "anthropic.Stream[object]", self._expect(create(**params), anthropic.Stream)
            )
            with events:
                decoder = self._decoder(params, events.response)
                for event in events:
                    for delta in decoder.feed(event):
                        progress.started = True
                        yield delta

    async def astream(self, request: Request) -> AsyncIterator[Delta]:
        """The async twin of ``stream``; cancelling the task closes the HTTP response too."""
        params = {**self._encode(request), "stream": True}
        client = await self._cache.aclient()
        create = cast("Callable[..., Awaitable[object]]", client.messages.create)
        progress = _Progress()
        with self._errors(request.timeout, progress):
            raw = await create(**params)
            events = cast("anthropic.AsyncStream[object]", self._expect(raw, anthropic.AsyncStream))
            async with events:
                decoder = self._decoder(params, events.response)
                async for event in events:
                    for delta in decoder.feed(event):
                        progress.started = True
                        yield delta

    def _decoder(self, params: Mapping[str, Any], response: httpx2.Response) -> StreamDecoder:
        tools: list[dict[str, Any]] = params.get("tools") or []
        offered = any(tool.get("name") == OUTPUT_TOOL for tool in tools)
        return StreamDecoder(output_tool=offered, request_id=response.headers.get("request-id"))

    def _encode(self, request: Request) -> dict[str, Any]:
        native = self.capabilities(request.model).structured_output == "json_schema"
        return encode_request(request, native_output=native)

    def _build(self, cls: Callable[..., _T]) -> _T:
        try:
            # max_retries=0: alloy retries itself, uniformly across providers.
            client = cls(**self._options, max_retries=0)
        except anthropic.AnthropicError as exc:
            raise ConfigurationError(
                f"{_NAME}: cannot create the Anthropic client: {exc} To fix: {_KEY_HINT}."
            ) from exc
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"{_NAME}: invalid client settings in provider_options[{_NAME!r}]: "
                f"{scrub(str(exc), self._secrets)}"
            ) from exc
        for key in (getattr(client, "api_key", None), getattr(client, "auth_token", None)):
            if isinstance(key, str) and key and key not in self._secrets:
                self._secrets = (*self._secrets, key)
        return client

    def _expect(self, raw: object, cls: type[_T]) -> _T:
        """``raw`` if the SDK parsed it as ``cls``; the SDK hands back plain text instead of
        raising when a server answers 200 with a body that is not JSON."""
        if isinstance(raw, cls):
            return raw
        detail = body_message(raw if isinstance(raw, str) else repr(raw), "an empty body")
        raise ProviderError(
            f"the server answered without a JSON body ({scrub(detail, self._secrets)}). "
            "Check the base URL.",
            provider=_NAME,
            retryable=False,
        )

    @contextmanager
    def _errors(
        self, timeout: float | None, progress: _Progress | None = None
    ) -> Generator[None, None, None]:
        """Map every SDK and transport exception to an alloy error (``__cause__`` kept).

        With ``progress``, a failure after a stream's first delta breaks the stream, and so
        does an event that is not JSON, wherever it comes.
        """
        try:
            yield
        except AlloyError:
            raise
        except Exception as exc:
            mapped = _translate(exc, self._secrets, timeout)
            if mapped is None:
                raise
            # An event that is not JSON breaks a stream even before its first delta.
            broken = progress is not None and (
                progress.started or isinstance(exc, json.JSONDecodeError)
            )
            if broken and isinstance(mapped, ProviderError):
                mapped = broken_stream(mapped)
            raise mapped from exc


class _Progress:
    """Whether a stream has yielded a delta yet."""

    __slots__ = ("started",)

    def __init__(self) -> None:
        self.started = False


def _translate(
    exc: Exception, secrets: tuple[str, ...], timeout: float | None
) -> AlloyError | None:
    """The alloy error for ``exc``, or ``None`` when it is not the SDK's or the transport's."""
    if isinstance(exc, anthropic.APIStatusError):
        status = exc.status_code
        if status == 200:
            # An ``event: error`` inside a stream: the status its error type stands for.
            status = in_stream_status(exc.body)
        return error_for_status(
            _NAME,
            status,
            body_message(exc.body, exc.message),
            headers=exc.response.headers,
            # The header, else the ``request_id`` Anthropic also puts in its error bodies.
            request_id=exc.request_id or _body_request_id(exc.body),
            key_hint=_KEY_HINT,
            secrets=secrets,
        )
    if isinstance(exc, anthropic.APIConnectionError):
        # The SDK's message is a bare "Connection error."; its cause says what happened.
        cause = exc.__cause__
        mapped = error_for_transport(_NAME, cause, timeout, secrets) if cause else None
        return mapped or error_for_transport(_NAME, exc, timeout, secrets)
    if isinstance(exc, anthropic.CredentialsError):
        return ConfigurationError(f"{_NAME}: {scrub(str(exc), secrets)} To fix: {_KEY_HINT}.")
    if isinstance(exc, anthropic.AnthropicError):
        # No HTTP error status: a body that failed the SDK's validation, or a client-side
        # SDK error. Trying again would not help.
        detail = (
            body_message(exc.body, str(exc)) if isinstance(exc, anthropic.APIError) else str(exc)
        )
        return ProviderError(scrub(detail, secrets), provider=_NAME, retryable=False)
    if isinstance(exc, _TRANSPORT):
        return error_for_transport(_NAME, exc, timeout, secrets) or ProviderError(
            f"{type(exc).__name__}: {scrub(str(exc), secrets)}", provider=_NAME
        )
    if isinstance(exc, TypeError) and "authentication method" in str(exc):
        # Raised before any I/O when no key, token or credentials profile was found.
        return ConfigurationError(f"{_NAME}: no API key found. To fix: {_KEY_HINT}.")
    if isinstance(exc, TypeError) and "unexpected keyword argument" in str(exc):
        return ConfigurationError(
            f"{_NAME}: the Anthropic SDK does not accept a request option ({exc}). Check "
            f"provider_options[{_NAME!r}]; send fields the SDK does not know as extra_body={{...}}."
        )
    if isinstance(exc, ValueError):
        # The SDK refuses some requests before sending them, e.g. a max_tokens so large that
        # it wants a stream ("Streaming is required ..."): lower max_tokens or set timeout.
        return ConfigurationError(f"{_NAME}: the Anthropic SDK refused the request: {exc}")
    return None


def _body_request_id(body: object) -> str | None:
    found = cast("dict[str, object]", body).get("request_id") if isinstance(body, dict) else None
    return found if isinstance(found, str) and found else None
