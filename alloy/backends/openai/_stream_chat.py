"""Chat Completions stream events → deltas (no I/O).

The wire (PROVIDERS.md 3.2): ``data: <chat.completion.chunk>`` per event, the choice's
``finish_reason`` in a late chunk, then (with ``stream_options.include_usage``) a chunk with
``choices: []`` and ``usage``, then ``data: [DONE]``. ``[DONE]`` is the terminal event: a
stream that ends without it was cut, whatever it carried before. A data object with an
``"error"`` key is an in-stream error.

Tool-call fragments are keyed by their ``index``; servers that omit it (Ollama's
OpenAI-compatible endpoint sends each call whole, without ``index``) are keyed by call id,
or by position: a fragment with neither starts a new call when it names a function, and
continues the last call otherwise. Like ``complete``, only the first choice is read, and the
arguments of the first output-tool call (``output_mode="tool_call"``) are the reply's text.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any
from typing import cast

from ..._deltas import Delta
from ..._deltas import Finish
from ..._deltas import ReasoningDelta
from ..._deltas import RefusalDelta
from ..._deltas import TextDelta
from ..._deltas import ToolCallDelta
from ..._deltas import UsageDelta
from ..._messages import lookup_finish
from ._errors import ErrorEvent
from ._shared import CHAT_FINISH
from ._shared import OUTPUT_TOOL
from ._shared import chat_usage
from ._shared import mapping
from ._shared import string
from ._sse import load_object

__all__ = ["StreamDecoder"]

_DONE = b"[DONE]"
# Not OpenAI's fields: vLLM, DeepSeek and OpenRouter stream reasoning under these names
# (read in this order, one per chunk, as ``complete`` reads the message).
_REASONING_FIELDS = ("reasoning_content", "reasoning")


class StreamDecoder:
    """The decoder of one Chat Completions stream (see the module docstring).

    >>> decoder = StreamDecoder("req-1")
    >>> decoder.feed(b'{"model": "m", "choices": [{"index": 0, "delta": {"content": "Hi"}}]}')
    [TextDelta(text='Hi')]
    >>> decoder.feed(b"[DONE]")
    [Finish(reason=None, model='m', request_id='req-1', provider_data=None)]
    """

    __slots__ = (
        "_by_id",
        "_finish_reason",
        "_last",
        "_model",
        "_next",
        "_output",
        "_request_id",
        "finished",
    )

    def __init__(self, request_id: str | None = None):
        self._request_id = request_id
        self._finish_reason: str | None = None
        self._model: str | None = None
        self._by_id: dict[str, int] = {}
        self._last: int | None = None
        self._next = 0
        self._output: int | None = None
        self.finished = False

    def feed(self, chunk: bytes) -> list[Delta]:
        """The deltas of one event's data; ``Finish`` for ``[DONE]``."""
        if not chunk.startswith(b"{") and chunk.strip() == _DONE:
            self.finished = True
            finish = lookup_finish(CHAT_FINISH, self._finish_reason)
            return [Finish(self._finish_reason, self._model, self._request_id, finish=finish)]
        return self.feed_event(load_object(chunk))

    def feed_event(self, chunk: Mapping[str, Any]) -> list[Delta]:
        """The deltas of one parsed ``chat.completion.chunk``."""
        error = chunk.get("error")
        if error:
            raise ErrorEvent(error)
        model = string(chunk.get("model"))
        if model is not None:
            self._model = model
        out: list[Delta] = []
        choices: Any = chunk.get("choices")
        if isinstance(choices, list):
            for item in cast("list[object]", choices):
                choice = mapping(item)
                if choice is not None and choice.get("index", 0) == 0:
                    self._choice(choice, out)
        usage = mapping(chunk.get("usage"))
        if usage is not None:
            out.append(UsageDelta(chat_usage(usage)))
        return out

    def _choice(self, choice: Mapping[str, Any], out: list[Delta]) -> None:
        delta = mapping(choice.get("delta"))
        if delta is not None:
            self._delta(delta, out)
        reason = string(choice.get("finish_reason"))
        if reason is not None:
            self._finish_reason = reason

    def _delta(self, delta: Mapping[str, Any], out: list[Delta]) -> None:
        for field in _REASONING_FIELDS:
            reasoning = string(delta.get(field))
            if reasoning is not None:
                out.append(ReasoningDelta(reasoning))
                break
        content = string(delta.get("content"))
        if content is not None:
            out.append(TextDelta(content))
        refusal = string(delta.get("refusal"))
        if refusal is not None:
            out.append(RefusalDelta(refusal))
        calls: Any = delta.get("tool_calls")
        if isinstance(calls, list):
            for item in cast("list[object]", calls):
                call = mapping(item)
                if call is not None:
                    self._call(call, out)

    def _call(self, call: Mapping[str, Any], out: list[Delta]) -> None:
        function = mapping(call.get("function"))
        if function is None:
            return  # a custom (free-form) tool call: alloy only declares function tools
        name = string(function.get("name"))
        call_id = string(call.get("id"))
        index: Any = call.get("index")
        if not isinstance(index, int) or isinstance(index, bool):
            index = self._position(call_id, name)
        elif call_id is not None:
            self._by_id.setdefault(call_id, index)
        self._next = max(self._next, index + 1)
        self._last = index
        arguments: Any = function.get("arguments")
        if not isinstance(arguments, str):
            # Some compatible servers send the arguments as an object, as Ollama's API does.
            arguments = "" if arguments is None else json.dumps(arguments)
        if name == OUTPUT_TOOL and self._output is None:
            self._output = index
        if index == self._output:
            if arguments:
                out.append(TextDelta(arguments))
            return
        out.append(ToolCallDelta(index, call_id, name, arguments))

    def _position(self, call_id: str | None, name: str | None) -> int:
        """The index of a fragment that has none: by call id, else by position."""
        if call_id is not None:
            index = self._by_id.get(call_id)
            if index is None:
                index = self._by_id[call_id] = self._next
            return index
        if name is not None or self._last is None:
            return self._next
        return self._last
