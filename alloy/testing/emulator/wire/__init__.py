"""Provider wire formats: pure functions from a ``Reply`` to a provider's HTTP answer.

Adding a provider means adding one module exposing ``WIRE = WireFormat(...)`` and listing it
in ``WIRES`` below; the core routes requests to it by the provider name.
"""

from __future__ import annotations

from . import anthropic
from . import gemini
from . import ollama
from . import openai_chat
from . import openai_responses
from ._base import EventStream
from ._base import JsonBody
from ._base import RenderContext
from ._base import Rendered
from ._base import WireFormat

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
