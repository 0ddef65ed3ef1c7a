"""The ``alloy`` subcommands that run the user's commands (``run``, ``map``, ``batch``), the
cache and backend listings, and ``--help``'s start-up time: each as a subprocess
(``python -m alloy``) against the emulator, with a command module in the working directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

ROOT = Path(__file__).resolve().parents[1]

COMMANDS = textwrap.dedent(
    '''
    from dataclasses import dataclass

    from alloy import command


    @dataclass
    class Invoice:
        vendor: str
        total: float


    @command(output=Invoice)
    def extract(text: str) -> str:
        return f"Extract the invoice: {text}"


    @command
    def add(a: int, b: int) -> int:
        """Add {a} and {b}."""


    @command
    def echo(t: str) -> str:
        """{t}"""


    @command
    async def shout(t: str) -> str:
        """Shout {t}"""


    not_a_command = 3
    '''
)

KILLED_SUBMIT = textwrap.dedent(
    """
    import os, sys
    import alloy._store._batches as records
    from alloy.cli import main

    original = records.set_part

    def dying(*args, **kwargs):
        found = original(*args, **kwargs)
        if len(args) > 3 and args[3] == "submitted":
            os._exit(9)  # the provider has the batch, and the store says so; nothing else
        return found

    records.set_part = dying
    sys.exit(main(["batch", "submit", "commands:extract"]))
    """
)


@pytest.fixture
def scenario(alloy_emulator_server: Emulator) -> Iterator[Scenario]:
    found = alloy_emulator_server.scenario()
    yield found
    found.reset()


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "commands.py").write_text(COMMANDS, encoding="utf-8")
    return tmp_path


def env_for(scenario: Scenario | None, workdir: Path) -> dict[str, str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "ALLOY_MODEL": "openai:gpt-5-mini"}
    env.pop("ALLOY_BACKEND", None)
    env["ALLOY_STORE"] = str(workdir / "store.db")
    if scenario is not None:
        env.update(scenario.env())
    return env


def alloy(
    scenario: Scenario | None, workdir: Path, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "alloy", *args],
        input=stdin,
        env=env_for(scenario, workdir),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def lines(text: str) -> list[Any]:
    return [json.loads(line) for line in text.splitlines()]


def prompt_of(body: Any) -> str:
    text: str = body["input"][0]["content"][0]["text"]
    return text


# --- run ------------------------------------------------------------------------------------


def test_run_binds_arguments_and_prints_the_value(scenario: Scenario, workdir: Path) -> None:
    scenario.enqueue(Reply(json={"value": 5}), Reply(text="42 back"), Reply(text="LOUD"))
    added = alloy(scenario, workdir, "run", "commands:add", "a=2", "b=3")
    assert (added.returncode, added.stdout) == (0, "5\n"), added.stderr
    assert prompt_of(scenario.requests[0].json) == "Add 2 and 3."
    # a str parameter takes the text as given, even when it parses as JSON
    echoed = alloy(scenario, workdir, "run", "commands:echo", "t=42")
    assert echoed.stdout == "42 back\n"
    assert prompt_of(scenario.requests[1].json) == "42"
    shouted = alloy(scenario, workdir, "run", "commands:shout", "t=hi")  # an async command
    assert (shouted.returncode, shouted.stdout) == (0, "LOUD\n"), shouted.stderr


def test_run_reads_file_arguments_and_prints_the_result_as_json(
    scenario: Scenario, workdir: Path
) -> None:
    (workdir / "invoice.txt").write_text("ACME Ltd, total 12.50 EUR", encoding="utf-8")
    scenario.enqueue(Reply(json={"vendor": "ACME", "total": 12.5}, input_tokens=9))
    found = alloy(scenario, workdir, "run", "commands:extract", "text=@invoice.txt", "--json")
    assert found.returncode == 0, found.stderr
    doc = json.loads(found.stdout)
    assert doc["value"] == {"vendor": "ACME", "total": 12.5}
    assert doc["provider"] == "openai" and doc["usage"]["input_tokens"] == 9
    assert "ACME Ltd, total 12.50 EUR" in prompt_of(scenario.requests[0].json)


@pytest.mark.parametrize(
    "args",
    [
        ("run", "commands:add", "c=1"),  # no such parameter
        ("run", "commands:add", "a"),  # not name=value
        ("run", "commands:extract", "text=@missing.txt"),
        ("run", "commands:not_a_command"),
        ("run", "commands:nowhere"),
        ("run", "no_such_module:x"),
        ("run", "commands"),  # not module:command
        ("map", "commands:echo", "--concurrency", "0"),
    ],
)
def test_arguments_the_command_cannot_take_exit_2(workdir: Path, args: tuple[str, ...]) -> None:
    found = alloy(None, workdir, *args, stdin='"x"\n')
    assert found.returncode == 2, found.stderr
    assert found.stderr.startswith("alloy: ") and found.stdout == ""


def test_run_exits_with_the_error_class_code(scenario: Scenario, workdir: Path) -> None:
    scenario.enqueue(Fault(status=401, message="bad key"))
    found = alloy(scenario, workdir, "--set", "max_retries=0", "run", "commands:echo", "t=x")
    assert found.returncode == 7 and "AuthenticationError" in found.stderr


# --- map ------------------------------------------------------------------------------------


def _answer(request: Any) -> Reply | Fault:
    text = prompt_of(request.json)
    if text == "item 7":
        return Fault(status=400, message="no such item")
    return Reply(text=text.upper())


def test_map_keeps_input_order_and_reports_each_error(scenario: Scenario, workdir: Path) -> None:
    scenario.set_default(_answer)
    stdin = "".join(json.dumps(f"item {n}") + "\n" for n in range(50))
    found = alloy(
        scenario, workdir, "--set", "max_retries=0", "map", "commands:echo", "--concurrency", "8",
        "--progress", stdin=stdin,
    )  # fmt: skip
    rows = lines(found.stdout)  # stdout is JSONL only: progress went to stderr
    assert [row["index"] for row in rows] == list(range(50))
    assert [row["value"] for row in rows if row["ok"]] == [f"ITEM {n}" for n in range(50) if n != 7]
    assert rows[7]["ok"] is False and rows[7]["error"]["class"] == "ProviderError"
    assert "no such item" in rows[7]["error"]["message"]
    assert found.returncode == 6  # the failed item's class
    assert "50/50" in found.stderr


def test_map_takes_keyword_objects_and_exits_0_when_all_succeed(
    scenario: Scenario, workdir: Path
) -> None:
    scenario.enqueue(Reply(json={"value": 3}), Reply(json={"value": 7}))
    stdin = '{"a": 1, "b": 2}\n\n{"a": 3, "b": 4}\n'
    found = alloy(scenario, workdir, "map", "commands:add", "--concurrency", "1", stdin=stdin)
    assert found.returncode == 0, found.stderr
    assert lines(found.stdout) == [
        {"index": 0, "ok": True, "value": 3},
        {"index": 1, "ok": True, "value": 7},
    ]
    assert [prompt_of(r.json) for r in scenario.requests] == ["Add 1 and 2.", "Add 3 and 4."]


def test_map_exits_with_the_lowest_index_error_and_refuses_bad_jsonl(
    scenario: Scenario, workdir: Path
) -> None:
    scenario.enqueue(
        Reply(text="{}"), Reply(text="{}"), Fault(status=429, headers={"retry-after": "600"})
    )
    found = alloy(
        scenario, workdir, "--set", "max_retries=0", "map", "commands:extract", "--concurrency",
        "1", stdin='"a"\n"b"\n',
    )  # fmt: skip
    rows = lines(found.stdout)
    assert rows[0]["error"]["class"] == "OutputValidationError"
    assert rows[1]["error"]["class"] == "RateLimitError"
    assert found.returncode == 5  # item 0's class, not item 1's
    bad = alloy(scenario, workdir, "map", "commands:echo", stdin='"a"\nnot json\n')
    assert bad.returncode == 2 and "line 2" in bad.stderr
    missing = alloy(scenario, workdir, "map", "commands:echo", "-i", "missing.jsonl")
    assert missing.returncode == 2 and "--input" in missing.stderr


def test_map_reads_items_from_an_input_file(scenario: Scenario, workdir: Path) -> None:
    (workdir / "items.jsonl").write_text('"one"\n"two"\n', encoding="utf-8")
    scenario.enqueue(Reply(text="1"), Reply(text="2"))
    found = alloy(
        scenario, workdir, "map", "commands:echo", "--concurrency", "1", "-i", "items.jsonl"
    )
    assert [row["value"] for row in lines(found.stdout)] == ["1", "2"], found.stderr
    assert [prompt_of(r.json) for r in scenario.requests] == ["one", "two"]


# --- batch ----------------------------------------------------------------------------------


def test_batch_submit_wait_and_collect(scenario: Scenario, workdir: Path) -> None:
    scenario.set_batch_timing(validating=0, running=0)
    scenario.set_default(Reply(json={"vendor": "ACME", "total": 1.5}))
    made = alloy(
        scenario, workdir, "batch", "submit", "commands:extract", "--name", "dec",
        stdin='"first"\n"second"\n',
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    job_id = made.stdout.strip()
    assert job_id.startswith("ab_")
    assert [j["name"] for j in lines(alloy(scenario, workdir, "batch", "list").stdout)] == ["dec"]
    waited = alloy(scenario, workdir, "batch", "wait", job_id, "--poll", "0.01")
    assert waited.returncode == 0, waited.stderr
    assert json.loads(waited.stdout)["state"] == "ended"
    typed = alloy(scenario, workdir, "batch", "collect", job_id, "--command", "commands:extract")
    assert typed.returncode == 0, typed.stderr
    assert lines(typed.stdout) == [
        {"index": n, "ok": True, "value": {"vendor": "ACME", "total": 1.5}} for n in (0, 1)
    ]
    raw = alloy(scenario, workdir, "batch", "collect", job_id)
    values = [json.loads(row["value"]) for row in lines(raw.stdout)]
    assert values == [{"vendor": "ACME", "total": 1.5}] * 2
    assert len(scenario.batches) == 1
    wrong = alloy(scenario, workdir, "batch", "collect", job_id, "--command", "commands:echo")
    assert wrong.returncode == 3 and "output type" in wrong.stderr


def test_batch_wait_timeout_cancel_and_cancelled_items(scenario: Scenario, workdir: Path) -> None:
    scenario.set_batch_timing(validating=0, running=1000)
    made = alloy(scenario, workdir, "batch", "submit", "commands:echo", stdin='"a"\n"b"\n')
    job_id = made.stdout.strip()
    early = alloy(scenario, workdir, "batch", "collect", job_id)
    assert early.returncode == 3 and "has not ended" in early.stderr
    timed_out = alloy(
        scenario, workdir, "batch", "wait", job_id, "--poll", "0.05", "--timeout", "0.2"
    )
    assert timed_out.returncode == 10 and "had not ended" in timed_out.stderr
    cancelled = alloy(scenario, workdir, "batch", "cancel", job_id)
    assert cancelled.returncode == 0, cancelled.stderr
    assert json.loads(cancelled.stdout)["id"] == job_id
    assert alloy(scenario, workdir, "batch", "wait", job_id, "--poll", "0.01").returncode == 0
    rows = lines(alloy(scenario, workdir, "batch", "collect", job_id).stdout)
    assert [row["ok"] for row in rows] == [False, False]
    assert all("cancelled" in row["error"]["message"] for row in rows)
    status = alloy(scenario, workdir, "batch", "status", job_id)
    assert json.loads(status.stdout)["state"] == "ended"
    assert alloy(scenario, workdir, "batch", "cancel", "ab_missing").returncode == 3
    assert alloy(scenario, workdir, "batch", "wait").returncode == 2


def test_batch_submit_killed_then_resumed_by_another_process(
    scenario: Scenario, workdir: Path
) -> None:
    scenario.set_batch_timing(validating=0, running=0)
    scenario.set_default(Reply(json={"vendor": "ACME", "total": 2.0}))
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_SUBMIT],
        input='"a"\n"b"\n"c"\n',
        env=env_for(scenario, workdir),
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert killed.returncode == 9, killed.stderr[-2000:]
    assert killed.stdout == ""  # it died before printing the id
    (job,) = lines(alloy(scenario, workdir, "batch", "list", "--state", "running").stdout)
    resumed = alloy(scenario, workdir, "batch", "resume")
    assert resumed.returncode == 0, resumed.stderr
    waited = alloy(scenario, workdir, "batch", "wait", job["id"], "--poll", "0.01")
    assert json.loads(waited.stdout)["state"] == "ended", waited.stderr
    found = alloy(scenario, workdir, "batch", "collect", job["id"], "--command", "commands:extract")
    assert [row["value"]["total"] for row in lines(found.stdout)] == [2.0, 2.0, 2.0]
    assert len(scenario.batches) == 1  # never submitted twice
    assert all(f.deleted for f in scenario.files)


def test_batch_submit_refuses_keyword_items(workdir: Path) -> None:
    found = alloy(None, workdir, "batch", "submit", "commands:add", stdin='{"a": 1, "b": 2}\n')
    assert found.returncode == 2 and "first parameter" in found.stderr


# --- cache, capabilities, help --------------------------------------------------------------


def test_cache_stats_counts_entries_bytes_and_ages(workdir: Path) -> None:
    from alloy._store import open_store
    from alloy._store import remember_response

    empty = alloy(None, workdir, "cache", "stats")
    assert json.loads(empty.stdout) == {"entries": 0, "bytes": 0, "oldest": None, "newest": None}
    store = open_store(workdir / "store.db")
    remember_response(store, "k1", provider="openai", model="m", body="é" * 3, expires_at=None,
                      now=100.0)  # fmt: skip
    remember_response(store, "k2", provider="openai", model="m", body="abcd", expires_at=None,
                      now=250.0)  # fmt: skip
    found = json.loads(alloy(None, workdir, "cache", "stats").stdout)
    assert found == {"entries": 2, "bytes": 10, "oldest": 100.0, "newest": 250.0}
    cleared = alloy(None, workdir, "cache", "clear")
    assert json.loads(cleared.stdout) == {"deleted": 2}
    assert json.loads(alloy(None, workdir, "cache", "stats").stdout)["entries"] == 0


def test_capabilities_of_a_backend_lists_its_model_profiles(workdir: Path) -> None:
    from alloy.backends.ollama import PROFILES

    rows = lines(alloy(None, workdir, "capabilities", "--backend", "ollama").stdout)
    assert len(rows) == len(PROFILES)
    assert rows[0]["provider"] == "ollama" and "llama3.2-vision" in rows[0]["prefixes"]
    assert rows[0]["tools"] is False and rows[1]["tools"] is True
    assert rows[-1]["prefixes"] == [] and rows[-1]["models"] == "all other models"
    (chat,) = lines(alloy(None, workdir, "capabilities", "--backend", "openai-chat").stdout)
    assert chat["models"] == "all models" and chat["schema_dialect"] == "openai"
    (fake,) = lines(alloy(None, workdir, "capabilities", "--backend", "fake").stdout)
    assert fake["provider"] == "fake" and fake["models"] == "all models"
    assert alloy(None, workdir, "capabilities", "--backend", "nowhere").returncode == 3


def _best_of(args: list[str], env: dict[str, str], runs: int = 7) -> float:
    best = float("inf")
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(args, env=env, capture_output=True, check=True)
        best = min(best, time.perf_counter() - started)
    return best


def test_help_costs_little_more_than_importing_alloy(workdir: Path) -> None:
    # The 150 ms budget is mostly ``import alloy`` (which every entry point pays); on a
    # loaded machine that alone can pass it, so the command line's own share (``-m`` start-up,
    # argparse, the help text) is what is held here, with a loose absolute bound against
    # gross regressions.
    env = env_for(None, workdir)
    helped = _best_of([sys.executable, "-m", "alloy", "--help"], env)
    imported = _best_of([sys.executable, "-c", "import alloy"], env)
    assert helped - imported < 0.060, f"--help {helped * 1000:.0f} ms, import {imported * 1000:.0f}"
    assert helped < 0.300, f"alloy --help took {helped * 1000:.0f} ms"
