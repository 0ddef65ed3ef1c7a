"""Parser hooks: types pydantic cannot describe, taught to it once with a schema and a parse.

``register_type(Money, schema=..., parse=..., dump=...)`` gives the class pydantic's own
``__get_pydantic_core_schema__`` hook, which answers with
``Annotated[Any, PlainValidator(parse), WithJsonSchema(schema), PlainSerializer(dump)]``.
Every path that asks pydantic about the type then agrees: output schemas and validation,
tool argument schemas and validation, streamed ``items()``, the fake backend's schema-driven
values, and the type inside containers, dataclasses, TypedDicts and models.

A parse function that raises anything (not only ``ValueError``) becomes a validation error,
so a bad reply is re-asked and a bad tool argument goes back to the model, like any other.

The registry is process-wide and meant to be filled at import time; a lock keeps two threads
registering at once from mixing definitions. Nothing here imports pydantic until pydantic
asks for a schema.
"""

from __future__ import annotations

import json
import threading
import typing
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import TypeVar

from ._errors import ConfigurationError

__all__ = ["dumped", "failure_errors", "register_type"]

T = TypeVar("T")

_HOOK = "__get_pydantic_core_schema__"


@dataclass(frozen=True)
class _Definition:
    schema: Mapping[str, Any]
    parse: Callable[[Any], Any]
    dump: Callable[[Any], Any] | None

    def same_as(self, other: _Definition) -> bool:
        return (
            self.parse is other.parse
            and self.dump is other.dump
            and json.dumps(self.schema, sort_keys=True) == json.dumps(other.schema, sort_keys=True)
        )


_lock = threading.Lock()
_registry: dict[type, _Definition] = {}


def register_type(
    tp: type[T],
    *,
    schema: Mapping[str, Any],
    parse: Callable[[Any], T],
    dump: Callable[[T], Any] | None = None,
    replace: bool = False,
) -> None:
    """Teach alloy (through pydantic) a type it cannot describe or validate on its own.

    After this, ``tp`` works as an output type and as a tool parameter on every backend, on
    its own or inside ``list[...]``, ``dict[str, ...]``, dataclasses, TypedDicts and pydantic
    models, streamed (``items()``) or not, and the fake backend makes values for it from
    ``schema``. Register at import time, before the pydantic models that use ``tp`` are
    defined (a model builds its schema when its class is created).

    For one field or one command instead of the whole process, annotate with pydantic's own
    ``Annotated[tp, PlainValidator(...), WithJsonSchema(...)]``: it wins over the registry.

    Args:
        tp: the class. Its instances are whatever ``parse`` returns.
        schema: the JSON schema the model must follow for a value of ``tp`` (for instance
            ``{"type": "string", "pattern": "^[A-Z]{3} [0-9]+[.][0-9]{2}$"}``). It goes
            through each provider's schema dialect like any other; an ``examples`` entry is
            what the fake backend replies with.
        parse: turns the JSON value the model sent (after ``json.loads``) into a ``tp``
            (a value that already is a ``tp``, as in ``Model(field=tp(...))``, is kept). Any
            exception it raises makes the reply invalid: ``OutputValidationError`` (re-asked
            per ``retry``) for outputs, an error result the model can correct for tool
            arguments.
        dump: turns a ``tp`` back into a JSON value (a tool returning one, pydantic's JSON
            serialisation). Without it such values are sent as ``str(value)``.
        replace: replace an earlier, different registration instead of raising.

    Raises:
        ConfigurationError: ``tp`` is not a class alloy can attach the hook to, it already
            describes itself to pydantic, ``schema`` is not JSON, or ``tp`` is registered
            with a different definition and ``replace`` is false.

    Example:
        >>> class Money:
        ...     def __init__(self, text: str) -> None:
        ...         self.currency, amount = text.split()
        ...         self.amount = float(amount)
        >>> register_type(
        ...     Money,
        ...     schema={"type": "string", "examples": ["EUR 12.50"]},
        ...     parse=Money,
        ...     dump=lambda m: f"{m.currency} {m.amount:.2f}",
        ... )
    """
    name = getattr(tp, "__qualname__", repr(tp))
    if not isinstance(tp, type):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ConfigurationError(f"register_type({tp!r}): give a class, not an instance or alias.")
    if not callable(parse) or (dump is not None and not callable(dump)):
        raise ConfigurationError(f"register_type({name}): parse and dump must be callables.")
    definition = _Definition(_json_copy(name, schema), parse, dump)
    with _lock:
        known = _registry.get(tp)
        if known is not None and not replace and not known.same_as(definition):
            raise ConfigurationError(
                f"{name} is already registered with a different schema, parse or dump; "
                "pass replace=True to replace that definition."
            )
        if known is None:
            _install_hook(tp, name)
        _registry[tp] = definition


def _json_copy(name: str, schema: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(schema, Mapping):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ConfigurationError(f"register_type({name}): schema must be a dict (a JSON schema).")
    try:
        copied: dict[str, Any] = json.loads(json.dumps(schema))
    except (TypeError, ValueError) as exc:
        raise ConfigurationError(
            f"register_type({name}): the schema is not plain JSON ({exc}); use dicts, lists, "
            "strings, numbers, booleans and None."
        ) from None
    return copied


def _install_hook(tp: type, name: str) -> None:
    if _HOOK in vars(tp) or hasattr(tp, "__pydantic_core_schema__"):
        raise ConfigurationError(
            f"{name} already describes itself to pydantic; to change how one field or command "
            f"reads it, annotate it as Annotated[{name}, PlainValidator(...), "
            "WithJsonSchema(...)]."
        )
    try:
        setattr(tp, _HOOK, classmethod(_core_schema))
    except (TypeError, AttributeError):
        raise ConfigurationError(
            f"cannot register {name}: its class does not accept new attributes (a built-in "
            f"or extension type). Annotate it as Annotated[{name}, PlainValidator(parse), "
            "WithJsonSchema(schema)] where it is used instead."
        ) from None


def _find(cls: type) -> _Definition | None:
    for klass in cls.__mro__:
        found = _registry.get(klass)
        if found is not None:
            return found
    return None


def dumped(value: Any) -> Any:
    """``value`` as JSON through its registered ``dump`` (pydantic_core's ``to_json``
    fallback); ``TypeError`` for a value of no registered type, or one without ``dump``."""
    kind: type = type(value)  # pyright: ignore[reportUnknownVariableType]
    definition = _find(kind)
    if definition is None or definition.dump is None:
        raise TypeError(f"{type(value).__qualname__} is not JSON serialisable")
    return definition.dump(value)


def _core_schema(cls: type, source: Any, handler: Any) -> Any:
    """Pydantic's hook: the registered definition, as pydantic's own ``Annotated`` form."""
    import copy

    from pydantic import PlainSerializer
    from pydantic import PlainValidator
    from pydantic import WithJsonSchema

    definition = _find(cls)
    if definition is None:  # the hook is installed on registered classes only
        raise ConfigurationError(f"{cls.__qualname__} is not a registered type.")
    # Any as the base type: PlainValidator asks pydantic about its base type, and asking
    # about ``cls`` again would come straight back here.
    marks: list[Any] = [
        PlainValidator(_checked(definition.parse, cls)),
        WithJsonSchema(copy.deepcopy(dict(definition.schema))),
    ]
    if definition.dump is not None:
        marks.append(PlainSerializer(definition.dump, when_used="json"))
    params = (Any, *marks)
    return handler(typing.cast(Any, typing.Annotated)[params])


def _checked(parse: Callable[[Any], Any], cls: type) -> Callable[[Any], Any]:
    name = cls.__qualname__

    def checked(value: Any) -> Any:
        if isinstance(value, cls):  # a value built in Python, such as a model's field
            return value
        try:
            return parse(value)
        except (ValueError, AssertionError):  # pydantic reports these itself, with their text
            raise
        except Exception as exc:  # any parse failure is an invalid value, whatever its type
            raise _custom_error(name, exc) from exc

    return checked


def _custom_error(name: str, exc: Exception) -> Exception:
    from pydantic_core import PydanticCustomError

    return PydanticCustomError(
        "parse_error",
        "{type} could not be read: {error}",
        {"type": name, "error": f"{type(exc).__name__}: {exc}"},
    )


def failure_errors(exc: Exception) -> list[Any]:
    """Pydantic's error list for a failed validation; for any other exception (raised by a
    validator pydantic does not wrap, such as a ``TypeError``), one entry that says what."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        return list(exc.errors(include_url=False, include_context=False))
    return [{"type": "parse_error", "loc": (), "msg": f"{type(exc).__name__}: {exc}"}]
