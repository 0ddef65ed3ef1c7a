"""``ask``: a one-off prompt without defining a command."""

from __future__ import annotations

import dataclasses
import threading
import typing
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal
from typing import TypedDict
from typing import TypeVar
from typing import cast
from typing import overload

from ._config import CacheTTL
from ._config import Config
from ._config import MediaUpload
from ._config import ReasoningEffort
from ._config import ToolMode
from ._config import Wrapper
from ._config import effective
from ._config import make_config
from ._context import Context
from ._errors import ConfigurationError
from ._media import Media

if TYPE_CHECKING:
    from os import PathLike

    from typing_extensions import Unpack

    from ._map import MapResult
    from ._messages import Prompt
    from ._output import OutputSpec
    from ._plan import Plan
    from ._progress import ProgressOption
    from ._replay import ReplySource
    from ._stream import AsyncStream
    from ._stream import Stream
    from ._tools import ToolBox

PromptInput = str | Sequence[str | Media]
"""What ``ask`` takes as its prompt: text, or text and media in order."""

# Like commands, ``ask`` imports what a call needs on its first call (see ``_command``).

__all__ = ["AskOptions", "ask", "prepare", "render_context"]

T = TypeVar("T")

_specs: dict[Any, OutputSpec[Any]] = {}
_specs_lock = threading.Lock()


def _spec(output: Any) -> OutputSpec[Any]:
    from ._output import output_spec

    try:
        cached = _specs.get(output)
    except TypeError:  # an unhashable type form: build it every time
        return output_spec(str if output is None else output, "ask()")
    if cached is None:
        cached = output_spec(str if output is None else output, "ask()")
        with _specs_lock:
            _specs[output] = cached
    return cached


def _jsonable(value: Any) -> Any:
    # Imported here: these modules are only needed when a context holds such values.
    import datetime
    import decimal
    import enum
    import uuid

    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, set | frozenset | tuple):
        return list(typing.cast(Iterable[Any], value))
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def render_context(prompt: str, context: Mapping[str, Any] | None) -> str:
    """The prompt with ``context`` appended as JSON (never Python ``repr``)."""
    if not context:
        return prompt
    import json

    try:
        text = json.dumps(dict(context), indent=2, ensure_ascii=False, default=_jsonable)
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(f"ask(): context cannot be rendered as JSON ({exc}).") from None
    return f"{prompt}\n\nContext (JSON):\n{text}"


class AskOptions(TypedDict, total=False):
    """What ``ask`` takes besides the prompt and ``output``: tools, context, and any setting."""

    tools: Sequence[Callable[..., Any]]
    context: Mapping[str, Any] | Context
    system: str
    model: str
    backend: str
    temperature: float
    max_tokens: int
    retry: int
    retry_on: type[BaseException] | tuple[type[BaseException], ...]
    max_tool_turns: int
    parallel_tools_max: int
    auto_finalize_missing_output: bool
    tool_mode: ToolMode
    timeout: float
    max_retries: int
    max_retry_wait: float
    provider_options: Mapping[str, Mapping[str, Any]]
    wrappers: Sequence[Wrapper]
    store: str | PathLike[str]
    media_upload: MediaUpload
    media_inline_limit: int
    reasoning_effort: ReasoningEffort
    reasoning_budget: int
    show_reasoning: bool
    cache: bool
    cache_ttl: CacheTTL
    map_concurrency: int
    max_cost_usd: float
    max_total_tokens: int
    rate_limit: float | Mapping[str, float]
    response_cache: ReplySource | Literal[False]


def prepare(
    prompt: PromptInput, output: Any, options: Mapping[str, Any]
) -> tuple[Prompt, OutputSpec[Any], Config, ToolBox | None]:
    if isinstance(prompt, (list, tuple)):
        return _prepare_parts(cast("Sequence[object]", prompt), output, options)
    if not isinstance(prompt, str) or not prompt.strip():
        raise ConfigurationError(
            "ask() needs a non-empty prompt: a string, or a list of strings and "
            "Image / Audio / Document values."
        )
    settings = dict(options)
    tools = settings.pop("tools", None)
    context = settings.pop("context", None)
    if isinstance(context, Context):
        # A shared, cacheable prefix is the ``context`` setting; a mapping is data for the
        # prompt, rendered as JSON.
        settings["context"], context = context, None
    layer = make_config("ask()", settings)
    if tools:
        from ._tools import ToolBox

        toolbox: ToolBox | None = ToolBox(tools)
    else:
        toolbox = None
    from ._messages import TextPart
    from ._prompt import check_text

    text = render_context(prompt, context)
    check_text(text, "the prompt of ask()")
    parts = (TextPart(text),)
    return parts, _spec(output), effective(layer), toolbox


def _prepare_parts(
    items: Sequence[object], output: Any, options: Mapping[str, Any]
) -> tuple[Prompt, OutputSpec[Any], Config, ToolBox | None]:
    """``_prepare`` for a prompt given as a list of text and media, in order; the context
    (if any) follows as text."""
    from ._messages import TextPart
    from ._prompt import listed_parts

    parts = listed_parts(items, "ask()")
    settings = dict(options)
    context = settings.get("context")
    if context and not isinstance(context, Context):
        settings.pop("context")
        parts = [*parts, TextPart(render_context("", context).lstrip("\n"))]
    _, spec, cfg, toolbox = prepare("-", output, settings)
    return tuple(parts), spec, cfg, toolbox


def _planned(prompt: PromptInput, output: Any, options: Mapping[str, Any]) -> Plan[Any]:
    from ._plan import plan

    return plan(*prepare(prompt, output, options))


def _settings_of(options: Mapping[str, Any]) -> dict[str, Any]:
    """The settings among ``ask``'s options (not its tools or prompt context)."""
    return {k: v for k, v in options.items() if k not in ("tools", "context")}


class _Ask:
    """One-off prompts: ``ask("...")``, ``ask("...", output=T)``, ``ask.async_``,
    ``ask.stream`` and ``ask.stream_async``. Options: ``tools``, ``context`` (rendered as
    JSON), ``system`` and any other setting; unknown names raise ``ConfigurationError``."""

    @overload
    def __call__(
        self, prompt: PromptInput, *, output: None = None, **options: Unpack[AskOptions]
    ) -> str: ...
    @overload
    def __call__(
        self, prompt: PromptInput, *, output: type[T], **options: Unpack[AskOptions]
    ) -> T: ...
    @overload
    def __call__(
        self, prompt: PromptInput, *, output: Any, **options: Unpack[AskOptions]
    ) -> Any: ...
    def __call__(self, prompt: PromptInput, *, output: Any = None, **options: Any) -> Any:
        """Ask the model once. With ``output=T`` the reply is validated into a ``T``.

        >>> ask("Name a prime number", output=int)  # doctest: +SKIP
        7
        """
        from ._run import run_sync

        return run_sync(_planned(prompt, output, options)).value

    @overload
    async def async_(
        self, prompt: PromptInput, *, output: None = None, **options: Unpack[AskOptions]
    ) -> str: ...
    @overload
    async def async_(
        self, prompt: PromptInput, *, output: type[T], **options: Unpack[AskOptions]
    ) -> T: ...
    @overload
    async def async_(
        self, prompt: PromptInput, *, output: Any, **options: Unpack[AskOptions]
    ) -> Any: ...
    async def async_(self, prompt: PromptInput, *, output: Any = None, **options: Any) -> Any:
        """The async twin of ``ask(...)``."""
        from ._run import run_async

        return (await run_async(_planned(prompt, output, options))).value

    @overload
    def stream(
        self, prompt: PromptInput, *, output: None = None, **options: Unpack[AskOptions]
    ) -> Stream[str]: ...
    @overload
    def stream(
        self, prompt: PromptInput, *, output: type[T], **options: Unpack[AskOptions]
    ) -> Stream[T]: ...
    @overload
    def stream(
        self, prompt: PromptInput, *, output: Any, **options: Unpack[AskOptions]
    ) -> Stream[Any]: ...
    def stream(self, prompt: PromptInput, *, output: Any = None, **options: Any) -> Any:
        """``ask`` with the reply read as it arrives (see ``Stream``)."""
        from ._stream import Stream

        return Stream(_planned(prompt, output, options))

    @overload
    def stream_async(
        self, prompt: PromptInput, *, output: None = None, **options: Unpack[AskOptions]
    ) -> AsyncStream[str]: ...
    @overload
    def stream_async(
        self, prompt: PromptInput, *, output: type[T], **options: Unpack[AskOptions]
    ) -> AsyncStream[T]: ...
    @overload
    def stream_async(
        self, prompt: PromptInput, *, output: Any, **options: Unpack[AskOptions]
    ) -> AsyncStream[Any]: ...
    def stream_async(self, prompt: PromptInput, *, output: Any = None, **options: Any) -> Any:
        """The async twin of ``ask.stream``."""
        from ._stream import AsyncStream

        return AsyncStream(_planned(prompt, output, options))

    @overload
    def map(
        self,
        prompts: Iterable[PromptInput],
        *,
        output: None = None,
        concurrency: int | None = None,
        return_exceptions: bool = True,
        progress: ProgressOption = None,
        **options: Unpack[AskOptions],
    ) -> MapResult[str]: ...
    @overload
    def map(
        self,
        prompts: Iterable[PromptInput],
        *,
        output: type[T],
        concurrency: int | None = None,
        return_exceptions: bool = True,
        progress: ProgressOption = None,
        **options: Unpack[AskOptions],
    ) -> MapResult[T]: ...
    def map(
        self,
        prompts: Iterable[PromptInput],
        *,
        output: Any = None,
        concurrency: int | None = None,
        return_exceptions: bool = True,
        progress: ProgressOption = None,
        **options: Any,
    ) -> MapResult[Any]:
        """Ask once per prompt, ``concurrency`` at a time in threads (see ``Command.map``);
        ``options`` (settings, tools) apply to every prompt."""
        from ._map import map_all
        from ._run import run_sync

        return map_all(
            lambda prompt: run_sync(_planned(prompt, output, options)),
            prompts,
            concurrency=concurrency
            or effective(make_config("ask.map()", _settings_of(options))).map_concurrency,
            return_exceptions=return_exceptions,
            progress=progress,
        )

    async def amap(
        self,
        prompts: Iterable[PromptInput],
        *,
        output: Any = None,
        concurrency: int | None = None,
        return_exceptions: bool = True,
        progress: ProgressOption = None,
        **options: Any,
    ) -> MapResult[Any]:
        """The async twin of ``ask.map``: each prompt a task on the running loop."""
        from ._map import amap_all
        from ._run import run_async

        return await amap_all(
            lambda prompt: run_async(_planned(prompt, output, options)),
            prompts,
            concurrency=concurrency
            or effective(make_config("ask.amap()", _settings_of(options))).map_concurrency,
            return_exceptions=return_exceptions,
            progress=progress,
        )

    def __repr__(self) -> str:
        return "alloy.ask"


ask = _Ask()
