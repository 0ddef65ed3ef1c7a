"""The chunks of a streamed ``/api/chat`` reply → alloy deltas (pure, no I/O).

With ``stream=True`` the SDK yields one ``ChatResponse`` per NDJSON line:

* ``message.content`` pieces → ``TextDelta``; ``message.thinking`` pieces (thinking models)
  → ``ReasoningDelta``;
* tool calls arrive whole, in a line of their own, with their arguments as an object: each
  becomes one ``ToolCallDelta`` with the id, name and arguments ``complete`` would give it
  (the id derives from the call's position in the turn, counted across lines);
* the line with ``done: true`` is the terminal event: it carries ``done_reason`` and the
  counts (``UsageDelta``, then ``Finish``). The SDK ends a stream cut before it silently, so
  only this line yields ``Finish``.

Like ``decode_response``, ``Finish.provider_data`` keeps the whole thinking text (tagged
``"ollama"``), to be sent back with the assistant turn; its pieces are joined once, at the end.
"""

from __future__ import annotations

from ollama import ChatResponse

from ..._deltas import Delta
from ..._deltas import Finish
from ..._deltas import ReasoningDelta
from ..._deltas import TextDelta
from ..._deltas import ToolCallDelta
from ..._deltas import UsageDelta
from ..._messages import lookup_finish
from ._decode import FINISH
from ._decode import counted
from ._decode import decode_call
from ._decode import thinking_data

__all__ = ["StreamDecoder"]


class StreamDecoder:
    """Decodes the chunks of one stream, in order (one instance per stream); satisfies
    ``alloy.backends.base.StreamDecoder``.

    >>> decoder = StreamDecoder()
    >>> decoder.feed(ChatResponse(message={"role": "assistant", "content": "Hi"}, done=False))
    [TextDelta(text='Hi')]
    >>> decoder.finished
    False
    """

    __slots__ = ("_calls", "_finished", "_thinking")

    def __init__(self) -> None:
        self._calls = 0
        self._thinking: list[str] = []
        self._finished = False

    @property
    def finished(self) -> bool:
        """Whether the ``done: true`` line has been decoded."""
        return self._finished

    def feed(self, chunk: ChatResponse) -> list[Delta]:
        """The deltas of ``chunk`` (none for an empty piece)."""
        message = chunk.message
        deltas: list[Delta] = []
        if message.thinking:
            self._thinking.append(message.thinking)
            deltas.append(ReasoningDelta(message.thinking))
        if message.content:
            deltas.append(TextDelta(message.content))
        for call in message.tool_calls or ():
            decoded = decode_call(self._calls, call)
            deltas.append(ToolCallDelta(self._calls, decoded.id, decoded.name, decoded.arguments))
            self._calls += 1
        if chunk.done:
            deltas.append(UsageDelta(counted(chunk.prompt_eval_count, chunk.eval_count)))
            thinking = thinking_data("".join(self._thinking))
            finish = lookup_finish(FINISH, chunk.done_reason)
            deltas.append(
                Finish(
                    chunk.done_reason, chunk.model or None, provider_data=thinking, finish=finish
                )
            )
            self._finished = True
        return deltas
