"""Responses API stream events → deltas (no I/O).

The wire (PROVIDERS.md 3.3): one typed event per server-sent event (the JSON ``type`` says
which; the ``event:`` line is cosmetic), from ``response.created`` to a terminal event that
carries the whole final response object.

Terminal events: ``response.completed``, and ``response.incomplete`` too. An incomplete
response is a finished one that stopped early (``max_output_tokens``, a content filter):
``complete`` returns it as a reply whose ``finish_reason`` is the reason, so the stream ends
the same way instead of raising. ``response.failed``, an ``error`` event, or a data object
with an ``"error"`` key are in-stream errors.

The final response object is decoded by the backend's own non-stream decoder, so usage, the
finish reason, the model and the output items kept as ``provider_data`` (echoed on the next
turn) are exactly what ``complete`` gives. The pieces before it are streamed as they come:
text, refusal, reasoning summaries (joined by a blank line, as ``complete`` joins them) and
function-call arguments keyed by ``output_index``. A piece a server never streamed is taken
from the final object, so a server that only sends the terminal event still works. The
arguments of the first output-tool call (``output_mode="tool_call"``) are the reply's text,
as ``complete`` reads them.
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from openai.types.responses import Response as SDKResponse
from openai.types.responses import ResponseFunctionToolCall

from ..._deltas import Delta
from ..._deltas import Finish
from ..._deltas import ReasoningDelta
from ..._deltas import RefusalDelta
from ..._deltas import TextDelta
from ..._deltas import ToolCallDelta
from ..._deltas import UsageDelta
from ..._messages import Response
from ._errors import ErrorEvent
from ._errors import MalformedChunk
from ._shared import OUTPUT_TOOL
from ._shared import mapping
from ._shared import string
from ._sse import load_object

__all__ = ["StreamDecoder"]

_TERMINAL = frozenset({"response.completed", "response.incomplete"})
_FAILED = frozenset({"error", "response.failed"})
_SUMMARY_BREAK = "\n\n"
# Summaries where asked for; the whole reasoning text from models that show it.
_REASONING = frozenset({"response.reasoning_summary_text.delta", "response.reasoning_text.delta"})


class StreamDecoder:
    """The decoder of one Responses API stream (see the module docstring).

    ``decode`` is the backend's decoder of a whole (non-stream) response, given rather than
    imported: the backend's module imports this one.
    """

    __slots__ = (
        "_argued",
        "_decode",
        "_last_call",
        "_output",
        "_reasoned",
        "_refused",
        "_request_id",
        "_summary",
        "_texted",
        "finished",
    )

    def __init__(self, decode: Callable[[SDKResponse], Response], request_id: str | None = None):
        self._decode = decode
        self._request_id = request_id
        self._texted = self._refused = self._reasoned = False
        self._argued: set[int] = set()
        self._last_call = 0
        self._output: int | None = None
        self._summary: tuple[Any, Any] | None = None
        self.finished = False

    def feed(self, chunk: bytes) -> list[Delta]:
        """The deltas of one event's data."""
        return self.feed_event(load_object(chunk))

    def feed_event(self, event: Mapping[str, Any]) -> list[Delta]:
        """The deltas of one parsed event (most frequent kinds first)."""
        kind: Any = event.get("type")
        if not isinstance(kind, str):
            kind = ""
        if kind == "response.output_text.delta":
            delta = string(event.get("delta"))
            if not delta:
                return []
            self._texted = True
            return [TextDelta(delta)]
        if kind == "response.function_call_arguments.delta":
            return self._arguments(event)
        if kind in _REASONING:
            return self._reasoning(event)
        if kind == "response.refusal.delta":
            delta = string(event.get("delta"))
            if not delta:
                return []
            self._refused = True
            return [RefusalDelta(delta)]
        if kind == "response.output_item.added":
            return self._item_added(event)
        if kind in _TERMINAL:
            return self._terminal(event)
        if kind in _FAILED or event.get("error"):
            raise ErrorEvent(_error_of(event))
        return []

    def _arguments(self, event: Mapping[str, Any]) -> list[Delta]:
        delta = string(event.get("delta"))
        if not delta:
            return []
        index = event.get("output_index")
        if not isinstance(index, int):
            index = self._last_call
        if index == self._output:
            self._texted = True
            return [TextDelta(delta)]
        self._argued.add(index)
        return [ToolCallDelta(index, arguments=delta)]

    def _reasoning(self, event: Mapping[str, Any]) -> list[Delta]:
        delta = string(event.get("delta"))
        if not delta:
            return []
        key = (event.get("output_index"), event.get("summary_index", event.get("content_index")))
        if key != self._summary:
            # A new summary part: ``complete`` joins the parts with a blank line.
            if self._summary is not None:
                delta = _SUMMARY_BREAK + delta
            self._summary = key
        self._reasoned = True
        return [ReasoningDelta(delta)]

    def _item_added(self, event: Mapping[str, Any]) -> list[Delta]:
        item = mapping(event.get("item"))
        index = event.get("output_index")
        if item is None or not isinstance(index, int) or item.get("type") != "function_call":
            return []
        self._last_call = index
        if item.get("name") == OUTPUT_TOOL and self._output is None:
            self._output = index
            return []
        return [ToolCallDelta(index, string(item.get("call_id")), string(item.get("name")))]

    def _terminal(self, event: Mapping[str, Any]) -> list[Delta]:
        raw = mapping(event.get("response"))
        if raw is None:
            raise MalformedChunk(f"a {event.get('type')} event without its response object")
        try:
            final = SDKResponse.model_construct(**raw)
            reply = self._decode(final)
        except (AttributeError, TypeError, ValueError) as exc:
            raise MalformedChunk(f"the final response object is not a response ({exc})") from exc
        out: list[Delta] = []
        if reply.text and not self._texted:
            out.append(TextDelta(reply.text))
        if reply.refusal and not self._refused:
            out.append(RefusalDelta(reply.refusal))
        if reply.reasoning and not self._reasoned:
            out.append(ReasoningDelta(reply.reasoning))
        for index, call in zip(_call_positions(final), reply.tool_calls, strict=False):
            arguments = "" if index in self._argued else call.arguments
            out.append(ToolCallDelta(index, call.id, call.name, arguments, call.provider_data))
        out.append(UsageDelta(reply.usage))
        out.append(
            Finish(
                reply.finish_reason,
                reply.model,
                self._request_id,
                reply.provider_data,
                finish=reply.finish,
            )
        )
        self.finished = True
        return out


def _call_positions(final: SDKResponse) -> list[int]:
    """The output index of each call the decoder makes: one per function_call item, in output
    order, but for the first output-tool call (the reply's text)."""
    positions: list[int] = []
    output_seen = False
    for index, item in enumerate(final.output or ()):
        if not isinstance(item, ResponseFunctionToolCall):
            continue
        if item.name == OUTPUT_TOOL and not output_seen:
            output_seen = True
        else:
            positions.append(index)
    return positions


def _error_of(event: Mapping[str, Any]) -> Any:
    """The error object of an ``error`` or ``response.failed`` event."""
    nested = event.get("error")
    if nested:
        return nested
    response = mapping(event.get("response"))
    if response is not None and response.get("error"):
        return response["error"]
    return event
