"""Fixtures of the backend suites."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.recorded import require_corpus


@pytest.fixture
def corpus() -> Path:
    """The recorded corpus folder; the test skips when it is absent."""
    return require_corpus()
