"""What the two OpenAI backends share: capabilities, SDK clients, and the error boundary.

``openai`` (Responses API) and ``openai-chat`` (Chat Completions) talk to the same SDK, so
they build clients the same way, translate the same exceptions, and read usage counts with
the same tolerance for missing fields (OpenAI-compatible servers omit many).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from types import TracebackType
from typing import Any, TypeVar

import httpx2
import openai

from ..._errors import AlloyError, ConfigurationError, ProviderError
from ..._messages import OutputSchema, Request, ToolSpec
from ..._schema import for_output, for_tool
from .._clients import ClientCache
from .._http import body_message, error_for_status, error_for_transport, scrub
from ..base import Capabilities

__all__ = [
    "CAPABILITIES",
    "CAPABILITY_TABLE",
    "ErrorBoundary",
    "OpenAIClients",
    "count",
    "finish_params",
    "function_definition",
    "json_schema_format",
    "merge_options",
]

CLIENT_OPTIONS = frozenset(
    {"api_key", "base_url", "organization", "project", "default_headers", "websocket_base_url"}
)
"""``provider_options`` keys that configure the SDK client (both OpenAI backends)."""

CAPABILITIES = Capabilities(
    structured_output="json_schema",
    schema_dialect="openai",
    tools=True,
    parallel_tools=True,
    tool_error_flag=False,
    streaming=True,
)
"""Both OpenAI backends: native JSON schema output, native (parallel) tools, no error flag."""

CAPABILITY_TABLE = (("all models", CAPABILITIES),)
"""Rows for the generated capability matrix: the same for every model."""

_T = TypeVar("_T")

# Raw exceptions the SDK lets through from its HTTP stack or JSON parsing (PROVIDERS.md §5).
_TRANSPORT = (
    json.JSONDecodeError,
    httpx2.HTTPError,
    httpx2.InvalidURL,
    httpx2.StreamError,
    OSError,
)


class OpenAIClients:
    """The SDK clients of one backend instance (see ``ClientCache``), plus what the error
    boundary needs to know: the provider name, the key hint, and the keys to scrub."""

    def __init__(self, provider: str, options: Mapping[str, Any], key_hint: str):
        self.provider = provider
        self.key_hint = key_hint
        self._options = dict(options)
        given = self._options.get("api_key")
        self._secrets: tuple[str, ...] = (given,) if isinstance(given, str) and given else ()
        self._cache = ClientCache(
            lambda: self._build(openai.OpenAI),
            lambda: self._build(openai.AsyncOpenAI),
            lambda client: client.close(),
            lambda client: client.close(),
        )

    def sync(self) -> openai.OpenAI:
        """The sync client, created on first use."""
        return self._cache.sync()

    async def aclient(self) -> openai.AsyncOpenAI:
        """The async client of the running event loop."""
        return await self._cache.aclient()

    def close(self) -> None:
        """Close the clients; they are created again on next use."""
        self._cache.close()

    def errors(self, timeout: float | None) -> ErrorBoundary:
        """The boundary that turns SDK and transport exceptions into alloy errors."""
        return ErrorBoundary(self, timeout)

    def expect(self, raw: object, cls: type[_T]) -> _T:
        """``raw`` if the SDK parsed the body as ``cls``, else a ``ProviderError``.

        The SDK returns the body as plain text, instead of raising, when a server answers
        200 with a content type that is not JSON (a proxy page, a misconfigured base URL).
        """
        if isinstance(raw, cls):
            return raw
        detail = body_message(raw if isinstance(raw, str) else repr(raw), "an empty body")
        raise ProviderError(
            f"the server answered without a JSON body ({scrub(detail, self._secrets)}). "
            "Check the base URL.",
            provider=self.provider,
            retryable=False,
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """API keys in use, to scrub from error messages."""
        return self._secrets

    def _build(self, cls: Callable[..., _T]) -> _T:
        try:
            # max_retries=0: alloy retries itself, uniformly across providers.
            client = cls(**self._options, max_retries=0)
        except openai.OpenAIError as exc:
            raise ConfigurationError(
                f"{self.provider}: cannot create the OpenAI client: {exc} To fix: {self.key_hint}."
            ) from exc
        except (TypeError, ValueError) as exc:
            raise ConfigurationError(
                f"{self.provider}: invalid client settings in "
                f"provider_options[{self.provider!r}]: {scrub(str(exc), self._secrets)}"
            ) from exc
        key = getattr(client, "api_key", None)
        if isinstance(key, str) and key and key not in self._secrets:
            self._secrets = (*self._secrets, key)
        return client


class ErrorBoundary:
    """Context manager mapping every SDK and transport exception to an ``AlloyError``.

    Used around the single SDK call of ``complete`` and ``acomplete`` (an ``await`` inside a
    plain ``with`` block is covered too). The SDK exception is kept as ``__cause__``.
    """

    __slots__ = ("_clients", "_timeout")

    def __init__(self, clients: OpenAIClients, timeout: float | None):
        self._clients = clients
        self._timeout = timeout

    def __enter__(self) -> None:
        return None

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None or isinstance(exc, AlloyError) or not isinstance(exc, Exception):
            return
        mapped = _translate(exc, self._clients, self._timeout)
        if mapped is not None:
            raise mapped from exc


def _translate(exc: Exception, clients: OpenAIClients, timeout: float | None) -> AlloyError | None:
    """The alloy error for ``exc``, or ``None`` when it is not the SDK's or the transport's."""
    provider, secrets = clients.provider, clients.secrets
    if isinstance(exc, openai.APIStatusError):
        return error_for_status(
            provider,
            exc.status_code,
            body_message(exc.body, exc.message),
            headers=exc.response.headers,
            request_id=exc.request_id,
            key_hint=clients.key_hint,
            secrets=secrets,
        )
    if isinstance(exc, openai.APIConnectionError):
        # The SDK's own message is a bare "Connection error."; the httpx2 cause says what
        # happened (refused, reset, DNS) and whether it was a timeout.
        cause = exc.__cause__
        mapped = error_for_transport(provider, cause, timeout, secrets) if cause else None
        return mapped or error_for_transport(provider, exc, timeout, secrets)
    if isinstance(exc, openai.OpenAIError):
        # No HTTP error status: an error body inside a 200, a response that failed the SDK's
        # validation, or a client-side SDK error. Trying again would not help.
        detail = body_message(exc.body, str(exc)) if isinstance(exc, openai.APIError) else str(exc)
        return ProviderError(
            scrub(detail, secrets),
            provider=provider,
            status_code=getattr(exc, "status_code", None),
            retryable=False,
        )
    if isinstance(exc, _TRANSPORT):
        return error_for_transport(provider, exc, timeout, secrets) or ProviderError(
            f"{type(exc).__name__}: {scrub(str(exc), secrets)}", provider=provider
        )
    if isinstance(exc, TypeError) and "unexpected keyword argument" in str(exc):
        # Raised by the SDK before any I/O for a provider_options key it does not know.
        return ConfigurationError(
            f"{provider}: the OpenAI SDK does not accept a request option ({exc}). Check "
            f"provider_options[{provider!r}]; send fields the SDK does not know as "
            "extra_body={...}."
        )
    return None


def json_schema_format(output: OutputSchema) -> dict[str, Any]:
    """The ``{name, schema, strict}`` block both APIs use for structured output."""
    dialect = for_output(output, "openai")
    return {"name": output.name, "schema": dialect.schema, "strict": dialect.strict}


def function_definition(tool: ToolSpec) -> dict[str, Any]:
    """The ``{name, description, parameters, strict}`` block both APIs use for a tool.

    ``strict`` is always sent (the SDK's Responses ``FunctionToolParam`` requires it): a
    schema that strict mode cannot enforce says ``False`` explicitly.
    """
    dialect = for_tool(tool, "openai")
    definition: dict[str, Any] = {"name": tool.name}
    if tool.description:
        definition["description"] = tool.description
    definition["parameters"] = dialect.schema
    definition["strict"] = dialect.strict
    return definition


def finish_params(params: dict[str, Any], request: Request) -> dict[str, Any]:
    """Add the per-request timeout and the provider options, the last step of encoding."""
    if request.timeout is not None:
        # Per request, not ``with_options``: that copies the whole client on every call.
        params["timeout"] = request.timeout
    return merge_options(params, request.options) if request.options else params


def merge_options(params: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with ``options`` on top; nested mappings merge instead of replacing.

    So ``provider_options={"openai": {"text": {"verbosity": "low"}}}`` keeps the
    structured-output ``text.format`` alloy set.
    """
    merged = dict(params)
    for key, value in options.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merged[key] = merge_options(current, value)  # pyright: ignore[reportUnknownArgumentType]
        else:
            merged[key] = value
    return merged


def count(obj: object, *path: str) -> int | None:
    """The integer at ``obj.<path...>``, or ``None`` where any step is missing."""
    value: Any = obj
    for name in path:
        if value is None:
            return None
        value = getattr(value, name, None)
    return value if isinstance(value, int) and not isinstance(value, bool) else None
