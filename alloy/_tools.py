"""Tools: Python functions (or other commands) that the model may call.

A tool's JSON schema comes from its signature through pydantic; its description from the
docstring; per-parameter descriptions from ``Annotated[T, "text"]``, ``Field(description=)``
or an ``Args:`` section. Arguments from the model are validated before the tool runs, and
``@require`` / ``@ensure`` contracts are checked around it. Anything that goes wrong (an
unknown tool, malformed JSON, invalid arguments, a failed contract, an exception) becomes a
tool result marked as an error, for the model to correct, instead of an exception.
"""

from __future__ import annotations

import functools
import inspect
import json
import typing
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Sequence
from contextvars import copy_context
from dataclasses import dataclass
from typing import Any
from typing import Generic
from typing import ParamSpec
from typing import TypeVar
from typing import overload

from ._contracts import Arguments
from ._contracts import Contract
from ._contracts import contracts_of
from ._docstrings import parse_docstring
from ._errors import ConfigurationError
from ._errors import ToolError
from ._errors import problems
from ._messages import ToolCall
from ._messages import ToolResult
from ._messages import ToolSpec
from ._observe import arun_tool
from ._observe import run_tool
from ._result import ToolTrace
from ._tool_results import media_content
from ._tool_results import serialize

__all__ = ["Tool", "ToolBox", "tool"]

P = ParamSpec("P")
R = TypeVar("R")

_MAX_REPORTED = 5


class Tool(Generic[P, R]):
    """A function the model can call. Calling the tool from Python runs it with its contracts.

    >>> @tool
    ... def add(a: int, b: int) -> int:
    ...     '''Add two numbers.'''
    ...     return a + b
    >>> add(2, 3)
    5
    """

    __wrapped__: Callable[..., Any]

    def __init__(
        self,
        fn: Callable[P, R],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
    ):
        functools.update_wrapper(typing.cast(Any, self), fn)
        self.fn = fn
        if timeout is not None and (
            isinstance(timeout, bool)
            or not isinstance(timeout, int | float)  # pyright: ignore[reportUnnecessaryIsInstance]
            or timeout <= 0
        ):
            raise ConfigurationError(f"tool timeout={timeout!r}: give a number of seconds above 0.")
        self.timeout = timeout
        """Seconds a call of the tool may take when the model calls it; past that the model
        is told it timed out (a sync tool's thread cannot be stopped and finishes on its own)."""
        self.name: str = name or str(getattr(fn, "__name__", type(fn).__name__))
        self._description = description
        self._signature = inspect.signature(fn)
        for param in self._signature.parameters.values():
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise ConfigurationError(
                    f"tool {self.name}: *{param.name} parameters cannot be described to a model; "
                    "give every parameter a name and a type."
                )
        self.is_async = _is_async(fn)
        self._model: Any = None
        self._spec: ToolSpec | None = None

    @property
    def contracts(self) -> list[Contract]:
        """The ``@require`` / ``@ensure`` checks, outermost first."""
        return contracts_of(self)

    def spec(self) -> ToolSpec:
        """The tool as the model sees it (built once)."""
        if self._spec is None:
            schema = self._arguments_model().model_json_schema(schema_generator=_generator())
            schema.pop("title", None)
            doc_description, _ = parse_docstring(_doc_of(self.fn))
            description = self._description or doc_description or f"Run {self.name}."
            self._spec = ToolSpec(self.name, description, schema)
        return self._spec

    def _arguments_model(self) -> Any:
        if self._model is None:
            self._model = _arguments_model(self.name, self.fn, self._signature)
        return self._model

    def parse(self, arguments: str) -> dict[str, Any]:
        """The validated keyword arguments in the model's JSON ``arguments``; ``ToolError``
        with a message for the model when they are malformed or invalid."""
        from pydantic import ValidationError

        text = arguments.strip() or "{}"
        try:
            parsed = self._arguments_model().model_validate_json(text)
        except ValidationError as exc:
            if any(e["type"] == "json_invalid" for e in exc.errors()):
                raise ToolError(
                    f"the arguments for {self.name} are not valid JSON ({_first_json_error(exc)}); "
                    "send a JSON object"
                ) from None
            raise ToolError(f"invalid arguments for {self.name}:\n{_describe(exc)}") from None
        except Exception as exc:  # noqa: BLE001 - a validator of the user's may raise anything
            raise ToolError(
                f"invalid arguments for {self.name}: {type(exc).__name__}: {exc}"
            ) from None
        return {name: getattr(parsed, name) for name in self._signature.parameters}

    def check_arguments(self, kwargs: dict[str, Any]) -> None:
        """Run the ``@require`` checks."""
        requires = [c for c in self.contracts if c.kind == "require"]
        if requires:
            bound = self._signature.bind(**kwargs)
            bound.apply_defaults()
            arguments = Arguments(bound.arguments)
            for contract in requires:
                contract.check(arguments)

    def check_result(self, result: Any) -> None:
        """Run the ``@ensure`` checks."""
        for contract in self.contracts:
            if contract.kind == "ensure":
                contract.check(result)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        bound = self._signature.bind(*args, **kwargs)
        self.check_arguments(dict(bound.arguments))
        if self.is_async:
            return typing.cast(R, self._checked_async(bound.args, bound.kwargs))
        result = self.fn(*args, **kwargs)
        self.check_result(result)
        return result

    async def _checked_async(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        result = await typing.cast(Awaitable[Any], self.fn(*args, **kwargs))
        self.check_result(result)
        return result

    def __repr__(self) -> str:
        return f"<Tool {self.name}>"


@overload
def tool(fn: Callable[P, R], /) -> Tool[P, R]: ...
@overload
def tool(
    *, name: str | None = None, description: str | None = None, timeout: float | None = None
) -> Callable[[Callable[P, R]], Tool[P, R]]: ...
def tool(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    description: str | None = None,
    timeout: float | None = None,
) -> Any:
    """Make a function (or a command) a tool; ``name`` and ``description`` override the
    function's name and docstring, ``timeout`` caps how long a call may take (the model is
    told when it did not finish). Plain functions in ``tools=[...]`` need no decorator."""
    if fn is not None:
        return Tool(fn)

    def decorate(f: Callable[..., Any]) -> Tool[..., Any]:
        return Tool(f, name=name, description=description, timeout=timeout)

    return decorate


def as_tool(obj: Any) -> Tool[..., Any]:
    """``obj`` as a ``Tool``: tools as they are, functions and commands wrapped."""
    if isinstance(obj, Tool):
        return typing.cast(Tool[..., Any], obj)
    if not callable(obj):
        raise ConfigurationError(f"{obj!r} is not a function and cannot be a tool.")
    return Tool(obj)


def _is_async(fn: Any) -> bool:
    if inspect.iscoroutinefunction(fn):
        return True
    kind: Any = type(fn)  # pyright: ignore[reportUnknownVariableType]
    call: Any = getattr(kind, "__call__", None)  # noqa: B004 - an async __call__ (AsyncCommand)
    return call is not None and inspect.iscoroutinefunction(call)


def _doc_of(fn: Any) -> str | None:
    return inspect.getdoc(fn)


def _generator() -> Any:
    from ._output import schema_generator

    return schema_generator()


def _arguments_model(name: str, fn: Any, signature: inspect.Signature) -> Any:
    from pydantic import ConfigDict
    from pydantic import Field
    from pydantic import create_model

    target = getattr(fn, "__wrapped__", fn)
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except (NameError, TypeError) as exc:
        raise ConfigurationError(f"tool {name}: cannot resolve its annotations ({exc}).") from None
    _, documented = parse_docstring(_doc_of(fn))
    fields: dict[str, Any] = {}
    for param in signature.parameters.values():
        annotation = hints.get(param.name, Any)
        text: str | None = documented.get(param.name)
        if typing.get_origin(annotation) is typing.Annotated:
            base, *extras = typing.get_args(annotation)
            strings = [m for m in extras if isinstance(m, str)]
            if strings:
                text = " ".join(strings)
                kept = [m for m in extras if not isinstance(m, str)]
                params = (base, *kept)
                annotation = typing.cast(Any, typing.Annotated)[params] if kept else base
        default = ... if param.default is param.empty else param.default
        # An explicit description=None would hide one given in Annotated[..., Field(...)].
        info = Field(default) if text is None else Field(default, description=text)
        fields[param.name] = (annotation, info)
    try:
        return create_model(f"{name}_arguments", __config__=ConfigDict(extra="forbid"), **fields)
    except Exception as exc:  # noqa: BLE001 - pydantic raises several types for this
        raise ConfigurationError(
            f"tool {name}: its parameters cannot be described as JSON schema ({exc}). Use "
            "JSON-friendly parameter types, or teach alloy a class with alloy.register_type."
        ) from None


def _first_json_error(exc: Any) -> str:
    return str(exc.errors()[0].get("msg", "invalid JSON"))


def _describe(exc: Any) -> str:
    found = problems(exc.errors(include_url=False), _MAX_REPORTED)
    return "\n".join(f"- {loc or 'arguments'}: {msg}" for loc, msg in found)


@dataclass(frozen=True, slots=True)
class _Prepared:
    call: ToolCall
    tool: Tool[..., Any]
    kwargs: dict[str, Any]


class ToolBox:
    """The tools of one command call: their specs, and running the calls of a model turn."""

    def __init__(self, tools: Sequence[Any]):
        self.tools: dict[str, Tool[..., Any]] = {}
        for obj in tools:
            t = as_tool(obj)
            if t.name in self.tools:
                raise ConfigurationError(f"Two tools are named {t.name!r}; tool names must differ.")
            self.tools[t.name] = t

    def specs(self) -> tuple[ToolSpec, ...]:
        return tuple(t.spec() for t in self.tools.values())

    def __bool__(self) -> bool:
        return bool(self.tools)

    def _prepare(self, call: ToolCall) -> _Prepared | tuple[ToolResult, ToolTrace]:
        found = self.tools.get(call.name)
        if found is None:
            known = ", ".join(self.tools) or "none"
            return _error(
                call, call.arguments, f"there is no tool named {call.name!r}; tools: {known}"
            )
        try:
            kwargs = found.parse(call.arguments)
            found.check_arguments(kwargs)
        except ToolError as exc:
            return _error(call, _loaded(call.arguments), str(exc))
        return _Prepared(call, found, kwargs)

    def run(
        self, calls: Sequence[ToolCall], limit: int
    ) -> tuple[list[ToolResult], list[ToolTrace]]:
        """Run one turn's calls (concurrently, at most ``limit`` at once), results in call order.

        Async tools run on an event loop of their own in a worker thread, so this works even
        when called from inside a running loop (a notebook).
        """
        prepared = [self._prepare(c) for c in calls]
        jobs = [p for p in prepared if isinstance(p, _Prepared)]
        if len(jobs) == 1 and not jobs[0].tool.is_async and jobs[0].tool.timeout is None:
            done = {id(jobs[0]): _execute(jobs[0])}
        elif jobs:
            done = _in_threads(jobs, limit)
        else:
            done = {}
        return _collect(prepared, done)

    async def arun(
        self, calls: Sequence[ToolCall], limit: int
    ) -> tuple[list[ToolResult], list[ToolTrace]]:
        """The async twin of ``run``: async tools are awaited, sync ones run in threads."""
        prepared = [self._prepare(c) for c in calls]
        jobs = [p for p in prepared if isinstance(p, _Prepared)]
        import asyncio  # imported on use: it costs ~40 ms and plain sync users never need it

        gate = asyncio.Semaphore(max(1, limit))

        async def one(job: _Prepared) -> tuple[ToolResult, ToolTrace]:
            async with gate:
                return await _aexecute(job)

        results = await asyncio.gather(*(one(job) for job in jobs))
        return _collect(prepared, {id(job): r for job, r in zip(jobs, results, strict=True)})


def _in_threads(jobs: list[_Prepared], limit: int) -> dict[int, tuple[ToolResult, ToolTrace]]:
    """Run ``jobs`` in a pool of threads, each within its tool's timeout.

    On Ctrl-C (or any exception here) the pool is left without waiting for the tools that
    are still running: the caller gets the interrupt at once.
    """
    import time
    from concurrent.futures import ThreadPoolExecutor  # only when a turn has tools to run
    from concurrent.futures import TimeoutError as FutureTimeout

    pool = ThreadPoolExecutor(max_workers=max(1, min(limit, len(jobs))))
    done: dict[int, tuple[ToolResult, ToolTrace]] = {}
    try:
        started = time.monotonic()
        # Each tool runs in a copy of the caller's context: observers and tracing follow it.
        futures = [(job, pool.submit(copy_context().run, _execute, job)) for job in jobs]
        for job, future in futures:
            timeout = job.tool.timeout
            left = None if timeout is None else max(0.0, started + timeout - time.monotonic())
            try:
                done[id(job)] = future.result(left)
            except FutureTimeout:
                done[id(job)] = _timed_out(job)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    # Timed-out tools may still run: their threads finish on their own.
    pool.shutdown(wait=not any(job.tool.timeout for job in jobs), cancel_futures=True)
    return done


def _in_daemon_thread(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Awaitable[Any]:
    """``fn(**kwargs)`` in a thread of its own that nothing waits for: a sync tool past its
    timeout must not hold up the event loop's shutdown (``asyncio.run`` waits for the loop's
    default executor)."""
    import asyncio
    import threading

    loop = asyncio.get_running_loop()
    future: asyncio.Future[Any] = loop.create_future()

    def settle(outcome: Any, failure: BaseException | None) -> None:
        if not future.done():
            if failure is None:
                future.set_result(outcome)
            else:
                future.set_exception(failure)

    def work() -> None:
        try:
            outcome = fn(**kwargs)
        except BaseException as exc:  # noqa: BLE001 - handed to the awaiting task
            loop.call_soon_threadsafe(settle, None, exc)
            return
        if not loop.is_closed():
            loop.call_soon_threadsafe(settle, outcome, None)

    threading.Thread(target=work, name="alloy-tool", daemon=True).start()
    return future


def _timed_out(job: _Prepared) -> tuple[ToolResult, ToolTrace]:
    return _error(job.call, job.kwargs, f"the tool did not finish in {job.tool.timeout:g}s")


def _collect(
    prepared: list[_Prepared | tuple[ToolResult, ToolTrace]],
    done: dict[int, tuple[ToolResult, ToolTrace]],
) -> tuple[list[ToolResult], list[ToolTrace]]:
    results: list[ToolResult] = []
    traces: list[ToolTrace] = []
    for p in prepared:
        result, trace = done[id(p)] if isinstance(p, _Prepared) else p
        results.append(result)
        traces.append(trace)
    return results, traces


def _loaded(arguments: str) -> Any:
    try:
        return json.loads(arguments)
    except (ValueError, RecursionError):  # not JSON, or nested deeper than Python recurses
        return arguments


def _error(call: ToolCall, arguments: Any, message: str) -> tuple[ToolResult, ToolTrace]:
    return ToolResult(call.id, call.name, f"Error: {message}", is_error=True), ToolTrace(
        call.name, arguments, None, message
    )


def _finish(
    job: _Prepared, outcome: Any, failure: BaseException | None
) -> tuple[ToolResult, ToolTrace]:
    if failure is None:
        try:
            job.tool.check_result(outcome)
        except ToolError as exc:
            failure = exc
    if failure is not None:
        message = (
            str(failure)
            if isinstance(failure, ToolError)
            else f"{type(failure).__name__}: {failure}"
        )
        return _error(job.call, job.kwargs, message)
    content = media_content(outcome)
    return ToolResult(
        job.call.id, job.call.name, serialize(outcome) if content is None else content
    ), ToolTrace(job.call.name, job.kwargs, outcome)


def _execute(job: _Prepared) -> tuple[ToolResult, ToolTrace]:
    return run_tool(job.call, _run_job, job)


def _run_job(job: _Prepared) -> tuple[ToolResult, ToolTrace]:
    import asyncio

    try:
        if job.tool.is_async:
            outcome = asyncio.run(_await(job.tool.fn(**job.kwargs)))
        else:
            outcome = job.tool.fn(**job.kwargs)
    except Exception as exc:  # noqa: BLE001 - a tool failure is reported to the model
        return _finish(job, None, exc)
    return _finish(job, outcome, None)


async def _await(value: Any) -> Any:
    return await value


async def _aexecute(job: _Prepared) -> tuple[ToolResult, ToolTrace]:
    return await arun_tool(job.call, _arun_job, job)


async def _arun_job(job: _Prepared) -> tuple[ToolResult, ToolTrace]:
    import asyncio

    try:
        fn: Any = job.tool.fn
        if job.tool.is_async:
            running = fn(**job.kwargs)
        elif callable(getattr(fn, "async_", None)):
            running = fn.async_(**job.kwargs)  # a sync command: use its async client
        elif job.tool.timeout is not None:
            running = _in_daemon_thread(fn, job.kwargs)
        else:
            running = asyncio.to_thread(fn, **job.kwargs)
        outcome = await asyncio.wait_for(running, job.tool.timeout)
    except asyncio.TimeoutError:  # not yet the builtin TimeoutError on Python 3.10
        return _timed_out(job)
    except Exception as exc:  # noqa: BLE001 - a tool failure is reported to the model
        return _finish(job, None, exc)
    return _finish(job, outcome, None)
