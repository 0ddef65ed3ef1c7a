"""The ``alloy`` command line (also ``python -m alloy``), on the standard library's argparse.

Machine-readable output goes to stdout (text, or JSON with ``--json``), logs and errors to
stderr. Each alloy error class has its own exit code (``EXIT_CODES``), so scripts can tell a
bad setting from a provider outage. ``alloy --help`` imports no SDK and no pydantic: every
subcommand imports what it needs when it runs.

Settings come from ``ALLOY_*`` variables as for any alloy call, and ``--set key=value``
(the value read as JSON when it parses, else as text) adds to them for the run.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from typing import Any
from typing import cast

__all__ = ["EXIT_CODES", "main"]

EXIT_CODES = {
    "ok": 0,
    "error": 1,
    "usage": 2,
    "ConfigurationError": 3,
    "CapabilityError": 4,
    "CommandError": 5,
    "ProviderError": 6,
    "AuthenticationError": 7,
    "RateLimitError": 8,
    "ProviderTimeout": 9,
    "wait_timeout": 10,
}
"""Exit codes: 0 success, 2 bad arguments, one per alloy error class (the most specific class
that applies), 10 ``batch wait --timeout`` ran out (the job goes on), 1 anything else. A
``map`` or ``batch collect`` with failed items exits with the code of the first one's class."""

# Names a ``--output`` type expression may use: types, never code.
_TYPE_NAMES = ("str", "int", "float", "bool", "list", "dict", "tuple", "set", "None")


def _settings(pairs: Sequence[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for pair in pairs:
        name, sep, raw = pair.partition("=")
        if not sep or not name.strip():
            raise SystemExit(_usage(f"--set takes key=value, not {pair!r}"))
        try:
            found[name.strip()] = json.loads(raw)
        except ValueError:
            found[name.strip()] = raw
    return found


def _usage(message: str) -> int:
    sys.stderr.write(f"alloy: {message}\n")
    return EXIT_CODES["usage"]


def output_type(expression: str | None) -> Any:
    """The type ``--output`` names: ``module:Type`` (imported), or a type expression made of
    builtin types, ``Literal[...]``, ``X | Y``, ``list[...]``/``dict[...]`` (checked node by
    node before it is evaluated, with no builtins: it cannot run code)."""
    if expression is None:
        return None
    if ":" in expression and "[" not in expression.split(":", 1)[0]:
        import importlib

        module, _, name = expression.partition(":")
        found: Any = importlib.import_module(module)
        for part in name.split("."):
            found = getattr(found, part)
        return found
    import ast
    import typing

    tree = ast.parse(expression, mode="eval")
    allowed = (
        ast.Expression, ast.Name, ast.Subscript, ast.Tuple, ast.Constant, ast.BinOp,
        ast.BitOr, ast.Load, ast.List,
    )  # fmt: skip
    for node in ast.walk(tree):
        if not isinstance(node, allowed):
            raise ValueError(f"--output {expression!r}: only type expressions are allowed")
        if isinstance(node, ast.Name) and node.id not in (*_TYPE_NAMES, "Literal", "Any"):
            raise ValueError(f"--output {expression!r}: unknown name {node.id!r}")
        if isinstance(node, ast.Constant) and not isinstance(node.value, str | int | bool):
            raise ValueError(f"--output {expression!r}: only str, int and bool literals")
    namespace: dict[str, Any] = {"Literal": typing.Literal, "Any": typing.Any, "None": None}
    namespace.update({n: getattr(__import__("builtins"), n) for n in _TYPE_NAMES if n != "None"})
    return eval(compile(tree, "<--output>", "eval"), {"__builtins__": {}}, namespace)


def _ask(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    from ._ask import prepare
    from ._cli_run import result_json
    from ._cli_run import value_text
    from ._plan import plan
    from ._run import run_sync

    prompt = args.prompt if args.prompt is not None else sys.stdin.read()
    output = output_type(args.output)
    result = run_sync(plan(*prepare(prompt, output, settings)))
    sys.stdout.write((result_json(result) if args.json else value_text(result.value)) + "\n")
    return 0


def _capabilities(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    import dataclasses

    from ._config import effective
    from ._config import make_config
    from ._plan import select_backend

    if args.backend is not None:
        return _backend_profiles(args.backend)
    model = args.model or settings.get("model")
    cfg = effective(make_config("alloy capabilities", {**settings, "model": model}))
    backend, provider, name, _ = select_backend(cfg)
    caps = backend.capabilities(name)
    found = {"provider": provider, "model": name, **dataclasses.asdict(caps)}
    sys.stdout.write(json.dumps(found, default=_plain) + "\n")
    return 0


# Where each built-in backend keeps its model table (the rows behind ``capabilities``).
_PROFILES = {
    "openai": ("alloy.backends.openai._models", "PROFILES"),
    "openai-chat": ("alloy.backends.openai._models", "CHAT_PROFILES"),
    "anthropic": ("alloy.backends.anthropic._models", "PROFILES"),
    "gemini": ("alloy.backends.gemini._models", "PROFILES"),
    "ollama": ("alloy.backends.ollama._models", "PROFILES"),
}


def _backend_profiles(name: str) -> int:
    """Every row of a backend's model table, first match winning, one JSON line each; a
    backend without a table (``fake``, a registered one) gives one line, its defaults."""
    import dataclasses
    import importlib

    from .backends._registry import get_backend
    from .backends._registry import info

    info(name)  # a ConfigurationError for an unknown backend
    if name in _PROFILES:
        module, attr = _PROFILES[name]
        rows: Any = getattr(importlib.import_module(module), attr)
        for row in rows:
            found = {
                "provider": name,
                "models": row.models,
                "prefixes": list(row.prefixes),
                **dataclasses.asdict(row.capabilities),
            }
            sys.stdout.write(json.dumps(found, default=_plain) + "\n")
        return 0
    caps = get_backend(name).capabilities("")
    default: dict[str, Any] = {"provider": name, "models": "all models", "prefixes": []}
    default.update(dataclasses.asdict(caps))
    sys.stdout.write(json.dumps(default, default=_plain) + "\n")
    return 0


def _plain(value: object) -> object:
    """JSON for what ``json`` cannot write itself (sets as sorted lists)."""
    if isinstance(value, frozenset | set):
        return sorted(str(v) for v in cast("set[object]", value))
    return str(value)


def _batch(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    from . import batches
    from ._cli_run import batch_collect
    from ._cli_run import batch_submit

    store = settings.get("store")
    action = args.action
    if action == "submit":
        return batch_submit(args, settings)
    if action == "collect":
        return _failed(batch_collect(args, settings))
    if action == "list":
        found = batches.list(state=args.state, store=store)
    elif action == "status":
        found = [batches.get(args.id, store=store)]
    elif action == "wait":
        try:
            found = [batches.wait(args.id, poll=args.poll, timeout=args.timeout, store=store)]
        except TimeoutError as exc:
            sys.stderr.write(f"alloy: {exc}\n")
            return EXIT_CODES["wait_timeout"]
    elif action == "cancel":
        found = [batches.cancel(args.id, store=store)]
    else:  # resume: carry every unfinished job on
        found = batches.resume(store=store)
    for job in found:
        sys.stdout.write(json.dumps(dataclasses_dict(job)) + "\n")
    return 0


def dataclasses_dict(value: Any) -> dict[str, Any]:
    import dataclasses

    found: dict[str, Any] = dataclasses.asdict(value)
    return found


def _cache(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    from ._response_cache import ResponseCache

    cache = ResponseCache(settings.get("store"))
    if args.action == "clear":
        sys.stdout.write(json.dumps({"deleted": cache.clear()}) + "\n")
    else:
        sys.stdout.write(json.dumps(cache.stats()) + "\n")
    return 0


def _run(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    from ._cli_run import run_command

    return run_command(args, settings)


def _map(args: argparse.Namespace, settings: dict[str, Any]) -> int:
    from ._cli_run import map_command

    return _failed(map_command(args, settings))


def _failed(error: BaseException | None) -> int:
    """The exit code of items written out: 0, or the first failed item's class's code."""
    return 0 if error is None else _code(error)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="alloy", description="Typed AI calls from the command line (docs/cli.md)."
    )
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                        help="a setting for this run (JSON value, else text)")  # fmt: skip
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="ask the model once; the prompt from the argument or stdin")
    ask.add_argument("prompt", nargs="?")
    ask.add_argument("--output", help="a type expression (int, list[str], Literal['a','b']) "
                     "or module:Type")  # fmt: skip
    ask.add_argument("--json", action="store_true", help="the whole result as JSON")
    caps = sub.add_parser("capabilities", help="what a model can do, as JSON")
    caps.add_argument("model", nargs="?", help="provider:model (default: the model setting)")
    caps.add_argument("--backend", help="every model profile of a backend instead")
    run = sub.add_parser("run", help="call a command once: module:command name=value ...")
    run.add_argument("ref", metavar="module:command")
    run.add_argument("arguments", nargs="*", metavar="name=value|name=@file")
    run.add_argument("--json", action="store_true", help="the whole result as JSON")
    fan = sub.add_parser("map", help="a command over JSONL items on stdin, JSONL out in order")
    fan.add_argument("ref", metavar="module:command")
    fan.add_argument("--concurrency", type=int, help="calls at once (default: map_concurrency)")
    fan.add_argument("--progress", action="store_true", help="draw progress on stderr")
    fan.add_argument("-i", "--input", help="the JSONL file of items (default: stdin)")
    _batch_parser(sub.add_parser("batch", help="batch jobs in the store"))
    cache = sub.add_parser("cache", help="the response cache")
    cache.add_argument("action", choices=["clear", "stats"])
    sub.add_parser("emulator", help="the provider emulator (python -m alloy.testing.emulator)",
                   add_help=False)  # fmt: skip
    return parser


def _batch_parser(batch: argparse.ArgumentParser) -> None:
    actions = batch.add_subparsers(dest="action", required=True)
    submit = actions.add_parser("submit", help="items as JSONL on stdin; prints the job id")
    submit.add_argument("id", metavar="module:command")
    submit.add_argument("--name", help="a name to find the job by")
    submit.add_argument("-i", "--input", help="the JSONL file of items (default: stdin)")
    listed = actions.add_parser("list", help="every job in the store (JSON lines)")
    listed.add_argument("--state", help="only jobs in this state (running, ambiguous, ended)")
    for name, text in (("status", "one job, as recorded"), ("cancel", "ask the provider to stop")):
        actions.add_parser(name, help=text).add_argument("id")
    wait = actions.add_parser("wait", help="move the job on until it has ended")
    wait.add_argument("id")
    wait.add_argument("--poll", type=float, default=30.0, help="seconds between polls (30)")
    wait.add_argument("--timeout", type=float, help="give up after this many seconds")
    collect = actions.add_parser("collect", help="an ended job's outcomes as JSONL")
    collect.add_argument("id")
    collect.add_argument("--command", dest="command_ref", metavar="module:command",
                         help="parse each reply as this command's output type")  # fmt: skip
    actions.add_parser("resume", help="carry every unfinished job one step on")


def _code(error: BaseException) -> int:
    for cls in type(error).__mro__:
        if cls.__name__ in EXIT_CODES:
            return EXIT_CODES[cls.__name__]
    return EXIT_CODES["error"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; the exit code."""
    given = list(sys.argv[1:] if argv is None else argv)
    if given[:1] == ["emulator"]:
        from .testing.emulator.__main__ import main as emulator

        return emulator(given[1:])
    args = _parser().parse_args(given)
    run = {
        "ask": _ask,
        "run": _run,
        "map": _map,
        "capabilities": _capabilities,
        "batch": _batch,
        "cache": _cache,
    }
    from ._errors import AlloyError

    try:
        settings = _settings(args.set)
        return run[args.command](args, settings)
    except AlloyError as exc:
        sys.stderr.write(f"alloy: {type(exc).__name__}: {exc}\n")
        return _code(exc)
    except ValueError as exc:  # a bad --output expression, arguments the command cannot take
        return _usage(str(exc))


if __name__ == "__main__":
    sys.exit(main())
