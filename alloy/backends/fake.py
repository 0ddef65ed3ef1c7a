"""The fake backend: no network, scripted or schema-driven replies, every request recorded.

Three ways to answer, tried in this order:

1. the scripted queue (``add_reply`` / ``add_error``), first in first out;
2. a function given to the constructor, called with each ``Request``;
3. a value built from the request's output schema, so any typed command gets a valid value
   (text commands get ``default_text``).
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import threading
import time
from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._deltas import Delta
from .._deltas import as_deltas
from .._errors import ProviderError
from .._media import Media
from .._messages import NormalFinish
from .._messages import Request
from .._messages import Response
from .._messages import ToolCall
from .._messages import finish_of
from .._types import MISSING
from .._usage import Usage
from ._caching import CACHE_TTLS
from ._caching import PromptCacheSupport
from ._reasoning import ReasoningSupport
from ._schema_values import schema_value
from .base import Capabilities
from .base import MediaSupport
from .base import ModelProfile
from .base import UploadedFile

__all__ = ["FINISH", "PROFILES", "FakeBackend", "create", "schema_value"]

Reply = Response | str | Mapping[str, Any] | Sequence[Any] | int | float | bool | None
Responder = Callable[[Request], Any]

_MISSING = MISSING


EVERY_MEDIUM = MediaSupport(
    image=frozenset({"inline", "url", "file"}),
    audio=frozenset({"inline", "url", "file"}),
    document=frozenset({"inline", "url", "file"}),
    document_types=frozenset({"application/pdf", "text/plain", "text/markdown", "text/csv"}),
    uploads=True,
)
"""The fake takes every kind of media, every way, and "uploads" (``FakeBackend.uploads``):
tests see the parts in ``requests``. It has no inline limit: set ``media_inline_limit`` or
``media_upload="always"`` to exercise uploads."""

FINISH: dict[str, NormalFinish | None] = {
    "stop": "stop",
    "length": "length",
    "refusal": "refusal",
    "content_filter": "content_filter",
    "tool_calls": "tool_calls",
}
"""The fake's ``finish_reason`` in alloy's words: it speaks them already (script
``finish_reason="length"`` for a reply the token limit cut); anything else is ``None``."""

# Every reasoning and caching setting is taken (and recorded in ``requests``), so commands
# configured for a reasoning model or a prompt cache run on the fake too.
EVERY_REASONING = ReasoningSupport("effort", budget=(1, None), text="full")
EVERY_CACHE = PromptCacheSupport("key", ttls=tuple((ttl, ttl) for ttl in CACHE_TTLS))
DEFAULT_CAPABILITIES = Capabilities(
    tool_error_flag=True, media=EVERY_MEDIUM, reasoning=EVERY_REASONING, prompt_cache=EVERY_CACHE
)
PROFILES = (ModelProfile(DEFAULT_CAPABILITIES, label="all models (configurable per instance)"),)


@dataclass(frozen=True, slots=True)
class _Scripted:
    text: str | None
    json: Any
    tool_calls: tuple[ToolCall, ...]
    finish_reason: str | None
    usage: Usage
    refusal: str | None
    error: ProviderError | None
    reasoning: str | None = None


class FakeBackend:
    """A backend for tests and demos that never touches the network.

    >>> fake = FakeBackend()
    >>> fake.add_reply(json={"vendor": "ACME", "total": 49.99})
    """

    name = "fake"

    def __init__(
        self,
        responder: Responder | None = None,
        *,
        default_text: str = "This is a reply from alloy's fake backend.",
        chunk_chars: int = 8,
        capabilities: Capabilities | None = None,
    ):
        self._responder = responder
        self._queue: list[_Scripted] = []
        self._requests: list[Request] = []
        self._uploads: list[Media] = []
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self.default_text = default_text
        self.chunk_chars = chunk_chars
        self._capabilities = capabilities or DEFAULT_CAPABILITIES

    def capabilities(self, model: str) -> Capabilities:
        return self._capabilities

    def close(self) -> None:
        """Nothing to release: the fake holds no client."""

    @property
    def requests(self) -> list[Request]:
        """Every request received so far (a copy)."""
        with self._lock:
            return list(self._requests)

    @property
    def uploads(self) -> list[Media]:
        """Every medium uploaded to the fake so far (a copy), in order."""
        with self._lock:
            return list(self._uploads)

    def account(self) -> tuple[str, str]:
        """Every fake shares one account: uploads and replies recorded in the store are
        reused by any fake, in any process, as a provider's would be for one key."""
        return ("fake:", "fake-account")

    def upload_account(self) -> tuple[str, str]:
        """The one account of every fake (``account``)."""
        return self.account()

    def upload(self, media: Media, *, expires_in: int) -> UploadedFile:
        """Keep ``media`` as an upload; its id is ``fake-file-N``."""
        with self._lock:
            self._uploads.append(media)
            number = len(self._uploads)
        return UploadedFile(f"fake-file-{number}", time.time() + expires_in)

    def add_reply(
        self,
        text: str | None = None,
        *,
        json: Any = _MISSING,
        tool_calls: Sequence[Any] = (),
        finish_reason: str | None = None,
        usage: Usage | None = None,
        refusal: str | None = None,
        reasoning: str | None = None,
    ) -> FakeBackend:
        """Queue a reply. ``json`` is serialised as the model would send it (wrapped in
        ``{"value": ...}`` when the command's output type needs that); ``reasoning`` is the
        reply's reasoning text, streamed ahead of the answer."""
        calls = tuple(self._tool_call(c) for c in tool_calls)
        scripted = _Scripted(
            text,
            json,
            calls,
            finish_reason,
            usage or Usage.of(input_tokens=10, output_tokens=5),
            refusal,
            None,
            reasoning,
        )
        with self._lock:
            self._queue.append(scripted)
        return self

    def add_error(self, error: ProviderError) -> FakeBackend:
        """Queue a provider error, raised in place of the next reply."""
        with self._lock:
            self._queue.append(_Scripted(None, _MISSING, (), None, Usage(), None, error))
        return self

    def reset(self) -> None:
        """Forget queued replies, recorded requests and uploads."""
        with self._lock:
            self._queue.clear()
            self._requests.clear()
            self._uploads.clear()

    def _tool_call(self, call: Any) -> ToolCall:
        if isinstance(call, ToolCall):
            return call
        # A (name, arguments) pair, or anything with .name and .arguments (the emulator's
        # ToolCall), so one script vocabulary serves both test doubles.
        name, arguments = (call.name, call.arguments) if hasattr(call, "name") else call
        text = arguments if isinstance(arguments, str) else json.dumps(arguments)
        return ToolCall(f"call_{next(self._ids)}", name, text)

    def complete(self, request: Request) -> Response:
        with self._lock:
            self._requests.append(request)
            scripted = self._queue.pop(0) if self._queue else None
        if scripted is not None:
            return self._from_script(scripted, request)
        if self._responder is not None:
            return self._coerce(self._responder(request), request)
        return self._default(request)

    async def acomplete(self, request: Request) -> Response:
        return self.complete(request)

    def stream(self, request: Request) -> Iterator[Delta]:
        """The reply ``complete`` would give, cut into deltas of ``chunk_chars`` characters."""
        yield from as_deltas(self.complete(request), self.chunk_chars)

    async def astream(self, request: Request) -> AsyncIterator[Delta]:
        for delta in as_deltas(self.complete(request), self.chunk_chars):
            yield delta

    def _from_script(self, s: _Scripted, request: Request) -> Response:
        if s.error is not None:
            raise s.error
        text = s.text if s.json is _MISSING else _encode(s.json, request)
        reason = s.finish_reason or ("tool_calls" if s.tool_calls else "stop")
        return Response(
            text=text or "",
            tool_calls=s.tool_calls,
            finish_reason=reason,
            usage=s.usage,
            model=request.model,
            refusal=s.refusal,
            reasoning=s.reasoning,
            finish=_finish(reason, s.refusal, s.tool_calls),
        )

    def _coerce(self, reply: Any, request: Request) -> Response:
        if isinstance(reply, Response):
            if reply.finish is None:
                # A responder's own Response says its finish the fake's way: settle it.
                finish = _finish(reply.finish_reason, reply.refusal, reply.tool_calls)
                return dataclasses.replace(reply, finish=finish)
            return reply
        text = reply if isinstance(reply, str) else _encode(reply, request)
        return Response(
            text,
            finish_reason="stop",
            usage=_usage(request, text),
            model=request.model,
            finish="stop",
        )

    def _default(self, request: Request) -> Response:
        if request.output is None:
            text = self.default_text
        else:
            text = json.dumps(schema_value(request.output.schema))
        return Response(
            text,
            finish_reason="stop",
            usage=_usage(request, text),
            model=request.model,
            finish="stop",
        )


def _finish(
    reason: str | None, refusal: str | None, calls: Sequence[ToolCall]
) -> NormalFinish | None:
    return finish_of(FINISH, reason, refusal=bool(refusal), tool_calls=bool(calls))


def create(options: Mapping[str, Any]) -> FakeBackend:
    """Registry factory: ``ALLOY_BACKEND=fake`` builds one with default behaviour."""
    return FakeBackend(**dict(options))


def _usage(request: Request, text: str) -> Usage:
    # Rough word counts, so that usage sums are visible in demos and tests.
    words_in = sum(len(m.text.split()) for m in request.messages)
    return Usage.of(input_tokens=words_in, output_tokens=len(text.split()))


def _encode(value: Any, request: Request) -> str:
    output = request.output
    already_wrapped = isinstance(value, Mapping) and "value" in value
    if output is not None and output.wrapped and not already_wrapped:
        return json.dumps({"value": value}, default=str)
    return json.dumps(value, default=str)
