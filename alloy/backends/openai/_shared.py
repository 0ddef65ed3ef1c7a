"""What the two OpenAI backends share: the backend class itself, SDK clients, the schema and
tool blocks, option merging, and the usage readers.

``openai`` (Responses API) and ``openai-chat`` (Chat Completions) talk to the same SDK, so
they are one class, ``OpenAIBase``, given one ``Api`` each: the SDK resource it calls, its
encoder, its decoder and its stream decoder. Usage counts are read with the same tolerance
for missing fields (OpenAI-compatible servers omit many).
"""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from contextlib import AbstractAsyncContextManager
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any
from typing import ClassVar
from typing import Generic
from typing import TypeVar
from typing import cast

import httpx2
import openai
from openai.types import FileObject

from ..._deltas import Delta
from ..._errors import AlloyError
from ..._media import Media
from ..._messages import NormalFinish
from ..._messages import OutputSchema
from ..._messages import Request
from ..._messages import Response
from ..._messages import ToolSpec
from ..._schema import DialectSchema
from ..._schema import for_output
from ..._schema import for_tool
from ..._store import account_fingerprint
from ..._usage import Usage
from .._boundary import ErrorBoundary
from .._boundary import Secrets
from .._boundary import expect
from .._clients import ClientCache
from .._clients import build_client
from .._clients import with_http_client
from .._deadline import async_hooks
from .._deadline import hooks
from .._params import as_int
from .._params import merge_options
from ..base import Capabilities
from ..base import ModelProfile
from ..base import StreamDecoder
from ..base import UploadedFile
from ._batch import Batches
from ._errors import translate
from ._models import PROFILES
from ._models import capabilities
from ._sse import Reading
from ._sse import areceive
from ._sse import receive

# No __all__: a private module of this folder; its siblings import what they use by name.

CLIENT_OPTIONS = frozenset(
    {"api_key", "base_url", "organization", "project", "default_headers", "websocket_base_url"}
)
"""``provider_options`` keys that configure the SDK client (both OpenAI backends)."""

OUTPUT_TOOL = "alloy_output"
"""The tool that carries a structured reply when the request's ``output_mode`` is
``"tool_call"``; the decoders read its first call as the reply's text."""

EXPIRY_RANGE = (3600, 30 * 24 * 3600)
"""The seconds ``files.create``'s ``expires_after`` takes (one hour to 30 days)."""

R = TypeVar("R")
_C = TypeVar("_C")


@dataclass(frozen=True, slots=True)
class Api(Generic[R]):
    """One of the two OpenAI APIs, as the backend that speaks it uses it.

    Attributes:
        reply: the SDK's class of a parsed reply.
        resource: the SDK resource of a client (``client.responses``), sync or async; typed
            ``Any`` because, with a ``dict[str, Any]`` of arguments, the type checkers
            cannot pick one of its stream/non-stream overloads anyway.
        encode: ``Request`` → the keyword arguments of ``create``.
        stream_params: the same for a streamed call.
        decode: a parsed reply → ``Response``.
        stream_decoder: a stream decoder for the response's request id.
    """

    reply: type[R]
    resource: Callable[[Any], Any]
    encode: Callable[[Request], dict[str, Any]]
    stream_params: Callable[[Request], dict[str, Any]]
    decode: Callable[[R], Response]
    stream_decoder: Callable[[str | None], StreamDecoder]


class OpenAIBase(Batches):
    """An OpenAI backend: encode → one ``create`` call of its ``api`` → decode.

    ``client_options`` are the SDK client settings from ``provider_options`` (``api_key``,
    ``base_url``, ``organization``, ``project``, ``default_headers``...); anything unset comes
    from the SDK's own defaults, so ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` work.
    Subclasses state ``name``, ``api``, ``key_hint`` and ``reserved_options``.
    """

    name: str
    api: ClassVar[Api[Any]]
    key_hint: ClassVar[str]
    """How to give the backend a key, for the errors that lack one."""
    client_options: ClassVar[frozenset[str]] = CLIENT_OPTIONS
    reserved_options: ClassVar[frozenset[str]]
    profiles: ClassVar[tuple[ModelProfile, ...]]
    """What the models can do over this API (``_models``)."""

    def __init__(self, client_options: Mapping[str, Any] | None = None):
        options = dict(client_options or {})
        self._secrets = Secrets([options.get("api_key")])
        self._clients: ClientCache[openai.OpenAI, openai.AsyncOpenAI] = ClientCache(
            lambda: self._build(openai.OpenAI, options, sync_http_client),
            lambda: self._build(openai.AsyncOpenAI, options, async_http_client),
            lambda client: client.close(),
            lambda client: client.close(),
        )

    def capabilities(self, model: str) -> Capabilities:
        """What ``model`` can do over this API: the same but for media (see ``_models``)."""
        return capabilities(model, self.profiles)

    def close(self) -> None:
        """Close the SDK clients (the registry calls this when it drops the backend); they
        are created again on next use."""
        self._clients.close()

    def complete(self, request: Request) -> Response:
        """One ``create`` call with the sync client."""
        params = self.api.encode(request)
        create: Callable[..., object] = self.api.resource(self._clients.sync()).create
        with self._boundary(request.timeout):
            raw = create(**params)
        return self.api.decode(expect(raw, self.api.reply, self.name, self._secrets))

    async def acomplete(self, request: Request) -> Response:
        """One ``create`` call with this event loop's async client."""
        params = self.api.encode(request)
        client = await self._clients.aclient()
        create: Callable[..., Awaitable[object]] = self.api.resource(client).create
        with self._boundary(request.timeout):
            raw = await create(**params)
        return self.api.decode(expect(raw, self.api.reply, self.name, self._secrets))

    def stream(self, request: Request) -> Iterator[Delta]:
        """One streamed ``create`` call with the sync client, as deltas; ``Finish`` comes
        with the API's terminal event only, and closing the iterator closes the response."""

        def open_stream() -> AbstractContextManager[openai.APIResponse[Any]]:
            resource = self.api.resource(self._clients.sync())
            create = cast(
                "Callable[..., AbstractContextManager[openai.APIResponse[Any]]]",
                resource.with_streaming_response.create,
            )
            return create(**self.api.stream_params(request))

        return receive(open_stream, self._reading(request))

    def astream(self, request: Request) -> AsyncIterator[Delta]:
        """The async twin of ``stream`` (an async generator), with this loop's client."""

        async def open_stream() -> AbstractAsyncContextManager[openai.AsyncAPIResponse[Any]]:
            resource = self.api.resource(await self._clients.aclient())
            create = cast(
                "Callable[..., AbstractAsyncContextManager[openai.AsyncAPIResponse[Any]]]",
                resource.with_streaming_response.create,
            )
            return create(**self.api.stream_params(request))

        return areceive(open_stream, self._reading(request))

    def account(self) -> tuple[str, str]:
        """The base URL the sync client sends to, and the fingerprint of its key."""
        client = self._clients.sync()
        base_url = str(client.base_url)
        return base_url, account_fingerprint(client.api_key, base_url)

    def upload_account(self) -> tuple[str, str]:
        """Uploads go to the account requests go to (``account``)."""
        return self.account()

    def upload(self, media: Media, *, expires_in: int) -> UploadedFile:
        """``files.create`` with purpose ``user_data``, which both APIs' file parts take.

        ``expires_in`` is clamped to what ``expires_after`` takes: without one the file
        would stay until deleted.
        """
        low, high = EXPIRY_RANGE
        seconds = min(max(expires_in, low), high)
        client = self._clients.sync()
        with self._boundary(None):
            raw: object = client.files.create(
                file=(upload_name(media), media.data, media.media_type),
                purpose="user_data",
                expires_after={"anchor": "created_at", "seconds": seconds},
            )
        stored = expect(raw, FileObject, self.name, self._secrets)
        expires_at = stored.expires_at or stored.created_at + seconds
        return UploadedFile(file_id=stored.id, expires_at=float(expires_at))

    def _translate(
        self, exc: Exception, secrets: Secrets, timeout: float | None
    ) -> AlloyError | None:
        return translate(exc, secrets, timeout, provider=self.name, key_hint=self.key_hint)

    def _boundary(self, timeout: float | None) -> ErrorBoundary:
        return ErrorBoundary(self._translate, self._secrets, timeout)

    def _reading(self, request: Request) -> Reading:
        return Reading(
            self.name, self._translate, self._secrets, request.timeout, self.api.stream_decoder
        )

    def _build(
        self, make: Callable[..., _C], options: Mapping[str, Any], http: Callable[[], object]
    ) -> _C:
        return build_client(
            # max_retries=0: alloy retries itself, uniformly across providers.
            lambda: make(**with_http_client(options, http), max_retries=0),
            provider=self.name,
            secrets=self._secrets,
            key_hint=self.key_hint,
            sdk_errors=(openai.OpenAIError,),
        )


def upload_name(media: Media) -> str:
    """The filename an upload carries: OpenAI reads a file's type from its extension, and
    bytes may come without a name."""
    if media.filename:
        return media.filename
    extension = mimetypes.guess_extension(media.media_type) or ""
    return f"upload{extension}"


def sync_http_client() -> httpx2.Client:
    """The SDK's default HTTP client, with the hooks that make ``timeout`` a deadline."""
    return openai.DefaultHttpxClient(event_hooks=hooks(httpx2))


def async_http_client() -> httpx2.AsyncClient:
    """The async twin of ``sync_http_client``."""
    return openai.DefaultAsyncHttpxClient(event_hooks=async_hooks(httpx2))


# --- what both encoders send ---------------------------------------------------------------


def json_schema_format(output: OutputSchema) -> dict[str, Any]:
    """The ``{name, schema, strict}`` block both APIs use for structured output."""
    dialect = for_output(output, "openai")
    return {"name": output.name, "schema": dialect.schema, "strict": dialect.strict}


def function_definition(tool: ToolSpec) -> dict[str, Any]:
    """The ``{name, description, parameters, strict}`` block both APIs use for a tool.

    ``strict`` is always sent (the SDK's Responses ``FunctionToolParam`` requires it): a
    schema that strict mode cannot enforce says ``False`` explicitly.
    """
    return _definition(tool.name, tool.description, for_tool(tool, "openai"))


def output_tool(output: OutputSchema) -> dict[str, Any]:
    """The definition of the tool that carries the structured reply (``OUTPUT_TOOL``)."""
    description = f"Give your final answer ({output.name}) by calling this tool with it."
    return _definition(OUTPUT_TOOL, description, for_output(output, "openai"))


def _definition(name: str, description: str, dialect: DialectSchema) -> dict[str, Any]:
    definition: dict[str, Any] = {"name": name}
    if description:
        definition["description"] = description
    definition["parameters"] = dialect.schema
    definition["strict"] = dialect.strict
    return definition


def finish_params(params: dict[str, Any], request: Request) -> dict[str, Any]:
    """Add the cache settings, the per-request timeout and the provider options, the last
    step of encoding."""
    if request.cache:
        # Caching is automatic; the key sends calls that share a prefix to the same cache.
        params["prompt_cache_key"] = request.cache_key
        ttl = request.cache_ttl
        retention = PROFILES[0].capabilities.prompt_cache.ttl(ttl) if ttl else None
        if retention is not None:
            params["prompt_cache_retention"] = retention
    if request.timeout is not None:
        # Per request, not ``with_options``: that copies the whole client on every call.
        params["timeout"] = request.timeout
    return merge_options(params, request.options) if request.options else params


# --- what both decoders read ---------------------------------------------------------------

CHAT_FINISH: dict[str, NormalFinish | None] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",  # the deprecated single-function form
    "content_filter": "content_filter",
}
"""Chat Completions' ``finish_reason`` in alloy's words (``Response.finish``)."""

RESPONSES_FINISH: dict[str, NormalFinish | None] = {
    "completed": "stop",
    "max_output_tokens": "length",
    "content_filter": "content_filter",
    # An incomplete reply for another reason, or a status that is not an end.
    **dict.fromkeys(
        ("incomplete", "max_messages", "steered", "failed", "cancelled", "in_progress", "queued"),
        None,
    ),
}
"""The Responses API's finish in alloy's words. Its decoder's ``finish_reason`` is the
``status``, or ``incomplete_details.reason`` for an incomplete reply (``max_output_tokens``,
``content_filter``): one table reads both."""


def count(obj: object, *path: str) -> int | None:
    """The integer at ``obj.<path...>`` (attributes of SDK objects, or keys of parsed JSON),
    or ``None`` where any step is missing."""
    value: Any = obj
    for name in path:
        if value is None:
            return None
        found = mapping(value)
        value = found.get(name) if found is not None else getattr(value, name, None)
    return as_int(value)


def responses_usage(usage: object) -> Usage:
    """The ``Usage`` of a Responses API ``usage`` object."""
    return _usage(usage, "input_tokens", "output_tokens")


def chat_usage(usage: object) -> Usage:
    """The ``Usage`` of a Chat Completions ``usage`` object, parsed or streamed."""
    return _usage(usage, "prompt_tokens", "completion_tokens")


def _usage(usage: object, inputs: str, outputs: str) -> Usage:
    # The two APIs name the same counts after their own words for input and output. OpenAI's
    # counts already mean what alloy's do: input includes cache reads, output reasoning.
    counts = {
        inputs: count(usage, inputs),
        outputs: count(usage, outputs),
        f"{inputs}_details.cached_tokens": count(usage, f"{inputs}_details", "cached_tokens"),
        f"{outputs}_details.reasoning_tokens": count(
            usage, f"{outputs}_details", "reasoning_tokens"
        ),
        "total_tokens": count(usage, "total_tokens"),
    }
    # Cache writes, a subset of the input too, where the API reports them (newer replies).
    writes = count(usage, f"{inputs}_details", "cache_write_tokens")
    if writes is not None:
        counts[f"{inputs}_details.cache_write_tokens"] = writes
    return Usage.of(
        counts[inputs],
        counts[outputs],
        cached_input_tokens=counts[f"{inputs}_details.cached_tokens"],
        cache_write_tokens=writes,
        reasoning_tokens=counts[f"{outputs}_details.reasoning_tokens"],
        total_tokens=counts["total_tokens"],
        details=counts,
    )


def mapping(value: Any) -> dict[str, Any] | None:
    """``value`` if it is a JSON object, else ``None``."""
    return cast("dict[str, Any]", value) if isinstance(value, dict) else None


def string(value: Any) -> str | None:
    """``value`` if it is a non-empty string, else ``None``."""
    return value if isinstance(value, str) and value else None
