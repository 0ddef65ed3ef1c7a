"""Driving one command call: the loop's steps with real I/O, one driver per I/O style.

``drive`` (threads) and ``adrive`` (an event loop) run the steps of ``alloy._loop``: a tool
step runs the tools, a model step calls the planned backend, which already carries alloy's
retries and any configured wrappers. Without a reader the model is called with
``complete``; with one (a stream), with ``stream``, each delta going to the reader, whose
events the driver yields as they come. The call's ``Result`` lands on the ``Call`` the driver
advances once its steps end. Before its first request, a call resolves its uploads and, for
an explicit provider cache (``alloy._context_cache``), the cache each request names; a model
step whose cache the provider says is gone is sent once more with a new one. The same
generator serves ``run_sync`` / ``run_async`` (no events: a single step runs the whole call)
and ``Stream`` / ``AsyncStream``. The observers (``alloy._observe``) are told each model
call and its end, around its cache renewal.

A backend wrapped with stored replies (the response cache, a test's cassette) is asked for
the step's reply first (``recall``): a reply found answers the step without a request (a
stream replays it as deltas), and the observers learn that the call is ``cached``, so a
budget or a rate limit charges nothing for it. The call's ``Result`` says which of its
replies were stored (``Result.cached``, ``Result.cached_usage``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Generator
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal
from typing import Protocol
from typing import TypeVar

from ._deltas import Delta
from ._deltas import aclose_deltas
from ._deltas import as_deltas
from ._deltas import close_deltas
from ._errors import ProviderError
from ._loop import RunTools
from ._loop import steps
from ._messages import MediaPart
from ._messages import Request
from ._messages import Response
from ._messages import ToolResult
from ._observe import Observer
from ._observe import Watch
from ._observe import observers
from ._plan import Plan
from ._replay import REPLAY_CHUNK
from ._result import Result
from ._usage import Usage

if TYPE_CHECKING:
    from ._context_cache import CallCaches
    from ._uploads import Uploaded

__all__ = ["Call", "Event", "EventKind", "Reader", "adrive", "drive", "run_async", "run_sync"]

T = TypeVar("T")

EventKind = Literal["text", "snapshot", "items", "reasoning"]
Event = tuple[EventKind, Any]
"""What a driver yields while a stream is read: ``("text", str)``, ``("snapshot", value)``,
``("items", [json text, ...])`` or ``("reasoning", str)``."""


class Reader(Protocol):
    """Reads one streamed model call for a stream's consumer."""

    def take(self, delta: Delta) -> Iterable[Event]:
        """Take one delta; the events it makes for the consumer."""
        ...

    def end(self) -> Iterable[Event]:
        """The events due once the call's deltas are all in."""
        ...

    def response(self) -> Response:
        """The call's assembled ``Response``."""
        ...


class Call:
    """The steps of one call, advanced by a driver: ``step`` is the current one, and
    ``result`` the call's ``Result`` once they end."""

    __slots__ = ("_cached", "_plan", "_sent", "_steps", "result", "step")

    def __init__(self, p: Plan[Any]):
        self._steps = steps(p)
        self._plan = p
        self.step = next(self._steps)
        self.result: Result[Any] | None = None
        self._cached: Usage | None = None  # the usage of the stored replies so far
        self._sent = False  # a reply came from a request

    def send(self, outcome: Any) -> bool:
        """Hand the current step its outcome; ``False`` once the call has its result (which
        a conversation then keeps)."""
        if isinstance(outcome, Response):
            if outcome.cached:
                usage = outcome.usage
                self._cached = usage if self._cached is None else self._cached + usage
            else:
                self._sent = True
        try:
            self.step = self._steps.send(outcome)
        except StopIteration as done:
            result: Result[Any] = done.value
            if self._cached is not None:
                result = replace(result, cached=not self._sent, cached_usage=self._cached)
            p = self._plan
            if p.turn is not None:
                p.turn.commit(result, p.provider, p.request.model)
            self.result = result
            return False
        return True

    def outcome(self) -> Result[Any]:
        """The call's ``Result``; only once its steps have ended."""
        assert self.result is not None, "the call's steps have not ended"
        return self.result


def drive(
    p: Plan[T], flow: Call, reader: Callable[[], Reader] | None = None
) -> Generator[Event, None, None]:
    """The call's events, with the backend's blocking client; tools run in threads."""
    found = _observers_of(p)
    if not found:
        return _drive(p, flow, reader, None)
    return _watched(_drive, p, flow, reader, _watch(p, found, reader))


def _observers_of(p: Plan[Any]) -> tuple[Observer, ...]:
    """This context's observers, then the shared rate limiter when ``rate_limit`` is set,
    then the call's own budget when ``max_cost_usd`` or ``max_total_tokens`` is set."""
    found = observers()
    cfg = p.config
    if cfg.rate_limit is not None:
        from ._rate import limiter_for
        from ._rate import limits_of

        limiter = limiter_for(p.provider, _account(p), p.request.model, limits_of(cfg.rate_limit))
        found = (*found, limiter)
    if cfg.max_cost_usd is not None or cfg.max_total_tokens is not None:
        from ._budget import Budget

        found = (*found, Budget(usd=cfg.max_cost_usd, tokens=cfg.max_total_tokens))
    return found


def _account(p: Plan[Any]) -> str:
    """The account ``p`` reaches (base URL and key fingerprint), which providers rate-limit
    by; ``""`` for backends that do not say."""
    from ._inner import inner_with

    backend = inner_with(p.backend, "account")
    if backend is None:
        return ""
    base_url, fingerprint = backend.account()
    return f"{base_url} {fingerprint}"


def _watch(p: Plan[Any], found: tuple[Observer, ...], reader: object) -> Watch:
    return Watch(
        found, p.provider, p.request.model, reader is not None, p.pricing, p.name, p.backend
    )


def _watched(
    run: Callable[..., Generator[Event, None, None]],
    p: Plan[Any],
    flow: Call,
    reader: Callable[[], Reader] | None,
    watch: Watch,
) -> Generator[Event, None, None]:
    try:
        yield from run(p, flow, reader, watch)
    except GeneratorExit:
        watch.ended(None, None)  # a stream closed before its end
        raise
    except BaseException as error:
        watch.ended(None, error)
        raise
    watch.ended(flow.result, None)


def _drive(
    p: Plan[T], flow: Call, reader: Callable[[], Reader] | None, watch: Watch | None
) -> Generator[Event, None, None]:
    parallel = p.config.parallel_tools_max or 1
    uploaded = _uploaded(p) if p.uploads else None
    caches = _caches(p)
    recall: Callable[[Request], Response | None] | None = getattr(p.backend, "recall", None)
    while True:
        step = flow.step
        if isinstance(step, RunTools):
            assert p.tools is not None
            if watch is None:
                outcome: Any = p.tools.run(step.calls, parallel)
            else:
                with watch.tools():
                    outcome = p.tools.run(step.calls, parallel)
            if not flow.send(outcome):
                return
            continue
        if uploaded is not None:
            step = uploaded.apply(step)
        _check_tool_media(p, step)
        # Asked before the provider cache is found or made: a stored reply needs neither
        # (the fingerprint leaves the cache's name out).
        hit = recall(step) if recall is not None else None
        if caches is not None and hit is None:
            step = caches.apply(step)
        call = watch.model_started(step, hit is not None) if watch is not None else None
        try:
            while True:  # once more when the step's context cache was gone and is made again
                try:
                    if reader is None:
                        outcome = hit if hit is not None else p.backend.complete(step)
                        break
                    turn = reader()
                    deltas = p.backend.stream(step) if hit is None else as_deltas(hit, REPLAY_CHUNK)
                    try:
                        for delta in deltas:
                            yield from turn.take(delta)
                    finally:
                        close_deltas(deltas)
                    yield from turn.end()
                    outcome = turn.response()
                    break
                except ProviderError as exc:
                    renewed = None if caches is None else caches.renew(step, exc)
                    if renewed is None:
                        raise
                    step = renewed
        except BaseException as error:
            if watch is not None and call is not None:
                watch.model_failed(call, error)
            raise
        if watch is not None and call is not None:
            watch.model_finished(call, outcome)
        if not flow.send(outcome):
            return


def adrive(
    p: Plan[T], flow: Call, reader: Callable[[], Reader] | None = None
) -> AsyncGenerator[Event, None]:
    """The async twin of ``drive``: the backend's asyncio client; async tools are awaited."""
    found = _observers_of(p)
    if not found:
        return _adrive(p, flow, reader, None)
    return _awatched(p, flow, reader, _watch(p, found, reader))


async def _awatched(
    p: Plan[Any], flow: Call, reader: Callable[[], Reader] | None, watch: Watch
) -> AsyncGenerator[Event, None]:
    events = _adrive(p, flow, reader, watch)
    try:
        async for event in events:
            yield event
    except GeneratorExit:
        watch.ended(None, None)
        raise
    except BaseException as error:
        watch.ended(None, error)
        raise
    finally:
        await events.aclose()
    watch.ended(flow.result, None)


async def _adrive(
    p: Plan[T], flow: Call, reader: Callable[[], Reader] | None, watch: Watch | None
) -> AsyncGenerator[Event, None]:
    import asyncio

    parallel = p.config.parallel_tools_max or 1
    recall: Callable[[Request], Awaitable[Response | None]] | None
    recall = getattr(p.backend, "arecall", None)
    uploaded = None
    if p.uploads:
        # Uploads use the blocking client and the store: a worker thread keeps the loop free.
        uploaded = await asyncio.to_thread(_uploaded, p)
    caches = _caches(p)
    while True:
        step = flow.step
        if isinstance(step, RunTools):
            assert p.tools is not None
            if watch is None:
                outcome: Any = await p.tools.arun(step.calls, parallel)
            else:
                with watch.tools():  # no yield inside: one task's context throughout
                    outcome = await p.tools.arun(step.calls, parallel)
            if not flow.send(outcome):
                return
            continue
        if uploaded is not None:
            step = uploaded.apply(step)
        _check_tool_media(p, step)
        hit = await recall(step) if recall is not None else None
        if caches is not None and hit is None:
            # Finding or creating the cache uses the store and the blocking client, as uploads.
            known = caches.known(step)
            step = known if known is not None else await asyncio.to_thread(caches.apply, step)
        call = await watch.amodel_started(step, hit is not None) if watch is not None else None
        try:
            while True:  # once more when the step's context cache was gone and is made again
                try:
                    if reader is None:
                        outcome = hit if hit is not None else await p.backend.acomplete(step)
                        break
                    turn = reader()
                    if hit is not None:
                        for delta in as_deltas(hit, REPLAY_CHUNK):
                            for event in turn.take(delta):
                                yield event
                    else:
                        deltas = p.backend.astream(step)
                        try:
                            async for delta in deltas:
                                for event in turn.take(delta):
                                    yield event
                        finally:
                            await aclose_deltas(deltas)
                    for event in turn.end():
                        yield event
                    outcome = turn.response()
                    break
                except ProviderError as exc:
                    renewed = None
                    if caches is not None:
                        renewed = await asyncio.to_thread(caches.renew, step, exc)
                    if renewed is None:
                        raise
                    step = renewed
        except BaseException as error:
            if watch is not None and call is not None:
                watch.model_failed(call, error)
            raise
        if watch is not None and call is not None:
            watch.model_finished(call, outcome)
        if not flow.send(outcome):
            return


def _check_tool_media(p: Plan[Any], step: Request) -> None:
    """``CapabilityError`` before sending tool results holding media the provider cannot
    take there (the prompt's media were checked at planning)."""
    last = step.messages[-1] if step.messages else None
    if last is None or last.role != "user":
        return
    found = [
        part
        for result in last.parts
        if isinstance(result, ToolResult) and not isinstance(result.content, str)
        for part in result.content
        if isinstance(part, MediaPart)
    ]
    if found:
        from ._media_policy import check_media

        check_media(found, p.capabilities, p.provider, step.model)


def _caches(p: Plan[Any]) -> CallCaches | None:
    if not p.request.cache or p.request.context is None:
        return None
    from ._context_cache import for_plan

    return for_plan(p)


def _uploaded(p: Plan[Any]) -> Uploaded:
    from ._uploads import resolve

    return resolve(p.uploads, p.backend, p.provider, p.config)


def run_sync(p: Plan[T]) -> Result[T]:
    """Run the call to its ``Result`` (not streamed)."""
    flow = Call(p)
    for _ in drive(p, flow):
        pass  # no reader, no events: one step runs the call
    return flow.outcome()


async def run_async(p: Plan[T]) -> Result[T]:
    """The async twin of ``run_sync``."""
    flow = Call(p)
    async for _ in adrive(p, flow):
        pass
    return flow.outcome()
