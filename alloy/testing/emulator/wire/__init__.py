"""Provider wire formats: pure functions from a ``Reply`` to a provider's HTTP answer.

Adding a provider means adding one module exposing ``WIRE = WireFormat(...)`` and listing it
in ``WIRES`` below; the core routes requests to it by the provider name.
"""

from __future__ import annotations

from . import anthropic, gemini, ollama, openai_chat, openai_responses
from ._base import EventStream, JsonBody, RenderContext, Rendered, WireFormat

__all__ = ["EventStream", "JsonBody", "RenderContext", "Rendered", "WIRES", "WireFormat"]

WIRES: dict[str, WireFormat] = {
    wire.provider: wire
    for wire in (
        openai_chat.WIRE,
        openai_responses.WIRE,
        anthropic.WIRE,
        gemini.WIRE,
        ollama.WIRE,
    )
}
"""Wire formats by provider name, as used in ``RecordedRequest.provider``."""
