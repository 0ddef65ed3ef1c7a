"""Output types: from a Python type to a JSON schema, and from reply text back to a value.

Pydantic's ``TypeAdapter`` does the work. Alloy adds: descriptions written as
``Annotated[T, "text"]``, ``typing.TypedDict`` on Python < 3.12 (which pydantic rejects),
invisible ``{"value": ...}`` wrapping of non-object types, and validation in pydantic's strict
JSON mode, so ``"3.7"`` never becomes ``3`` and ``"maybe"`` never becomes ``False``.

Pydantic is imported here, lazily, the first time a typed command is built: ``import alloy``
stays cheap.
"""

from __future__ import annotations

import re
import sys
import types
import typing
from collections.abc import Mapping
from typing import Annotated
from typing import Any
from typing import Generic
from typing import Literal
from typing import TypeVar
from typing import Union
from typing import get_args
from typing import get_origin

from ._errors import ConfigurationError
from ._errors import OutputValidationError
from ._errors import RefusalError
from ._messages import OutputSchema
from ._schema import is_object_root
from ._schema import wrap

__all__ = ["OutputSpec", "output_spec", "schema_generator"]

T = TypeVar("T")
Kind = Literal["text", "none", "json"]

_FENCE = re.compile(r"^\s*```[a-zA-Z0-9_-]*\s*\n(.*?)\n?\s*```\s*$", re.DOTALL)
_NAME_CHARS = re.compile(r"[^a-zA-Z0-9_-]+")


class OutputSpec(Generic[T]):
    """How one command's reply becomes its value. Built once, at decoration time."""

    __slots__ = ("_adapter", "_wrapper", "expected", "kind", "schema", "type")

    def __init__(
        self,
        tp: Any,
        kind: Kind,
        schema: OutputSchema | None = None,
        adapter: Any = None,
        wrapper: Any = None,
    ):
        self.type = tp
        self.kind: Kind = kind
        self.schema = schema
        self.expected = type_name(tp)
        self._adapter = adapter
        self._wrapper = wrapper

    def parse(self, text: str, refusal: str | None = None) -> T:
        """The value in ``text``; ``RefusalError`` when the provider reported a refusal,
        ``OutputValidationError`` when the text is not a valid value."""
        if refusal:
            raise RefusalError(refusal, self.expected)
        if self.kind == "text":
            return typing.cast(T, text)
        if self.kind == "none":
            return typing.cast(T, None)
        body = strip_fence(text)
        if not body.strip():
            raise OutputValidationError(
                self.expected, text, [{"type": "missing", "msg": "the reply was empty"}]
            )
        # Any exception counts as an invalid reply, not only pydantic's ValidationError: a
        # validator of the user's (an ``Annotated`` one, a registered parse) may raise anything.
        if self._wrapper is None:
            try:
                return typing.cast(T, self._adapter.validate_json(body, strict=True))
            except Exception as exc:  # noqa: BLE001 - see above
                raise OutputValidationError(self.expected, text, _errors(exc)) from None
        try:
            return typing.cast(T, self._wrapper.validate_json(body, strict=True)["value"])
        except Exception as wrapped_exc:  # noqa: BLE001 - see above
            # Some models answer with the bare value despite the schema: accept it when it
            # validates, but report the error that matches what the model attempted.
            try:
                return typing.cast(T, self._adapter.validate_json(body, strict=True))
            except Exception as bare_exc:  # noqa: BLE001 - see above
                reported = wrapped_exc if '"value"' in body else bare_exc
                raise OutputValidationError(self.expected, text, _errors(reported)) from None


def _errors(exc: Exception) -> list[Any]:
    from ._parsers import failure_errors

    return failure_errors(exc)


def strip_fence(text: str) -> str:
    """The text inside a Markdown code fence, if the whole reply is one."""
    match = _FENCE.match(text)
    return match.group(1) if match else text


def type_name(tp: Any) -> str:
    """A readable name for a type: ``Invoice``, ``list[int]``, ``Literal['a', 'b']``."""
    if tp is None or tp is type(None):
        return "None"
    if isinstance(tp, type) and not get_args(tp):
        return tp.__qualname__
    return repr(tp).replace("typing.", "").replace("typing_extensions.", "")


def schema_name(tp: Any) -> str:
    """A name OpenAI accepts for a schema: ``[a-zA-Z0-9_-]{1,64}``."""
    base = tp.__name__ if isinstance(tp, type) and not get_args(tp) else "value"
    return _NAME_CHARS.sub("_", base)[:64] or "value"


def output_spec(tp: Any, where: str) -> OutputSpec[Any]:
    """Build the ``OutputSpec`` for output type ``tp``; ``where`` names the command in errors."""
    if tp is str:
        return OutputSpec(str, "text")
    if tp is None or tp is type(None):
        return OutputSpec(None, "none")
    if tp is Any or tp is object:
        raise ConfigurationError(
            f"{where}: output type {type_name(tp)} gives the model no schema to follow. "
            "Use a concrete type, or dict[str, Any] for free-form JSON objects."
        )
    from pydantic import TypeAdapter
    from pydantic.errors import PydanticUserError

    normalized = _compat_typeddicts(tp)
    try:
        adapter = TypeAdapter(normalized)
        schema = adapter.json_schema(schema_generator=schema_generator())
    except (PydanticUserError, TypeError, NameError, ValueError) as exc:
        raise ConfigurationError(
            f"{where}: output type {type_name(tp)} cannot be expressed as JSON schema ({exc}). "
            "Use JSON-friendly types: str, int, float, bool, list, dict[str, T], Literal, Enum, "
            "dataclasses, TypedDicts or pydantic models; teach alloy a class of your own with "
            "alloy.register_type."
        ) from None
    description = _annotated_description(tp)
    if description:
        schema.setdefault("description", description)
    wrapper = None
    if not is_object_root(schema):
        schema = wrap(schema)
        wrapper = TypeAdapter[Any](_typeddict("AlloyValue", {"value": normalized}))
    schema_obj = OutputSchema(schema_name(tp), schema, wrapped=wrapper is not None)
    return OutputSpec(tp, "json", schema_obj, adapter, wrapper)


def _annotated_description(tp: Any) -> str | None:
    if get_origin(tp) is Annotated:
        texts = [m for m in get_args(tp)[1:] if isinstance(m, str)]
        return " ".join(texts) or None
    return None


def schema_generator() -> type[Any]:
    """A pydantic schema generator that also reads ``Annotated[T, "description"]`` fields."""
    global _generator
    if _generator is not None:
        return _generator
    from pydantic.json_schema import GenerateJsonSchema

    class AlloyJsonSchema(GenerateJsonSchema):
        def dataclass_schema(self, schema: Any) -> Any:
            return _describe_fields(schema["cls"], super().dataclass_schema(schema))

        def typed_dict_schema(self, schema: Any) -> Any:
            return _describe_fields(schema.get("cls"), super().typed_dict_schema(schema))

        def model_schema(self, schema: Any) -> Any:
            return _describe_fields(schema["cls"], super().model_schema(schema))

    _generator = AlloyJsonSchema
    return _generator


_generator: type[Any] | None = None


def _describe_fields(cls: Any, js: Any) -> Any:
    """Add descriptions written as ``Annotated[T, "text"]`` to ``cls``'s property schemas."""
    if cls is None or not isinstance(js, dict):
        return js
    schema = typing.cast(dict[str, Any], js)
    props = typing.cast(dict[str, dict[str, Any]], schema.get("properties", {}))
    try:
        hints = typing.get_type_hints(cls, include_extras=True)
    except (NameError, TypeError):
        return schema
    for name, hint in hints.items():
        description = _annotated_description(hint)
        prop = props.get(name)
        if description and prop is not None:
            prop.setdefault("description", description)
    return schema


def _compat_typeddicts(tp: Any) -> Any:
    """Replace ``typing.TypedDict`` classes, which pydantic rejects before Python 3.12."""
    if sys.version_info >= (3, 12):
        return tp
    return _rebuild(tp, {})


def _typeddict(name: str, fields: dict[str, Any]) -> Any:
    """A ``typing_extensions.TypedDict`` built at run time (pydantic accepts it on any Python)."""
    import typing_extensions

    make: Any = typing_extensions.TypedDict
    return make(name, fields)


def _rebuild(tp: Any, seen: dict[Any, Any]) -> Any:
    import typing_extensions

    if typing_extensions.is_typeddict(tp) and type(tp).__module__ == "typing":
        if tp in seen:
            return seen[tp]
        hints = typing.get_type_hints(tp, include_extras=True)
        total = bool(getattr(tp, "__total__", True))
        fields: dict[str, Any] = {}
        for key, hint in hints.items():
            # Decide from the annotation itself: with postponed annotations, Python 3.11
            # computes __required_keys__ without seeing Required/NotRequired.
            marker = get_origin(hint)
            inner = _rebuild(_strip_required(hint), seen)
            required = marker is typing_extensions.Required or (
                marker is not typing_extensions.NotRequired and total
            )
            wrap_key = typing_extensions.Required if required else typing_extensions.NotRequired
            fields[key] = wrap_key[inner]
        new: Any = _typeddict(tp.__name__, fields)
        new.__doc__ = tp.__doc__
        seen[tp] = new
        return new
    origin, args = get_origin(tp), get_args(tp)
    if not args or origin is Literal:
        return tp
    if origin is Annotated:
        params = (_rebuild(args[0], seen), *args[1:])
        return typing.cast(Any, Annotated)[params]
    new_args = tuple(_rebuild(a, seen) for a in args)
    if new_args == args:
        return tp
    if origin is Union or origin is types.UnionType:
        return Union[new_args]  # noqa: UP007 - rebuilding a union from a tuple
    if not isinstance(origin, type):
        return tp
    generic: Any = dict if issubclass(origin, Mapping) else typing.cast(Any, origin)
    return generic[new_args]


def _strip_required(hint: Any) -> Any:
    import typing_extensions

    origin = get_origin(hint)
    if origin in (typing_extensions.Required, typing_extensions.NotRequired):
        return get_args(hint)[0]
    return hint
