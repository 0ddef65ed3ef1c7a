"""Start the provider emulator in its own process, for benchmarks (it must not share the
client's CPU or GIL)."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from alloy.testing.emulator import RemoteEmulator


@contextmanager
def emulator_process() -> Iterator[RemoteEmulator]:
    """A ``RemoteEmulator`` for a fresh ``python -m alloy.testing.emulator`` process."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "alloy.testing.emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        if not line.startswith("ALLOY_EMULATOR_URL="):
            raise RuntimeError(f"the emulator did not start: {line!r}")
        remote = RemoteEmulator(line.partition("=")[2])
        saved = dict(os.environ)
        os.environ.update(remote.env())
        try:
            yield remote
        finally:
            os.environ.clear()
            os.environ.update(saved)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
