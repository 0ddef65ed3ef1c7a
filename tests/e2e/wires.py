"""What the end-to-end suites need to know about each backend's wire format.

One ``Wire`` per backend: how to read the settings alloy sent out of a recorded request
body, and how the emulator's usage counts come back through that provider. Each backend
owns its entry; the suites stay provider-neutral.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
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
        request_options: ``provider_options`` this SDK passes through to the request body.
    """

    schema: Callable[[Body], dict[str, Any] | None]
    system: Callable[[Body], str | None]
    temperature: Callable[[Body], float | None]
    max_tokens: Callable[[Body], int | None]
    usage: Callable[[int, int, int, int], Usage]
    key_env: str | None
    client_option: Callable[[str], dict[str, Any]]
    reads_retry_headers: bool = True
    request_options: Mapping[str, Any] = field(
        default_factory=lambda: {"user": "user-7", "metadata": {"k": "v"}}
    )


def _responses_usage(inp: int, out: int, cached: int, reasoning: int) -> Usage:
    # The Responses usage always carries a cache-write count (0 when nothing was written);
    # Chat Completions only when something was.
    return Usage(inp, out, cached, reasoning, inp + out, cache_write_tokens=0)


def _openai_usage(inp: int, out: int, cached: int, reasoning: int) -> Usage:
    return Usage(inp, out, cached, reasoning, inp + out)


def _anthropic_usage(inp: int, out: int, cached: int, reasoning: int) -> Usage:
    # The emulator sends input_tokens without the cache reads, as Anthropic does; alloy's
    # input counts them again. Thinking tokens are reported apart, when at all.
    return Usage(inp, out, cached, reasoning or None, inp + out, cache_write_tokens=0)


def _anthropic_schema(body: Body) -> dict[str, Any] | None:
    """The native output schema, or the input schema of the tool the request forces."""
    native = ((body.get("output_config") or {}).get("format") or {}).get("schema")
    if native is not None:
        return native
    forced = (body.get("tool_choice") or {}).get("name")
    tools = [t for t in body.get("tools", []) if forced and t.get("name") == forced]
    return tools[0]["input_schema"] if tools else None


def _gemini_usage(inp: int, out: int, cached: int, reasoning: int) -> Usage:
    # The emulator sends candidatesTokenCount without the thoughts, as Gemini does; alloy's
    # output adds them back. Zero counts are left out.
    return Usage(inp, out, cached or None, reasoning or None, inp + out)


def _gemini_system(body: Body) -> str | None:
    parts = (body.get("systemInstruction") or {}).get("parts") or []
    return "".join(part.get("text", "") for part in parts) or None


WIRES: dict[str, Wire] = {
    "openai": Wire(
        schema=lambda b: ((b.get("text") or {}).get("format") or {}).get("schema"),
        system=lambda b: b.get("instructions"),
        temperature=lambda b: b.get("temperature"),
        max_tokens=lambda b: b.get("max_output_tokens"),
        usage=_responses_usage,
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
    "anthropic": Wire(
        schema=_anthropic_schema,
        system=lambda b: b.get("system"),
        temperature=lambda b: b.get("temperature"),
        max_tokens=lambda b: b.get("max_tokens"),
        usage=_anthropic_usage,
        key_env="ANTHROPIC_API_KEY",
        client_option=lambda url: {"base_url": url},
        request_options={"metadata": {"user_id": "user-7"}, "service_tier": "auto"},
    ),
    "ollama": Wire(
        schema=lambda b: b["format"] if isinstance(b.get("format"), dict) else None,
        system=lambda b: next(
            (m["content"] for m in b.get("messages", []) if m.get("role") == "system"), None
        ),
        temperature=lambda b: (b.get("options") or {}).get("temperature"),
        max_tokens=lambda b: (b.get("options") or {}).get("num_predict"),
        # Ollama reports prompt and output counts only (prompt_eval_count, eval_count).
        usage=lambda inp, out, cached, reasoning: Usage(inp, out, None, None, inp + out),
        key_env=None,
        client_option=lambda url: {"host": url},
        request_options={"keep_alive": "5m", "options": {"num_ctx": 8192}},
    ),
    "gemini": Wire(
        schema=lambda b: (b.get("generationConfig") or {}).get("responseJsonSchema"),
        system=_gemini_system,
        temperature=lambda b: (b.get("generationConfig") or {}).get("temperature"),
        max_tokens=lambda b: (b.get("generationConfig") or {}).get("maxOutputTokens"),
        usage=_gemini_usage,
        key_env="GEMINI_API_KEY",
        client_option=lambda url: {"base_url": f"{url}/gemini"},
        # Config fields that the SDK sends at the top level of the body, spelled as there.
        request_options={
            "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "OFF"}],
            "toolConfig": {"functionCallingConfig": {"mode": "NONE"}},
        },
    ),
}


# The providers whose reasoning is signed, and a model and settings that make each reason.
SIGNED = {
    "anthropic": ("anthropic:claude-sonnet-4-6", {"reasoning_effort": "high"}),
    "gemini": ("gemini:gemini-3-flash-preview", {"show_reasoning": True}),
    "openai": ("openai:gpt-5-mini", {"provider_options": {"openai": {"store": False}}}),
}
