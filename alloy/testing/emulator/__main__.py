"""``python -m alloy.testing.emulator``: serve in the foreground for out-of-process use.

Prints exactly one line, ``ALLOY_EMULATOR_URL=http://HOST:PORT``, once listening, and stops
cleanly on SIGTERM or SIGINT. Script it with ``RemoteEmulator(url)``.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ._server import Emulator


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until SIGTERM/SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m alloy.testing.emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--strict", action="store_true", help="an empty queue is an error")
    args = parser.parse_args(argv)

    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, on_signal)
    emulator = Emulator(strict=args.strict, host=args.host, port=args.port).start()
    try:
        sys.stdout.write(f"ALLOY_EMULATOR_URL={emulator.url}\n")
        sys.stdout.flush()
        # A timed wait keeps the main thread responsive to signals.
        while not done.wait(0.5):
            pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
