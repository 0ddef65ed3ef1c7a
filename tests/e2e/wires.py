"""What the end-to-end suites need to know about each backend's wire format.

One ``Wire`` per backend: how to read the settings alloy sent out of a recorded request
body, and how the emulator's usage counts come back through that provider. Each backend
owns its entry; the suites stay provider-neutral.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from alloy import Usage

Body = dict[str, Any]


@dataclass(frozen=True)
class Wire:
    """How one backend's requests look on the wire, for assertions.

    Attributes:
        schema: the output schema sent in a request body, or None when none was sent.
        system / temperature / max_tokens: those settings as sent.
        usage: the ``Usage`` alloy should report for an emulator ``Reply`` with these counts
            (input, output, cached, reasoning), following the provider's own semantics.
        key_env: the API-key environment variable its auth errors must name (None: no key).
        client_option: ``provider_options`` entry that points the client at ``url``.
        reads_retry_headers: whether ``Retry-After`` reaches alloy from this SDK's errors.
    """

    schema: Callable[[Body], dict[str, Any] | None]
    system: Callable[[Body], str | None]
    temperature: Callable[[Body], float | None]
    max_tokens: Callable[[Body], int | None]
    usage: Callable[[int, int, int, int], Usage]
    key_env: str | None
    client_option: Callable[[str], dict[str, Any]]
    reads_retry_headers: bool = True


def _openai_usage(inp: int, out: int, cached: int, reasoning: int) -> Usage:
    return Usage(inp, out, cached, reasoning, inp + out)


WIRES: dict[str, Wire] = {
    "openai": Wire(
        schema=lambda b: ((b.get("text") or {}).get("format") or {}).get("schema"),
        system=lambda b: b.get("instructions"),
        temperature=lambda b: b.get("temperature"),
        max_tokens=lambda b: b.get("max_output_tokens"),
        usage=_openai_usage,
        key_env="OPENAI_API_KEY",
        client_option=lambda url: {"base_url": url},
    ),
    "openai-chat": Wire(
        schema=lambda b: ((b.get("response_format") or {}).get("json_schema") or {}).get("schema"),
        system=lambda b: next(
            (m["content"] for m in b.get("messages", []) if m.get("role") == "system"), None
        ),
        temperature=lambda b: b.get("temperature"),
        max_tokens=lambda b: b.get("max_completion_tokens"),
        usage=_openai_usage,
        key_env="OPENAI_API_KEY",
        client_option=lambda url: {"base_url": url},
    ),
}
