"""``Stream`` and ``AsyncStream``: a command's reply as it arrives.

Iterating a stream yields text pieces for text commands, and growing snapshots of the JSON
value (plain dicts, lists and scalars) for typed commands. ``items()`` yields each element of
a ``list[T]`` output, validated, as soon as it is complete. ``result()`` gives the same
``Result`` the non-streaming call gives. Tool turns run inside the stream.

A stream is the same driver the non-streaming call runs (``alloy._run``) with a reader for
each model call: its deltas feed the shared ``Assembler``, and the reader turns them into
what the consumer asked for. Alloy's transport retries (a wrapper of the backend) apply
until the first delta has arrived.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from collections.abc import AsyncIterator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any
from typing import Generic
from typing import Literal
from typing import TypeVar
from typing import get_args
from typing import get_origin
from typing import overload

from ._deltas import Assembler
from ._deltas import Delta
from ._deltas import ReasoningDelta
from ._deltas import TextDelta
from ._errors import CapabilityError
from ._errors import ConfigurationError
from ._errors import OutputValidationError
from ._errors import StreamError
from ._messages import Response
from ._partial import NOTHING
from ._partial import JsonScanner
from ._plan import Plan
from ._result import Result
from ._run import Call
from ._run import Event
from ._run import adrive
from ._run import drive

__all__ = ["AsyncStream", "Stream"]

T = TypeVar("T")
U = TypeVar("U")

Want = Literal["snapshots", "items"] | None
"""What a stream's consumer reads: snapshots (iteration), items (``items()``), or only the
result."""


class _Wants:
    """What the consumer of one stream currently reads (it may switch mid-stream), and
    whether it reads the reasoning too."""

    __slots__ = ("reasoning", "want")

    def __init__(self) -> None:
        self.want: Want = None
        self.reasoning = False


class _Turn:
    """Reading one streamed model call: its assembler and, for a typed command, what the
    reader asked for. Nothing is parsed that nobody reads: ``result()`` alone only assembles;
    snapshots use pydantic-core's partial JSON parser, at most geometrically often; only
    ``items()`` runs the incremental scanner, which finds each element as it closes."""

    def __init__(self, p: Plan[Any], wants: _Wants):
        self.wants = wants
        self.assembler = Assembler(p.provider)
        self.typed = p.output.kind == "json"
        self.wrapped = p.output.schema is not None and p.output.schema.wrapped
        self.items_at = ("value" if self.wrapped else "root") if _is_list(p.output.type) else None
        self.scanner: JsonScanner | None = None
        self.parts: list[str] = []
        self.length = 0
        self.snapshot_at = 0
        self.last: Any = NOTHING

    def take(self, delta: Delta) -> list[Event]:
        want = self.wants.want
        self.assembler.feed(delta)
        if not isinstance(delta, TextDelta) or not delta.text:
            if self.wants.reasoning and isinstance(delta, ReasoningDelta) and delta.text:
                return [("reasoning", delta.text)]
            return []
        text = delta.text
        if not self.typed:
            return [("text", text)]
        self.parts.append(text)
        self.length += len(text)
        events: list[Event] = []
        if want == "items":
            if self.scanner is None:
                # Items asked for mid-reply: catch up on what came so far, once.
                self.scanner = JsonScanner(self.items_at)
                text = "".join(self.parts)
                self.parts = [text]
            items = self.scanner.feed(text)
            if items:
                events.append(("items", items))
        elif want == "snapshots" and self.length - self.snapshot_at >= max(
            1, self.snapshot_at // 4
        ):
            events.extend(self._snapshot())
        return events

    def end(self) -> list[Event]:
        return self._snapshot() if self.typed and self.wants.want == "snapshots" else []

    def response(self) -> Response:
        return self.assembler.response()

    def _snapshot(self) -> list[Event]:
        from pydantic_core import from_json

        self.snapshot_at = self.length
        text = "".join(self.parts)
        self.parts = [text]
        try:
            value = from_json(text, allow_partial="trailing-strings")
        except ValueError:
            return []
        if self.wrapped:
            if not isinstance(value, dict) or "value" not in value:
                return []
            value = value["value"]  # pyright: ignore[reportUnknownVariableType]
        if value == self.last:
            return []
        self.last = value
        return [("snapshot", value)]


def _is_list(tp: Any) -> bool:
    return tp is list or get_origin(tp) is list


def _check(p: Plan[Any]) -> None:
    if not p.capabilities.streaming:
        raise CapabilityError("streaming", p.provider, p.request.model)


class Stream(Generic[T]):
    """A command's reply, streamed. Leaving a ``for`` over it early (``break``), a ``with``
    block, or ``close()`` closes the HTTP response at once; the result of a stream closed
    before its end is not known, and ``result()`` then raises ``StreamError``.

    >>> with summarize.stream(text) as stream:  # doctest: +SKIP
    ...     for piece in stream:
    ...         print(piece, end="")
    ...     result = stream.result()
    """

    def __init__(self, p: Plan[T], on_end: Callable[[], object] | None = None):
        _check(p)
        self._plan = p
        self._wants = _Wants()
        self._call = Call(p)
        self._drive = drive(p, self._call, lambda: _Turn(p, self._wants))
        self._held: Event | None = None
        self._on_end = on_end  # told once the stream has ended, however (a conversation)

    def _next_event(self) -> Event | None:
        held, self._held = self._held, None
        if held is not None:
            return held
        try:
            event = next(self._drive, None)
        except BaseException:
            self._ended()
            raise
        if event is None:
            self._ended()
        return event

    def _ended(self) -> None:
        end, self._on_end = self._on_end, None
        if end is not None:
            end()

    def reasoning(self) -> Iterator[str]:
        """The reasoning (thinking) text as it arrives, over every model call, until the
        answer starts; iterate the stream (or call ``items()``) afterwards for the answer,
        which starts where this stopped. Empty when the provider streams no reasoning (see
        ``show_reasoning``)."""
        self._wants.reasoning = True
        if self._wants.want is None:
            self._wants.want = "snapshots"  # so that the answer's start is seen
        try:
            while (event := self._next_event()) is not None:
                if event[0] != "reasoning":
                    self._held = event
                    return
                yield event[1]
        finally:
            self._wants.reasoning = False

    @overload
    def __iter__(self: Stream[str]) -> Iterator[str]: ...
    @overload
    def __iter__(self) -> Iterator[Any]: ...
    def __iter__(self) -> Iterator[Any]:
        """Text pieces (text commands) or growing JSON snapshots (typed commands)."""
        self._wants.want = "snapshots"
        try:
            while (event := self._next_event()) is not None:
                kind, payload = event
                if kind != "items":
                    yield payload
        except GeneratorExit:
            self.close()  # the reader left the loop: do not wait for garbage collection
            raise

    def items(self: Stream[list[U]]) -> Iterator[U]:
        """Each element of a ``list[T]`` output, validated, as soon as it is complete."""
        adapter = _item_adapter(self._plan)
        self._wants.want = "items"
        try:
            while (event := self._next_event()) is not None:
                kind, payload = event
                if kind == "items":
                    for text in payload:
                        yield _validate_item(adapter, text, self._plan)
        except GeneratorExit:
            self.close()
            raise

    def result(self) -> Result[T]:
        """The final ``Result``, reading the rest of the stream first."""
        while self._next_event() is not None:
            pass
        return _finished(self._call.result, self._plan)

    def close(self) -> None:
        """Stop reading and close the HTTP response."""
        try:
            self._drive.close()
        finally:
            self._ended()

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncStream(Generic[T]):
    """The async twin of ``Stream``: ``async for``, ``items()``, ``await result()``,
    ``await aclose()``, and ``async with``."""

    def __init__(self, p: Plan[T] | Awaitable[Plan[T]], on_end: Callable[[], object] | None = None):
        # An async command renders its prompt on the event loop, so its plan may still be
        # an awaitable here; it is resolved when the stream is first read.
        self._pending: Awaitable[Plan[T]] | None = None
        if isinstance(p, Awaitable):
            self._pending = p
        else:
            _check(p)
            self._plan = p
        self._wants = _Wants()
        self._drive = self._run()
        self._call: Call | None = None
        self._held: Event | None = None
        self._on_end = on_end

    def _ended(self) -> None:
        end, self._on_end = self._on_end, None
        if end is not None:
            end()

    async def _resolve(self) -> Plan[T]:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._plan = await pending
            _check(self._plan)
        return self._plan

    async def _run(self) -> AsyncGenerator[Event, None]:
        try:
            p = await self._resolve()
            self._call = call = Call(p)
            events = adrive(p, call, lambda: _Turn(p, self._wants))
            try:
                async for event in events:
                    yield event
            finally:
                await events.aclose()
        finally:
            self._ended()

    async def _events(self) -> AsyncIterator[Event]:
        """The events left: first the one ``reasoning()`` stopped at, if any."""
        held, self._held = self._held, None
        if held is not None:
            yield held
        async for event in self._drive:
            yield event

    async def reasoning(self) -> AsyncIterator[str]:
        """The async twin of ``Stream.reasoning``."""
        self._wants.reasoning = True
        if self._wants.want is None:
            self._wants.want = "snapshots"
        try:
            async for event in self._drive:
                if event[0] != "reasoning":
                    self._held = event
                    return
                yield event[1]
        finally:
            self._wants.reasoning = False

    @overload
    def __aiter__(self: AsyncStream[str]) -> AsyncIterator[str]: ...
    @overload
    def __aiter__(self) -> AsyncIterator[Any]: ...
    async def __aiter__(self) -> AsyncIterator[Any]:
        self._wants.want = "snapshots"
        try:
            async for kind, payload in self._events():
                if kind != "items":
                    yield payload
        except GeneratorExit:
            await self._drive.aclose()
            raise

    async def items(self: AsyncStream[list[U]]) -> AsyncIterator[U]:
        """Each element of a ``list[T]`` output, validated, as soon as it is complete."""
        adapter = _item_adapter(await self._resolve())
        self._wants.want = "items"
        try:
            async for kind, payload in self._events():
                if kind == "items":
                    for text in payload:
                        yield _validate_item(adapter, text, self._plan)
        except GeneratorExit:
            await self._drive.aclose()
            raise

    async def result(self) -> Result[T]:
        """The final ``Result``, reading the rest of the stream first."""
        async for _ in self._events():
            pass
        return _finished(self._call.result if self._call else None, await self._resolve())

    async def aclose(self) -> None:
        """Stop reading and close the HTTP response."""
        try:
            await self._drive.aclose()
            pending, self._pending = self._pending, None
            close = getattr(pending, "close", None)
            if close is not None:
                close()  # a plan coroutine never awaited: close it so it does not warn
        finally:
            self._ended()

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _finished(result: Result[T] | None, p: Plan[Any]) -> Result[T]:
    if result is None:
        raise StreamError(
            "the stream was closed before its end, so its result is not known. Read it to "
            "the end (or call result() without closing it) to get the result",
            provider=p.provider,
            retryable=False,
        )
    return result


def _item_adapter(p: Plan[Any]) -> Any:
    tp = p.output.type
    if not _is_list(tp):
        raise ConfigurationError(
            f"items() needs a list[T] output; this command returns {p.output.expected}."
        )
    from pydantic import TypeAdapter

    args = get_args(tp)
    return TypeAdapter(args[0] if args else Any)


def _validate_item(adapter: Any, text: str, p: Plan[Any]) -> Any:
    try:
        return adapter.validate_json(text, strict=True)
    except Exception as exc:  # noqa: BLE001 - a user's validator may raise anything
        from ._parsers import failure_errors

        raise OutputValidationError(
            f"an element of {p.output.expected}", text, failure_errors(exc)
        ) from None
