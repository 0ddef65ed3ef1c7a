"""Live provider tests: off unless ``ALLOY_LIVE=1`` and the provider's key are set.

Without them every test here is skipped with a one-line reason (``providers.skip_reason``).
When a test runs, and only then, the suite's network guard is lifted for it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from alloy import use_config
from alloy.testing.emulator import Emulator
from tests import network
from tests.live.providers import PROVIDERS
from tests.live.providers import Live
from tests.live.providers import skip_reason
from tests.live.providers import upstream


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.live)


@pytest.fixture(params=list(PROVIDERS))
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Live]:
    """The backend under test, through a recording proxy to the real provider."""
    backend: str = request.param
    reason = skip_reason(backend, os.environ)
    if reason is not None:
        pytest.skip(reason)
    recording = tmp_path / "answers.json"
    with network.allowed(), Emulator(proxy_to=upstream(backend), record=recording) as proxy:
        session = Live(backend, proxy, recording)
        model = f"{backend}:{session.model}"
        with use_config(model=model, timeout=120.0, provider_options=session.options()):
            yield session
    text = recording.read_text() if recording.exists() else ""
    for key in PROVIDERS[backend].keys:
        secret = os.environ.get(key, "")
        if backend != "ollama" and len(secret) >= 16:
            assert secret not in text, f"{key} reached the recording"
