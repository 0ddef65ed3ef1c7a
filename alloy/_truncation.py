"""When the token limit cut a reply: what the call can still use, and the error when nothing.

A reply whose finish is ``length`` stopped at the token limit. What that costs the call
depends on what was cut:

- the final reply of a typed command: its value is incomplete, even when the text happens
  to parse, so ``TruncatedOutputError`` at once. A validation re-ask would send the same
  request under the same limit, to be cut again and billed again;
- the final reply of a text command (or one run for its side effects): partial text is
  still text, and is returned (``Result.finish == "length"`` says it was cut); no text at
  all (the model spent the whole budget reasoning) is the error;
- a turn of tool calls: generation stops at the cut, so a call cut in the middle has
  arguments that are not a whole JSON object. Such a turn is the error (reporting the
  broken call to the model as a tool error would be a blind re-ask under the same limit).
  When every call is whole, the cut came after them and nothing the call needs was lost:
  the tools run and the next turn starts with the whole budget again;
- a ReAct turn: the protocol is text, so only a final answer survives a cut (by the text
  command rule); a cut action or a step that no longer parses is the error.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING
from typing import Any

from ._errors import TruncatedOutputError
from ._react import Action
from ._react import ReactFormatError
from ._react import parse_step

if TYPE_CHECKING:
    from ._messages import Request
    from ._messages import Response
    from ._plan import Plan

__all__ = ["check_cut"]


def check_cut(p: Plan[Any], request: Request, response: Response, tools_active: bool) -> None:
    """``TruncatedOutputError`` when the token limit cut what the call needs from
    ``response``, a reply whose finish is ``length`` (the rules are in the module
    docstring); nothing otherwise."""
    if tools_active and not p.react and response.tool_calls:
        if all(_whole(call.arguments) for call in response.tool_calls):
            return
    else:
        text = _react_answer(response.text) if tools_active and p.react else response.text
        if text is not None and text.strip() and p.output.kind != "json":
            return
    usage = response.usage
    raise TruncatedOutputError(
        request.max_tokens,
        usage.reasoning_tokens,
        usage.output_tokens,
        response.text,
        response.finish_reason,
    )


def _whole(arguments: str) -> bool:
    """Whether a call's arguments are a whole JSON object (a cut leaves them unclosed)."""
    try:
        return isinstance(json.loads(arguments), dict)
    except (ValueError, RecursionError):
        return False


def _react_answer(text: str) -> str | None:
    """The final answer in a cut ReAct reply; ``None`` when the cut left an action or a step
    that does not parse."""
    try:
        step = parse_step(text)
    except ReactFormatError:
        return None
    return None if isinstance(step, Action) else step.text
