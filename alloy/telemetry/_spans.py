"""The tracing observer: one workflow span per command call, one chat span per model call,
one tool span per tool call.

Parenting is explicit: the chat and tool spans name the workflow span as their parent
(``context=``) instead of making it current, because a stream's generator yields between a
model call's start and its end, and a context attached in one step of a generator cannot be
detached safely in another. A tool span finds its command call on ``ToolUse.command``; it
*is* made current around the tool (start and end run in the tool's own thread or task), so
spans the tool makes, and commands it calls, nest under it. The workflow span's parent is
whatever span is current where the command is called.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import Span
from opentelemetry.trace import SpanKind
from opentelemetry.trace import Status
from opentelemetry.trace import StatusCode

import alloy.telemetry._semconv as semconv

from .._errors import AlloyError
from .._observe import CommandCall
from .._observe import ModelCall
from .._observe import Observer
from .._observe import ToolUse
from .._redact import mask_urls
from . import _content

if TYPE_CHECKING:
    from .._messages import Request
    from .._messages import Response
    from .._result import Result
    from .._result import ToolTrace
    from .._usage import Usage

__all__ = ["Tracing"]

_SCOPE = "alloy"


class _Open:
    """A command call's workflow span and the chat spans not ended yet (a refusal in another
    observer's ``model_started`` ends a call before ``model_failed``)."""

    __slots__ = ("chats", "span")

    def __init__(self, span: Span):
        self.span = span
        self.chats: list[Span] = []


class Tracing(Observer):
    """Makes the spans of every command call with ``tracer_provider`` (the global one if
    ``None``); ``capture_content`` adds prompts, replies and tool arguments."""

    traces = True

    def __init__(self, tracer_provider: Any = None, *, capture_content: bool = False):
        from .. import __version__

        self.tracer = trace.get_tracer(
            _SCOPE, __version__, tracer_provider=tracer_provider, schema_url=_schema_url()
        )
        self.capture_content = capture_content

    # --- the command call ---------------------------------------------------------------

    def command_started(self, command: CommandCall) -> None:
        name = command.name or "alloy.ask"
        span = self.tracer.start_span(
            f"{semconv.INVOKE_WORKFLOW} {name}",
            kind=SpanKind.INTERNAL,
            attributes={
                semconv.OPERATION_NAME: semconv.INVOKE_WORKFLOW,
                semconv.WORKFLOW_NAME: name,
                semconv.PROVIDER_NAME: semconv.provider_name(command.provider),
                semconv.REQUEST_MODEL: command.model,
                semconv.REQUEST_STREAM: command.stream,
            },
        )
        command.state[self] = _Open(span)

    def command_ended(
        self, command: CommandCall, result: Result[Any] | None, error: BaseException | None
    ) -> None:
        found = command.state.pop(self, None)
        if not isinstance(found, _Open):
            return
        for chat in found.chats:  # stopped before any request: ended here, marked so
            _failed(chat, error or RuntimeError("the model call was stopped"))
        span = found.span
        if result is not None:
            span.set_attributes(
                {semconv.ATTEMPTS: result.attempts, semconv.TOOL_CALLS: len(result.tool_calls)}
            )
            if result.finish is not None:
                span.set_attribute(semconv.FINISH, result.finish)
            usage = result.usage
            if usage.input_tokens is not None:
                span.set_attribute(semconv.TOTAL_INPUT_TOKENS, usage.input_tokens)
            if usage.output_tokens is not None:
                span.set_attribute(semconv.TOTAL_OUTPUT_TOKENS, usage.output_tokens)
            if result.model:
                span.set_attribute(semconv.RESPONSE_MODEL, result.model)
        elif error is not None:
            _failed(span, error)
            return
        else:
            span.set_attribute(semconv.CLOSED_EARLY, True)
        span.end()

    # --- model calls --------------------------------------------------------------------

    def model_started(self, call: ModelCall) -> None:
        request = call.request
        command = call.command
        found = command.state.get(self)
        parent = trace.set_span_in_context(found.span) if isinstance(found, _Open) else None
        operation = semconv.GENERATE_CONTENT if command.provider == "gemini" else semconv.CHAT
        attributes = _request_attributes(request, operation, command, call.turn)
        attributes.update(_server(command))
        span = self.tracer.start_span(
            f"{operation} {request.model}",
            context=parent,
            kind=SpanKind.CLIENT,
            attributes=attributes,
        )
        if self.capture_content:
            _content_attributes(span, request)
        call.state[self] = span
        if isinstance(found, _Open):
            found.chats.append(span)

    def model_finished(self, call: ModelCall, response: Response) -> None:
        span = self._chat(call)
        if span is None:
            return
        span.set_attributes(_response_attributes(response))
        if self.capture_content:
            _set_content(span, semconv.OUTPUT_MESSAGES, _content.output_messages(response))
        span.end()

    def model_failed(self, call: ModelCall, error: BaseException) -> None:
        span = self._chat(call)
        if span is not None:
            _failed(span, error)

    def model_retried(self, call: ModelCall, error: BaseException, wait: float) -> None:
        span = call.state.get(self)
        if not isinstance(span, Span):
            return
        attempt = call.state.get((self, "retries"), 0) + 1
        call.state[(self, "retries")] = attempt
        event: dict[str, Any] = {
            semconv.RETRY_ATTEMPT: attempt,
            semconv.RETRY_WAIT: float(wait),
            semconv.ERROR_TYPE: type(error).__name__,
        }
        status = getattr(error, "status_code", None)
        if isinstance(status, int):
            event[semconv.HTTP_STATUS] = status
        span.add_event(semconv.RETRY_EVENT, event)

    def _chat(self, call: ModelCall) -> Span | None:
        span = call.state.pop(self, None)
        if not isinstance(span, Span):
            return None
        found = call.command.state.get(self)
        if isinstance(found, _Open) and span in found.chats:
            found.chats.remove(span)
        return span

    # --- tool calls ---------------------------------------------------------------------

    def tool_started(self, tool: ToolUse) -> None:
        found = None if tool.command is None else tool.command.state.get(self)
        parent = trace.set_span_in_context(found.span) if isinstance(found, _Open) else None
        name = tool.call.name
        span = self.tracer.start_span(
            f"{semconv.EXECUTE_TOOL} {name}",
            context=parent,
            kind=SpanKind.INTERNAL,
            attributes={
                semconv.OPERATION_NAME: semconv.EXECUTE_TOOL,
                semconv.TOOL_NAME: name,
                semconv.TOOL_TYPE: "function",
                semconv.TOOL_CALL_ID: tool.call.id,
            },
        )
        if self.capture_content:
            _set_content(
                span, semconv.TOOL_CALL_ARGUMENTS, _content.part_json(tool.call)["arguments"]
            )
        # Start and end run in one thread or task, with no yield between: safe to attach.
        token = otel_context.attach(trace.set_span_in_context(span))
        tool.state[self] = (span, token)

    def tool_finished(self, tool: ToolUse, trace: ToolTrace) -> None:
        found = tool.state.pop(self, None)
        if found is None:
            return
        span, token = found
        otel_context.detach(token)
        if trace.error is not None:
            span.set_attribute(semconv.ERROR_TYPE, "ToolError")
            span.set_status(Status(StatusCode.ERROR, mask_urls(trace.error)[:500]))
        elif self.capture_content:
            _set_content(span, semconv.TOOL_CALL_RESULT, trace.result)
        span.end()


def _schema_url() -> str:
    return f"https://opentelemetry.io/schemas/{semconv.SEMCONV_VERSION}"


def _request_attributes(
    request: Request, operation: str, command: CommandCall, turn: int
) -> dict[str, Any]:
    found: dict[str, Any] = {
        semconv.OPERATION_NAME: operation,
        semconv.PROVIDER_NAME: semconv.provider_name(command.provider),
        semconv.REQUEST_MODEL: request.model,
        semconv.REQUEST_STREAM: command.stream,
        semconv.OUTPUT_TYPE: "json" if request.output is not None else "text",
        semconv.TURN: turn,
    }
    if request.max_tokens is not None:
        found[semconv.REQUEST_MAX_TOKENS] = request.max_tokens
    if request.temperature is not None:
        found[semconv.REQUEST_TEMPERATURE] = request.temperature
    if request.reasoning_effort is not None:
        found[semconv.REQUEST_REASONING_LEVEL] = request.reasoning_effort
    return found


def _response_attributes(response: Response) -> dict[str, Any]:
    found: dict[str, Any] = {semconv.HTTP_ATTEMPTS: response.http_attempts}
    if response.model:
        found[semconv.RESPONSE_MODEL] = response.model
    if response.request_id:
        found[semconv.RESPONSE_ID] = response.request_id
    reason = response.finish or response.finish_reason
    if reason:
        found[semconv.RESPONSE_FINISH_REASONS] = (reason,)
    if response.cached:
        found[semconv.CACHED] = True
    else:
        found.update(usage_attributes(response.usage))
    return found


def usage_attributes(usage: Usage) -> dict[str, int]:
    """A model call's usage as ``gen_ai.usage.*`` (only the counts the provider reported)."""
    pairs = (
        (semconv.USAGE_INPUT_TOKENS, usage.input_tokens),
        (semconv.USAGE_OUTPUT_TOKENS, usage.output_tokens),
        (semconv.USAGE_CACHE_READ, usage.cached_input_tokens),
        (semconv.USAGE_CACHE_WRITE, usage.cache_write_tokens),
        (semconv.USAGE_REASONING, usage.reasoning_tokens),
    )
    return {name: value for name, value in pairs if value is not None}


def _content_attributes(span: Span, request: Request) -> None:
    _set_content(span, semconv.INPUT_MESSAGES, _content.input_messages(request))
    system = _content.system_instructions(request)
    if system is not None:
        _set_content(span, semconv.SYSTEM_INSTRUCTIONS, system)
    tools = _content.tool_definitions(request)
    if tools is not None:
        _set_content(span, semconv.TOOL_DEFINITIONS, tools)


def _set_content(span: Span, name: str, value: Any) -> None:
    text, cut = _content.capped(value)
    span.set_attribute(name, text)
    if cut:
        span.set_attribute(semconv.CONTENT_TRUNCATED, True)


def _failed(span: Span, error: BaseException) -> None:
    kind = type(error).__name__
    span.set_attribute(semconv.ERROR_TYPE, kind)
    span.set_status(Status(StatusCode.ERROR, f"{kind}: {mask_urls(str(error))[:500]}"))
    span.end()


def _server(command: CommandCall) -> dict[str, Any]:
    """``server.address`` and ``server.port`` of the backend's base URL (found once per
    command call); nothing for a backend that does not say where it sends."""
    key = ("alloy.telemetry", "server")
    found: dict[str, Any] | None = command.state.get(key)
    if found is None:
        from urllib.parse import urlsplit

        from .._inner import inner_with

        found = {}
        backend = inner_with(command.backend, "account")
        if backend is not None:
            try:
                base_url, _ = backend.account()
                parts = urlsplit(str(base_url))
                if parts.hostname:
                    found[semconv.SERVER_ADDRESS] = parts.hostname
                    port = parts.port or {"https": 443, "http": 80}.get(parts.scheme)
                    if port is not None:
                        found[semconv.SERVER_PORT] = port
            except (AlloyError, ValueError):
                found = {}  # no client (a missing key): the span says less, the call decides
        command.state[key] = found
    return dict(found)
