"""Streaming for the ``anthropic`` backend: raw Messages stream events → alloy deltas.

Pure, no I/O. ``StreamDecoder`` (an ``alloy.backends.base.StreamDecoder``) classifies the
events of ``messages.create(stream=True)`` one at a time, the way ``_decode`` reads a whole
``Message``, so the shared ``Assembler`` rebuilds the same ``Response``:

- ``text_delta`` → ``TextDelta``; ``thinking_delta`` → ``ReasoningDelta`` (thinking blocks
  joined by a blank line, as ``complete`` joins them);
- a ``tool_use`` block → ``ToolCallDelta`` keyed by its content-block index, its
  ``input_json_delta`` pieces as the argument fragments; the output tool's pieces are the
  reply's text instead. While the request offers the output tool, plain text is held back
  until the message ends, because ``complete`` drops it when the output tool is called;
- usage from ``message_start`` (input, cache reads) and ``message_delta`` (running totals);
  the stop reason from ``message_delta``; ``Finish`` only for ``message_stop``.

Each block is rebuilt as the API would have sent it whole (text, thinking with its
signature, tool input as an object) and the list goes in ``Finish.provider_data`` (tagged
``ProviderData("anthropic", blocks)``), so a streamed turn is echoed exactly like a complete
one. Every piece is appended once and joined once, when its block stops: the work is linear
in the size of the reply.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Literal

from anthropic.types import InputJSONDelta
from anthropic.types import RawContentBlockDeltaEvent
from anthropic.types import RawContentBlockStartEvent
from anthropic.types import RawContentBlockStopEvent
from anthropic.types import RawMessageDeltaEvent
from anthropic.types import RawMessageStartEvent
from anthropic.types import RawMessageStopEvent
from anthropic.types import SignatureDelta
from anthropic.types import TextDelta as SDKTextDelta
from anthropic.types import ThinkingDelta

from ..._deltas import Delta
from ..._deltas import Finish
from ..._deltas import ReasoningDelta
from ..._deltas import RefusalDelta
from ..._deltas import TextDelta
from ..._deltas import ToolCallDelta
from ..._deltas import UsageDelta
from ..._messages import ProviderData
from ..._messages import lookup_finish
from ._decode import FINISH
from ._decode import portable
from ._decode import raw_counts
from ._decode import refusal_text
from ._encode import OUTPUT_TOOL
from ._models import NAME

__all__ = ["StreamDecoder"]

_NOTHING: tuple[Delta, ...] = ()
_CALL_BLOCKS = frozenset({"tool_use"})
# Blocks whose ``input`` also streams as ``input_json_delta`` but that alloy does not run.
_INPUT_BLOCKS = frozenset({"server_tool_use", "mcp_tool_use"})

_Role = Literal["text", "thinking", "call", "output", "input", "other"]
"""What a block is to alloy: reply text, thinking, a tool call to run, the output tool's call,
a server-side call whose input streams but is not run, or anything else (kept, not read)."""


@dataclass
class _Block:
    """One content block being received: as ``content_block_start`` sent it, plus pieces."""

    data: dict[str, Any]
    role: _Role
    pieces: list[str] = field(default_factory=list[str])
    citations: list[Any] = field(default_factory=list[Any])
    signature: str | None = None
    has_input: bool = False
    done: bool = False


class StreamDecoder:
    """Turns one streamed reply's SDK events into alloy deltas (see the module docstring).

    ``output_tool``: the request offers the output tool, so plain text waits for the end of
    the message. ``request_id``: the ``request-id`` header of the stream's response.
    """

    def __init__(self, *, output_tool: bool = False, request_id: str | None = None):
        self._hold_text = output_tool
        self._request_id = request_id
        self._blocks: dict[int, _Block] = {}
        self._output: _Block | None = None
        self._thought = False
        self._model: str | None = None
        self._stop_reason: str | None = None
        self._finished = False
        self._counts: dict[str, int | None] = {}

    @property
    def finished(self) -> bool:
        """Whether ``message_stop`` has been decoded (and ``Finish`` yielded)."""
        return self._finished

    def feed(self, chunk: object) -> Sequence[Delta]:
        """The deltas for one SDK stream event, in order (often none)."""
        if isinstance(chunk, RawContentBlockDeltaEvent):
            return self._delta(chunk)
        if isinstance(chunk, RawContentBlockStartEvent):
            return self._start(chunk)
        if isinstance(chunk, RawContentBlockStopEvent):
            block = self._blocks.get(chunk.index)
            return self._stop(chunk.index, block) if block is not None else _NOTHING
        if isinstance(chunk, RawMessageStartEvent):
            self._model = chunk.message.model or None
            return [self._usage(chunk.message.usage)]
        if isinstance(chunk, RawMessageDeltaEvent):
            return self._message_delta(chunk)
        if isinstance(chunk, RawMessageStopEvent):
            return self._finish()
        return _NOTHING  # ping, and event types this SDK version does not know

    def _start(self, event: RawContentBlockStartEvent) -> Sequence[Delta]:
        data = event.content_block.to_dict(mode="json", warnings=False)
        kind = data.get("type")
        name = data.get("name")
        if kind in _CALL_BLOCKS and name == OUTPUT_TOOL and self._output is None:
            block = self._output = _Block(data, "output")
        elif kind in _CALL_BLOCKS:
            block = _Block(data, "call")
        elif kind in _INPUT_BLOCKS:
            block = _Block(data, "input")
        elif kind == "text":
            block = _Block(data, "text")
        elif kind == "thinking":
            block = _Block(data, "thinking")
        else:
            block = _Block(data, "other")
        self._blocks[event.index] = block
        if block.role == "call":
            call_id = data.get("id")
            return [
                ToolCallDelta(
                    event.index,
                    id=call_id if isinstance(call_id, str) else None,
                    name=name if isinstance(name, str) else None,
                )
            ]
        start = data.get(block.role)  # text or thinking a start event already carries
        if isinstance(start, str) and start:
            return self._piece(block, start)
        return _NOTHING

    def _delta(self, event: RawContentBlockDeltaEvent) -> Sequence[Delta]:
        block = self._blocks.get(event.index)
        if block is None:
            return _NOTHING
        delta = event.delta
        if isinstance(delta, SDKTextDelta):
            return self._piece(block, delta.text)
        if isinstance(delta, InputJSONDelta):
            piece = delta.partial_json
            if not piece:
                return _NOTHING
            block.pieces.append(piece)
            block.has_input = True
            if block.role == "call":
                return [ToolCallDelta(event.index, arguments=piece)]
            return [TextDelta(piece)] if block.role == "output" else _NOTHING
        if isinstance(delta, ThinkingDelta):
            return self._piece(block, delta.thinking)
        if isinstance(delta, SignatureDelta):
            block.signature = delta.signature
        else:  # citations_delta, or a delta type newer than this SDK (ignored)
            citation: Any = getattr(delta, "citation", None)
            if citation is not None:
                block.citations.append(citation.to_dict(mode="json", warnings=False))
        return _NOTHING

    def _piece(self, block: _Block, piece: str) -> Sequence[Delta]:
        """A piece of text or thinking for ``block``."""
        if not piece:
            return _NOTHING
        first = not block.pieces
        block.pieces.append(piece)
        if block.role == "thinking":
            if first and self._thought:
                piece = "\n\n" + piece  # ``complete`` joins thinking blocks with a blank line
            self._thought = True
            return [ReasoningDelta(piece)]
        if block.role != "text" or self._hold_text:
            return _NOTHING
        return [TextDelta(piece)]

    def _stop(self, index: int, block: _Block) -> Sequence[Delta]:
        """Complete ``block`` as the API would have sent it whole."""
        if block.done:
            return _NOTHING
        block.done = True
        data = block.data
        joined = "".join(block.pieces)
        if block.role in ("text", "thinking"):
            data[block.role] = joined
        if block.citations:
            data["citations"] = [*(data.get("citations") or ()), *block.citations]
        if block.signature is not None:
            data["signature"] = block.signature
        if block.role in ("call", "output", "input") and block.has_input:
            data["input"] = _object(joined)
        if block.role == "call":
            arguments = "" if block.has_input else "{}"
            return [
                ToolCallDelta(index, arguments=arguments, provider_data=ProviderData(NAME, data))
            ]
        if block.role == "output" and not block.has_input:
            return [TextDelta("{}")]  # a call without input: ``complete`` dumps ``{}``
        return _NOTHING

    def _usage(self, usage: object) -> UsageDelta:
        """The usage so far: each event reports some counts (``message_start`` the input and
        cache ones, ``message_delta`` running totals), so they are merged here before the
        input is summed with the cache counts."""
        self._counts.update({k: v for k, v in raw_counts(usage).items() if v is not None})
        return UsageDelta(portable(self._counts))

    def _message_delta(self, event: RawMessageDeltaEvent) -> Sequence[Delta]:
        deltas: list[Delta] = [self._usage(event.usage)]
        reason = event.delta.stop_reason
        if reason is not None:
            self._stop_reason = str(reason)
        if reason == "refusal":
            deltas.append(RefusalDelta(refusal_text(event.delta.stop_details, self._reply())))
        return deltas

    def _reply(self) -> str:
        """The reply text of the blocks received so far (``complete``'s ``text``)."""
        if self._output is not None:
            return "".join(self._output.pieces) or "{}"
        texts = (b for b in self._blocks.values() if b.role == "text")
        return "".join("".join(b.pieces) for b in texts)

    def _finish(self) -> Sequence[Delta]:
        deltas: list[Delta] = []
        blocks = sorted(self._blocks.items())
        for index, block in blocks:
            deltas += self._stop(index, block)  # any block the stream did not close
        if self._hold_text and self._output is None:
            held = self._reply()
            if held:
                deltas.append(TextDelta(held))
        provider_data = ProviderData(NAME, [block.data for _, block in blocks])
        finish = lookup_finish(FINISH, self._stop_reason)
        deltas.append(
            Finish(self._stop_reason, self._model, self._request_id, provider_data, finish=finish)
        )
        self._finished = True
        return deltas


def _object(text: str) -> dict[str, Any]:
    """The JSON object ``text`` holds, or ``{}`` (the API echoes only objects as input)."""
    try:
        value: Any = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}  # pyright: ignore[reportUnknownVariableType]
