"""The ``anthropic`` backend: Claude through the official ``anthropic`` SDK's Messages API.

encode (``_encode``) → one ``client.messages.create`` call → decode (``_decode``, or
``_stream`` for the events of a streamed call, made with the same arguments plus
``stream=True``). How alloy's settings travel:

- ``system`` is the top-level ``system``; ``max_tokens`` is required by the API, so when none
  is set alloy sends ``DEFAULT_MAX_TOKENS`` (4096), plus the thinking budget when thinking
  is on.
- The reasoning settings become ``thinking`` as the model's row in ``REASONING`` says:
  ``{"type": "adaptive"}`` with ``output_config.effort`` for adaptive models, ``{"type":
  "enabled", "budget_tokens": N}`` for a budget (an effort turned into one on budget
  models), ``{"type": "disabled"}`` for ``reasoning_effort="none"``; ``show_reasoning`` is
  its ``display`` (``summarized`` or ``omitted``). A forced tool choice becomes ``auto``
  while the model thinks (the API refuses it).
- ``temperature`` goes in ``extra_body``: the 2.11 SDK's ``create`` no longer takes it,
  though older models still honour it. Claude Opus 4.7 and later refuse it (HTTP 400).
- Structured output follows ``Request.output_mode``, which planning picks from ``PROFILES``
  (``_models``): native (``output_config.format``, a JSON schema in the ``anthropic``
  dialect) for models that support it, which is every model not listed in
  ``FORCED_TOOL_MODELS``. Older models, and schemas constrained decoding cannot express
  (``dict[str, T]``, recursive types), get a forced call of a tool whose ``input_schema`` is
  the output schema; its ``input`` comes back as the reply text.
- Tools are ``{name, description, input_schema}``; results go back as ``tool_result`` blocks
  with ``is_error``. Several tool calls in one turn are allowed.
- The reply's content blocks are kept as ``ProviderData("anthropic", blocks)`` and sent back
  verbatim when the assistant turn is re-encoded, thinking blocks and their signatures
  included; the thinking text is ``Response.reasoning``. A turn made by another backend is
  encoded from its neutral parts.
- Usage: ``input_tokens`` includes cache reads and writes (Anthropic's own count excludes
  them: alloy adds ``cache_read_input_tokens`` and ``cache_creation_input_tokens``),
  ``reasoning_tokens`` from ``output_tokens_details.thinking_tokens`` when the API reports
  it, else ``None``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from typing import Any
from typing import ClassVar
from typing import TypeVar
from typing import cast

import anthropic
import httpx2
from anthropic.types import FileMetadata
from anthropic.types import Message as SDKMessage

from ..._deltas import Delta
from ..._media import Media
from ..._messages import Request
from ..._messages import Response
from ..._observe import tracing
from ..._store import account_fingerprint
from .._boundary import ErrorBoundary
from .._boundary import Secrets
from .._boundary import expect
from .._clients import ClientCache
from .._clients import build_client
from .._clients import with_http_client
from .._deadline import async_hooks
from .._deadline import hooks
from .._reasoning import ReasoningRow
from ..base import Capabilities
from ..base import UploadedFile
from ._batch import Batches
from ._decode import decode_response
from ._encode import CLIENT_OPTIONS
from ._encode import RESERVED_OPTIONS
from ._encode import encode_request
from ._encode import offers_output_tool
from ._errors import KEY_HINT
from ._errors import malformed
from ._errors import translate
from ._models import NAME
from ._models import REASONING
from ._models import capabilities
from ._stream import StreamDecoder

__all__ = ["AnthropicBackend"]

_T = TypeVar("_T")

# The client attributes that hold a key, given or found in the environment.
_KEY_ATTRIBUTES = ("api_key", "auth_token")
# The seconds ``files.upload``'s ``expires_in_seconds`` takes (one hour to 90 days).
_EXPIRY_RANGE = (3600, 90 * 24 * 3600)


class AnthropicBackend(Batches):
    """Claude models through ``client.messages.create``.

    ``client_options`` are the SDK client settings from
    ``provider_options={"anthropic": {...}}`` (``api_key``, ``auth_token``, ``base_url``,
    ``default_headers``, ``open_telemetry``); anything unset comes from the SDK's defaults, so
    ``ANTHROPIC_API_KEY`` and ``ANTHROPIC_BASE_URL`` work. While alloy traces
    (``alloy.telemetry``), clients are built with the SDK's own spans off unless
    ``open_telemetry`` is given.

    >>> backend = AnthropicBackend({"api_key": "sk-ant-..."})
    >>> backend.capabilities("claude-sonnet-4-5").structured_output
    'json_schema'
    >>> backend.capabilities("claude-3-5-haiku-latest").structured_output
    'tool_call'
    """

    name = NAME
    client_options: ClassVar[frozenset[str]] = CLIENT_OPTIONS
    reserved_options: ClassVar[frozenset[str]] = RESERVED_OPTIONS
    reasoning_rows: ClassVar[tuple[ReasoningRow, ...]] = REASONING

    def __init__(self, client_options: Mapping[str, Any] | None = None):
        self._options = dict(client_options or {})
        self._secrets = Secrets(self._options.get(key) for key in _KEY_ATTRIBUTES)
        self._cache = ClientCache(
            lambda: self._build(
                anthropic.Anthropic, lambda: anthropic.DefaultHttpxClient(event_hooks=hooks(httpx2))
            ),
            lambda: self._build(
                anthropic.AsyncAnthropic,
                lambda: anthropic.DefaultAsyncHttpxClient(event_hooks=async_hooks(httpx2)),
            ),
            lambda client: client.close(),
            lambda client: client.close(),
        )

    def capabilities(self, model: str) -> Capabilities:
        """Native JSON output unless the model is one of ``FORCED_TOOL_MODELS``."""
        return capabilities(model)

    def close(self) -> None:
        """Close the SDK clients (the registry calls this when it drops the backend)."""
        self._cache.close()

    def complete(self, request: Request) -> Response:
        """One ``messages.create`` call with the sync client."""
        params = encode_request(request)
        client = self._cache.sync()
        # Typed as returning ``object``: with a ``dict[str, Any]`` of arguments the type
        # checkers cannot pick one of the SDK's stream/non-stream overloads.
        create = cast("Callable[..., object]", client.messages.create)
        with self._boundary(request):
            raw = create(**params)
        return decode_response(self._expect(raw, SDKMessage))

    async def acomplete(self, request: Request) -> Response:
        """One ``messages.create`` call with this event loop's async client."""
        params = encode_request(request)
        client = await self._cache.aclient()
        create = cast("Callable[..., Awaitable[object]]", client.messages.create)
        with self._boundary(request):
            raw = await create(**params)
        return decode_response(self._expect(raw, SDKMessage))

    def stream(self, request: Request) -> Iterator[Delta]:
        """One ``messages.create(stream=True)`` call with the sync client, as deltas.

        The SDK's raw event stream is read inside ``with``, so closing this generator early
        closes the HTTP response. Failures after the first delta break the stream
        (``StreamError``; a rate limit, a timeout or a rejected key keep their own class).
        """
        params = {**encode_request(request), "stream": True}
        client = self._cache.sync()
        create = cast("Callable[..., object]", client.messages.create)
        boundary = self._boundary(request, stream=True)
        with boundary:
            raw = create(**params)
            events = cast("anthropic.Stream[object]", self._expect(raw, anthropic.Stream))
            with events:
                decoder = self._decoder(request, events.response.headers)
                for event in events:
                    for delta in decoder.feed(event):
                        boundary.started = True
                        yield delta

    async def astream(self, request: Request) -> AsyncIterator[Delta]:
        """The async twin of ``stream``; cancelling the task closes the HTTP response too."""
        params = {**encode_request(request), "stream": True}
        client = await self._cache.aclient()
        create = cast("Callable[..., Awaitable[object]]", client.messages.create)
        boundary = self._boundary(request, stream=True)
        with boundary:
            raw = await create(**params)
            events = cast("anthropic.AsyncStream[object]", self._expect(raw, anthropic.AsyncStream))
            async with events:
                decoder = self._decoder(request, events.response.headers)
                async for event in events:
                    for delta in decoder.feed(event):
                        boundary.started = True
                        yield delta

    def account(self) -> tuple[str, str]:
        """The base URL the sync client sends to, and the fingerprint of its key (or of its
        bearer token, when it authenticates with one)."""
        client = self._cache.sync()
        base_url = str(client.base_url)
        return base_url, account_fingerprint(client.api_key or client.auth_token or "", base_url)

    def upload_account(self) -> tuple[str, str]:
        """Uploads go to the account requests go to (``account``)."""
        return self.account()

    def upload(self, media: Media, *, expires_in: int) -> UploadedFile:
        """``files.upload`` with ``expires_in`` clamped to what ``expires_in_seconds`` takes.

        A nameless upload keeps no filename: the API names it after its media type.
        """
        low, high = _EXPIRY_RANGE
        seconds = min(max(expires_in, low), high)
        client = self._cache.sync()
        sent = time.time()
        with ErrorBoundary(translate, self._secrets, None):
            raw: object = client.files.upload(
                file=(media.filename, media.data, media.media_type), expires_in_seconds=seconds
            )
        stored = self._expect(raw, FileMetadata)
        expires_at = stored.expires_at.timestamp() if stored.expires_at else sent + seconds
        return UploadedFile(file_id=stored.id, expires_at=expires_at)

    def _boundary(self, request: Request, *, stream: bool = False) -> ErrorBoundary:
        return ErrorBoundary(
            translate, self._secrets, request.timeout, stream=stream, malformed=malformed
        )

    def _decoder(self, request: Request, headers: Mapping[str, str]) -> StreamDecoder:
        return StreamDecoder(
            output_tool=offers_output_tool(request), request_id=headers.get("request-id")
        )

    def _expect(self, raw: object, cls: type[_T]) -> _T:
        """``raw`` if the SDK parsed it as ``cls`` (it hands back text for a 200 that is not
        JSON)."""
        return expect(raw, cls, NAME, self._secrets)

    def _build(self, cls: Callable[..., _T], http: Callable[[], object]) -> _T:
        options = self._options
        if tracing() and "open_telemetry" not in options:
            # alloy's own chat span covers this call: the SDK's would count its usage twice.
            options = {**options, "open_telemetry": {"traces": False}}
        return build_client(
            # max_retries=0: alloy retries itself, uniformly across providers. The HTTP
            # client is the SDK's default one, with the hooks that make timeout a deadline.
            lambda: cls(**with_http_client(options, http), max_retries=0),
            provider=NAME,
            secrets=self._secrets,
            key_hint=KEY_HINT,
            sdk_errors=(anthropic.AnthropicError,),
            key_attributes=_KEY_ATTRIBUTES,
        )
