"""The live providers: which keys enable each, where its calls go, and what they received.

A live test's calls go through the emulator in proxy mode (``Emulator(proxy_to=...)``),
which records each real answer: ``Live.check_shapes`` then compares those answers with what
the emulator renders for the same content, so a provider changing its wire format fails
here first.

Models are cheap ones by default; ``ALLOY_LIVE_<FAMILY>_MODEL`` (``OPENAI``, ``ANTHROPIC``,
``GEMINI``, ``OLLAMA``) picks another, and ``ALLOY_LIVE_<FAMILY>_URL`` another endpoint of
the same API (a regional one, a gateway). Ollama's is ``OLLAMA_HOST``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Interaction
from alloy.testing.emulator import Reply
from alloy.testing.emulator import load_recording
from tests.wire_shapes import drift
from tests.wire_shapes import emulated_body


@dataclass(frozen=True)
class Provider:
    """One backend's live settings: the keys that enable it, its upstream, its model."""

    keys: tuple[str, ...]
    upstream: str
    model: str
    family: str  # the <FAMILY> of ALLOY_LIVE_<FAMILY>_MODEL and _URL
    wire: str  # the recorded corpus's name for its wire format


PROVIDERS: dict[str, Provider] = {
    "openai": Provider(
        ("OPENAI_API_KEY",), "https://api.openai.com", "gpt-4.1-mini", "OPENAI", "openai-responses"
    ),
    "openai-chat": Provider(
        ("OPENAI_API_KEY",), "https://api.openai.com", "gpt-4.1-mini", "OPENAI", "openai-chat"
    ),
    "anthropic": Provider(
        ("ANTHROPIC_API_KEY",),
        "https://api.anthropic.com",
        "claude-haiku-4-5",
        "ANTHROPIC",
        "anthropic",
    ),
    "gemini": Provider(
        ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
        "https://generativelanguage.googleapis.com",
        "gemini-2.5-flash",
        "GEMINI",
        "gemini",
    ),
    "ollama": Provider(("OLLAMA_HOST",), "", "llama3.2", "OLLAMA", "ollama"),
}
# Answers a provider may give before the real one, which alloy retries.
_RETRIED = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


def skip_reason(backend: str, environ: Mapping[str, str]) -> str | None:
    """Why ``backend``'s live tests cannot run here (None when they can)."""
    if environ.get("ALLOY_LIVE") != "1":
        return "live provider tests are off: set ALLOY_LIVE=1 and a provider's key"
    provider = PROVIDERS[backend]
    if not any(environ.get(key) for key in provider.keys):
        return f"{backend}: set {' or '.join(provider.keys)} to run its live tests"
    return None


def upstream(backend: str) -> str:
    """Where the proxy sends ``backend``'s calls."""
    provider = PROVIDERS[backend]
    if backend != "ollama":
        return os.environ.get(f"ALLOY_LIVE_{provider.family}_URL", provider.upstream)
    host = os.environ["OLLAMA_HOST"].rstrip("/")
    return host if "://" in host else f"http://{host}"


class Live:
    """The backend under test, its model, and the real answers its calls received."""

    def __init__(self, backend: str, proxy: Emulator, recording: Path):
        self.backend = backend
        provider = PROVIDERS[backend]
        self.model = os.environ.get(f"ALLOY_LIVE_{provider.family}_MODEL", provider.model)
        self._proxy = proxy
        self._recording = recording

    def options(self) -> dict[str, Any]:
        """``provider_options`` that send this backend's calls through the recording proxy."""
        option = "host" if self.backend == "ollama" else "base_url"
        return {self.backend: {option: self._proxy.base_url(self.backend)}}

    def answers(self) -> list[Interaction]:
        """The real exchanges so far, in order, retried failures left out.

        The proxy writes an exchange to the recording as the answer's last bytes go out, so
        a client may have read it all a moment before: wait (a little) for every request the
        proxy forwarded to be there."""
        forwarded = len(self._proxy.requests)
        deadline = time.monotonic() + 10
        kept = self._recorded()
        while len(kept) < forwarded and time.monotonic() < deadline:
            time.sleep(0.02)
            kept = self._recorded()
        return [i for i in kept if i.status not in _RETRIED]

    def _recorded(self) -> tuple[Interaction, ...]:
        try:
            return load_recording(self._recording).interactions
        except (OSError, ValueError, KeyError, TypeError):  # not written yet: nothing so far
            return ()

    def check_shapes(self, expected: Mapping[int, Reply | Fault]) -> None:
        """Each real answer (by position in ``answers()``) has every key the emulator sends
        for the same content, scripted as ``expected[position]``."""
        answers = self.answers()
        assert answers, "no answer was recorded"
        wire = PROVIDERS[self.backend].wire
        with Emulator() as local:
            for position, scripted in expected.items():
                real = answers[position]
                request = {"method": real.method, "path": real.path, "body": real.request_body}
                emulated = emulated_body(local, wire, request, scripted)
                assert drift(self.backend, emulated, real.body) == set(), (position, real.body)
