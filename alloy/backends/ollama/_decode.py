"""The SDK's ``ChatResponse`` → alloy ``Response`` (pure, no I/O).

* Text is ``message.content``; thinking models' reasoning (``message.thinking``) becomes
  ``Response.reasoning`` and is kept in ``provider_data`` (``ProviderData("ollama",
  {"thinking": text})``) to be sent back with the assistant turn.
* Tool calls arrive with their arguments as an object (serialised here with ``json.dumps``)
  and without ids, so each gets a stable id derived from its position, name and arguments:
  the same reply always decodes to the same ids, and different calls get different ones.
* Usage is Ollama's raw counts: ``prompt_eval_count`` (input; absent when the whole prompt
  came from Ollama's cache) and ``eval_count`` (output). Ollama reports no cached or
  reasoning counts, so those are ``None``.
* ``finish_reason`` is ``done_reason`` as sent (``stop``, ``length``, ``load``...), and
  ``finish`` the same in alloy's words (``FINISH``).

Streamed replies are decoded in ``_stream``, with the same rules.
"""

from __future__ import annotations

import hashlib
import json

from ollama import ChatResponse
from ollama import Message

from ..._messages import NormalFinish
from ..._messages import ProviderData
from ..._messages import Response
from ..._messages import ToolCall
from ..._messages import finish_of
from ..._usage import Usage
from ._models import NAME

__all__ = ["FINISH", "counted", "decode_call", "decode_response", "thinking_data"]

FINISH: dict[str, NormalFinish | None] = {
    "stop": "stop",
    "length": "length",
    # A model loaded or unloaded by a request without messages: nothing was generated.
    "load": None,
    "unload": None,
}
"""``done_reason`` in alloy's words (``Response.finish``). Ollama has no word for tool calls:
a turn of calls says ``stop``, and ``finish`` says ``tool_calls``."""


def decode_response(raw: ChatResponse) -> Response:
    """The alloy ``Response`` for one non-streamed ``/api/chat`` reply."""
    message = raw.message
    thinking = message.thinking or None
    calls = tuple(decode_call(i, call) for i, call in enumerate(message.tool_calls or ()))
    return Response(
        text=message.content or "",
        tool_calls=calls,
        finish_reason=raw.done_reason,
        usage=counted(raw.prompt_eval_count, raw.eval_count),
        model=raw.model or None,
        reasoning=thinking,
        provider_data=thinking_data(thinking),
        finish=finish_of(FINISH, raw.done_reason, refusal=False, tool_calls=bool(calls)),
    )


def thinking_data(thinking: str | None) -> ProviderData | None:
    """The provider data of a turn with ``thinking``, to send it back; none without."""
    return ProviderData(NAME, {"thinking": thinking}) if thinking else None


def decode_call(index: int, call: Message.ToolCall) -> ToolCall:
    """The tool call at ``index`` in the turn, with its id derived from what it says."""
    name = call.function.name
    arguments = json.dumps(dict(call.function.arguments), ensure_ascii=False)
    digest = hashlib.sha256(f"{index}\0{name}\0{arguments}".encode()).hexdigest()[:16]
    return ToolCall(f"call_{index}_{digest}", name, arguments)


def counted(prompt_eval_count: int | None, eval_count: int | None) -> Usage:
    """alloy's ``Usage`` from Ollama's counts (no cache or reasoning counts on its wire)."""
    return Usage.of(
        prompt_eval_count,
        eval_count,
        details={"prompt_eval_count": prompt_eval_count, "eval_count": eval_count},
    )
