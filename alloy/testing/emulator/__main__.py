"""``python -m alloy.testing.emulator``: serve in the foreground for out-of-process use.

Prints exactly one line, ``ALLOY_EMULATOR_URL=http://HOST:PORT``, once listening, and stops
cleanly on SIGTERM or SIGINT. Script it with ``RemoteEmulator(url)``.

``--proxy-to URL`` forwards every request to a real provider instead of answering it, and
``--record FILE`` writes each exchange to FILE (see ``Emulator``). ``--replay FILE`` serves
a recording's answers, in order, to requests for their endpoints, strictly: a request past
the last one gets the "no scripted reply left" error.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from ._record import load_recording
from ._server import Emulator


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m alloy.testing.emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--strict", action="store_true", help="an empty queue is an error")
    parser.add_argument(
        "--proxy-to",
        metavar="URL",
        help="forward every request to this provider base URL (e.g. https://api.openai.com)",
    )
    parser.add_argument(
        "--record", metavar="FILE", help="with --proxy-to: write each exchange to FILE"
    )
    parser.add_argument(
        "--upstream-timeout",
        type=float,
        default=600.0,
        metavar="SECONDS",
        help="with --proxy-to: how long to wait for the upstream (default 600)",
    )
    parser.add_argument(
        "--replay",
        metavar="FILE",
        action="append",
        default=[],
        help="serve this recording's answers in order (repeatable; implies --strict)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until SIGTERM/SIGINT."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.record is not None and args.proxy_to is None:
        parser.error("--record needs --proxy-to")
    if args.replay and args.proxy_to is not None:
        parser.error("--replay and --proxy-to do not go together")
    try:
        recordings = [load_recording(path) for path in args.replay]
        emulator = Emulator(
            strict=args.strict or bool(recordings),
            host=args.host,
            port=args.port,
            proxy_to=args.proxy_to,
            record=args.record,
            upstream_timeout=args.upstream_timeout,
        )
    except (OSError, ValueError, KeyError, TypeError) as exc:
        parser.error(f"{type(exc).__name__}: {exc}")
    for recording in recordings:
        emulator.replay(recording)

    done = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        done.set()

    # The handlers are put back on the way out: main() may run inside another program.
    previous = {
        signum: signal.signal(signum, on_signal) for signum in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        try:
            emulator.start()
        except (OSError, RuntimeError) as exc:
            parser.error(f"cannot start: {exc}")
        try:
            sys.stdout.write(f"ALLOY_EMULATOR_URL={emulator.url}\n")
            sys.stdout.flush()
            # A timed wait keeps the main thread responsive to signals.
            while not done.wait(0.5):
                pass
        finally:
            try:
                emulator.stop()
            except OSError as exc:  # the last write of a recording
                sys.stderr.write(f"python -m alloy.testing.emulator: {exc}\n")
                return 1
        return 0
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


if __name__ == "__main__":
    sys.exit(main())
