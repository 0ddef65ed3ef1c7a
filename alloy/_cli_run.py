"""The subcommands of ``alloy`` that run the user's own commands: ``run``, ``map``,
``batch submit`` and ``batch collect``, and how values and results are written to stdout
(the rest of the command line, which imports this module only when it runs, is ``alloy.cli``).

A command is named ``module:name`` and imported with the current directory first on
``sys.path``, as ``uvicorn app:main`` does: importing it runs the module's code, which is
the user's. Arguments arrive as JSON where they parse and as text where they do not, except
for parameters annotated ``str``, which always take the text as given (``n=42`` stays
``"42"`` for a ``str`` parameter). A JSONL item is a command's keyword arguments when it is
an object whose keys all name its parameters, else the value of its first parameter.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Any
from typing import cast

if TYPE_CHECKING:
    import argparse

    from ._map import MapResult
    from ._result import Result

__all__ = [
    "batch_collect",
    "batch_submit",
    "load_command",
    "map_command",
    "plain_json",
    "result_json",
    "run_command",
    "value_text",
]

_COUNTS = (
    "input_tokens",
    "output_tokens",
    "cached_input_tokens",
    "reasoning_tokens",
    "total_tokens",
    "cache_write_tokens",
)


class UsageError(ValueError):
    """Arguments the command line cannot use (exit code 2)."""


def _dump(value: Any) -> str:
    from ._codec import to_json

    try:
        return json.dumps(to_json(value), ensure_ascii=False)
    except TypeError:
        import dataclasses

        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            return json.dumps(dataclasses.asdict(value), ensure_ascii=False, default=str)
        return json.dumps(value, ensure_ascii=False, default=str)


def value_text(value: Any) -> str:
    """A value for stdout: a string as it is, anything else as JSON."""
    return value if isinstance(value, str) else _dump(value)


def plain_json(value: Any) -> Any:
    """A value as plain JSON data (dataclasses and models through the codec)."""
    return json.loads(_dump(value))


def result_json(result: Any) -> str:
    """A ``Result`` as one line of JSON (``--json``)."""
    return json.dumps(
        {
            "value": plain_json(result.value),
            "text": result.text,
            "model": result.model,
            "provider": result.provider,
            "usage": {name: getattr(result.usage, name) for name in _COUNTS},
            "finish": result.finish,
        },
        ensure_ascii=False,
    )


def load_command(ref: str) -> Any:
    """The command ``module:name`` names (``name`` may be dotted: ``module:Class.method``)."""
    import importlib
    import os

    from ._command import AsyncCommand
    from ._command import Command

    module, sep, name = ref.partition(":")
    if not sep or not module or not name:
        raise UsageError(f"expected module:command, not {ref!r}")
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        found: Any = importlib.import_module(module)
        for part in name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError) as exc:
        raise UsageError(f"cannot import {ref!r}: {exc}") from exc
    loaded: Any = found  # not narrowed by the check below: commands of any types
    if not isinstance(found, Command | AsyncCommand):
        raise UsageError(f"{ref!r} is not an alloy command (decorate it with @command)")
    return loaded


def _parameters(cmd: Any) -> dict[str, bool]:
    """The command's parameters, each with whether it is annotated ``str`` (text as is)."""
    import inspect
    import typing

    fn = cmd.__wrapped__
    try:
        hints = typing.get_type_hints(fn)
    except (NameError, TypeError):
        hints = {}
    return {name: hints.get(name) is str for name in inspect.signature(fn).parameters}


def _value(raw: str, text: bool) -> Any:
    if text:
        return raw
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def _bind(cmd: Any, pairs: Sequence[str]) -> dict[str, Any]:
    """``name=value`` / ``name=@file`` pairs as the command's keyword arguments."""
    params = _parameters(cmd)
    found: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or name not in params:
            raise UsageError(
                f"expected name=value with a parameter of the command "
                f"({', '.join(params) or 'none'}), not {pair!r}"
            )
        if raw.startswith("@"):
            try:
                with open(raw[1:], encoding="utf-8") as handle:
                    found[name] = handle.read()
            except OSError as exc:
                raise UsageError(f"{name}=@{raw[1:]}: {exc}") from exc
        else:
            found[name] = _value(raw, params[name])
    return found


def _arguments(cmd: Any, item: Any) -> dict[str, Any]:
    """One JSONL item as the command's keyword arguments."""
    params = list(_parameters(cmd))
    if isinstance(item, dict):
        given = cast("dict[str, Any]", item)
        if given and all(k in params for k in given):
            return dict(given)
    if not params:
        raise UsageError("the command takes no arguments: an item must be {}")
    return {params[0]: item}


def _read(path: str | None) -> list[Any]:
    """The JSONL items of ``--input`` (a file), else of stdin."""
    if path is None:
        return _items(iter(sys.stdin))
    try:
        with open(path, encoding="utf-8") as handle:
            return _items(iter(handle))
    except OSError as exc:
        raise UsageError(f"--input {path}: {exc}") from exc


def _items(stream: Iterator[str]) -> list[Any]:
    found: list[Any] = []
    for number, line in enumerate(stream, 1):
        if line.strip():
            try:
                found.append(json.loads(line))
            except ValueError as exc:
                raise UsageError(f"stdin line {number} is not JSON: {exc}") from exc
    return found


def _settled(cmd: Any, kwargs: dict[str, Any]) -> Result[Any]:
    from ._command import AsyncCommand

    call: Any = cmd  # not narrowed by the check below: a command of any type
    if isinstance(cmd, AsyncCommand):
        import asyncio

        done: Result[Any] = asyncio.run(call.run_async(**kwargs))
        return done
    result: Result[Any] = cmd.run(**kwargs)
    return result


def run_command(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    """``alloy run module:command [name=value | name=@file ...] [--json]``."""
    from . import use_config

    cmd = load_command(args.ref)
    kwargs = _bind(cmd, args.arguments)
    with use_config(**settings):
        result = _settled(cmd, kwargs)
    sys.stdout.write((result_json(result) if args.json else value_text(result.value)) + "\n")
    return 0


def write_outcomes(
    outcomes: MapResult[Any] | list[tuple[int, Any, BaseException | None]],
) -> BaseException | None:
    """JSONL, one line per item in input order; the error of the first item that failed."""
    first: BaseException | None = None
    rows = (
        [(o.index, o.result.value if o.result else None, o.error) for o in outcomes]
        if not isinstance(outcomes, list)
        else outcomes
    )
    for index, value, error in rows:
        if error is None:
            line: dict[str, Any] = {"index": index, "ok": True, "value": plain_json(value)}
        else:
            line = {
                "index": index,
                "ok": False,
                "error": {"class": type(error).__name__, "message": str(error)},
            }
            first = first or error
        sys.stdout.write(json.dumps(line, ensure_ascii=False) + "\n")
    return first


def map_command(args: argparse.Namespace, settings: dict[str, Any]) -> BaseException | None:
    """``alloy map module:command [--concurrency N] [--progress]``: JSONL in, JSONL out;
    the first failed item's error."""
    from . import use_config

    cmd = load_command(args.ref)
    items = [_arguments(cmd, item) for item in _read(args.input)]
    if args.concurrency is not None and args.concurrency < 1:
        raise UsageError("--concurrency takes a number above 0")
    with use_config(**settings):
        found: MapResult[Any] = cmd.starmap(
            items, concurrency=args.concurrency, progress=True if args.progress else None
        )
    return write_outcomes(found)


def batch_submit(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    """``alloy batch submit module:command [--name N]``: items as JSONL on stdin; the id."""
    from . import use_config

    cmd = load_command(args.id)
    items: list[Any] = []
    for item in _read(args.input):
        kwargs = _arguments(cmd, item)
        if len(kwargs) != 1 or next(iter(kwargs)) != next(iter(_parameters(cmd))):
            raise UsageError("a batch item is the value of the command's first parameter")
        items.append(next(iter(kwargs.values())))
    with use_config(**settings):
        job = cmd.batch(items, name=args.name)
    sys.stdout.write(f"{job.id}\n")
    return 0


def batch_collect(args: argparse.Namespace, settings: dict[str, Any]) -> BaseException | None:
    """``alloy batch collect ID [--command module:command]``: the outcomes as JSONL; the
    first failed item's error."""
    from . import use_config

    if args.command_ref is None:
        return write_outcomes(_raw_outcomes(args.id, settings.get("store")))
    cmd = load_command(args.command_ref)
    with use_config(**settings):
        found: MapResult[Any] = cmd.batch_job(args.id).results()
    return write_outcomes(found)


def _raw_outcomes(job_id: str, store: Any) -> list[tuple[int, Any, BaseException | None]]:
    """Every item's stored reply text (or its error), without the command to parse it."""
    from . import batches
    from ._batch_outcomes import loaded_error
    from ._codec import load_response
    from ._errors import ConfigurationError
    from ._store import open_store
    from ._store._batches import item_records

    info = batches.get(job_id, store=store)
    if info.state != "ended":
        raise ConfigurationError(f"batch job {job_id} has not ended: alloy batch wait {job_id}")
    rows: list[tuple[int, Any, BaseException | None]] = []
    for item in item_records(open_store(store), job_id):
        stored = item.outcome or {}
        if "response" in stored:
            rows.append((item.idx, load_response(stored["response"]).text, None))
        else:
            rows.append((item.idx, None, loaded_error(stored, info.backend)))
    return rows
