"""Crash safety: a process killed (``os._exit``, no clean-up) at every step boundary of a batch
job leaves a store that ``alloy.batches.resume()`` in a new process carries to the end with
exactly one provider submission, every result collected and the provider's files deleted."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import Reply

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
    from alloy.backends.openai import _batch

    step = sys.argv[1]

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

    with use_config(model="openai:gpt-5-mini"):
        job = extract.batch(["a", "b", "c"])
        job.wait(poll=0.01)
    print("survived")
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


@pytest.mark.parametrize("step", STEPS)
def test_a_kill_at_any_step_is_resumed_with_one_submission(step: str, tmp_path: Path) -> None:
    import os

    with Emulator() as emu:
        scenario = emu.scenario()
        scenario.set_batch_timing(validating=0, running=0)  # ends as soon as it is made
        scenario.set_default(Reply(json={"vendor": "ACME", "total": 1.0}))
        env = {
            **os.environ,
            **scenario.env(),
            "ALLOY_STORE": str(tmp_path / "store.db"),
            "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
        }
        first = _run(CHILD, env, step)
        assert first.returncode == 9, first.stderr[-2000:]
        assert "survived" not in first.stdout
        second = _run(RESUME, env)
        assert second.returncode == 0, second.stderr[-2000:]
        assert json.loads(second.stdout.splitlines()[-1]) == ["ended"]
        assert len(scenario.batches) == 1  # never submitted twice
        files = scenario.files
        assert files and all(f.deleted for f in files)
        check = _run(
            textwrap.dedent(
                """
                import alloy
                from alloy._store import open_store
                from alloy._store._batches import item_records
                (job,) = alloy.batches.list()
                items = item_records(open_store(None), job.id)
                print(sum("response" in (i.outcome or {}) for i in items))
                """
            ),
            env,
        )
        assert check.stdout.strip() == "3", check.stderr[-2000:]


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
