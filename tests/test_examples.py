"""The examples run, and print what they say they print; the notebook runs in a real kernel.

Each script in examples/ states its output in its docstring, in an indented block after a
line starting ``Prints``; it runs here as a subprocess, offline on the fake backend, and its
stdout must be exactly that block. ``run_all.py`` prints them all, each under its name.

examples/walkthrough.ipynb runs top to bottom with nbclient in an IPython kernel. The suite's
network guard (conftest.py) does not reach into the kernel's process, so the notebook runs on
the fake backend, with ``ALLOY_BACKEND=fake`` and no key in the kernel's environment, and a
first cell added here blocks every connection beyond loopback there too.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES_DIR = Path(__file__).resolve().parents[1] / "examples"
EXAMPLES = sorted(p for p in EXAMPLES_DIR.glob("*.py") if not p.name.startswith("_"))
SCRIPTS = [p for p in EXAMPLES if p.name != "run_all.py"]
NOTEBOOK = EXAMPLES_DIR / "walkthrough.ipynb"


def _offline_env() -> dict[str, str]:
    drop = ("_API_KEY", "_BASE_URL", "_AUTH_TOKEN")
    env = {k: v for k, v in os.environ.items() if not k.endswith(drop) and k != "OLLAMA_HOST"}
    env = {k: v for k, v in env.items() if not k.startswith("ALLOY_")}
    env["ALLOY_BACKEND"] = "fake"  # whatever an example does, nothing leaves the machine
    return env


def stated_output(script: Path) -> str:
    """The block after the docstring's ``Prints...:`` line, unindented by four spaces."""
    docstring = ast.get_docstring(ast.parse(script.read_text(encoding="utf-8")), clean=False)
    assert docstring, f"{script.name} has no docstring"
    lines = docstring.splitlines()
    starts = [i for i, line in enumerate(lines) if line.startswith("Prints")]
    assert len(starts) == 1, f"{script.name}: one 'Prints' line in the docstring, not {starts}"
    block: list[str] = []
    for line in lines[starts[0] + 1 :]:
        if line and not line.startswith("    "):
            break
        block.append(line[4:])
    while block and not block[0]:
        block.pop(0)
    while block and not block[-1]:
        block.pop()
    assert block, f"{script.name}: the 'Prints' line is followed by no indented output"
    return "\n".join(block) + "\n"


def _run(script: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=script.parent,
        env={**_offline_env(), "PYTHONWARNINGS": "error"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_example_prints_what_it_says(script: Path) -> None:
    assert _run(script).stdout == stated_output(script)


def test_run_all_prints_every_example_under_its_name() -> None:
    expected = "".join(f"\n=== {p.name}\n{stated_output(p)}" for p in SCRIPTS)
    expected += f"\n{len(SCRIPTS)} of {len(SCRIPTS)} examples ran\n"
    assert _run(EXAMPLES_DIR / "run_all.py").stdout == expected


def test_stated_output_is_the_indented_block(tmp_path: Path) -> None:
    script = tmp_path / "example.py"
    script.write_text('"""Title.\n\nPrints:\n\n    one\n      two\n\nAfter.\n"""\n')
    assert stated_output(script) == "one\n  two\n"
    script.write_text('"""Title, and nothing it prints."""\n')
    with pytest.raises(AssertionError, match="one 'Prints' line"):
        stated_output(script)


# Added before the notebook's own cells: the kernel gets the suite's rules (no connection
# beyond loopback, warnings are errors) for as long as those cells run. The last added cell
# puts the warning filters back, so that the kernel's own shutdown is not held to them.
_GUARD_CELL = """\
import ipaddress as _ipaddress
import socket as _socket
import warnings as _warnings

_connect = _socket.socket.connect


def _loopback_only(self, address):
    if self.family in (_socket.AF_INET, _socket.AF_INET6):
        host = "127.0.0.1" if address[0] == "localhost" else address[0]
        if not _ipaddress.ip_address(host).is_loopback:
            raise OSError(f"network blocked in the notebook test: {address[0]!r}")
    return _connect(self, address)


_socket.socket.connect = _loopback_only
_saved_filters = _warnings.filters[:]
_warnings.simplefilter("error")
"""
_RESTORE_CELL = "_warnings.filters[:] = _saved_filters"


def test_walkthrough_notebook_runs(tmp_path: Path) -> None:
    import nbclient
    import nbformat
    from traitlets.config import Config

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    stored = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert len(stored) >= 6, "the walkthrough lost its cells"
    assert all(not cell.outputs for cell in stored), "store the notebook without outputs"
    notebook.cells.insert(0, nbformat.v4.new_code_cell(_GUARD_CELL))
    notebook.cells.append(nbformat.v4.new_code_cell(_RESTORE_CELL))
    # The kernel's sockets are files under tmp_path (no TCP port), and it starts in examples/.
    ipc = Config({"KernelManager": {"transport": "ipc", "ip": str(tmp_path / "kernel")}})
    client = nbclient.NotebookClient(
        notebook,
        config=ipc,
        kernel_name="python3",
        timeout=60,
        resources={"metadata": {"path": str(EXAMPLES_DIR)}},
    )
    # A failing cell raises CellExecutionError with its traceback.
    client.execute(env={**_offline_env(), "JUPYTER_PLATFORM_DIRS": "1"})

    ran = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count for cell in ran)
    printed = "".join(
        out.get("text", "") for cell in ran for out in cell.outputs if out.get("name") == "stdout"
    )
    assert "The keeper lit the lamp. The ships came home." in printed
    assert "ok 40 800.0" in printed  # the map's status, count and summed totals
