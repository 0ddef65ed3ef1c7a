"""Fault-matrix fixtures: the e2e ``provider``/``wire`` fixtures, and a spy on alloy's retries."""

from __future__ import annotations

from typing import Any

import pytest

import alloy._retry
from tests.e2e.conftest import provider
from tests.e2e.conftest import wire

__all__ = ["provider", "waits", "wire"]


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every wait alloy's transport retries chose, in order: one per retry, so a call made
    ``len(waits) + 1`` attempts. Backoff without a server-given wait is made tiny (a few ms)
    so that faults without retry headers (resets, timeouts) retry at once."""
    chosen: list[float] = []
    real = alloy._retry.delay_for

    def spy(*args: Any, **kwargs: Any) -> float:
        wait = real(*args, **kwargs)
        chosen.append(wait)
        return wait

    monkeypatch.setattr(alloy._retry, "BACKOFF_BASE", 0.002)
    monkeypatch.setattr(alloy._retry, "delay_for", spy)
    return chosen
