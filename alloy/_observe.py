"""One hook for whatever watches a command's work: its model calls, retries and tool calls.

Progress bars, rate limits, budgets and tracing all need to see each model call (its
request, its usage, its failure) and each tool call; none of them should patch a backend.
The driver (``alloy._run``), the retry wrapper and the tool runner tell the observers in
this context (``observe``) what happens, in order, on the thread or task doing it:

- ``command_started`` / ``command_ended``: once per command call, around everything;
- ``model_started`` (``amodel_started`` on the async path, which may await, as a rate limit
  must) before each model call: raising there stops the call before any request (a call
  answered from a response cache or a cassette is one too, with ``ModelCall.cached`` set);
- ``model_finished`` / ``model_failed`` after it, ``model_retried`` before each transport
  retry inside it;
- ``tool_started`` / ``tool_finished`` around each tool call, in the tool's thread or task.

Observers live in a context variable, so they follow ``asyncio`` tasks and the threads alloy
starts for tools; process-wide ones (``register``: tracing) watch every command besides.
With none, the cost is one context-variable read per command call.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from contextvars import Token
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

if TYPE_CHECKING:
    from ._messages import Request
    from ._messages import Response
    from ._messages import ToolCall
    from ._result import Result
    from ._result import ToolTrace

__all__ = [
    "CommandCall",
    "ModelCall",
    "Observer",
    "ToolUse",
    "Watch",
    "observe",
    "observers",
    "arun_tool",
    "register",
    "retried",
    "run_tool",
    "tracing",
    "unregister",
]

_J = TypeVar("_J")


@dataclass(slots=True, eq=False)
class CommandCall:
    """One call of a command, from its first model call to its result.

    ``state`` is scratch space for observers (a span, a progress slot), keyed by observer.
    """

    provider: str
    model: str
    stream: bool
    pricing: str | None = None
    """Whose list prices apply (``Result.pricing``)."""
    name: str | None = None
    """The command's qualified name (``None`` for ``alloy.ask``)."""
    started: float = field(default_factory=time.perf_counter)
    state: dict[object, Any] = field(default_factory=dict[object, Any])
    backend: object = field(default=None, repr=False)
    """The backend the calls go to (wrapped), for observers that say where they went."""


@dataclass(slots=True, eq=False)
class ModelCall:
    """One model call of a command: ``turn`` counts them from 1 (tool turns, re-asks and the
    finalize turn included)."""

    command: CommandCall
    request: Request
    turn: int
    started: float = field(default_factory=time.perf_counter)
    state: dict[object, Any] = field(default_factory=dict[object, Any])
    observers: tuple[Observer, ...] = field(default=(), repr=False)
    """Who watches this call (the context's, and the call's own: a rate limit, a budget)."""
    cached: bool = False
    """A stored reply answers it (a response cache, a cassette): no request is made, so
    nothing is spent. A call that waited for an identical one in flight learns it only from
    its response (``Response.cached``)."""


@dataclass(slots=True, eq=False)
class ToolUse:
    """One tool call the model asked for."""

    call: ToolCall
    command: CommandCall | None = None
    """The command call whose model asked for it (``None`` when run outside a driver)."""
    started: float = field(default_factory=time.perf_counter)
    state: dict[object, Any] = field(default_factory=dict[object, Any])


class Observer:
    """Watches commands; every method does nothing unless a subclass overrides it."""

    traces: bool = False
    """True for an observer that makes trace spans: while one is registered, the SDK clients
    alloy builds leave their own tracing off, so a model call is not traced twice."""

    def command_started(self, command: CommandCall) -> None:
        """A command call begins."""

    def command_ended(
        self, command: CommandCall, result: Result[Any] | None, error: BaseException | None
    ) -> None:
        """It ended: with its ``result``, or its ``error`` (both None: a stream closed early)."""

    def model_started(self, call: ModelCall) -> None:
        """A model call is about to be sent; raising stops it before any request."""

    async def amodel_started(self, call: ModelCall) -> None:
        """``model_started`` on the async path (a rate limit awaits here)."""
        self.model_started(call)

    def model_finished(self, call: ModelCall, response: Response) -> None:
        """The model call returned ``response`` (streams: once the stream is read)."""

    def model_failed(self, call: ModelCall, error: BaseException) -> None:
        """The model call raised ``error`` (after alloy's transport retries)."""

    def model_retried(self, call: ModelCall, error: BaseException, wait: float) -> None:
        """An attempt of the model call failed with ``error``; alloy retries in ``wait`` s."""

    def tool_started(self, tool: ToolUse) -> None:
        """A tool is about to run."""

    def tool_finished(self, tool: ToolUse, trace: ToolTrace) -> None:
        """It ran (``trace.error`` set when it failed)."""


_observers: ContextVar[tuple[Observer, ...]] = ContextVar("alloy_observers", default=())
_model_call: ContextVar[ModelCall | None] = ContextVar("alloy_model_call", default=None)
_command: ContextVar[CommandCall | None] = ContextVar("alloy_command", default=None)
_process: tuple[Observer, ...] = ()
"""The process-wide observers (``register``), replaced whole so readers need no lock."""


def observers() -> tuple[Observer, ...]:
    """The process-wide observers, then this context's, outermost first."""
    found = _observers.get()
    return (*_process, *found) if _process else found


def register(observer: Observer) -> None:
    """Watch every command call of the process with ``observer`` (once, however often)."""
    global _process
    if observer not in _process:
        _process = (*_process, observer)


def unregister(observer: Observer) -> None:
    """Stop watching with a process-wide ``observer``; nothing when it is not registered."""
    global _process
    _process = tuple(o for o in _process if o is not observer)


def tracing() -> bool:
    """Whether a registered observer makes trace spans (``Observer.traces``)."""
    return any(o.traces for o in _process)


@contextmanager
def observe(*added: Observer) -> Generator[None, None, None]:
    """Add observers for the commands called inside the ``with`` block (this thread or task,
    and the tasks and tool threads it starts)."""
    token = _observers.set((*_observers.get(), *added))
    try:
        yield
    finally:
        _observers.reset(token)


class Watch:
    """The observers of one command call, told what its driver does (``alloy._run``)."""

    __slots__ = ("_ended", "_turns", "command", "observers")

    def __init__(
        self,
        observers: tuple[Observer, ...],
        provider: str,
        model: str,
        stream: bool,
        pricing: str | None = None,
        name: str | None = None,
        backend: object = None,
    ):
        self.observers = observers
        self.command = CommandCall(provider, model, stream, pricing, name, backend=backend)
        self._turns = 0
        self._ended = False
        for observer in observers:
            observer.command_started(self.command)

    def _call(self, request: Request, cached: bool) -> ModelCall:
        self._turns += 1
        return ModelCall(
            self.command, request, self._turns, observers=self.observers, cached=cached
        )

    def model_started(self, request: Request, cached: bool = False) -> ModelCall:
        call = self._call(request, cached)
        for observer in self.observers:
            observer.model_started(call)
        _model_call.set(call)
        return call

    async def amodel_started(self, request: Request, cached: bool = False) -> ModelCall:
        call = self._call(request, cached)
        for observer in self.observers:
            await observer.amodel_started(call)
        _model_call.set(call)
        return call

    def model_finished(self, call: ModelCall, response: Response) -> None:
        _model_call.set(None)
        for observer in self.observers:
            observer.model_finished(call, response)

    def model_failed(self, call: ModelCall, error: BaseException) -> None:
        _model_call.set(None)
        for observer in self.observers:
            observer.model_failed(call, error)

    @contextmanager
    def tools(self) -> Generator[None, None, None]:
        """Around one turn's tool calls: they learn their command call (``ToolUse.command``).

        The driver enters and leaves this with no ``yield`` of its own between, so the
        context variable is set and reset in one context even inside a stream's generator.
        """
        token: Token[CommandCall | None] = _command.set(self.command)
        try:
            yield
        finally:
            _command.reset(token)

    def ended(self, result: Result[Any] | None, error: BaseException | None) -> None:
        if self._ended:
            return
        self._ended = True
        _model_call.set(None)
        for observer in self.observers:
            observer.command_ended(self.command, result, error)


def retried(error: BaseException, wait: float) -> None:
    """Tell the observers that the model call being made failed an attempt and is retried."""
    call = _model_call.get()
    if call is None:
        return
    for observer in call.observers:
        observer.model_retried(call, error, wait)


_Done = TypeVar("_Done", bound="tuple[Any, ToolTrace]")


def run_tool(call: ToolCall, run: Callable[[_J], _Done], job: _J) -> _Done:
    """``run(job)``, the tool call ``call``, with the observers told before and after."""
    found = observers()
    if not found:
        return run(job)
    use = ToolUse(call, _command.get())
    for observer in found:
        observer.tool_started(use)
    done = run(job)
    for observer in found:
        observer.tool_finished(use, done[1])
    return done


async def arun_tool(call: ToolCall, run: Callable[[_J], Awaitable[_Done]], job: _J) -> _Done:
    """The async twin of ``run_tool``."""
    found = observers()
    if not found:
        return await run(job)
    use = ToolUse(call, _command.get())
    for observer in found:
        observer.tool_started(use)
    done = await run(job)
    for observer in found:
        observer.tool_finished(use, done[1])
    return done
