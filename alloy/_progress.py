"""Progress of a map: a bar, a line on stderr, or the caller's own function.

``progress=True`` draws a tqdm bar (the ``progress`` extra; ``tqdm.auto`` picks the notebook
widget in Jupyter), or, without tqdm, rewrites one line on stderr at most twice a second.
``progress=callable`` gets a ``Progress`` after each item, for custom UIs. tqdm is imported
only when a bar is drawn.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["Progress", "ProgressOption", "reporter"]


@dataclass(frozen=True, slots=True)
class Progress:
    """How far a map has come.

    Attributes:
        done: items finished (succeeded or failed).
        failed: items that failed.
        total: the number of items, when the inputs have a length; else None.
        elapsed_s: seconds since the map started.
    """

    done: int
    failed: int
    total: int | None
    elapsed_s: float


ProgressOption = bool | Callable[[Progress], Any] | None


class _Reporter:
    """Counts outcomes and shows them (``update`` after each, ``close`` once)."""

    __slots__ = ("_bar", "_call", "_shown_at", "done", "failed", "started", "total")

    def __init__(self, total: int | None, call: Callable[[Progress], Any] | None) -> None:
        self.total = total
        self.done = self.failed = 0
        self.started = time.perf_counter()
        self._call = call
        self._bar: Any = None
        self._shown_at = 0.0
        if call is None:
            import importlib

            try:
                # tqdm ships no type information; the bar is used through ``Any``.
                auto: Any = importlib.import_module("tqdm.auto")
            except ImportError:
                pass
            else:
                self._bar = auto.tqdm(total=total, unit="item", desc="alloy")

    def update(self, ok: bool) -> None:
        self.done += 1
        self.failed += 0 if ok else 1
        if self._call is not None:
            self._call(self.snapshot())
        elif self._bar is not None:
            self._bar.update(1)
            if not ok:
                self._bar.set_postfix(failed=self.failed, refresh=False)
        elif time.perf_counter() - self._shown_at >= 0.5:
            self._line()

    def snapshot(self) -> Progress:
        return Progress(self.done, self.failed, self.total, time.perf_counter() - self.started)

    def _line(self, end: str = "") -> None:
        self._shown_at = time.perf_counter()
        of = f"/{self.total}" if self.total is not None else ""
        failed = f", {self.failed} failed" if self.failed else ""
        sys.stderr.write(f"\ralloy: {self.done}{of} items{failed}{end}")
        sys.stderr.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self._call is None:
            self._line("\n")


def reporter(option: ProgressOption, items: object) -> _Reporter | None:
    """The reporter for ``option`` (None: no progress), sized from ``items`` when it has a
    length."""
    if not option:
        return None
    from collections.abc import Sized

    total = len(items) if isinstance(items, Sized) else None
    return _Reporter(total, None if option is True else option)
