"""The envelope a command returns from ``.run()``: the value and how it was obtained."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Any
from typing import Generic
from typing import TypeVar

from ._usage import Usage

if TYPE_CHECKING:
    from ._cost import Cost
    from ._messages import Message
    from ._messages import NormalFinish

__all__ = ["Result", "ToolTrace"]

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ToolTrace:
    """One tool call the command made: what the model asked for and what it got back."""

    name: str
    arguments: Any
    result: Any = None
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Result(Generic[T]):
    """What ``cmd.run(...)`` returns.

    Attributes:
        value: the validated output.
        text: the model's raw final text.
        usage: tokens summed over every model call of the command (tool turns, re-asks).
        model: the model that answered, as the provider named it.
        provider: the backend name (``"openai"``, ``"fake"``...).
        finish_reason: the provider's own finish value for the last call.
        finish: the same in alloy's words: ``"stop"``, ``"length"`` (the token limit cut
            the text: a text command returns what came), ``"refusal"``,
            ``"content_filter"`` or ``"tool_calls"``; ``None`` when the provider's value
            has no such word.
        tool_calls: the tool calls made, in order.
        attempts: how many times the command asked for its value (1 + re-asks).
        http_attempts: HTTP requests made for the whole call, transport retries included
            (at least one per model call).
        duration_s: wall time of the whole command.
        request_id: the provider's id for the last request, when it sent one.
        messages: the transcript of the call: the prompt, every model turn (tool calls and
            re-asks included) and the final reply, in order; the system prompt is not in it
            (in a ``Conversation``, the earlier turns it was sent come first).
        turns: what a ``Conversation`` keeps of the call: the prompt, the tool turns and
            the final reply, without re-asks, format corrections or the finalize request.
        reasoning: the reasoning (thinking) text the provider returned, joined over every
            model call of the command (tool turns and re-asks included) by blank lines, or
            None. Ask for it with ``show_reasoning=True`` where the provider returns it only
            on request.
        pricing: the backend whose list prices apply to the call (``provider``), or
            ``None`` when the call went to a server without them (an OpenAI-compatible
            server behind ``openai-chat``); ``cost`` reads it.
        cached: every model call of the command was answered from a response cache or a
            cassette: no request was made, and ``cost`` is zero.
        cached_usage: the part of ``usage`` that stored replies account for (what those
            calls took when they were first made), or None when no reply was stored;
            ``cost`` leaves it out.
        batch: the reply came through the provider's batch API (``cmd.batch``): ``cost``
            is at batch rates.
    """

    value: T
    text: str
    usage: Usage
    model: str
    provider: str
    finish_reason: str | None
    tool_calls: tuple[ToolTrace, ...]
    attempts: int
    duration_s: float
    request_id: str | None = None
    messages: tuple[Message, ...] = ()
    reasoning: str | None = None
    http_attempts: int = 0
    finish: NormalFinish | None = None
    pricing: str | None = None
    turns: tuple[Message, ...] = ()
    cached: bool = False
    cached_usage: Usage | None = None
    batch: bool = False

    @property
    def cost(self) -> Cost | None:
        """What the call's tokens (``usage``, summed over every model call) cost at the
        provider's list prices, from the ``cost`` extra's price table; ``None`` when they
        have none (``cost_unknown_reason`` says why). Replies from a response cache or a
        cassette cost nothing: a ``cached`` result costs zero. Computed when read."""
        found = self._price()
        return None if isinstance(found, str) else found

    @property
    def cost_unknown_reason(self) -> str | None:
        """Why ``cost`` is ``None`` (the price table is not installed, the model is not in
        it, a local model...); ``None`` when the call has a cost."""
        found = self._price()
        return found if isinstance(found, str) else None

    def _price(self) -> Cost | str:
        from ._cost import price

        if self.cached:
            from ._cost import free

            return free(self.model)
        usage = self.usage if self.cached_usage is None else _less(self.usage, self.cached_usage)
        return price(usage, self.pricing, self.model, batch=self.batch)


def _less(usage: Usage, part: Usage) -> Usage:
    """``usage`` without ``part`` (counts ``part`` knows are taken off; details dropped)."""

    def off(total: int | None, taken: int | None) -> int | None:
        return total if total is None or taken is None else max(total - taken, 0)

    return Usage(
        off(usage.input_tokens, part.input_tokens),
        off(usage.output_tokens, part.output_tokens),
        off(usage.cached_input_tokens, part.cached_input_tokens),
        off(usage.reasoning_tokens, part.reasoning_tokens),
        off(usage.total_tokens, part.total_tokens),
        off(usage.cache_write_tokens, part.cache_write_tokens),
    )
