"""The ``alloy`` command line, run as a subprocess (``python -m alloy``) against the emulator:
each subcommand, JSON output, settings, the exit code of each error class, that ``--output``
refuses code, and that ``--help`` loads no SDK and no pydantic."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def scenario(alloy_emulator_server: Emulator) -> Iterator[Scenario]:
    found = alloy_emulator_server.scenario()
    yield found
    found.reset()


def run(
    scenario: Scenario | None, *args: str, stdin: str = "", store: Path | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ALLOY_MODEL": "openai:gpt-5-mini"}
    env.pop("ALLOY_BACKEND", None)
    if scenario is not None:
        env.update(scenario.env())
    if store is not None:
        env["ALLOY_STORE"] = str(store)
    return subprocess.run(
        [sys.executable, "-m", "alloy", *args],
        input=stdin,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_help_loads_no_sdk_and_no_pydantic() -> None:
    code = (
        "import sys, runpy\nsys.argv = ['alloy', '--help']\n"
        "try:\n    runpy.run_module('alloy', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in "
        "('pydantic', 'openai', 'anthropic', 'google', 'ollama', 'httpx', 'httpx2')]\n"
        "print('LOADED', bad)"
    )
    found = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert "usage: alloy" in found.stdout
    assert found.stdout.strip().endswith("LOADED []")


def test_ask_prints_the_reply(scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="Paris"), Reply(json={"value": 7}), Reply(text="from stdin"))
    assert run(scenario, "ask", "Capital of France?").stdout == "Paris\n"
    typed = run(scenario, "ask", "A number", "--output", "int")
    assert (typed.returncode, typed.stdout) == (0, "7\n")
    piped = run(scenario, "ask", stdin="Say something")
    assert piped.stdout == "from stdin\n"
    assert scenario.requests[2].json["input"][0]["content"][0]["text"] == "Say something"


def test_ask_json_gives_the_whole_result_and_set_adds_settings(scenario: Scenario) -> None:
    scenario.enqueue(Reply(json={"value": ["a", "b"]}, input_tokens=5, output_tokens=2))
    found = run(
        scenario, "--set", "temperature=0.25", "--set", "system=Be brief.", "ask", "Two letters",
        "--output", "list[str]", "--json",
    )  # fmt: skip
    assert found.returncode == 0, found.stderr
    doc = json.loads(found.stdout)
    assert doc["value"] == ["a", "b"] and doc["provider"] == "openai"
    assert doc["usage"]["input_tokens"] == 5
    sent = scenario.requests[0].json
    assert sent["temperature"] == 0.25 and sent["instructions"] == "Be brief."


@pytest.mark.parametrize(
    "expression",
    ["__import__('os').system('true')", "open('x')", "str.__class__", "[x for x in ()]", "1+1"],
)
def test_output_refuses_code(expression: str) -> None:
    found = run(None, "ask", "hi", "--output", expression)
    assert found.returncode == 2
    assert "--output" in found.stderr


def test_each_error_class_has_its_exit_code(scenario: Scenario) -> None:
    assert run(scenario, "--set", "model=nowhere:x", "ask", "hi").returncode == 3
    assert run(scenario, "--set", "model=ollama:llama3.2", "--set", "reasoning_effort=max",
               "ask", "hi").returncode in (3, 4)  # fmt: skip
    scenario.enqueue(Reply(json={"value": "not a number"}), Reply(json={"value": "no"}))
    assert run(scenario, "ask", "n", "--output", "int").returncode == 5
    scenario.enqueue(Fault(status=400, message="bad request"))
    failed = run(scenario, "--set", "max_retries=0", "ask", "hi")
    assert failed.returncode == 6 and "bad request" in failed.stderr
    scenario.enqueue(Fault(status=401, message="no key"))
    assert run(scenario, "--set", "max_retries=0", "ask", "hi").returncode == 7
    scenario.enqueue(Fault(status=429, headers={"retry-after": "600"}))
    assert run(scenario, "--set", "max_retries=0", "ask", "hi").returncode == 8


def test_capabilities_prints_json() -> None:
    found = run(None, "capabilities", "anthropic:claude-sonnet-4-6")
    assert found.returncode == 0, found.stderr
    doc = json.loads(found.stdout)
    assert doc["provider"] == "anthropic" and doc["model"] == "claude-sonnet-4-6"
    assert doc["tools"] is True and doc["streaming"] is True


def test_batch_and_cache_commands(scenario: Scenario, tmp_path: Path) -> None:
    store = tmp_path / "store.db"
    scenario.set_batch_timing(validating=0, running=0)
    scenario.set_default(Reply(text="ok"))
    made = subprocess.run(
        [sys.executable, "-c", "from alloy import ask\nimport alloy._batch as b\n"
         "from alloy import command\n@command\ndef echo(t: str) -> str:\n    '''{t}'''\n"
         "print(echo.batch(['a', 'b']).id)"],
        env={**os.environ, **scenario.env(), "PYTHONPATH": str(ROOT), "ALLOY_STORE": str(store),
             "ALLOY_MODEL": "openai:gpt-5-mini"},
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    job_id = made.stdout.strip()
    listed = run(scenario, "batch", "list", store=store)
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == [job_id]
    resumed = run(scenario, "batch", "resume", store=store)
    assert json.loads(resumed.stdout.splitlines()[0])["state"] == "ended"
    status = run(scenario, "batch", "status", job_id, store=store)
    assert json.loads(status.stdout)["state"] == "ended"
    assert run(scenario, "batch", "status", store=store).returncode == 2
    assert run(scenario, "batch", "status", "ab_missing", store=store).returncode == 3
    cleared = run(scenario, "cache", "clear", store=store)
    assert cleared.returncode == 0 and json.loads(cleared.stdout) == {"deleted": 0}


def test_the_emulator_subcommand_serves() -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "alloy", "emulator", "--port", "0"],
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("ALLOY_EMULATOR_URL=http://127.0.0.1:")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert proc.returncode == 0
