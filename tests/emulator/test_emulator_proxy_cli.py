"""``python -m alloy.testing.emulator --proxy-to URL --record FILE`` and ``--replay FILE``,
each in a subprocess, with the session emulator as the upstream."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import openai
import pytest

from alloy.testing.emulator import RemoteEmulator
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import load_recording
from tests.emulator.proxying import KEY
from tests.emulator.proxying import ask

ROOT = Path(__file__).resolve().parents[2]
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
}
COMMAND = [sys.executable, "-m", "alloy.testing.emulator"]


@contextmanager
def _serving(*args: str, stop: signal.Signals = signal.SIGTERM) -> Iterator[str]:
    """Run the emulator with ``args``; yields the URL it prints, and checks that it then
    exits cleanly on ``stop`` having printed nothing else."""
    with subprocess.Popen([*COMMAND, *args], stdout=subprocess.PIPE, text=True, env=ENV) as process:
        assert process.stdout is not None
        try:
            ready, _, _ = select.select([process.stdout], [], [], 15)
            assert ready, "the emulator printed nothing"
            line = process.stdout.readline()
            assert line.startswith("ALLOY_EMULATOR_URL=http://127.0.0.1:")
            yield line.strip().split("=", 1)[1]
        finally:
            process.send_signal(stop)
            returncode = process.wait(timeout=15)
        assert (returncode, process.stdout.read()) == (0, "")


def test_record_in_a_subprocess_then_replay_in_another(scenario: Scenario, tmp_path: Path) -> None:
    scenario.enqueue(
        Reply(text="Recorded once, replayed at will.", chunk_chars=6), Reply(text="second")
    )
    file = tmp_path / "session.json"
    upstream = f"{scenario.url}/openai"
    with _serving("--proxy-to", upstream, "--record", str(file)) as url:
        streamed = ask("openai", f"{url}/openai/v1", stream=True)
        whole = ask("openai", f"{url}/openai/v1", stream=False)
        assert RemoteEmulator(url).requests[0].carries_key(KEY)
    assert (streamed.text, whole.text) == ("Recorded once, replayed at will.", "second")
    assert KEY not in file.read_text(encoding="utf-8")
    recording = load_recording(file)
    assert [i.chunk_sizes is not None for i in recording.interactions] == [True, False]
    assert recording.source["upstream"] == upstream

    with _serving("--replay", str(file), stop=signal.SIGINT) as url:
        assert ask("openai", f"{url}/openai/v1", stream=True) == streamed
        assert ask("openai", f"{url}/openai/v1", stream=False) == whole
        with pytest.raises(openai.BadRequestError, match="no scripted reply left"):
            ask("openai", f"{url}/openai/v1", stream=False)

    with _serving() as url:  # a plain emulator, given the recording over its control plane
        RemoteEmulator(url).replay(recording)
        assert ask("openai", f"{url}/openai/v1", stream=True) == streamed


def test_a_killed_proxy_leaves_a_complete_recording(scenario: Scenario, tmp_path: Path) -> None:
    """Each exchange is in the file before its answer ends, and the file is only ever
    replaced whole: SIGKILL right after a call loses nothing and breaks nothing."""
    scenario.enqueue(Reply(text="kept", chunk_chars=2))
    file = tmp_path / "killed.json"
    command = [*COMMAND, "--proxy-to", f"{scenario.url}/anthropic", "--record", str(file)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=ENV) as process:
        assert process.stdout is not None
        try:
            line = process.stdout.readline()
            answer = ask("anthropic", line.strip().split("=", 1)[1] + "/anthropic", stream=True)
        finally:
            process.kill()
            process.wait(timeout=15)
    assert answer.text == "kept"
    [interaction] = load_recording(file).interactions
    assert interaction.body_bytes == b"".join(answer.chunks)
    assert [p.name for p in tmp_path.iterdir()] == ["killed.json"], "no temporary file left"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--record", "x.json"], "--record needs --proxy-to"),
        (["--proxy-to", "ftp://example.com"], "must be an http:// or https:// URL"),
        (["--proxy-to", "https://user:pw@example.com"], "must not carry credentials"),
        (["--proxy-to", "http://127.0.0.1:1", "--replay", "x.json"], "do not go together"),
        (["--replay", "/nonexistent/recording.json"], "FileNotFoundError"),
        (["--proxy-to", "http://127.0.0.1:1", "--record", "/nonexistent/dir/r.json"], "cannot"),
    ],
)
def test_bad_command_lines_are_refused(args: list[str], message: str) -> None:
    done = subprocess.run(
        [*COMMAND, *args], capture_output=True, text=True, env=ENV, timeout=30, check=False
    )
    assert done.returncode == 2
    assert message in done.stderr
    assert done.stdout == ""
