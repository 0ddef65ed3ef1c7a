"""Out-of-process mode: ``python -m alloy.testing.emulator`` scripted with ``RemoteEmulator``."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
from pathlib import Path

import openai
import pytest
from openai import OpenAI

from alloy.testing.emulator import Fault
from alloy.testing.emulator import RemoteEmulator
from alloy.testing.emulator import Reply
from alloy.testing.emulator import ToolCall

# The server process imports this checkout's alloy, not whichever one is installed.
ROOT = Path(__file__).resolve().parents[2]
ENV = {
    **os.environ,
    "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
}


def _read_line(process: subprocess.Popen[str], timeout: float) -> str:
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], timeout)
    if not ready:
        raise AssertionError("the emulator printed nothing")
    return process.stdout.readline()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_subprocess_emulator(stop_signal: signal.Signals) -> None:
    command = [sys.executable, "-m", "alloy.testing.emulator", "--host", "127.0.0.1", "--port", "0"]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True, env=ENV) as process:
        try:
            line = _read_line(process, timeout=15)
            assert line.startswith("ALLOY_EMULATOR_URL=http://127.0.0.1:")
            remote = RemoteEmulator(line.strip().split("=", 1)[1])
            scenario = remote.scenario("bench-1")
            scenario.enqueue(
                Fault(status=429, headers={"retry-after-ms": "1"}),
                Reply(tool_calls=[ToolCall("lookup", {"q": "x"}, id="call_1")]),
            )
            with OpenAI(base_url=scenario.base_url("openai"), api_key="t", max_retries=1) as sdk:
                completion = sdk.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": "hi"}]
                )
                scenario.set_default(None)
                with pytest.raises(openai.BadRequestError, match="no scripted reply left"):
                    sdk.with_options(max_retries=0).chat.completions.create(
                        model="m", messages=[{"role": "user", "content": "hi"}]
                    )
            assert completion.choices[0].finish_reason == "tool_calls"
            requests = scenario.requests
            assert [(r.attempt, r.status) for r in requests] == [(0, 429), (1, 200), (0, 400)]
            assert requests[1].json["model"] == "m"
            assert remote.requests == []
        finally:
            process.send_signal(stop_signal)
            returncode = process.wait(timeout=10)
        assert returncode == 0
        assert process.stdout is not None
        assert process.stdout.read() == ""
