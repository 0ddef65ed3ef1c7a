"""Crash safety: a process killed (``os._exit``, no clean-up) at every step boundary of a batch
job leaves a store that ``alloy.batches.resume()`` in a new process carries to the end with
exactly one provider submission, every result collected and the provider's files deleted.

OpenAI and Gemini find a batch made just before the kill by its marker. Anthropic batches
carry none: a kill between the create call and the store write leaves the job
``ambiguous``, which ``adopt(id)`` (one submission) or ``resubmit()`` (a second one, when the
first reached the provider) settles."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

# Where the first process dies: after the named step returns.
STEPS = [
    "add_job",  # planned: nothing at the provider
    "take_part",  # about to submit
    "batch_submit",  # the provider has it; not recorded here
    "set_part:submitted",
    "set_part:ended",  # ended at the provider; outcomes not stored
    "set_outcomes",  # collected; provider files not deleted
    "batch_cleanup",
]

CHILD = textwrap.dedent(
    """
    import os, sys
    from dataclasses import dataclass

    from alloy import command, use_config
    import alloy._store._batches as records
    from alloy.backends.anthropic import _batch as anthropic_batch
    from alloy.backends.gemini import _batch as gemini_batch
    from alloy.backends.openai import _batch as openai_batch

    step, model = sys.argv[1], sys.argv[2]
    backend = model.partition(":")[0]
    _batch = {"anthropic": anthropic_batch, "gemini": gemini_batch}.get(backend, openai_batch)
    if len(sys.argv) > 3:
        gemini_batch.INLINE_LIMIT = int(sys.argv[3])  # the file route

    def dying(owner, name, state=None):
        original = getattr(owner, name)

        def wrapper(*args, **kwargs):
            found = original(*args, **kwargs)
            if state is None or (len(args) > 3 and args[3] == state):
                os._exit(9)
            return found

        setattr(owner, name, wrapper)

    name, _, state = step.partition(":")
    if name in ("batch_submit", "batch_cleanup"):
        dying(_batch.Batches, name)
    else:
        dying(records, name, state or None)

    @dataclass
    class Invoice:
        vendor: str
        total: float

    @command(output=Invoice, max_tokens=300)
    def extract(text: str) -> str:
        return f"Extract the invoice: {text}"

    with use_config(model=model):
        job = extract.batch(["a", "b", "c"])
        job.wait(poll=0.01)
    print("survived")
    """
)

SETTLE = textwrap.dedent(
    """
    import sys
    from dataclasses import dataclass

    import alloy
    from alloy import command, use_config

    @dataclass
    class Invoice:
        vendor: str
        total: float

    @command(output=Invoice, max_tokens=300)
    def extract(text: str) -> str:
        return f"Extract the invoice: {text}"

    how, model = sys.argv[1], sys.argv[2]
    (info,) = alloy.batches.list()
    with use_config(model=model):
        job = extract.batch_job(info.id)
        if how == "adopt":
            job.adopt(sys.argv[3])
        else:
            job.resubmit()
    """
)

RESUME = textwrap.dedent(
    """
    import json
    import alloy

    for _ in range(20):
        jobs = alloy.batches.resume()
        if all(j.state == "ended" for j in jobs):
            break
    print(json.dumps([j.state for j in jobs]))
    """
)


def _run(code: str, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


MODELS = {
    "openai": "openai:gpt-5-mini",
    "gemini": "gemini:gemini-2.5-flash",
    "anthropic": "anthropic:claude-sonnet-4-6",
}
# Where Anthropic cannot tell whether the batch was made: the submit gap.
GAP = ("take_part", "batch_submit")
# Every step on OpenAI; on the others, the steps where what the provider offers matters (the
# submit gap, where a batch is found by its marker or cannot be), and one after it: the
# steps after submitting run the same code on every backend.
CASES = [
    *[("openai", step, None) for step in STEPS],
    *[("gemini", step, None) for step in (*GAP, "set_part:submitted", "set_outcomes")],
    ("gemini", "batch_submit", "200"),  # a file batch: its input found by the marker too
    *[("anthropic", step, None) for step in ("set_part:submitted", "set_outcomes")],
]


def _env(scenario: Scenario, tmp_path: Path) -> dict[str, str]:
    import os

    return {
        **os.environ,
        **scenario.env(),
        "ALLOY_STORE": str(tmp_path / "store.db"),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }


def _collected(env: dict[str, str]) -> str:
    """How many items of the store's one job have a reply stored (read here: the store is
    a file any process may open)."""
    import alloy
    from alloy._store import open_store
    from alloy._store._batches import item_records

    store = open_store(env["ALLOY_STORE"])
    try:
        (job,) = alloy.batches.list(store=env["ALLOY_STORE"])
        return str(sum("response" in (i.outcome or {}) for i in item_records(store, job.id)))
    finally:
        store.close()


def _resumed(env: dict[str, str]) -> list[str]:
    second = _run(RESUME, env)
    assert second.returncode == 0, second.stderr[-2000:]
    states: list[str] = json.loads(second.stdout.splitlines()[-1])
    return states


@pytest.mark.parametrize(("backend", "step", "inline_limit"), CASES)
def test_a_kill_at_any_step_is_resumed_with_one_submission(
    backend: str, step: str, inline_limit: str | None, tmp_path: Path
) -> None:
    with Emulator() as emu:
        scenario = emu.scenario()
        scenario.set_batch_timing(validating=0, running=0)  # ends as soon as it is made
        scenario.set_default(Reply(json={"vendor": "ACME", "total": 1.0}))
        env = _env(scenario, tmp_path)
        first = _run(CHILD, env, step, MODELS[backend], *([inline_limit] if inline_limit else []))
        assert first.returncode == 9, first.stderr[-2000:]
        assert "survived" not in first.stdout
        assert _resumed(env) == ["ended"]
        assert len(scenario.batches) == 1  # never submitted twice
        files = scenario.files
        if backend == "openai" or inline_limit:
            assert files and all(f.deleted for f in files)
        else:  # no files: Anthropic batches own none, small Gemini batches go inline
            assert files == []
        assert _collected(env) == "3"


@pytest.mark.parametrize(
    ("step", "how", "submissions"),
    [
        ("batch_submit", "adopt", 1),  # the provider has it: adopted, not sent again
        ("batch_submit", "resubmit", 2),  # sent again: the first one is the provider's too
        ("take_part", "resubmit", 1),  # it never left: one submission in all
    ],
)
def test_anthropic_submit_gap_is_ambiguous_until_settled(
    step: str, how: str, submissions: int, tmp_path: Path
) -> None:
    model = MODELS["anthropic"]
    with Emulator() as emu:
        scenario = emu.scenario()
        scenario.set_batch_timing(validating=0, running=0)
        scenario.set_default(Reply(json={"vendor": "ACME", "total": 1.0}))
        env = _env(scenario, tmp_path)
        first = _run(CHILD, env, step, model)
        assert first.returncode == 9, first.stderr[-2000:]
        assert len(scenario.batches) == (1 if step == "batch_submit" else 0)
        assert _resumed(env) == ["ambiguous"]  # resume cannot tell, and sends nothing
        assert _resumed(env) == ["ambiguous"]
        assert len(scenario.batches) == (1 if step == "batch_submit" else 0)
        made = [b.id for b in scenario.batches]
        settled = _run(SETTLE, env, how, model, *made[:1])
        assert settled.returncode == 0, settled.stderr[-2000:]
        assert _resumed(env) == ["ended"]
        assert len(scenario.batches) == submissions
        assert _collected(env) == "3"


def test_a_part_another_live_process_is_submitting_is_left_to_it(tmp_path: Path) -> None:
    """Two processes on one store: a part taken by a live process is not submitted again."""
    from alloy._batch import _submitting_elsewhere  # pyright: ignore[reportPrivateUsage]
    from alloy._store._batches import PartRecord

    here = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        import socket
        import time

        host = socket.gethostname()
        live = PartRecord(0, "submitting", "m", None, (), None, f"{host}:{here.pid}", time.time())
        assert _submitting_elsewhere(live)
    finally:
        here.kill()
        here.wait()
    dead = PartRecord(0, "submitting", "m", None, (), None, f"{host}:{here.pid}", time.time())
    assert not _submitting_elsewhere(dead)
    far = PartRecord(0, "submitting", "m", None, (), None, "elsewhere:1", time.time())
    assert _submitting_elsewhere(far)
    stale = PartRecord(0, "submitting", "m", None, (), None, "elsewhere:1", time.time() - 3600)
    assert not _submitting_elsewhere(stale)
