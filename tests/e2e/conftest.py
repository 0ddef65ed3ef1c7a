"""End-to-end fixtures: the real SDKs over HTTP against the emulator, one scenario per test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from alloy import use_config

# Backends that the emulator speaks today; each test runs against every one of them.
BACKENDS = ["openai", "openai-chat"]


@pytest.fixture(params=BACKENDS)
def provider(request: pytest.FixtureRequest, alloy_emulator: Any) -> Iterator[str]:
    """The backend under test, pointed at a fresh emulator scenario through the environment."""
    name: str = request.param
    with use_config(model=f"{name}:gpt-test", max_retry_wait=5.0):
        yield name


def schema_sent(provider: str, body: dict[str, Any]) -> dict[str, Any] | None:
    """The structured-output block of a recorded request body, for either OpenAI API."""
    if provider == "openai":
        fmt: dict[str, Any] | None = (body.get("text") or {}).get("format")
        return fmt
    response_format: dict[str, Any] | None = body.get("response_format")
    return response_format
