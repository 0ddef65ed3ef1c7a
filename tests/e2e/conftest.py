"""End-to-end fixtures: the real SDKs over HTTP against the emulator, one scenario per test."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from alloy import use_config
from tests.e2e.wires import WIRES
from tests.e2e.wires import Wire

# Every backend with a wire entry runs every test; ALLOY_E2E_BACKENDS=a,b narrows the run.
BACKENDS = [b for b in os.environ.get("ALLOY_E2E_BACKENDS", ",".join(WIRES)).split(",") if b]


@pytest.fixture(params=BACKENDS)
def provider(request: pytest.FixtureRequest, alloy_emulator: Any) -> Iterator[str]:
    """The backend under test, pointed at a fresh emulator scenario through the environment."""
    name: str = request.param
    with use_config(model=f"{name}:gpt-test", max_retry_wait=5.0):
        yield name


@pytest.fixture
def wire(provider: str) -> Wire:
    """The wire-format accessors of the backend under test."""
    return WIRES[provider]
