"""The documentation runs: every Python block in docs/ and README.md.

Blocks of one page run in order in one module namespace, so a later block may use what an
earlier one defined; a block may use top-level ``await`` (as in a notebook cell). The prose
never scripts the model: each page runs under a backend chosen here (``PAGE_BACKENDS``), by
default a schema-driven ``FakeBackend``. Functions named ``test_*`` that a page defines are
then called, with the ``alloy_fake``, ``alloy_emulator`` and ``alloy_cassette`` fixtures when
they ask for them.

A block that cannot run offline is marked by ``<!-- no-run: reason -->`` on the line before
its fence. ``NO_RUN`` counts them per page, so adding one is a deliberate change.

The examples in examples/ and the notebook run in tests/test_examples.py.
"""

from __future__ import annotations

import ast
import asyncio
import inspect
import json
import re
import subprocess
import sys
import textwrap
import types
from collections.abc import Callable
from collections.abc import Iterator
from contextlib import AbstractContextManager
from contextlib import ExitStack
from contextlib import contextmanager
from dataclasses import dataclass
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from alloy import backends
from alloy.backends import Backend
from alloy.backends import Request
from alloy.backends import Response
from alloy.backends import ToolCall
from alloy.backends import ToolResult
from alloy.backends import _registry  # noqa: F401  (backends._registry._REGISTRY below)
from alloy.testing import FakeBackend
from alloy.testing import use_backend

ROOT = Path(__file__).resolve().parents[1]
PAGES = [*sorted((ROOT / "docs").glob("*.md")), ROOT / "README.md"]

# Blocks marked <!-- no-run: ... -->, per page. Keep this empty or nearly so.
NO_RUN: dict[str, int] = {}

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\s`]*)")
_NO_RUN = re.compile(r"^\s*<!--\s*no-run:\s*(?P<reason>\S.*?)\s*-->\s*$")
_PYTHON = frozenset({"python", "py", "python3"})


@dataclass(frozen=True)
class Block:
    """A fenced Python block: where it is, its code (dedented), and its no-run reason."""

    page: str
    line: int  # line number of the block's first code line in the page
    code: str
    no_run: str | None = None


def _rel(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


def python_blocks(path: Path, page: str | None = None) -> list[Block]:
    """The page's fenced Python blocks, in order; a stray no-run marker is an error."""
    lines = path.read_text(encoding="utf-8").splitlines()
    page, found, marker = page or _rel(path), list[Block](), None
    i = 0
    while i < len(lines):
        line = lines[i]
        opening = _FENCE.match(line)
        if opening is None:
            if line.strip():
                marked = _NO_RUN.match(line)
                if marker is not None:
                    raise AssertionError(f"{page}:{i + 1}: a no-run marker must precede a fence")
                marker = marked["reason"] if marked else None
            i += 1
            continue
        fence = opening["fence"]
        closing = re.compile(rf"^[ \t]*{fence[0]}{{{len(fence)},}}[ \t]*$")
        end = next((j for j in range(i + 1, len(lines)) if closing.match(lines[j])), None)
        if end is None:
            raise AssertionError(f"{page}:{i + 1}: unclosed code fence")
        if opening["info"].lower() in _PYTHON:
            code = textwrap.dedent("\n".join(lines[i + 1 : end]))
            found.append(Block(page, i + 2, code + "\n", marker))
        elif marker is not None:
            raise AssertionError(f"{page}:{i + 1}: no-run marker on a non-Python block")
        marker = None
        i = end + 1
    if marker is not None:
        raise AssertionError(f"{page}: no-run marker at the end of the page")
    return found


# --- the replies each page runs with --------------------------------------------------------


def _invoice_replies(request: Request) -> Any:
    # A str is the raw reply text; other values are sent as JSON, wrapped when the schema is.
    if request.output is None:
        return "Alloy's fake backend answered this."
    if request.output.name == "Invoice":
        return {"vendor": "ACME Corp", "total": 49.99}
    return {"value": "positive"}


def _has_tool_result(request: Request) -> bool:
    return any(isinstance(p, ToolResult) for m in request.messages for p in m.parts)


_FORECASTS = {"Oslo": "4°C, rain", "Lisbon": "22°C, sunny"}


def _quickstart_replies(request: Request) -> Any:
    """Call ``forecast`` first, then answer from its result, as a model would."""
    prompt = request.messages[0].text
    city = next((c for c in _FORECASTS if c in prompt), "Oslo")
    if request.tools and not _has_tool_result(request):
        call = ToolCall("call_1", "forecast", f'{{"city": "{city}"}}')
        return Response("", tool_calls=(call,), finish_reason="tool_calls", model=request.model)
    if request.output is None:
        return "Rain taps the tin roof, / the kettle answers softly, / autumn settles in."
    rainy = "rain" in _FORECASTS[city]
    items = ["raincoat", "wool jumper", "boots"] if rainy else ["sunglasses", "sun cream"]
    return {"city": city, "weather": _FORECASTS[city], "items": items}


def _unparseable(request: Request) -> Any:
    return "Four stars, I think." if request.output is not None else "Understood."


# A factory per page, returning the backend every block of that page runs with (None: the
# page brings its own backends). Pages not listed run with a schema-driven FakeBackend.
PAGE_BACKENDS: dict[str, Callable[[], Backend | None]] = {
    "README.md": lambda: FakeBackend(_invoice_replies),
    "docs/index.md": lambda: FakeBackend(_invoice_replies),
    "docs/quickstart.md": lambda: FakeBackend(_quickstart_replies),
    "docs/errors.md": lambda: FakeBackend(_unparseable),
    "docs/testing.md": lambda: None,
    # Shows refusals made before any request, which need the real backends' capabilities.
    "docs/reasoning.md": lambda: None,
    "docs/cost.md": lambda: None,
    "docs/writing-a-backend.md": lambda: None,
    # Calls Gemini's cachedContents on the emulator.
    "docs/caching.md": lambda: None,
    # Scripts its replies per test.
    "docs/conversations.md": lambda: None,
    # Runs a batch job on the emulator's batch API.
    "docs/batch.md": lambda: None,
    # Drives the command line against the emulator (batch commands included).
    "docs/cli.md": lambda: None,
}


# --- fixtures for the test functions a page defines -----------------------------------------


@contextmanager
def _fake_fixture() -> Iterator[FakeBackend]:
    with use_backend(FakeBackend()) as fake:
        assert isinstance(fake, FakeBackend)
        yield fake


@contextmanager
def _emulator_fixture() -> Iterator[Any]:
    from alloy.testing import Emulator

    with Emulator() as emulator, pytest.MonkeyPatch.context() as patch:
        scenario = emulator.scenario()
        for name, value in scenario.env().items():
            patch.setenv(name, value)
        backends.clear_instances()
        try:
            yield scenario
        finally:
            backends.clear_instances()


@contextmanager
def _cassette_fixture() -> Iterator[Any]:
    import tempfile

    from alloy.testing import Cassette

    # A new file each time, recorded whatever ALLOY_RECORD says.
    with tempfile.TemporaryDirectory() as folder, Cassette(Path(folder) / "p.json", "all") as tape:
        yield tape


_FIXTURES: dict[str, Callable[[], AbstractContextManager[Any]]] = {
    "alloy_fake": _fake_fixture,
    "alloy_emulator": _emulator_fixture,
    "alloy_cassette": _cassette_fixture,
}


def _run_page_tests(module: types.ModuleType) -> int:
    ran = 0
    for name, fn in list(vars(module).items()):
        if not (name.startswith("test_") and inspect.isfunction(fn)):
            continue
        if fn.__module__ != module.__name__:
            continue
        with ExitStack() as stack:
            kwargs = {
                p: stack.enter_context(_FIXTURES[p]()) for p in inspect.signature(fn).parameters
            }
            fn(**kwargs)
        ran += 1
    return ran


# --- running a page -------------------------------------------------------------------------


def _execute(block: Block, namespace: dict[str, Any]) -> None:
    # Padding keeps line numbers: a traceback points at the page's own line.
    source = "\n" * (block.line - 1) + block.code
    code = compile(source, block.page, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
    if code.co_flags & inspect.CO_COROUTINE:
        asyncio.run(eval(code, namespace))
    else:
        exec(code, namespace)


@contextmanager
def _registry_restored() -> Iterator[None]:
    saved = dict(backends._registry._REGISTRY)
    try:
        yield
    finally:
        backends.clear_instances()
        backends._registry._REGISTRY.clear()
        backends._registry._REGISTRY.update(saved)


def run_page(path: Path) -> tuple[int, int]:
    """Run the page's blocks in order, then its test functions: (blocks run, tests run)."""
    blocks = [b for b in python_blocks(path) if b.no_run is None]
    name = "docs_" + re.sub(r"\W", "_", path.stem)
    module = types.ModuleType(name)
    sys.modules[name] = module  # dataclasses and pydantic look classes' modules up here
    backend = PAGE_BACKENDS.get(_rel(path), FakeBackend)()
    try:
        with _registry_restored(), ExitStack() as stack:
            if backend is not None:
                stack.enter_context(use_backend(backend))
            for block in blocks:
                _execute(block, vars(module))
            tests = _run_page_tests(module)
    finally:
        del sys.modules[name]
    return len(blocks), tests


@pytest.mark.parametrize("page", PAGES, ids=_rel)
def test_page_runs(page: Path) -> None:
    run_page(page)


def test_settings_name_real_pages() -> None:
    pages = {_rel(p) for p in PAGES}
    assert set(PAGE_BACKENDS) <= pages, set(PAGE_BACKENDS) - pages
    assert set(NO_RUN) <= pages, set(NO_RUN) - pages


def test_no_run_blocks_are_counted() -> None:
    marked: dict[str, int] = {}
    for page in PAGES:
        for block in python_blocks(page):
            if block.no_run is not None:
                marked[block.page] = marked.get(block.page, 0) + 1
    assert marked == NO_RUN


def test_block_parser(tmp_path: Path) -> None:
    page = tmp_path / "sample.md"
    text = textwrap.dedent(
        """\
        Intro.

        ```python
        x = 1
        ```

        - In a list:

          ```py
          y = x + 1
          ```

        ```sh
        make test
        ```

        <!-- no-run: needs a live server -->
        ````python
        z = 3
        ````
        """
    )
    sample = [Block("sample.md", 4, "x = 1\n")]
    sample.append(replace(sample[0], line=10, code="y = x + 1\n"))
    sample.append(replace(sample[0], line=19, code="z = 3\n", no_run="needs a live server"))
    page.write_text(text, encoding="utf-8")
    assert python_blocks(page, "sample.md") == sample


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("<!-- no-run: why -->\nText.\n", "must precede a fence"),
        ("<!-- no-run: why -->\n```sh\nls\n```\n", "non-Python block"),
        ("```python\nx = 1\n", "unclosed code fence"),
    ],
)
def test_block_parser_refuses(tmp_path: Path, text: str, error: str) -> None:
    page = tmp_path / "sample.md"
    page.write_text(text, encoding="utf-8")
    with pytest.raises(AssertionError, match=error):
        python_blocks(page, "sample.md")


# --- the type-checking page is type-checked ------------------------------------------------


def _page_as_module(page: Path, target: Path) -> Path:
    """Write the page's blocks to ``target`` at their own line numbers."""
    lines: list[str] = []
    for block in python_blocks(page):
        lines.extend([""] * (block.line - 1 - len(lines)))
        lines.extend(block.code.splitlines())
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def _tool(name: str) -> Path:
    path = Path(sys.executable).parent / name
    if not path.exists():
        pytest.skip(f"{name} is not installed next to {sys.executable}")
    return path


def test_typing_page_passes_pyright(tmp_path: Path) -> None:
    module = _page_as_module(ROOT / "docs" / "typing.md", tmp_path / "typing_page.py")
    done = subprocess.run(
        [str(_tool("pyright")), "--outputjson", str(module)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    report = json.loads(done.stdout)
    errors = [
        f"docs/typing.md:{d['range']['start']['line'] + 1}: {d['message']}"
        for d in report["generalDiagnostics"]
        if d["severity"] == "error"
    ]
    assert errors == []


def test_typing_page_passes_mypy(tmp_path: Path) -> None:
    module = _page_as_module(ROOT / "docs" / "typing.md", tmp_path / "typing_page.py")
    done = subprocess.run(
        [str(_tool("mypy")), "--no-error-summary", str(module)],
        cwd=ROOT,  # the project's configuration: strict, with empty-body off
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    prefix = f"{module}:"
    errors = [
        line.replace(prefix, "docs/typing.md:", 1)
        for line in done.stdout.splitlines()
        if line.startswith(prefix) and ": error:" in line
    ]
    assert errors == []
