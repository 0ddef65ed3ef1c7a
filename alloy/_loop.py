"""The steps of one command call, written once, with no I/O.

A generator yields each step: a ``Request`` for the model (it is sent back the ``Response``)
or ``RunTools`` for a turn's tool calls (it is sent back the results). ``alloy._run`` drives it
synchronously or on an event loop, streamed or not. Everything a command does between its
prompt and its value lives here: tool turns and their limit, the ReAct text protocol for
models without native tools, the finalize turn, and validation re-asks.

Invariant: given the same plan, responses and tool results, the steps are the same. Nothing
here reads a clock for a decision, draws a random number or looks at global state, so a call
can be resumed by replaying what it received into a fresh ``steps(plan)``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator
from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from typing import TypeVar

from ._errors import OutputValidationError
from ._errors import ToolLoopLimitExceeded
from ._errors import problems
from ._messages import Message
from ._messages import Request
from ._messages import Response
from ._messages import ToolCall
from ._messages import ToolResult
from ._output import strip_fence
from ._react import Action
from ._react import ReactFormatError
from ._react import observation
from ._react import parse_step
from ._result import Result
from ._result import ToolTrace
from ._truncation import check_cut
from ._usage import Usage

if TYPE_CHECKING:
    from ._plan import Plan

__all__ = ["RunTools", "correction", "steps"]

T = TypeVar("T")

_MAX_REPORTED_ERRORS = 5
FINALIZE = (
    "Now give your final answer: only the value, as JSON that matches the required schema, "
    "without calling any tool."
)


@dataclass(frozen=True, slots=True)
class RunTools:
    """A step asking the driver to run these tool calls; it is sent back
    ``(results, traces)`` in call order."""

    calls: tuple[ToolCall, ...]


Step = Request | RunTools
Flow = Generator[Step, Any, Result[T]]


def correction(error: OutputValidationError, react: bool = False) -> str:
    """The follow-up turn that tells the model what was wrong with its reply."""
    found = problems(error.errors, _MAX_REPORTED_ERRORS)
    listed = "\n".join(
        f"- {msg}" if loc is None else f"- {loc or 'value'}: {msg}" for loc, msg in found
    )
    listed = listed or "- the reply could not be read"
    how = "'Final Answer:' followed by the corrected value" if react else "only the corrected value"
    return (
        f"Your previous reply is not a valid {error.expected}:\n{listed}\n"
        f"Reply again with {how}, as JSON that matches the schema."
    )


def _no_structured_output(text: str) -> bool:
    body = strip_fence(text).strip()
    if not body:
        return True
    try:
        json.loads(body)
    except (ValueError, RecursionError):
        return True
    return False


def _turn(messages: tuple[Message, ...], *more: Message) -> tuple[Message, ...]:
    return (*messages, *(m for m in more if m.parts))


def steps(p: Plan[T]) -> Flow[T]:
    """The steps of one command call; returns its ``Result``."""
    cfg = p.config
    started = time.perf_counter()
    retry_on = cfg.retry_on or (OutputValidationError,)
    retries_left = cfg.retry or 0
    max_turns = cfg.max_tool_turns if cfg.max_tool_turns is not None else 10
    request = p.request
    messages = request.messages
    # What a conversation keeps of the call: its prompt, tool turns and final reply; not
    # the re-asks, format corrections or the finalize request.
    kept = messages[-1:]
    usage: Usage | None = None  # summed over the model calls so far
    thoughts: list[str] = []  # the reasoning of each model call that returned some
    http_attempts = 0
    attempts = 1
    tool_turns = 0
    traces: list[ToolTrace] = []
    tools_active = p.tools is not None and bool(p.tools)
    finalized = False

    def limit(response: Response) -> None:
        nonlocal tool_turns
        tool_turns += 1
        if tool_turns > max_turns:
            raise ToolLoopLimitExceeded(max_turns, tool_turns, response.text)

    while True:
        if request.messages is not messages:
            request = request.with_messages(messages)
        response: Response = yield request
        usage = response.usage if usage is None else usage + response.usage
        http_attempts += response.http_attempts
        if response.reasoning:
            thoughts.append(response.reasoning)
        if response.finish == "length":  # cut by the token limit: never re-asked blindly
            check_cut(p, request, response, tools_active)
        text, refusal = response.text, response.refusal

        if tools_active and p.react:
            try:
                step = parse_step(text)
            except ReactFormatError as exc:
                limit(response)
                messages = _turn(
                    messages,
                    response.message(),
                    Message.user(f"Your reply did not follow the format: {exc}."),
                )
                continue
            if isinstance(step, Action):
                limit(response)
                call = ToolCall(f"react_{tool_turns}", step.name, step.arguments)
                results, new = yield RunTools((call,))
                traces.extend(new)
                reply, answer = response.message(), Message.user(observation(results[0].text))
                messages, kept = _turn(messages, reply, answer), _turn(kept, reply, answer)
                continue
            text = step.text
        elif tools_active and response.tool_calls:
            limit(response)
            results, new = yield RunTools(response.tool_calls)
            traces.extend(new)
            reply, answer = response.message(), Message("user", tuple[ToolResult, ...](results))
            messages, kept = _turn(messages, reply, answer), _turn(kept, reply, answer)
            continue

        if (
            tools_active
            and not finalized
            and p.output.kind == "json"
            and cfg.auto_finalize_missing_output is not False
            and not refusal
            and _no_structured_output(text)
        ):
            # The model finished its tool work without giving the value: ask for it once,
            # with the schema enforced and no tools (a separate turn from a re-ask).
            finalized = True
            tools_active = False
            request = p.finalize_request or p.request
            messages = _turn(messages, response.message(), Message.user(FINALIZE))
            continue

        try:
            value = p.output.parse(text, refusal)
        except retry_on as error:
            if retries_left <= 0:
                if isinstance(error, OutputValidationError) and attempts > 1:
                    raise OutputValidationError(
                        error.expected, error.raw_text, error.errors, attempts
                    ) from None
                raise
            retries_left -= 1
            attempts += 1
            if isinstance(error, OutputValidationError):
                react = tools_active and p.react
                messages = _turn(
                    messages, response.message(), Message.user(correction(error, react))
                )
            continue
        return Result(
            value=value,
            text=text,
            usage=usage,
            model=response.model or request.model,
            provider=p.provider,
            finish_reason=response.finish_reason,
            finish=response.finish,
            tool_calls=tuple(traces),
            attempts=attempts,
            duration_s=time.perf_counter() - started,
            request_id=response.request_id,
            messages=_turn(messages, response.message()),
            turns=_turn(kept, response.message()),
            reasoning="\n\n".join(thoughts) or None,
            http_attempts=http_attempts,
            pricing=p.pricing,
        )
