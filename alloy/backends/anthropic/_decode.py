"""Decoding for the ``anthropic`` backend: the SDK's ``Message`` → an alloy ``Response``.

Pure, no I/O. The content blocks are kept in ``provider_data`` as the API sent them (tagged
``ProviderData("anthropic", blocks)``), so the assistant turn goes back exactly as received
(thinking blocks need their signatures).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from anthropic.types import Message
from anthropic.types import TextBlock
from anthropic.types import ThinkingBlock
from anthropic.types import ToolUseBlock

from ..._messages import NormalFinish
from ..._messages import ProviderData
from ..._messages import Response
from ..._messages import ToolCall
from ..._messages import finish_of
from ..._usage import Usage
from .._params import as_int
from ._encode import OUTPUT_TOOL
from ._models import NAME

__all__ = ["FINISH", "decode_response", "portable", "raw_counts", "refusal_text", "token_counts"]

FINISH: dict[str, NormalFinish | None] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    # The context window filled up before the reply ended: a token limit cut it too.
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "refusal",
    # A server-tool turn paused to be continued: not an end alloy has a word for.
    "pause_turn": None,
}
"""``stop_reason`` in alloy's words (``Response.finish``)."""


def decode_response(raw: Message) -> Response:
    """The alloy ``Response`` for a Messages API reply.

    A call of the output tool is the structured reply: its ``input`` becomes the text.
    """
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[ToolCall] = []
    output: str | None = None
    blocks: list[dict[str, Any]] = []
    for block in raw.content or ():
        data = block.to_dict(mode="json", warnings=False)
        blocks.append(data)
        if isinstance(block, TextBlock):
            texts.append(block.text or "")
        elif isinstance(block, ThinkingBlock):
            if block.thinking:
                thoughts.append(block.thinking)
        elif isinstance(block, ToolUseBlock):
            arguments = json.dumps(block.input)
            if block.name == OUTPUT_TOOL and output is None:
                output = arguments
            else:
                calls.append(ToolCall(block.id, block.name, arguments, ProviderData(NAME, data)))
    text = output if output is not None else "".join(texts)
    refusal = None
    if raw.stop_reason == "refusal":
        refusal = refusal_text(getattr(raw, "stop_details", None), text)
    return Response(
        text=text,
        tool_calls=tuple(calls),
        finish_reason=raw.stop_reason,
        usage=_usage(raw),
        model=raw.model or None,
        request_id=getattr(raw, "_request_id", None),
        refusal=refusal,
        reasoning="\n\n".join(thoughts) or None,
        provider_data=ProviderData(NAME, blocks),
        finish=finish_of(
            FINISH, raw.stop_reason, refusal=refusal is not None, tool_calls=bool(calls)
        ),
    )


def refusal_text(stop_details: object, text: str) -> str:
    """What the model said when it refused (``stop_reason: "refusal"``)."""
    explanation = getattr(stop_details, "explanation", None)
    if isinstance(explanation, str) and explanation:
        return explanation
    return text or "the model refused to answer"


_RAW_COUNTS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


def raw_counts(usage: object) -> dict[str, int | None]:
    """The provider's own counts in a ``usage`` object (a message's, or a stream event's)."""
    counts = {name: as_int(getattr(usage, name, None)) for name in _RAW_COUNTS}
    details = getattr(usage, "output_tokens_details", None)
    counts["output_tokens_details.thinking_tokens"] = as_int(
        getattr(details, "thinking_tokens", None)
    )
    return counts


def portable(counts: Mapping[str, int | None]) -> Usage:
    """alloy's ``Usage`` from Anthropic's counts: its ``input_tokens`` leaves out cache
    reads and writes, which alloy's includes; thinking is already part of the output."""
    base = counts.get("input_tokens")
    read = counts.get("cache_read_input_tokens")
    write = counts.get("cache_creation_input_tokens")
    total_input = None if base is None else base + (read or 0) + (write or 0)
    return Usage.of(
        total_input,
        counts.get("output_tokens"),
        cached_input_tokens=read,
        reasoning_tokens=counts.get("output_tokens_details.thinking_tokens"),
        cache_write_tokens=write,
        details=counts,
    )


def token_counts(usage: object) -> Usage:
    """The ``Usage`` of one ``usage`` object (see ``portable``)."""
    return portable(raw_counts(usage))


def _usage(raw: Message) -> Usage:
    return token_counts(getattr(raw, "usage", None))
