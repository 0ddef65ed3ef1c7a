"""Suite-wide guards: no network beyond loopback, and a clean alloy configuration per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from alloy import _config
from alloy import _env
from tests import network

pytest_plugins = ("pytester",)  # tests of alloy's own pytest plugin run inner sessions


def pytest_configure(config: pytest.Config) -> None:
    network.block()


@pytest.fixture(autouse=True)
def _clean_configuration(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for var in _env.ENV_VARS:
        monkeypatch.delenv(var, raising=False)
    _config.reset_configuration()
    yield
    _config.reset_configuration()
