"""Streaming, provider-neutral: the few delta types a backend's stream yields, and the one
assembler that turns them back into a ``Response``.

Backends only classify their SDK's stream events into these deltas; everything else about a
stream (joining text, growing tool-call arguments, usage, noticing a missing end) is here,
written once. The assembler is linear in the size of the reply: it appends pieces to lists
and joins them once.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field

from ._errors import StreamError
from ._messages import NormalFinish
from ._messages import ProviderData
from ._messages import Response
from ._messages import ToolCall
from ._messages import reply_finish
from ._usage import Usage

__all__ = [
    "Assembler",
    "Delta",
    "Finish",
    "ReasoningDelta",
    "RefusalDelta",
    "TextDelta",
    "ToolCallDelta",
    "UsageDelta",
    "aclose_deltas",
    "as_deltas",
    "close_deltas",
]


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the reply's text."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of reasoning (thinking) text, kept apart from the reply."""

    text: str


@dataclass(frozen=True, slots=True)
class RefusalDelta:
    """A piece of a refusal."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of the tool call at ``index`` (the provider's position of the call in the
    turn). The first fragment of a call carries ``id`` and ``name``; ``arguments`` pieces are
    appended in order. ``provider_data`` replaces the call's opaque data when given."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""
    provider_data: ProviderData | None = None


@dataclass(frozen=True, slots=True)
class UsageDelta:
    """Token counts reported so far; fields that are not ``None`` replace earlier values
    (providers report running totals, not increments)."""

    usage: Usage


@dataclass(frozen=True, slots=True)
class Finish:
    """The provider's terminal event was seen: the reply is complete.

    A backend yields it only for the real terminal event (``[DONE]``, ``response.completed``,
    ``message_stop``, the final ``finishReason``, ``done: true``), so a stream cut short is
    noticed even when the SDK lets it end silently. ``http_attempts`` is set by alloy's
    retry wrapper when the stream had to be started more than once.

    ``reason`` is the provider's own finish value, ``finish`` the same in alloy's words, as
    the backend's table gives it (``lookup_finish``); the assembler settles it against what
    the reply holds (``reply_finish``), as a decoder of a whole reply does. ``cached`` marks
    a stored reply replayed (``as_deltas``), as ``Response.cached`` does.
    """

    reason: str | None = None
    model: str | None = None
    request_id: str | None = None
    provider_data: ProviderData | None = None
    http_attempts: int = 1
    finish: NormalFinish | None = None
    cached: bool = False


Delta = TextDelta | ReasoningDelta | RefusalDelta | ToolCallDelta | UsageDelta | Finish


@dataclass
class _Call:
    id: str = ""
    name: str = ""
    arguments: list[str] = field(default_factory=list[str])
    provider_data: ProviderData | None = None


def _merge(old: Usage, new: Usage) -> Usage:
    """Usage deltas are running totals: each count the newer one reports replaces the older."""
    return Usage(
        new.input_tokens if new.input_tokens is not None else old.input_tokens,
        new.output_tokens if new.output_tokens is not None else old.output_tokens,
        new.cached_input_tokens if new.cached_input_tokens is not None else old.cached_input_tokens,
        new.reasoning_tokens if new.reasoning_tokens is not None else old.reasoning_tokens,
        new.total_tokens if new.total_tokens is not None else old.total_tokens,
        new.cache_write_tokens if new.cache_write_tokens is not None else old.cache_write_tokens,
        {**old.details, **new.details} if new.details else old.details,
    )


class Assembler:
    """Builds the ``Response`` of one streamed model call from its deltas.

    >>> a = Assembler("fake")
    >>> for d in (TextDelta("Hel"), TextDelta("lo"), Finish("stop")):
    ...     a.feed(d)
    >>> a.response().text
    'Hello'
    """

    __slots__ = ("_calls", "_finish", "_provider", "_reasoning", "_refusal", "_text", "_usage")

    def __init__(self, provider: str):
        self._provider = provider
        self._text: list[str] = []
        self._reasoning: list[str] = []
        self._refusal: list[str] = []
        self._calls: dict[int, _Call] = {}
        self._usage = Usage()
        self._finish: Finish | None = None

    def feed(self, delta: Delta) -> None:
        """Take one delta, in stream order."""
        if isinstance(delta, TextDelta):
            self._text.append(delta.text)
        elif isinstance(delta, ToolCallDelta):
            call = self._calls.get(delta.index)
            if call is None:
                call = self._calls[delta.index] = _Call()
            if delta.id:
                call.id = delta.id
            if delta.name:
                call.name = delta.name
            if delta.arguments:
                call.arguments.append(delta.arguments)
            if delta.provider_data is not None:
                call.provider_data = delta.provider_data
        elif isinstance(delta, UsageDelta):
            self._usage = _merge(self._usage, delta.usage)
        elif isinstance(delta, ReasoningDelta):
            self._reasoning.append(delta.text)
        elif isinstance(delta, RefusalDelta):
            self._refusal.append(delta.text)
        else:
            self._finish = delta

    def response(self) -> Response:
        """The complete reply; ``StreamError`` if the stream never sent its terminal event."""
        finish = self._finish
        if finish is None:
            raise StreamError(
                "the stream ended before its terminal event, so the reply may be incomplete. "
                "A proxy or the provider closed it early; try again",
                provider=self._provider,
                retryable=True,
            )
        calls = tuple(
            ToolCall(c.id or f"call_{index}", c.name, "".join(c.arguments), c.provider_data)
            for index, c in sorted(self._calls.items())
        )
        usage = self._usage
        if (
            usage.total_tokens is None
            and usage.input_tokens is not None
            and usage.output_tokens is not None
        ):
            usage = Usage.of(
                usage.input_tokens,
                usage.output_tokens,
                usage.cached_input_tokens,
                usage.reasoning_tokens,
                cache_write_tokens=usage.cache_write_tokens,
                details=usage.details,
            )
        refusal = "".join(self._refusal) or None
        return Response(
            text="".join(self._text),
            tool_calls=calls,
            finish_reason=finish.reason,
            usage=usage,
            model=finish.model,
            request_id=finish.request_id,
            refusal=refusal,
            reasoning="".join(self._reasoning) or None,
            provider_data=finish.provider_data,
            http_attempts=finish.http_attempts,
            finish=reply_finish(finish.finish, refusal=refusal is not None, tool_calls=bool(calls)),
            cached=finish.cached,
        )


def as_deltas(response: Response, chunk_chars: int = 8) -> Iterator[Delta]:
    """``response`` as the deltas a provider would stream for it: reasoning, the text in
    pieces of ``chunk_chars``, the refusal, each tool call (its arguments in pieces), usage,
    then ``Finish``. The ``Assembler`` builds ``response`` back from them."""
    if response.reasoning:
        yield ReasoningDelta(response.reasoning)
    step = max(chunk_chars, 1)
    text = response.text
    for start in range(0, len(text), step):
        yield TextDelta(text[start : start + step])
    if response.refusal:
        yield RefusalDelta(response.refusal)
    for index, call in enumerate(response.tool_calls):
        yield ToolCallDelta(index, call.id, call.name, provider_data=call.provider_data)
        for start in range(0, len(call.arguments), step):
            yield ToolCallDelta(index, arguments=call.arguments[start : start + step])
    yield UsageDelta(response.usage)
    yield Finish(
        response.finish_reason,
        response.model,
        response.request_id,
        response.provider_data,
        http_attempts=response.http_attempts,
        finish=response.finish,
        cached=response.cached,
    )


def close_deltas(deltas: Iterator[Delta]) -> None:
    """Close a backend's stream of deltas: backends return generators, and closing one
    closes its HTTP response."""
    close = getattr(deltas, "close", None)
    if close is not None:
        close()


async def aclose_deltas(deltas: AsyncIterator[Delta]) -> None:
    """The async twin of ``close_deltas``."""
    close = getattr(deltas, "aclose", None)
    if close is not None:
        await close()
