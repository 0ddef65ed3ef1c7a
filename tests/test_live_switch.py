"""The live provider tests (``tests/live/``) run only when asked to, and say why otherwise."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.live.providers import PROVIDERS
from tests.live.providers import skip_reason
from tests.live.providers import upstream

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("backend", "environ", "reason"),
    [
        ("openai", {"OPENAI_API_KEY": "sk-x"}, "live provider tests are off: set ALLOY_LIVE=1"),
        ("openai", {"ALLOY_LIVE": "yes"}, "live provider tests are off"),
        ("anthropic", {"ALLOY_LIVE": "1"}, "anthropic: set ANTHROPIC_API_KEY to run"),
        ("gemini", {"ALLOY_LIVE": "1"}, "gemini: set GEMINI_API_KEY or GOOGLE_API_KEY to run"),
        ("gemini", {"ALLOY_LIVE": "1", "GOOGLE_API_KEY": "AIza-x"}, None),
        ("ollama", {"ALLOY_LIVE": "1", "OLLAMA_HOST": "localhost:11434"}, None),
        ("openai-chat", {"ALLOY_LIVE": "1", "OPENAI_API_KEY": ""}, "openai-chat: set OPENAI"),
    ],
)
def test_skip_reasons(backend: str, environ: dict[str, str], reason: str | None) -> None:
    found = skip_reason(backend, environ)
    assert found == reason if reason is None else found is not None and reason in found


def test_ollama_host_without_a_scheme(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "10.0.0.5:11434/")
    assert upstream("ollama") == "http://10.0.0.5:11434"
    monkeypatch.setenv("ALLOY_LIVE_ANTHROPIC_URL", "https://eu.example.test")
    assert upstream("anthropic") == "https://eu.example.test"


def test_with_alloy_live_and_no_keys_every_live_test_is_skipped_with_its_reason() -> None:
    env = {k: v for k, v in os.environ.items() if k not in _KEYS}
    env["ALLOY_LIVE"] = "1"
    pytest_live = [sys.executable, "-m", "pytest", "tests/live", "-m", "live", "-q", "-rs"]
    run = subprocess.run(
        pytest_live, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "20 skipped" in run.stdout and "passed" not in run.stdout, run.stdout
    for backend, provider in PROVIDERS.items():
        assert f"{backend}: set {' or '.join(provider.keys)} to run its live tests" in run.stdout


_KEYS = {key for provider in PROVIDERS.values() for key in provider.keys}
