"""The fault matrix: one table of faults, what alloy must do on each backend, and its rendering.

``test_fault_matrix.py`` runs every row on every backend through a real ``@command`` call
against the emulator; ``docs/errors.md`` shows the same table, rendered by ``render()``
between the ``fault-matrix`` markers. After changing the table, regenerate the docs with::

    python -m tests.faults.matrix docs/errors.md
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from pathlib import Path
from typing import Any

from alloy import AuthenticationError
from alloy import ProviderConnectionError
from alloy import ProviderError
from alloy import ProviderTimeout
from alloy import RateLimitError
from alloy import StreamError
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator._items import Item

BACKENDS = ("openai", "openai-chat", "anthropic", "gemini", "ollama")

START = "<!-- fault-matrix:start -->"
END = "<!-- fault-matrix:end -->"

MAX_RETRIES = 2
"""Every cell runs with ``max_retries=2``: a retried fault that never clears takes 3 attempts."""

MAX_RETRY_WAIT = 5.0
"""``max_retry_wait`` of every cell (set by the e2e ``provider`` fixture)."""

TIMEOUT = 5.0
"""``timeout`` of every cell, except the timeout faults, so that a broken backend fails fast."""

SHORT_TIMEOUT = 0.1
"""``timeout`` of the rows whose fault is a slow or silent server."""

ENDLESS_TIMEOUT = 0.5
"""``timeout`` of the endless-stream row: long enough for the first delta on every backend
(the Responses API sends four events before it), so that the timeout comes after it."""

TIMES = "\u00d7"
"""The multiplication sign of the attempt counts in the rendered cells."""

FAST = {"retry-after-ms": "1"}
VALUE = 4
OK = Reply(json={"value": VALUE})
# A streamed reply in one-character chunks (12 of them); the stream faults strike after CUT
# events, once text has arrived on every backend (the Responses API sends four events before
# its first text delta). Before the first delta alloy may retry a broken stream, after it not.
CHUNKED: dict[str, Any] = {"json": {"value": VALUE}, "chunk_chars": 1}
CUT = 6
# A reply long enough to outlast any timeout of the table when it goes out slowly: a
# trickled body (a few bytes at a time) or a stream whose events keep coming.
LONG: dict[str, Any] = {"json": {"value": VALUE, "note": "x" * 600}, "chunk_delay": 0.02}


@dataclass(frozen=True)
class Outcome:
    """What the caller sees: the value, or exactly ``error``, after ``attempts`` HTTP attempts."""

    error: type[ProviderError] | None
    attempts: int

    @property
    def label(self) -> str:
        """The cell of the rendered matrix."""
        if self.error is None:
            return f"ok after {self.attempts}"
        return f"{self.error.__name__} {TIMES}{self.attempts}"


def ok(attempts: int) -> Outcome:
    return Outcome(None, attempts)


def fails(error: type[ProviderError], attempts: int = 1) -> Outcome:
    return Outcome(error, attempts)


@dataclass(frozen=True)
class Case:
    """One row: a fault scripted on the emulator and the outcome on each backend.

    Attributes:
        id: the test id.
        what: the row title in the docs (Markdown).
        script: what the emulator answers, in order. The test queues one more good reply
            after it, so a retry that should not happen turns into a visible success.
        outcome: the outcome on every backend, unless ``per_backend`` says otherwise.
        stream: call ``cmd.stream(...).result()`` instead of ``cmd(...)``.
        refused: point the backend at a closed port; no request reaches the emulator.
        settings: ``with_config`` overrides on top of the common ones.
        status_code / retryable / retry_after: attributes the error must have (None: any).
        waits: the waits alloy's retries must choose, when the server set them.
        names_key: the message must name the backend's API-key environment variable.
        modes: ``sync``, and ``async`` for a representative subset.
    """

    id: str
    what: str
    script: tuple[Item, ...]
    outcome: Outcome
    per_backend: Mapping[str, Outcome] = field(default_factory=dict[str, Outcome])
    stream: bool = False
    refused: bool = False
    settings: Mapping[str, Any] = field(default_factory=dict[str, Any])
    status_code: int | None = None
    retryable: bool | None = None
    retry_after: float | None = None
    waits: tuple[float, ...] | None = None
    names_key: bool = False
    modes: tuple[str, ...] = ("sync",)

    def expected(self, backend: str) -> Outcome:
        """The outcome on ``backend``."""
        return self.per_backend.get(backend, self.outcome)

    @property
    def config(self) -> dict[str, Any]:
        """The ``with_config`` overrides of this row's call."""
        return {"max_retries": MAX_RETRIES, "timeout": TIMEOUT, **self.settings}

    @property
    def checks(self) -> str:
        """What else the test asserts, for the docs."""
        notes: list[str] = []
        if self.status_code is not None:
            notes.append(f"status {self.status_code}")
        if self.retryable is not None:
            notes.append("retryable" if self.retryable else "not retryable")
        if self.retry_after is not None:
            notes.append(f"retry_after={self.retry_after:g}")
        if self.waits is not None:
            notes.append("waited " + ", ".join(f"{w * 1000:g} ms" for w in self.waits))
        if self.names_key:
            notes.append("names the key variable")
        if self.refused:
            notes.append("no request reached a server")
        return ", ".join(notes)


BOTH = ("sync", "async")
SLOW = {"timeout": SHORT_TIMEOUT}

CASES: tuple[Case, ...] = (
    Case(
        "429-retry-after",
        "429 with `Retry-After: 0.01`, then a reply",
        (Fault(status=429, headers={"retry-after": "0.01"}), OK),
        ok(2),
        waits=(0.01,),
    ),
    Case(
        "429-retry-after-ms",
        "429 with `retry-after-ms: 1`, then a reply",
        (Fault(status=429, headers=FAST), OK),
        ok(2),
        waits=(0.001,),
        modes=BOTH,
    ),
    Case("500", "500, then a reply", (Fault(status=500, headers=FAST), OK), ok(2), waits=(0.001,)),
    Case(
        "503-exhausted",
        "503 on every attempt",
        (Fault(status=503, headers=FAST),) * 3,
        fails(ProviderError, 3),
        status_code=503,
        retryable=True,
        modes=BOTH,
    ),
    Case(
        "retry-after-too-long",
        f"429 with `Retry-After: 30` (over `max_retry_wait={MAX_RETRY_WAIT:g}`)",
        (Fault(status=429, headers={"retry-after": "30"}),),
        fails(RateLimitError),
        status_code=429,
        retry_after=30.0,
    ),
    Case(
        "400",
        "400",
        (Fault(status=400),),
        fails(ProviderError),
        status_code=400,
        retryable=False,
        modes=BOTH,
    ),
    Case(
        "401",
        "401",
        (Fault(status=401),),
        fails(AuthenticationError),
        status_code=401,
        retryable=False,
        names_key=True,
        modes=BOTH,
    ),
    Case(
        "reset",
        "connection reset on every attempt",
        (Fault(reset=True),) * 3,
        fails(ProviderConnectionError, 3),
        retryable=True,
        modes=BOTH,
    ),
    Case("reset-then-ok", "connection reset, then a reply", (Fault(reset=True), OK), ok(2)),
    Case(
        "refused",
        "connection refused (closed port)",
        (),
        fails(ProviderConnectionError, 3),
        refused=True,
        retryable=True,
    ),
    Case(
        "malformed",
        "200 with a body that is not JSON",
        (Fault(malformed=True),),
        fails(ProviderError),
        retryable=False,
        modes=BOTH,
    ),
    Case(
        "html-502",
        "an HTML 502 page on every attempt",
        (Fault(status=502, html=True, headers=FAST),) * 3,
        fails(ProviderError, 3),
        status_code=502,
        retryable=True,
    ),
    Case(
        "slow-headers",
        f"headers later than `timeout={SHORT_TIMEOUT:g}`",
        (Reply(json={"value": VALUE}, delay=2.0),) * 3,
        fails(ProviderTimeout, 3),
        settings=SLOW,
        retryable=True,
    ),
    Case(
        "hang",
        "no answer at all",
        (Fault(hang=True),) * 3,
        fails(ProviderTimeout, 3),
        settings=SLOW,
        retryable=True,
        modes=BOTH,
    ),
    Case(
        "trickle",
        f"a body trickled for longer than `timeout={SHORT_TIMEOUT:g}`, a few bytes at a time",
        (Reply(**LONG, chunk_chars=4),) * 3,
        fails(ProviderTimeout, 3),
        settings=SLOW,
        retryable=True,
        modes=BOTH,
    ),
    Case(
        "stream-429-then-ok",
        "stream: 429 before the first chunk, then a reply",
        (Fault(status=429, headers=FAST), Reply(**CHUNKED)),
        ok(2),
        stream=True,
        waits=(0.001,),
    ),
    Case(
        "stream-reset-before-text",
        "stream: connection reset before any text, on every attempt",
        (Reply(**CHUNKED, abort_after=0),) * 3,
        fails(ProviderConnectionError, 3),
        stream=True,
        retryable=True,
    ),
    Case(
        "stream-truncated",
        "stream: ends cleanly without its terminal event",
        (Reply(**CHUNKED, truncate_after=CUT),),
        fails(StreamError),
        stream=True,
    ),
    Case(
        "stream-malformed",
        "stream: a chunk that is not JSON",
        (Reply(**CHUNKED, malformed_after=CUT),),
        fails(StreamError),
        stream=True,
        retryable=False,
    ),
    Case(
        "stream-malformed-before-text",
        "stream: a first chunk that is not JSON",
        (Reply(**CHUNKED, malformed_after=0),),
        fails(StreamError),
        stream=True,
        retryable=False,
        modes=BOTH,
    ),
    Case(
        "stream-error-event-before-text",
        "stream: the in-stream error event before any text, then a reply",
        (Reply(**CHUNKED, error_after=0), Reply(**CHUNKED)),
        ok(2),
        # Ollama's error line has no code to say that a retry may help.
        per_backend={"ollama": fails(StreamError)},
        stream=True,
    ),
    Case(
        "stream-error-event",
        "stream: the provider's in-stream error event",
        (Reply(**CHUNKED, error_after=CUT),),
        fails(StreamError),
        stream=True,
        modes=BOTH,
    ),
    Case(
        "stream-reset",
        "stream: connection reset mid-stream",
        (Reply(**CHUNKED, abort_after=CUT),),
        fails(StreamError),
        stream=True,
        modes=BOTH,
    ),
    Case(
        "stream-stall",
        f"stream: stalls mid-stream for longer than `timeout={SHORT_TIMEOUT:g}`",
        (Reply(**CHUNKED, stall_after=CUT, stall=2.0),),
        fails(ProviderTimeout),
        stream=True,
        settings=SLOW,
        retryable=True,
    ),
    Case(
        "stream-endless",
        f"stream: events keep coming for longer than `timeout={ENDLESS_TIMEOUT:g}`",
        (Reply(**LONG, chunk_chars=1),),
        fails(ProviderTimeout),
        stream=True,
        settings={"timeout": ENDLESS_TIMEOUT},
        retryable=True,
        modes=BOTH,
    ),
)


def _row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def render() -> str:
    """The matrix as a Markdown table: rows are faults, columns backends."""
    lines = [
        _row(["fault", *(f"`{b}`" for b in BACKENDS), "also asserted"]),
        _row(["---"] * (len(BACKENDS) + 2)),
    ]
    for case in CASES:
        cells = [case.expected(backend).label for backend in BACKENDS]
        lines.append(_row([case.what, *cells, case.checks]))
    return "\n".join(lines) + "\n"


def block() -> str:
    """The rendered matrix between its markers, as it stands in the docs."""
    return f"{START}\n{render()}{END}"


def splice(text: str) -> str:
    """``text`` with the block between the markers replaced by the current rendering."""
    start, end = text.find(START), text.find(END)
    if start < 0 or end < start:
        raise ValueError(f"the markers {START} and {END} are missing")
    return text[:start] + block() + text[end + len(END) :]


def main(argv: Sequence[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.faults.matrix docs/errors.md", file=sys.stderr)
        return 2
    path = Path(argv[0])
    old = path.read_text(encoding="utf-8")
    new = splice(old)
    if new != old:
        path.write_text(new, encoding="utf-8")
    print(f"{path}: {'updated' if new != old else 'up to date'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
