"""``@command``: a typed Python function becomes an AI command.

Two ways to write one:

1. ``@command(output=Invoice)`` on a function annotated ``-> str`` (or not at all) whose body
   builds and returns the prompt.
2. ``@command`` (bare, or with options but no ``output=``) where the return annotation is
   the output type; the prompt is the body's ``str`` return value, else the docstring
   filled with the arguments.

``async def`` functions give an ``AsyncCommand`` whose every method is awaitable.
"""

from __future__ import annotations

import copy
import functools
import inspect
import typing
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Coroutine
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Concatenate
from typing import Generic
from typing import ParamSpec
from typing import Protocol
from typing import TypeVar
from typing import overload

from ._config import Config
from ._config import base_config
from ._config import make_config
from ._errors import ConfigurationError
from ._fanout import AsyncFanOut
from ._fanout import FanOut
from ._types import MISSING

if TYPE_CHECKING:
    from typing_extensions import Self

    from ._messages import Prompt
    from ._output import OutputSpec
    from ._plan import Plan
    from ._plan import Turn
    from ._result import Result
    from ._stream import AsyncStream
    from ._stream import Stream

# What a command needs only once it is decorated or called is imported then: ``import
# alloy`` stays cheap. Planning and driving are bound as modules at the first decoration, so
# that a call does not pay for an import statement (about 2 µs each).
if TYPE_CHECKING:
    from . import _plan as _planning
    from . import _run as _driving
else:
    _planning = _driving = None


def _load_call_machinery() -> None:
    global _planning, _driving
    from . import _plan as _planning
    from . import _run as _driving


__all__ = ["AsyncCommand", "Command", "command"]

P = ParamSpec("P")
P2 = ParamSpec("P2")
R = TypeVar("R")
R2 = TypeVar("R2")
S = TypeVar("S")
T = TypeVar("T")

_MISSING = MISSING


def _return_annotation(fn: Callable[..., Any]) -> Any:
    """The resolved return annotation, or ``_MISSING``; ``NameError`` if it cannot resolve yet."""
    annotations = getattr(fn, "__annotations__", {})
    if "return" not in annotations:
        return _MISSING
    # Only the return annotation: a parameter annotated with a type that is not visible from
    # the function's module (imported inside a function, say) must not break the command.
    import types

    holder = types.SimpleNamespace(__annotations__={"return": annotations["return"]})
    unwrapped = inspect.unwrap(fn)
    scope = getattr(unwrapped, "__globals__", None)
    hints = typing.get_type_hints(holder, globalns=scope, include_extras=True)
    return hints.get("return", _MISSING)


class _CommandBase(Generic[P, R]):
    """State and behaviour shared by ``Command`` and ``AsyncCommand``."""

    _where: str
    __wrapped__: Callable[..., Any]

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        output: Any,
        layer: Config,
        tools: Sequence[Callable[..., Any]] = (),
        call_layer: Config | None = None,
        spec: OutputSpec[Any] | None = None,
    ):
        functools.update_wrapper(typing.cast(Any, self), fn)
        self._fn = fn
        self._where = f"command {getattr(fn, '__qualname__', repr(fn))}"
        from ._prompt import PromptBuilder

        _load_call_machinery()
        self._builder = PromptBuilder(fn, self._where)
        self._output_type = output
        self._layer = layer
        self._call_layer = call_layer or Config()
        self._tools = tuple(tools)
        if self._tools:
            from ._tools import ToolBox

            self._toolbox: ToolBox | None = ToolBox(self._tools)
        else:
            self._toolbox = None
        self._spec = spec
        self._merged: tuple[Config, Config] | None = None  # (base config, effective config)
        if spec is None:
            try:
                self._spec = self._build_spec()
            except NameError:
                # A forward reference that is not defined yet: resolve on first call.
                self._spec = None

    def _build_spec(self) -> OutputSpec[Any]:
        tp = self._output_type
        if tp is _MISSING:
            annotation = _return_annotation(self._fn)
            # For ``async def f() -> X`` the annotation is already the awaited value X.
            tp = str if annotation is _MISSING else annotation
        from ._output import output_spec

        return output_spec(tp, self._where)

    def _output(self) -> OutputSpec[R]:
        spec = self._spec
        if spec is None:
            try:
                spec = self._spec = self._build_spec()
            except NameError as exc:
                raise ConfigurationError(
                    f"{self._where}: its return annotation names {exc.name or 'a type'!r}, "
                    "which is not defined. Define or import it in the function's module, or "
                    "pass the type as output=."
                ) from None
        return spec

    @property
    def output_type(self) -> Any:
        """The Python type this command returns."""
        return self._output().type

    def with_config(self, **overrides: Any) -> Self:
        """A copy of this command with ``overrides`` on top; the original is unchanged.

        >>> fast = extract_invoice.with_config(model="openai:gpt-5-nano", temperature=0)
        """
        return self._layered(
            self._call_layer.merged(make_config(f"{self._where}.with_config()", overrides))
        )

    def _layered(self, layer: Config) -> Self:
        """This command with ``layer`` as its ``with_config`` layer."""
        changed = type(self)(
            self._fn,
            output=self._output_type,
            layer=self._layer,
            tools=self._tools,
            call_layer=layer,
            spec=self._spec,
        )
        changed._builder.leading = self._builder.leading  # still bound to the same instance
        return changed

    def _config(self) -> Config:
        # Merging the layers costs tens of µs; they only change when the base does.
        base = base_config()
        memo = self._merged
        if memo is not None and memo[0] is base:
            return memo[1]
        cfg = base.merged(self._layer).merged(self._call_layer)
        self._merged = (base, cfg)
        return cfg

    def _plan(self, prompt: Prompt, turn: Turn | None = None) -> Plan[R]:
        return _planning.plan(
            prompt, self._output(), self._config(), self._toolbox, name=self._where, turn=turn
        )

    def _turn_plan(self, args: Any, kwargs: Any, turn: Turn | None) -> Plan[R]:
        """This command's plan for ``args``: the next turn of a conversation
        (``alloy._chat``), or, without one, an item of a batch (``alloy._batch``)."""
        return self._plan(self._builder.render(args, kwargs), turn)

    async def _aturn_plan(self, args: Any, kwargs: Any, turn: Turn) -> Plan[R]:
        """The async twin of ``_turn_plan`` (an ``async def`` command renders on the loop)."""
        return self._plan(await self._builder.arender(args, kwargs), turn)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self._where.removeprefix('command ')}>"

    def _bound_to(self, instance: Any) -> Self:
        # A command defined in a class is a descriptor, like a function: read from an
        # instance, it is this command with the instance passed first (as ``self``).
        bound = copy.copy(self)
        bound._builder = self._builder.bound(instance)
        return bound

    def __copy__(self) -> Self:
        twin = object.__new__(type(self))
        twin.__dict__.update(self.__dict__)
        return twin

    def __deepcopy__(self, memo: dict[int, Any]) -> Self:
        return self.__copy__()  # nothing in a command changes: copies share their parts

    def __reduce__(self) -> tuple[Any, ...]:
        # By reference, as a function pickles (see alloy._pickling): the default would
        # pickle the function by name, and find this command under that name instead.
        from ._config import refuse_secrets
        from ._pickling import address

        refuse_secrets(self._call_layer, f"{self._where} (its with_config layer)")
        module, name = address(self._fn, self._where)
        return (_CommandBase._unpickled, (module, name, self._call_layer, self._builder.leading))

    @staticmethod
    def _unpickled(
        module: str, name: str, layer: Config, leading: tuple[Any, ...]
    ) -> _CommandBase[Any, Any]:
        """A pickled command, found again: the one ``module`` defines as ``name``, with
        ``layer`` as its ``with_config`` layer and bound to ``leading`` (``self``)."""
        import pickle

        from ._pickling import find

        found = find(module, name)
        if not isinstance(found, _CommandBase):
            raise pickle.UnpicklingError(
                f"{module}.{name} is not an alloy command here, but the pickled command was "
                "defined under that name: unpickle it where the same code is installed."
            )
        command: _CommandBase[Any, Any] = found  # pyright: ignore[reportUnknownVariableType]
        if layer != command._call_layer:
            command = command._layered(layer)
        for first in leading:
            command = command._bound_to(first)
        return command


class Command(_CommandBase[P, R], FanOut[R]):
    """A synchronous AI command. Call it like the function it decorates; defined in a
    class, it binds ``self`` like a method (and composes with ``staticmethod`` and
    ``classmethod``). ``map`` and its family call it over many items (docs/fan-out.md)."""

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> Self: ...
    @overload
    def __get__(
        self: Command[Concatenate[S, P2], R2], instance: S, owner: type[Any] | None = None
    ) -> Command[P2, R2]: ...
    def __get__(self, instance: Any, owner: type[Any] | None = None) -> Any:
        return self if instance is None else self._bound_to(instance)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return self.run(*args, **kwargs).value

    def run(self, *args: P.args, **kwargs: P.kwargs) -> Result[R]:
        """Call the command and return the value with its usage, model and timing."""
        prompt = self._builder.render(args, kwargs)
        return _driving.run_sync(self._plan(prompt))

    async def async_(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Call the command on the running event loop with the SDK's async client."""
        return (await self.run_async(*args, **kwargs)).value

    async def run_async(self, *args: P.args, **kwargs: P.kwargs) -> Result[R]:
        """The async twin of ``run``."""
        prompt = self._builder.render(args, kwargs)
        return await _driving.run_async(self._plan(prompt))

    def prompt(self, *args: P.args, **kwargs: P.kwargs) -> str:
        """The prompt text that would be sent, without calling a model; media show as
        placeholders such as ``<Image image/png 12 KB>``."""
        from ._messages import describe

        return describe(self._builder.render(args, kwargs))

    def stream(self, *args: P.args, **kwargs: P.kwargs) -> Stream[R]:
        """Call the command and read the reply as it arrives (see ``Stream``)."""
        from ._stream import Stream

        return Stream(self._plan(self._builder.render(args, kwargs)))

    def stream_async(self, *args: P.args, **kwargs: P.kwargs) -> AsyncStream[R]:
        """The async twin of ``stream``: ``async for`` over an ``AsyncStream``."""
        from ._stream import AsyncStream

        return AsyncStream(self._plan(self._builder.render(args, kwargs)))

    def _one(self) -> Callable[..., Result[R]]:
        return self.run

    def _aone(self) -> Callable[..., Awaitable[Result[R]]]:
        return self.run_async


class AsyncCommand(_CommandBase[P, R], AsyncFanOut[R]):
    """A command defined with ``async def``: calling it returns an awaitable. In a class
    it binds ``self`` like ``Command``; ``map``, ``amap`` and ``aimap`` call it over many
    items."""

    @overload
    def __get__(self, instance: None, owner: type[Any] | None = None) -> Self: ...
    @overload
    def __get__(
        self: AsyncCommand[Concatenate[S, P2], R2], instance: S, owner: type[Any] | None = None
    ) -> AsyncCommand[P2, R2]: ...
    def __get__(self, instance: Any, owner: type[Any] | None = None) -> Any:
        return self if instance is None else self._bound_to(instance)

    async def __call__(self, *args: P.args, **kwargs: P.kwargs) -> R:
        return (await self.run_async(*args, **kwargs)).value

    async def async_(self, *args: P.args, **kwargs: P.kwargs) -> R:
        """Same as calling the command."""
        return (await self.run_async(*args, **kwargs)).value

    async def run(self, *args: P.args, **kwargs: P.kwargs) -> Result[R]:
        """Call the command and return the value with its usage, model and timing."""
        return await self.run_async(*args, **kwargs)

    async def run_async(self, *args: P.args, **kwargs: P.kwargs) -> Result[R]:
        """Same as ``run``."""
        prompt = await self._builder.arender(args, kwargs)
        return await _driving.run_async(self._plan(prompt))

    async def prompt(self, *args: P.args, **kwargs: P.kwargs) -> str:
        """The prompt text that would be sent, without calling a model; media show as
        placeholders such as ``<Image image/png 12 KB>``."""
        from ._messages import describe

        return describe(await self._builder.arender(args, kwargs))

    def stream(self, *args: P.args, **kwargs: P.kwargs) -> AsyncStream[R]:
        """Call the command and read the reply as it arrives, with ``async for``."""
        from ._stream import AsyncStream

        return AsyncStream(self._aplan(args, kwargs))

    def stream_async(self, *args: P.args, **kwargs: P.kwargs) -> AsyncStream[R]:
        """Same as ``stream``."""
        from ._stream import AsyncStream

        return AsyncStream(self._aplan(args, kwargs))

    async def _aplan(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Plan[R]:
        return self._plan(await self._builder.arender(args, kwargs))

    def _aone(self) -> Callable[..., Awaitable[Result[R]]]:
        return self.run_async


class _OutputDecorator(Protocol[R]):
    """``@command(output=T)``: the function returns the prompt; the command returns ``T``."""

    @overload
    def __call__(self, fn: Callable[P, Coroutine[Any, Any, str]], /) -> AsyncCommand[P, R]: ...
    @overload
    def __call__(self, fn: Callable[P, str], /) -> Command[P, R]: ...


class _AnnotationDecorator(Protocol):
    """``@command(...)`` without ``output=``: the return annotation is the output type."""

    @overload
    def __call__(  # type: ignore[overload-overlap]  # async functions match both forms
        self, fn: Callable[P, Coroutine[Any, Any, T]], /
    ) -> AsyncCommand[P, T]: ...
    @overload
    def __call__(self, fn: Callable[P, T], /) -> Command[P, T]: ...


@overload
def command(  # type: ignore[overload-overlap]  # async functions match both forms
    fn: Callable[P, Coroutine[Any, Any, T]], /
) -> AsyncCommand[P, T]: ...
@overload
def command(fn: Callable[P, T], /) -> Command[P, T]: ...
@overload
def command(  # pyright: ignore[reportOverlappingOverload]
    *,
    output: type[T],
    tools: Sequence[Callable[..., Any]] | None = None,
    **options: Any,
) -> _OutputDecorator[T]: ...
@overload
def command(
    *,
    output: None,
    tools: Sequence[Callable[..., Any]] | None = None,
    **options: Any,
) -> _OutputDecorator[None]: ...
@overload
def command(
    *,
    output: Any,
    tools: Sequence[Callable[..., Any]] | None = None,
    **options: Any,
) -> _OutputDecorator[Any]: ...
@overload
def command(  # pyright: ignore[reportOverlappingOverload]  # used when output= is absent
    *,
    tools: Sequence[Callable[..., Any]] | None = None,
    **options: Any,
) -> _AnnotationDecorator: ...
def command(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    output: Any = _MISSING,
    tools: Sequence[Callable[..., Any]] | None = None,
    **options: Any,
) -> Any:
    """Turn a typed function into an AI command.

    Options: ``output``, ``tools``, and any ``Config`` field (``model``, ``system``,
    ``temperature``, ``max_tokens``, ``retry``, ``retry_on``, ``max_tool_turns``,
    ``timeout``...). Unknown options raise ``ConfigurationError``.

    >>> @command(output=int)
    ... def count_words(text: str) -> str:
    ...     return f"How many words are in: {text}"
    """

    def decorate(f: Callable[..., Any]) -> Any:
        where = f"command {getattr(f, '__qualname__', repr(f))}"
        layer = make_config(f"@command on {getattr(f, '__qualname__', f)}", options)
        if output is not _MISSING:
            try:
                annotation = _return_annotation(f)
            except NameError:
                annotation = _MISSING
            if annotation not in (_MISSING, str):
                raise ConfigurationError(
                    f"{where} has output={output!r} and is annotated -> {annotation!r}: with "
                    "output= the function returns the prompt, so annotate it -> str (or drop "
                    "output= and let the annotation be the output type)."
                )
        cls: Any = AsyncCommand if _is_async(f) else Command
        return cls(f, output=output, layer=layer, tools=tools or ())

    if fn is not None:
        if options or output is not _MISSING or tools is not None:
            raise ConfigurationError("Use @command or @command(...options), not both at once.")
        return decorate(fn)
    return decorate


def _is_async(fn: Callable[..., Any]) -> bool:
    import inspect

    return inspect.iscoroutinefunction(fn)
