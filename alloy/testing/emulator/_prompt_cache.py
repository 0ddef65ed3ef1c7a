"""Simulated provider prompt caching: a prompt prefix seen before is reported as cached.

With ``Scenario.set_prompt_cache(hits=True)`` the usage of each answer no longer takes the
reply's scripted ``cached_tokens`` and ``cache_write_tokens``; it is worked out from the
requests the scenario has seen, the way automatic prompt caching behaves:

* a request's prefix is what providers cache: its model, system prompt and tools, then every
  message but the last one (the new turn), message by message (Chat ``messages``, Responses
  ``input`` items and ``instructions``, Anthropic ``messages`` and ``system``, Gemini
  ``contents``, ``systemInstruction`` and ``toolConfig``);
* its size is estimated as one token per four bytes of its compact JSON, at most the reply's
  ``input_tokens`` (the cached tokens are a part of the input);
* the longest part of it that an earlier request of the scenario also had (the same model,
  system prompt and tools, then the same first messages) is read from the cache; the rest is
  written to it, on the providers that report writes (Anthropic, OpenAI Chat and Responses;
  Gemini reports only reads, Ollama neither).

So the first call of a tool loop writes the system prompt and tools, and each later call reads
what the previous one sent and writes its new messages. Real providers cache nothing below a
minimum size (1024 tokens and up); the emulator has no minimum, so tests assert requests and
counts, not the providers' thresholds.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import cast

__all__ = ["PromptCache"]

# The request fields, per format, that form the cached head (before the messages), and where
# the messages are.
_HEADS: dict[str, tuple[tuple[str, ...], str]] = {
    "openai-chat": (("tools",), "messages"),
    "openai-responses": (("instructions", "tools"), "input"),
    "anthropic": (("system", "tools"), "messages"),
    "gemini": (("systemInstruction", "tools", "toolConfig"), "contents"),
}
_WRITES = frozenset({"anthropic", "openai-chat", "openai-responses"})


class PromptCache:
    """One scenario's simulated prompt cache: the prefixes its requests have sent."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits = False
        self._seen: set[str] = set()

    @property
    def hits(self) -> bool:
        return self._hits

    def set_hits(self, hits: object) -> None:
        """Switch the simulation; ``object`` because control-plane JSON may send anything."""
        if not isinstance(hits, bool):
            raise ValueError(f"prompt cache hits must be true or false, not {hits!r}")
        self._hits = hits

    def clear(self) -> None:
        with self._lock:
            self._hits = False
            self._seen.clear()

    def account(
        self, provider: str, request: Mapping[str, Any], model: str, input_tokens: int
    ) -> tuple[int, int] | None:
        """``(read, written)`` cache tokens for this request, or None when not simulated."""
        layout = _HEADS.get(provider)
        if not self._hits or layout is None:
            return None
        fields, where = layout
        head = {name: request[name] for name in fields if request.get(name) is not None}
        messages: Any = request.get(where)
        prefix = list(cast("Sequence[Any]", messages))[:-1] if isinstance(messages, list) else []
        keys, sizes = _chain(model, head, prefix)
        with self._lock:
            cached = max((k for k, key in enumerate(keys) if key in self._seen), default=None)
            self._seen.update(keys)
        read = 0 if cached is None else min(sizes[cached], input_tokens)
        written = min(sizes[-1], input_tokens) - read
        return read, written if provider in _WRITES else 0


def _chain(model: str, head: Mapping[str, Any], prefix: list[Any]) -> tuple[list[str], list[int]]:
    """Keys and token sizes of the head followed by the first 0, 1, … prefix messages."""
    shown = _dumps(head) if head else ""
    digest = hashlib.sha256(f"{model}\n{shown}".encode())
    keys, sizes, size = [digest.hexdigest()], [_tokens(len(shown.encode()))], len(shown.encode())
    for message in prefix:
        text = _dumps(message)
        digest.update(b"\n" + text.encode())
        size += len(text.encode())
        keys.append(digest.hexdigest())
        sizes.append(_tokens(size))
    return keys, sizes


def _tokens(size: int) -> int:
    return -(-size // 4)


def _dumps(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
