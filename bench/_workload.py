"""The workload that ``overhead.py`` and ``concurrency.py`` share: one small structured
extraction, the same for alloy and for the raw SDKs, and the emulator reply that answers it."""

from __future__ import annotations

from dataclasses import asdict
from dataclasses import dataclass
from typing import Any

from alloy import command
from alloy.testing.emulator import Reply

BACKENDS = ("openai", "openai-chat", "anthropic", "gemini", "ollama")
MODELS = {
    "openai": "gpt-5-mini",
    "openai-chat": "gpt-5-mini",
    "anthropic": "claude-sonnet-4-6",
    "gemini": "gemini-2.5-flash",
    "ollama": "llama3.2",
}
TIMEOUT = 60.0
"""Seconds, per request, on both sides (alloy's ``timeout``; the SDKs' ``timeout``)."""
TEXT = "Ada Lovelace (ada@example.com), 36, has been a VIP customer since 1843."


@dataclass
class Contact:
    name: str
    email: str
    age: int
    vip: bool


EXPECTED = Contact(name="Ada Lovelace", email="ada@example.com", age=36, vip=True)
REPLY = Reply(json=asdict(EXPECTED))
"""The emulator's answer to every request: ``EXPECTED`` as JSON text."""


def prompt_for(text: str) -> str:
    return f"Extract the contact from this text: {text}"


@command(output=Contact)
def extract(text: str) -> str:
    return prompt_for(text)


def alloy_command(backend: str) -> Any:
    """The alloy command for ``backend`` with the raw side's settings: no transport retries
    (the raw clients get ``max_retries=0``), no validation re-asks, the same timeout."""
    return extract.with_config(
        model=f"{backend}:{MODELS[backend]}", timeout=TIMEOUT, max_retries=0, retry=0
    )


def same_value(value: Any) -> bool:
    """Whether a call returned ``EXPECTED`` (as the dataclass, or a peer's pydantic model)."""
    if value == EXPECTED:
        return True
    dump = getattr(value, "model_dump", None)
    return callable(dump) and dump() == asdict(EXPECTED)
