"""The backend contract: encode a ``Request``, make one SDK call, decode a ``Response``.

A backend is anything with this shape (a ``typing.Protocol``): the fake backend and
third-party backends need not inherit from anything. What a backend can do is data
(``Capabilities``, per model through ``ModelProfile`` rows), so the command layer chooses
strategies without naming providers. Cross-cutting behaviour (transport retries, and later
caching, tracing, rate limits) is a ``WrapperBackend``: a backend around another one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Iterator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import Literal
from typing import Protocol
from typing import runtime_checkable

from .._deltas import Delta
from .._media import Media
from .._media import MediaKind
from .._messages import OutputMode
from .._messages import Request
from .._messages import Response
from ._batching import Batcher as Batcher
from ._batching import BatchLimits as BatchLimits
from ._batching import BatchOutcome as BatchOutcome
from ._batching import BatchPoll as BatchPoll
from ._batching import ProviderBatch as ProviderBatch
from ._caching import NO_CACHE
from ._caching import PromptCacheSupport
from ._reasoning import ReasoningSupport

__all__ = [
    "Accounted",
    "Backend",
    "NO_MEDIA",
    "CachedContext",
    "Capabilities",
    "ContextCacher",
    "MediaSupport",
    "MediaWay",
    "ModelProfile",
    "StreamDecoder",
    "StructuredOutput",
    "UploadedFile",
    "Uploader",
    "WrapperBackend",
    "profile_for",
]

StructuredOutput = OutputMode


MediaWay = Literal["inline", "url", "file"]
"""How media reach a provider: bytes in the request, a URL it fetches, or an uploaded file."""


@dataclass(frozen=True, slots=True)
class MediaSupport:
    """Which media a model takes, and how they may be sent.

    Attributes:
        image / audio / document: the ways each kind may be sent (empty: not at all).
            A ``path`` or ``bytes`` value is sent ``inline``; ``from_url`` needs ``url``;
            ``from_file_id`` needs ``file``.
        image_types / audio_types: the media types the provider takes (None: any).
        document_types: the document media types the provider reads natively (text
            documents are sent as text where this does not list them).
        document_url_types: the document types the provider fetches by URL, where fewer
            than ``document_types`` (None: the same).
        inline_limit: bytes of base64 the inline media of one request may take, or None.
        uploads: the provider has a Files API alloy can upload through.
    """

    image: frozenset[MediaWay] = frozenset()
    audio: frozenset[MediaWay] = frozenset()
    document: frozenset[MediaWay] = frozenset()
    image_types: frozenset[str] | None = None
    audio_types: frozenset[str] | None = None
    document_types: frozenset[str] = frozenset({"application/pdf"})
    document_url_types: frozenset[str] | None = None
    inline_limit: int | None = None
    uploads: bool = False

    def ways(self, kind: MediaKind) -> frozenset[MediaWay]:
        """The ways ``kind`` may be sent."""
        ways: frozenset[MediaWay] = getattr(self, kind)
        return ways


NO_MEDIA = MediaSupport()
"""Text only."""


@runtime_checkable
class Accounted(Protocol):
    """A backend that can say where its requests go and for whom, so that what alloy keeps
    of them (a cached reply) stays with that account. A backend without it shares its
    cached replies across every server and key it is pointed at."""

    def account(self) -> tuple[str, str]:
        """``(base_url, account fingerprint)``: the URL the client sends to, and
        ``alloy._store.account_fingerprint`` of the credential it sends (never the key)."""
        ...


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file a backend uploaded to its provider's Files API.

    Attributes:
        file_id: what ``Image/Audio/Document.from_file_id`` takes for this provider (for
            Gemini, the file's URI).
        expires_at: when the provider deletes it (Unix seconds), or None if never.
    """

    file_id: str
    expires_at: float | None


@runtime_checkable
class Uploader(Protocol):
    """A backend that can upload media to its provider's Files API (``MediaSupport.uploads``).

    Alloy calls these from a worker thread for async calls, so only a sync form is needed.
    """

    def upload_account(self) -> tuple[str, str]:
        """Where uploads go and for whom: ``(base_url, account fingerprint)``. A file id is
        reused only for the same pair (``alloy._store.account_fingerprint`` makes the
        fingerprint from the key; the key itself is never stored)."""
        ...

    def upload(self, media: Media, *, expires_in: int) -> UploadedFile:
        """Upload ``media``'s bytes, asking the provider to delete it ``expires_in`` seconds
        later where the API takes an expiry; return once the file is usable (Gemini: ACTIVE).
        Failures are alloy errors, as for a model call."""
        ...


@dataclass(frozen=True, slots=True)
class CachedContext:
    """A provider cache a backend made from a request's context (Gemini's cached contents).

    Attributes:
        name: what requests name it by (``Request.cached_content``; ``cachedContents/...``).
        expires_at: when the provider drops it (Unix seconds).
    """

    name: str
    expires_at: float


@runtime_checkable
class ContextCacher(Protocol):
    """A backend whose provider caches a prompt prefix explicitly, as a resource created
    ahead of the calls that use it (``PromptCacheSupport.style == "explicit"``).

    Alloy calls these from a worker thread for async calls, so only a sync form is needed.
    Failures are alloy errors, as for a model call.
    """

    def cache_account(self) -> tuple[str, str]:
        """Where caches are made and for whom: ``(base_url, account fingerprint)``, as
        ``Uploader.upload_account``. A cache is reused only for the same pair."""
        ...

    def create_cached_context(self, request: Request, *, ttl_seconds: int) -> CachedContext | None:
        """Create a cache holding what ``request`` shares with every call of its command
        and context: the context's documents, the system text, the tools. None when the
        provider refuses a prefix this small (below its minimum token count)."""
        ...

    def delete_cached_context(self, name: str) -> bool:
        """Delete the cache ``name``; False if the provider no longer had it."""
        ...


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend (or one of its models) supports.

    Attributes:
        structured_output: how the provider enforces an output schema: natively
            (``"json_schema"``), through a forced tool call, or only by instructions.
        schema_dialect: name of the schema transform in ``alloy._schema`` this provider needs.
        tools: native tool calling; without it the ReAct text protocol is used.
        parallel_tools: the model may call several tools in one turn (documentation only:
            alloy runs whatever calls a turn holds).
        tool_error_flag: tool results can be marked as errors on the wire (documentation
            only: the encoders use the flag where the wire has one).
        streaming: the backend can stream replies.
        schema_in_prompt: also describe the output schema in the system prompt, for
            providers that enforce a schema without showing it to the model (Ollama's
            grammar-constrained ``format``: the model never sees field names otherwise).
        loose_schema_output: how to enforce a schema that the dialect cannot make strict,
            when native output only takes strict schemas (Anthropic's constrained decoding:
            a forced tool call instead); ``None`` sends it natively anyway.
        media: which images, audio and documents the model takes, and how.
        reasoning: how the model reasons and which reasoning settings it honours, or None
            for a model that does not reason (``alloy.backends._reasoning``).
        prompt_cache: how the provider caches prompts (``alloy.backends._caching``).
    """

    structured_output: StructuredOutput = "json_schema"
    schema_dialect: str = "json"
    tools: bool = True
    parallel_tools: bool = True
    tool_error_flag: bool = False
    streaming: bool = True
    schema_in_prompt: bool = False
    loose_schema_output: StructuredOutput | None = None
    media: MediaSupport = NO_MEDIA
    reasoning: ReasoningSupport | None = None
    prompt_cache: PromptCacheSupport = NO_CACHE


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """What the models whose names start with one of ``prefixes`` can do.

    Every provider keeps its per-model knowledge as a tuple of these rows, first match
    winning, the last row (no prefixes) standing for every other model. The same rows render
    the capability matrix of the docs.

    Attributes:
        capabilities: what the command layer may ask of these models.
        prefixes: model-name prefixes; empty matches every model.
        label: how the docs name these models (default: the prefixes).
        system_prompt: the models take a system prompt; if not, the encoder puts the system
            text first in the first user turn.
        schema_with_tools: the models take an output schema and tools in one request.
    """

    capabilities: Capabilities
    prefixes: tuple[str, ...] = ()
    label: str = ""
    system_prompt: bool = True
    schema_with_tools: bool = True

    @property
    def models(self) -> str:
        """The models of this row, for the docs."""
        if self.label:
            return self.label
        if not self.prefixes:
            return "all other models"
        return ", ".join(f"`{prefix}*`" for prefix in self.prefixes)


def profile_for(profiles: Sequence[ModelProfile], model: str) -> ModelProfile:
    """The first row of ``profiles`` that matches ``model`` (already normalised by the
    provider: namespace, tag or ``models/`` removed as its API does).

    >>> rows = (ModelProfile(Capabilities(tools=False), ("gemma",)), ModelProfile(Capabilities()))
    >>> profile_for(rows, "gemma3").capabilities.tools
    False
    """
    for row in profiles:
        if not row.prefixes or model.startswith(row.prefixes):
            return row
    raise LookupError(f"no profile row matches {model!r}; the last row should match every model")


@runtime_checkable
class Backend(Protocol):
    """A model provider.

    ``complete`` and ``acomplete`` must raise only ``alloy.ProviderError`` subclasses for
    provider and transport failures: the backend maps its SDK's exceptions at this boundary.
    Backends do not retry: alloy's retry wrapper (``alloy.backends._retrying``) sits around
    every backend.
    """

    name: str

    def capabilities(self, model: str) -> Capabilities:
        """Capabilities of ``model`` on this backend."""
        ...

    def complete(self, request: Request) -> Response:
        """Make one model call."""
        ...

    async def acomplete(self, request: Request) -> Response:
        """Make one model call on the running event loop."""
        ...

    def stream(self, request: Request) -> Iterator[Delta]:
        """Make one streamed model call, yielding its deltas as they arrive.

        ``Finish`` is yielded only for the provider's real terminal event. Closing the
        iterator early closes the HTTP response. Failures before the first delta are mapped
        like ``complete``'s; failures after it are ``StreamError``s (or the matching
        ``ProviderError``).
        """
        ...

    def astream(self, request: Request) -> AsyncIterator[Delta]:
        """The async twin of ``stream`` (an async generator)."""
        ...

    def close(self) -> None:
        """Release the backend's clients (they are built again on next use)."""
        ...


class WrapperBackend:
    """A backend around another one, forwarding every member; subclasses override what
    they change.

    A wrapper is installed by configuration (the ``wrappers`` setting: factories taking the
    inner backend) and sees every model call of every command, sync, async and streamed.

    >>> class Counting(WrapperBackend):
    ...     calls = 0
    ...     def complete(self, request):
    ...         Counting.calls += 1
    ...         return super().complete(request)
    """

    def __init__(self, inner: Backend):
        self.inner = inner
        self.name = inner.name

    def capabilities(self, model: str) -> Capabilities:
        """The inner backend's capabilities."""
        return self.inner.capabilities(model)

    def complete(self, request: Request) -> Response:
        """The inner backend's ``complete``."""
        return self.inner.complete(request)

    async def acomplete(self, request: Request) -> Response:
        """The inner backend's ``acomplete``."""
        return await self.inner.acomplete(request)

    def stream(self, request: Request) -> Iterator[Delta]:
        """The inner backend's ``stream``."""
        return self.inner.stream(request)

    def astream(self, request: Request) -> AsyncIterator[Delta]:
        """The inner backend's ``astream``."""
        return self.inner.astream(request)

    def close(self) -> None:
        """Close the inner backend."""
        close = getattr(self.inner, "close", None)
        if callable(close):
            close()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.inner!r})"


class StreamDecoder(Protocol):
    """Turns one streamed reply's chunks (SDK events, parsed lines) into deltas, in order.

    One instance per stream. ``finished`` becomes true once the provider's terminal event
    has been decoded (the decoder then has yielded ``Finish``).
    """

    @property
    def finished(self) -> bool:
        """Whether the terminal event has been seen."""
        ...

    def feed(self, chunk: Any) -> Sequence[Delta]:
        """The deltas of ``chunk`` (often none)."""
        ...
