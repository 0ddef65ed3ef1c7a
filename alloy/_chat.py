"""``Conversation``: calls that remember the turns before them.

A conversation holds settings (applied to each turn as an innermost ``use_config`` scope, so a
command's own decorator options still win) and a history of ``Message``s. Each turn is planned
with the history in front of its prompt (``alloy._plan.Turn``) and, only once it has its
``Result``, appends ``Result.turns``: the prompt, the tool turns (unless
``keep_tool_turns=False``) and the final reply. Re-asks, format corrections and the finalize
request never enter the history, and a failed turn appends nothing.

Each kept message remembers which backend and model family made it. A turn sent to that same
backend and family gets the messages as they are, provider data included (thinking
signatures, reasoning items, thought signatures, which the providers check); any other gets
them without provider data: tool calls and results as neutral parts, reasoning dropped (it is
never re-sent as text).

One turn at a time: a second turn started while one runs (another thread, another task, a
stream not yet read to its end) is a ``ConfigurationError``; ``fork()`` is how to branch.
"""

from __future__ import annotations

import dataclasses
import json
import re
import threading
import weakref
from collections.abc import Awaitable
from collections.abc import Callable
from collections.abc import Mapping
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar
from typing import cast
from typing import overload

from ._config import Config
from ._config import make_config
from ._config import use_config
from ._errors import ConfigurationError
from ._messages import Message
from ._messages import ToolCall

if TYPE_CHECKING:
    from ._command import AsyncCommand
    from ._command import Command
    from ._plan import Plan
    from ._result import Result
    from ._stream import AsyncStream
    from ._stream import Stream

__all__ = ["Conversation", "family"]

T = TypeVar("T")

FORMAT = "alloy.conversation"
VERSION = 1
"""The version of the JSON ``to_json`` writes; ``from_json`` refuses any other."""

Origin = tuple[str, str] | None
"""(backend, model family) that made a message; None for what the user wrote."""

# A dated snapshot or an alias of one: the same family of model as its base name.
_SNAPSHOT = re.compile(r"(-\d{4}-?\d{2}-?\d{2}|@\d{8}|-latest|-\d{3})$")


def family(model: str) -> str:
    """The model family whose provider data a model may be sent: its name without a dated
    snapshot (``claude-sonnet-4-5-20250929`` and ``claude-sonnet-4-5`` are one family;
    ``gpt-5`` and ``gpt-5-mini`` are two)."""
    name = model.strip().lower()
    while (cut := _SNAPSHOT.sub("", name)) != name:
        name = cut
    return name


def _neutral(message: Message) -> Message:
    """``message`` without provider data: what another backend or model family is sent."""
    if message.provider_data is None and not any(
        isinstance(p, ToolCall) and p.provider_data is not None for p in message.parts
    ):
        return message
    parts = tuple(
        dataclasses.replace(p, provider_data=None) if isinstance(p, ToolCall) else p
        for p in message.parts
    )
    return Message(message.role, parts)


@dataclasses.dataclass(frozen=True, slots=True)
class _State:
    """What a conversation has kept: its messages, who made each, and the last turn's
    backend and model."""

    history: tuple[Message, ...] = ()
    origins: tuple[Origin, ...] = ()
    stamp: tuple[str, str] | None = None


class _Turn:
    """One turn in flight: what ``plan`` asks for and tells back (``alloy._plan.Turn``)."""

    __slots__ = ("_keep", "_keep_tools", "start")

    def __init__(self, start: _State, keep: Callable[[_State], None], keep_tools: bool):
        self.start, self._keep, self._keep_tools = start, keep, keep_tools

    def history_for(self, provider: str, model: str) -> tuple[Message, ...]:
        here = (provider, family(model))
        return tuple(
            m if origin is None or origin == here else _neutral(m)
            for m, origin in zip(self.start.history, self.start.origins, strict=True)
        )

    def commit(self, result: Any, provider: str, model: str) -> None:
        turns: tuple[Message, ...] = result.turns
        if not self._keep_tools and len(turns) > 2:
            turns = (turns[0], turns[-1])
        made: Origin = (provider, family(model))
        self._keep(
            _State(
                (*self.start.history, *turns),
                (*self.start.origins, *(None if m.role == "user" else made for m in turns)),
                (provider, model),
            )
        )


class Conversation:
    """A conversation with a model: each turn is sent the turns before it.

    ``say(text)`` returns the reply's text, ``ask(text, output=T)`` a ``T``,
    ``run(command, *args)`` the typed command's ``Result`` inside the conversation, and
    ``stream(...)`` either of them as it arrives; ``say_async``, ``ask_async``,
    ``run_async`` and ``stream_async`` are the async twins. ``model``, ``system`` and any
    other setting apply to every turn (see docs/conversations.md).

    >>> chat = Conversation(model="fake:demo", system="Be brief.")  # doctest: +SKIP
    >>> chat.say("My supplier is ACME.")  # doctest: +SKIP
    'Noted.'
    """

    def __init__(
        self,
        *,
        model: str | None = None,
        system: str | None = None,
        keep_tool_turns: bool = True,
        **settings: Any,
    ) -> None:
        given = dict(settings)
        if model is not None:
            given["model"] = model
        if system is not None:
            given["system"] = system
        self._settings = given
        self._layer: Config = make_config("Conversation()", given)
        self.keep_tool_turns = keep_tool_turns
        self._state = _State()
        self._lock = threading.Lock()
        self._running: _Turn | None = None

    @property
    def history(self) -> tuple[Message, ...]:
        """Every kept turn, oldest first: user prompts, tool turns, the model's replies."""
        return self._state.history

    def __repr__(self) -> str:
        stamp = self._state.stamp
        where = f" on {stamp[0]}:{stamp[1]}" if stamp else ""
        return f"<Conversation of {len(self._state.history)} messages{where}>"

    def fork(self) -> Conversation:
        """A new conversation with this one's settings and history, which goes its own way."""
        twin = Conversation(keep_tool_turns=self.keep_tool_turns, **self._settings)
        twin._state = self._state
        return twin

    def _keep(self, state: _State) -> None:
        self._state = state

    # --- one turn at a time ----------------------------------------------------------------

    def _begin(self) -> _Turn:
        with self._lock:
            if self._running is not None:
                raise ConfigurationError(
                    "another turn of this conversation is still running (in another thread "
                    "or task, or a stream not read to its end): wait for it, or fork() the "
                    "conversation to send turns side by side."
                )
            self._running = turn = _Turn(self._state, self._keep, self.keep_tool_turns)
        return turn

    def _end(self, turn: _Turn) -> None:
        with self._lock:
            if self._running is turn:
                self._running = None

    def _blocking(self, make: Callable[[_Turn], Plan[T]]) -> Result[T]:
        from ._run import run_sync

        turn = self._begin()
        try:
            return run_sync(self._planned(make, turn))
        finally:
            self._end(turn)

    async def _awaiting(self, make: Callable[[_Turn], Awaitable[Plan[T]]]) -> Result[T]:
        from ._run import run_async

        turn = self._begin()
        try:
            with use_config(self._layer):
                p = await make(turn)
            return await run_async(p)
        finally:
            self._end(turn)

    def _planned(self, make: Callable[[_Turn], Plan[T]], turn: _Turn) -> Plan[T]:
        with use_config(self._layer):
            return make(turn)

    def _streamed(self, make: Callable[[_Turn], Plan[T]]) -> Stream[T]:
        from ._stream import Stream

        turn = self._begin()
        try:
            found = Stream(self._planned(make, turn), lambda: self._end(turn))
        except BaseException:
            self._end(turn)
            raise
        # A stream dropped without being read to its end or closed ends its turn too.
        weakref.finalize(found, self._end, turn)
        return found

    def _astreamed(self, make: Callable[[_Turn], Awaitable[Plan[T]]]) -> AsyncStream[T]:
        from ._stream import AsyncStream

        turn = self._begin()

        async def planned() -> Plan[T]:
            with use_config(self._layer):
                return await make(turn)

        found = AsyncStream(planned(), lambda: self._end(turn))
        weakref.finalize(found, self._end, turn)
        return found

    # --- what a turn sends -----------------------------------------------------------------

    def _ask_plan(self, text: Any, output: Any, options: Mapping[str, Any]) -> Callable[..., Any]:
        def make(turn: _Turn) -> Plan[Any]:
            from ._ask import prepare
            from ._plan import plan

            prompt, spec, cfg, toolbox = prepare(text, output, options)
            return plan(prompt, spec, cfg, toolbox, turn=turn)

        return make

    @staticmethod
    def _command_plan(command: Any, args: Any, kwargs: Any) -> Callable[[_Turn], Plan[Any]]:
        from ._command import AsyncCommand

        if isinstance(command, AsyncCommand):
            raise ConfigurationError(
                f"{command!r} is an async command: use `await conversation.run_async(...)` "
                "(or stream_async) for it."
            )
        return lambda turn: command._turn_plan(args, kwargs, turn)

    @staticmethod
    def _acommand_plan(
        command: Any, args: Any, kwargs: Any
    ) -> Callable[[_Turn], Awaitable[Plan[Any]]]:
        return lambda turn: command._aturn_plan(args, kwargs, turn)

    @staticmethod
    async def _now(p: Plan[T]) -> Plan[T]:
        return p

    # --- turns -----------------------------------------------------------------------------

    def say(self, text: Any, **options: Any) -> str:
        """Send ``text`` (or a list of text and media) and return the reply's text."""
        reply: str = self._blocking(self._ask_plan(text, None, options)).value
        return reply

    async def say_async(self, text: Any, **options: Any) -> str:
        """The async twin of ``say``."""
        make = self._ask_plan(text, None, options)
        reply: str = (await self._awaiting(lambda turn: self._now(make(turn)))).value
        return reply

    @overload
    def ask(self, text: Any, *, output: type[T], **options: Any) -> T: ...
    @overload
    def ask(self, text: Any, *, output: Any, **options: Any) -> Any: ...
    def ask(self, text: Any, *, output: Any, **options: Any) -> Any:
        """Send ``text`` and return the reply validated as ``output``."""
        return self._blocking(self._ask_plan(text, output, options)).value

    @overload
    async def ask_async(self, text: Any, *, output: type[T], **options: Any) -> T: ...
    @overload
    async def ask_async(self, text: Any, *, output: Any, **options: Any) -> Any: ...
    async def ask_async(self, text: Any, *, output: Any, **options: Any) -> Any:
        """The async twin of ``ask``."""
        make = self._ask_plan(text, output, options)
        return (await self._awaiting(lambda turn: self._now(make(turn)))).value

    def run(self, command: Command[..., T], /, *args: Any, **kwargs: Any) -> Result[T]:
        """Call ``command`` with ``args`` as the next turn: its ``Result``."""
        return self._blocking(self._command_plan(command, args, kwargs))

    async def run_async(
        self, command: Command[..., T] | AsyncCommand[..., T], /, *args: Any, **kwargs: Any
    ) -> Result[T]:
        """The async twin of ``run``; also takes ``async def`` commands."""
        return await self._awaiting(self._acommand_plan(command, args, kwargs))

    @overload
    def stream(self, what: str, /, **options: Any) -> Stream[str]: ...
    @overload
    def stream(self, what: Command[..., T], /, *args: Any, **kwargs: Any) -> Stream[T]: ...
    def stream(self, what: Any, /, *args: Any, **kwargs: Any) -> Stream[Any]:
        """``say(text)`` or ``run(command, *args)``, the reply read as it arrives (see
        ``Stream``). Read it to its end (or close it) before the next turn."""
        if isinstance(what, str):
            return self._streamed(self._ask_plan(what, None, kwargs))
        return self._streamed(self._command_plan(what, args, kwargs))

    @overload
    def stream_async(self, what: str, /, **options: Any) -> AsyncStream[str]: ...
    @overload
    def stream_async(
        self, what: Command[..., T] | AsyncCommand[..., T], /, *args: Any, **kwargs: Any
    ) -> AsyncStream[T]: ...
    def stream_async(self, what: Any, /, *args: Any, **kwargs: Any) -> AsyncStream[Any]:
        """The async twin of ``stream``."""
        if isinstance(what, str):
            make = self._ask_plan(what, None, kwargs)
            return self._astreamed(lambda turn: self._now(make(turn)))
        return self._astreamed(self._acommand_plan(what, args, kwargs))

    # --- saving ----------------------------------------------------------------------------

    def to_json(self) -> str:
        """The conversation as versioned JSON: its history (media included, as the codec
        keeps them), which backend and model made each reply, and its settings. Settings
        that are not JSON, or that hold a secret (a key in ``provider_options``), are not
        written: ``from_json`` must be given them again (it says so)."""
        from ._codec import dump_message
        from ._codec import to_json

        saved: dict[str, Any] = {}
        unsaved: list[str] = []
        for name, value in sorted(self._settings.items()):
            if _secret_free(name, value) and _is_json(value):
                saved[name] = value
            else:
                unsaved.append(name)
        state = self._state
        doc = {
            "format": FORMAT,
            "v": VERSION,
            "backend": None if state.stamp is None else state.stamp[0],
            "model": None if state.stamp is None else state.stamp[1],
            "keep_tool_turns": self.keep_tool_turns,
            "settings": to_json(saved),
            "unsaved": unsaved,
            "history": [dump_message(m) for m in state.history],
            "origins": [None if o is None else list(o) for o in state.origins],
        }
        # Key order kept: provider data goes back to the provider as it came.
        return json.dumps(doc, ensure_ascii=False)

    @classmethod
    def from_json(cls, blob: str | bytes, /, **settings: Any) -> Conversation:
        """The conversation ``to_json`` wrote, ready for its next turn; ``settings`` add to
        (or replace) the saved ones, and must include any it could not save."""
        from ._codec import from_json
        from ._codec import load_message

        doc = _document(blob)
        saved: object = from_json(doc.get("settings") or {})
        unsaved: object = doc.get("unsaved") or []
        if not isinstance(saved, dict) or not isinstance(unsaved, list):
            raise ConfigurationError("not a saved conversation: bad settings")
        missing = [str(n) for n in cast("list[object]", unsaved) if n not in settings]
        if missing:
            names = ", ".join(missing)
            raise ConfigurationError(
                f"this conversation was saved without its setting(s) {names} (not JSON, or "
                f"holding a secret): pass them again, Conversation.from_json(blob, "
                f"{missing[0]}=...)."
            )
        keep = doc.get("keep_tool_turns", True)
        given = {**cast("dict[str, Any]", saved), **settings}
        chat = cls(keep_tool_turns=keep is not False, **given)
        try:
            history = tuple(load_message(m) for m in _listed(doc, "history"))
            origins = tuple(_origin(o) for o in _listed(doc, "origins"))
        except (KeyError, TypeError, AttributeError, ValueError, RecursionError) as exc:
            raise ConfigurationError(f"not a saved conversation: {exc}") from None
        if len(origins) != len(history):
            raise ConfigurationError("not a saved conversation: its origins do not match")
        backend, model = doc.get("backend"), doc.get("model")
        stamp = (backend, model) if isinstance(backend, str) and isinstance(model, str) else None
        chat._state = _State(history, origins, stamp)
        return chat


def _listed(doc: Mapping[str, Any], key: str) -> list[Any]:
    value: object = doc.get(key) or []
    if not isinstance(value, list):
        raise TypeError(f"{key} must be a list")
    listed: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
    return listed


def _document(blob: str | bytes) -> dict[str, Any]:
    try:
        raw = json.loads(blob)
    except (ValueError, TypeError, RecursionError) as exc:
        raise ConfigurationError(f"not a saved conversation: {exc}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:  # pyright: ignore[reportUnknownMemberType]
        raise ConfigurationError(
            "not a saved conversation (Conversation.to_json() writes one): expected a JSON "
            f'object with "format": "{FORMAT}".'
        )
    doc: dict[str, Any] = raw  # pyright: ignore[reportUnknownVariableType]
    if doc.get("v") != VERSION:
        raise ConfigurationError(
            f"this conversation was saved in format version {doc.get('v')!r}; this alloy "
            f"reads version {VERSION}. Load it with the alloy version that saved it."
        )
    return doc


def _origin(raw: object) -> Origin:
    if raw is None:
        return None
    pair = cast("list[object]", raw) if isinstance(raw, list) else []
    if len(pair) == 2 and isinstance(pair[0], str) and isinstance(pair[1], str):
        return (pair[0], pair[1])
    raise ValueError(f"bad origin {raw!r}")


def _is_json(value: object) -> bool:
    if value is None or isinstance(value, str | bool | int | float):
        return True
    if isinstance(value, list | tuple):
        return all(_is_json(v) for v in cast("list[object]", value))
    if isinstance(value, Mapping):
        items = cast("Mapping[object, object]", value).items()
        return all(isinstance(k, str) and _is_json(v) for k, v in items)
    return False


def _secret_free(name: str, value: object) -> bool:
    """Whether a setting may be written: ``provider_options`` must hold no key (other
    settings named like one, ``max_tokens``, are counts)."""
    from ._config import has_secret

    return name != "provider_options" or not (
        isinstance(value, Mapping) and has_secret(cast("Mapping[str, Any]", value))
    )
