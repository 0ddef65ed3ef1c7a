"""How a decorated function becomes its prompt: a sequence of text and media parts.

The prompt is the body's return value when the body returns a ``str`` (or a list of ``str``
and media, placed as given); otherwise the docstring, used as a ``str.format`` template
filled with the bound arguments. A media argument (``Image``, ``Audio``, ``Document``, or a
list of them) named by a placeholder is cut into the prompt at that place, so text and media
interleave in order; media arguments the prompt does not place follow its text, in parameter
order. A function whose body is only a docstring and/or ``...`` is known to be a template at
decoration time, so its placeholders are checked then.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import cast

from ._errors import ConfigurationError
from ._media import Media
from ._messages import ContentPart
from ._messages import MediaPart
from ._messages import Prompt
from ._messages import TextPart

__all__ = ["PromptBuilder", "check_text", "is_bodyless", "listed_parts"]

_IGNORED_OPS = frozenset({"RESUME", "NOP", "CACHE", "RETURN_GENERATOR", "POP_TOP"})
_FIELD_BASE = re.compile(r"[.\[]")


def listed_parts(
    items: Sequence[object], where: str, names: Mapping[int, str] | None = None
) -> list[ContentPart]:
    """The parts of a prompt given as a list of ``str`` and media, in order; ``names`` maps
    the ``id`` of a media argument to its parameter, for errors that name it."""
    parts: list[ContentPart] = []
    for item in items:
        if isinstance(item, str):
            if item:
                parts.append(TextPart(item))
        elif isinstance(item, Media):
            parts.append(MediaPart(item, names.get(id(item)) if names else None))
        else:
            raise ConfigurationError(
                f"{where}: the prompt list holds {type(item).__name__}; a prompt list holds "
                "str and Image / Audio / Document values only."
            )
    return parts


def _media_arguments(arguments: Mapping[str, Any]) -> dict[str, tuple[Media, ...]]:
    """The arguments that are media, or non-empty lists or tuples of media, by name."""
    found: dict[str, tuple[Media, ...]] = {}
    for name, value in arguments.items():
        if isinstance(value, Media):
            found[name] = (value,)
        elif isinstance(value, (list, tuple)) and value:
            items = cast("list[object] | tuple[object, ...]", value)
            if all(isinstance(item, Media) for item in items):
                found[name] = cast("tuple[Media, ...]", tuple(items))
    return found


def _parts_of(media: dict[str, tuple[Media, ...]], placed: set[str]) -> list[ContentPart]:
    """Media parts for the arguments not ``placed`` yet, in parameter order."""
    return [
        MediaPart(item, name)
        for name, items in media.items()
        if name not in placed
        for item in items
    ]


def is_bodyless(fn: Callable[..., Any]) -> bool:
    """Whether ``fn``'s body is only a docstring, ``...`` and/or ``pass``.

    Read from the opcodes, whose names vary between CPython versions (a test pins them on
    every Python the suite runs). A miss is harmless: the template is then checked at the
    first call instead of at decoration.
    """
    code = getattr(fn, "__code__", None)
    if code is None:
        return False
    import dis  # imported here, like everything only decoration needs, to keep import cheap

    ops = [(i.opname, i.argval) for i in dis.get_instructions(code) if i.opname not in _IGNORED_OPS]
    return ops in ([("LOAD_CONST", None), ("RETURN_VALUE", None)], [("RETURN_CONST", None)])


def check_text(text: str, what: str) -> None:
    """``ConfigurationError`` if ``text`` cannot be sent as UTF-8: a lone surrogate, left by
    text decoded with ``errors="surrogateescape"`` or sliced between a surrogate pair."""
    if text.isascii():
        return
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ConfigurationError(
            f"{what} holds a lone surrogate ({text[exc.start]!r} at position {exc.start}), "
            "which no provider accepts: it usually comes from bytes decoded with "
            "errors='surrogateescape'. Decode the input as UTF-8 with errors='replace'."
        ) from None


class PromptBuilder:
    """Renders the prompt for one command."""

    __slots__ = (
        "bodyless",
        "fn",
        "is_async",
        "leading",
        "positional",
        "signature",
        "template",
        "where",
    )

    def __init__(self, fn: Callable[..., Any], where: str):
        self.fn = fn
        self.leading: tuple[Any, ...] = ()  # arguments bound before the call: ``self``
        self.where = where
        self.signature = inspect.signature(fn)
        # Parameter names when every parameter can be passed by position: a call giving
        # exactly these positionally binds without ``Signature.bind`` (a few µs per call).
        kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
        params = self.signature.parameters.values()
        self.positional: tuple[str, ...] | None = (
            tuple(p.name for p in params) if all(p.kind in kinds for p in params) else None
        )
        self.is_async = inspect.iscoroutinefunction(fn)
        self.bodyless = is_bodyless(fn)
        doc = inspect.getdoc(fn)
        self.template = doc if doc and doc.strip() else None
        if self.bodyless:
            if self.template is None:
                raise ConfigurationError(
                    f"{where} has an empty prompt: write the prompt in its docstring "
                    "(with {parameter} placeholders) or return it from the body."
                )
            self._check_template(self.template)

    def _check_template(self, template: str) -> None:
        import string

        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(template) if f is not None]
        except ValueError as exc:
            raise ConfigurationError(
                f"{self.where}: its docstring is not a valid template ({exc}). "
                "Write literal braces as {{ and }}."
            ) from None
        for field in fields:
            base = _FIELD_BASE.split(field, maxsplit=1)[0]
            if base not in self.signature.parameters:
                params = ", ".join(self.signature.parameters) or "none"
                what = f"{{{field}}}" if field else "{}"
                raise ConfigurationError(
                    f"{self.where}: placeholder {what} in its docstring names no parameter "
                    f"(parameters: {params}). Write literal braces as {{{{ and }}}}."
                )

    def bind(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> dict[str, Any]:
        names = self.positional
        if names is not None and not kwargs and len(args) == len(names):
            arguments = dict(zip(names, args, strict=True))
        else:
            bound = self.signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = bound.arguments
        return arguments

    def from_result(self, result: Any, arguments: Mapping[str, Any]) -> Prompt:
        """The prompt, given what the body returned."""
        media = _media_arguments(arguments)
        if isinstance(result, str):
            parts = [TextPart(result), *_parts_of(media, set())]
        elif isinstance(result, (list, tuple)):
            names = {id(item): name for name, items in media.items() for item in items}
            parts = listed_parts(
                cast("list[object] | tuple[object, ...]", result), self.where, names
            )
        elif result is None or result is Ellipsis:
            if self.template is None:
                raise ConfigurationError(
                    f"{self.where} returned no prompt and has no docstring: return the prompt "
                    "text from the body, or write it in the docstring."
                )
            if not self.bodyless:
                self._check_template(self.template)
            if media:
                parts = self._placed(self.template, arguments, media)
            else:
                parts = [TextPart(self._fill(self.template, arguments))]
        else:
            raise ConfigurationError(
                f"{self.where} returned {type(result).__name__}, not the prompt: a command's "
                "body returns the prompt as a str, or a list of str and media (the output type "
                "goes in the annotation or output=)."
            )
        if not any(isinstance(p, MediaPart) or p.text.strip() for p in parts):
            raise ConfigurationError(f"{self.where} produced an empty prompt.")
        for part in parts:
            if isinstance(part, TextPart):
                check_text(part.text, f"the prompt of {self.where}")
        return tuple(parts)

    def _placed(
        self, template: str, arguments: Mapping[str, Any], media: dict[str, tuple[Media, ...]]
    ) -> list[ContentPart]:
        """The template filled, with each media placeholder replaced by its media parts."""
        import string

        parts: list[ContentPart] = []
        text: list[str] = []

        def flush() -> None:
            if "".join(text):
                parts.append(TextPart("".join(text)))
            text.clear()

        placed: set[str] = set()
        for literal, field, spec, conversion in string.Formatter().parse(template):
            text.append(literal)
            if field is None:
                continue
            if field in media and not spec and not conversion:
                flush()
                parts.extend(MediaPart(item, field) for item in media[field])
                placed.add(field)
                continue
            # Any other field is formatted as ``str.format`` would, nested specs included.
            rebuilt = (
                field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            )
            text.append(self._fill("{" + rebuilt + "}", arguments))
        flush()
        parts.extend(_parts_of(media, placed))
        return parts

    def _fill(self, template: str, arguments: Mapping[str, Any]) -> str:
        try:
            return template.format_map(arguments)
        except (KeyError, AttributeError, IndexError, ValueError, TypeError) as exc:
            # A placeholder the argument cannot serve: ``{x[0]}`` with ``x=None``,
            # ``{x:.2f}`` with a string, or an argument whose ``__format__`` fails.
            raise ConfigurationError(
                f"{self.where}: could not fill its docstring template ({type(exc).__name__}: "
                f"{exc}). Check the placeholders against the arguments passed."
            ) from None

    def bound(self, first: Any) -> PromptBuilder:
        """This builder with ``first`` passed before the call's own arguments (the
        instance, for a command defined in a class)."""
        new = object.__new__(PromptBuilder)
        for name in PromptBuilder.__slots__:
            object.__setattr__(new, name, getattr(self, name))
        new.leading = (*self.leading, first)
        return new

    def render(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Prompt:
        """The prompt for a synchronous function."""
        if self.leading:
            args = (*self.leading, *args)
        arguments = self.bind(args, kwargs)
        result = None if self.bodyless else self.fn(*args, **kwargs)
        return self.from_result(result, arguments)

    async def arender(self, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Prompt:
        """The prompt for a function that may be ``async def``."""
        if self.leading:
            args = (*self.leading, *args)
        arguments = self.bind(args, kwargs)
        if self.bodyless:
            return self.from_result(None, arguments)
        result = self.fn(*args, **kwargs)
        if inspect.isawaitable(result):
            result = await result
        return self.from_result(result, arguments)
