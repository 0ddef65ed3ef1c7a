"""``Stream`` and ``AsyncStream``: a command's reply as it arrives.

Iterating a stream yields text pieces for text commands, and growing snapshots of the JSON
value (plain dicts, lists and scalars) for typed commands. ``items()`` yields each element of
a ``list[T]`` output, validated, as soon as it is complete. ``result()`` gives the same
``Result`` the non-streaming call gives. Tool turns run inside the stream.

The conversation is the same generator the non-streaming drivers run; only the model calls
differ: each goes through the backend's ``stream``, deltas feed the shared ``Assembler``, and
alloy's transport retries apply until the first delta has arrived.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Generator, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar, get_args, get_origin

from ._conversation import RunTools, conversation
from ._deltas import Assembler, Delta, TextDelta
from ._errors import CapabilityError, ConfigurationError, OutputValidationError, ProviderError
from ._messages import Request
from ._partial import NOTHING, JsonScanner
from ._result import Result
from ._retry import delay_for

if TYPE_CHECKING:  # imported for type checkers only: _run imports this module's users
    from ._run import Plan

__all__ = ["AsyncStream", "Stream"]

T = TypeVar("T")

# What the drive yields: ("text", str), ("snapshot", value) or ("items", [json text, ...]).
Event = tuple[str, Any]


class _Turn:
    """Reading one streamed model call: its assembler and, for a typed command, what the
    reader asked for. Nothing is parsed that nobody reads: ``result()`` alone only assembles;
    snapshots use pydantic-core's partial JSON parser, at most geometrically often; only
    ``items()`` runs the incremental scanner, which finds each element as it closes."""

    def __init__(self, p: Plan[Any]):
        self.assembler = Assembler(p.provider)
        self.typed = p.output.kind == "json"
        self.wrapped = p.output.schema is not None and p.output.schema.wrapped
        self.items_at = ("value" if self.wrapped else "root") if _is_list(p.output.type) else None
        self.scanner: JsonScanner | None = None
        self.parts: list[str] = []
        self.length = 0
        self.snapshot_at = 0
        self.last: Any = NOTHING

    def take(self, delta: Delta, want: str | None) -> list[Event]:
        self.assembler.feed(delta)
        if not isinstance(delta, TextDelta) or not delta.text:
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

    def end(self, want: str | None) -> list[Event]:
        return self._snapshot() if self.typed and want == "snapshots" else []

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
    """A command's reply, streamed. Use it in a ``with`` block or call ``close()`` when you
    stop early: that closes the HTTP response.

    >>> with summarize.stream(text) as stream:  # doctest: +SKIP
    ...     for piece in stream:
    ...         print(piece, end="")
    ...     result = stream.result()
    """

    def __init__(self, p: Plan[T]):
        _check(p)
        self._plan = p
        self._drive = self._run()
        self._result: Result[T] | None = None
        self._want: str | None = None  # "snapshots" or "items": what the reader consumes

    def _deltas(self, request: Request) -> Generator[Delta, None, None]:
        cfg = self._plan.config
        retries = 0
        while True:
            source = self._plan.backend.stream(request)
            try:
                try:
                    first = next(source)
                except StopIteration:
                    return
                except ProviderError as error:
                    wait = delay_for(
                        error, retries, cfg.max_retries or 0, cfg.max_retry_wait or 0.0
                    )
                    retries += 1
                    time.sleep(wait)
                    continue
                yield first
                yield from source
                return
            finally:
                _close(source)

    def _run(self) -> Generator[Event, None, None]:
        p = self._plan
        flow = conversation(p)
        step = next(flow)
        while True:
            if isinstance(step, RunTools):
                assert p.tools is not None
                outcome: Any = p.tools.run(step.calls, p.config.parallel_tools_max or 1)
            else:
                turn = _Turn(p)
                for delta in self._deltas(step):
                    yield from turn.take(delta, self._want)
                yield from turn.end(self._want)
                outcome = turn.assembler.response()
            try:
                step = flow.send(outcome)
            except StopIteration as done:
                self._result = done.value
                return

    def _next_event(self) -> Event | None:
        return next(self._drive, None)

    def __iter__(self) -> Iterator[Any]:
        """Text pieces (text commands) or growing JSON snapshots (typed commands)."""
        self._want = "snapshots"
        while (event := self._next_event()) is not None:
            kind, payload = event
            if kind != "items":
                yield payload

    def items(self) -> Iterator[Any]:
        """Each element of a ``list[T]`` output, validated, as soon as it is complete."""
        adapter = _item_adapter(self._plan)
        self._want = "items"
        while (event := self._next_event()) is not None:
            kind, payload = event
            if kind == "items":
                for text in payload:
                    yield _validate_item(adapter, text, self._plan)

    def result(self) -> Result[T]:
        """The final ``Result``, reading the rest of the stream first."""
        for _ in self._drive:
            pass
        assert self._result is not None
        return self._result

    def close(self) -> None:
        """Stop reading and close the HTTP response."""
        self._drive.close()

    def __enter__(self) -> Stream[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncStream(Generic[T]):
    """The async twin of ``Stream``: ``async for``, ``items()``, ``await result()``,
    ``await aclose()``, and ``async with``."""

    def __init__(self, p: Plan[T] | Awaitable[Plan[T]]):
        # An async command renders its prompt on the event loop, so its plan may still be
        # an awaitable here; it is resolved when the stream is first read.
        self._pending: Awaitable[Plan[T]] | None = None
        if isinstance(p, Awaitable):
            self._pending = p
        else:
            _check(p)
            self._plan = p
        self._drive = self._run()
        self._result: Result[T] | None = None
        self._want: str | None = None

    async def _deltas(self, request: Request) -> AsyncIterator[Delta]:
        import asyncio

        cfg = self._plan.config
        retries = 0
        while True:
            source = self._plan.backend.astream(request)
            try:
                try:
                    first = await anext(source)
                except StopAsyncIteration:
                    return
                except ProviderError as error:
                    wait = delay_for(
                        error, retries, cfg.max_retries or 0, cfg.max_retry_wait or 0.0
                    )
                    retries += 1
                    await asyncio.sleep(wait)
                    continue
                yield first
                async for delta in source:
                    yield delta
                return
            finally:
                await _aclose(source)

    async def _resolve(self) -> Plan[T]:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._plan = await pending
            _check(self._plan)
        return self._plan

    async def _run(self) -> AsyncIterator[Event]:
        p = await self._resolve()
        flow = conversation(p)
        step = next(flow)
        while True:
            if isinstance(step, RunTools):
                assert p.tools is not None
                outcome: Any = await p.tools.arun(step.calls, p.config.parallel_tools_max or 1)
            else:
                turn = _Turn(p)
                deltas = self._deltas(step)
                try:
                    async for delta in deltas:
                        for event in turn.take(delta, self._want):
                            yield event
                finally:
                    await _aclose(deltas)
                for event in turn.end(self._want):
                    yield event
                outcome = turn.assembler.response()
            try:
                step = flow.send(outcome)
            except StopIteration as done:
                self._result = done.value
                return

    async def __aiter__(self) -> AsyncIterator[Any]:
        self._want = "snapshots"
        async for kind, payload in self._drive:
            if kind != "items":
                yield payload

    async def items(self) -> AsyncIterator[Any]:
        """Each element of a ``list[T]`` output, validated, as soon as it is complete."""
        adapter = _item_adapter(await self._resolve())
        self._want = "items"
        async for kind, payload in self._drive:
            if kind == "items":
                for text in payload:
                    yield _validate_item(adapter, text, self._plan)

    async def result(self) -> Result[T]:
        """The final ``Result``, reading the rest of the stream first."""
        async for _ in self._drive:
            pass
        assert self._result is not None
        return self._result

    async def aclose(self) -> None:
        """Stop reading and close the HTTP response."""
        await _aclose(self._drive)
        pending, self._pending = self._pending, None
        close = getattr(pending, "close", None)
        if close is not None:
            close()  # a plan coroutine never awaited: close it so it does not warn

    async def __aenter__(self) -> AsyncStream[T]:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _close(iterator: Iterator[Any]) -> None:
    # Backends return generators; closing one closes its HTTP response.
    close = getattr(iterator, "close", None)
    if close is not None:
        close()


async def _aclose(iterator: AsyncIterator[Any]) -> None:
    close = getattr(iterator, "aclose", None)
    if close is not None:
        await close()


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
    from pydantic import ValidationError

    try:
        return adapter.validate_json(text, strict=True)
    except ValidationError as exc:
        raise OutputValidationError(
            f"an element of {p.output.expected}", text, exc.errors(include_url=False)
        ) from None
