"""Running a command: choose the backend, build the request, talk, validate, re-ask.

The conversation is written once, as a generator that yields each ``Request`` and is sent
back the ``Response`` (no I/O inside). ``run_sync`` and ``run_async`` drive it with the
backend's ``complete`` or ``acomplete``, each wrapped in alloy's transport retries.
"""

from __future__ import annotations

import time
from collections.abc import Generator, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, Generic, TypeVar

from . import backends as registry
from ._config import Config
from ._errors import ConfigurationError, OutputValidationError
from ._messages import Message, Request, Response
from ._output import OutputSpec
from ._result import Result
from ._retry import acall_with_retries, call_with_retries
from ._usage import Usage
from .backends.base import Backend, Capabilities

__all__ = ["Plan", "plan", "run_async", "run_sync"]

T = TypeVar("T")
Flow = Generator[Request, Response, Result[T]]

_MAX_REPORTED_ERRORS = 5


@dataclass(frozen=True, slots=True)
class Plan(Generic[T]):
    """One command call, resolved: which backend, what to send, how to read the reply."""

    backend: Backend
    provider: str
    capabilities: Capabilities
    request: Request
    output: OutputSpec[T]
    config: Config


def select_backend(cfg: Config) -> tuple[Backend, str, str, Mapping[str, Any]]:
    """(backend, provider name, model name, request options) for these settings."""
    model_setting = cfg.model or ""
    forced = registry.overridden()
    if forced is not None or cfg.backend:
        try:
            model = registry.resolve(model_setting)[1]
        except ConfigurationError:
            model = model_setting
        provider = forced.name if forced is not None else str(cfg.backend)
    else:
        provider, model = registry.resolve(model_setting)
    options = (cfg.provider_options or {}).get(provider)
    if forced is not None:
        return forced, provider, model, options or {}
    client, request_options = registry.split_options(registry.info(provider), options)
    return registry.get_backend(provider, client), provider, model, request_options


def plan(prompt: str, output: OutputSpec[T], cfg: Config) -> Plan[T]:
    """Resolve settings into a ``Plan``; raises before any network call if it cannot work."""
    backend, provider, model, request_options = select_backend(cfg)
    caps = backend.capabilities(model)
    system = cfg.system
    if output.schema is not None and (caps.structured_output == "prompt" or caps.schema_in_prompt):
        system = _with_schema_instructions(system, output)
    request = Request(
        model=model,
        messages=(Message.user(prompt),),
        system=system,
        output=output.schema,
        temperature=cfg.temperature,
        max_tokens=cfg.max_tokens,
        timeout=cfg.timeout,
        options=request_options,
    )
    return Plan(backend, provider, caps, request, output, cfg)


def _with_schema_instructions(system: str | None, output: OutputSpec[Any]) -> str:
    import json

    assert output.schema is not None
    schema = json.dumps(output.schema.schema, separators=(",", ":"))
    rule = f"Reply with only a JSON value that matches this JSON schema, no other text: {schema}"
    return f"{system}\n\n{rule}" if system else rule


def correction(error: OutputValidationError) -> str:
    """The follow-up turn that tells the model what was wrong with its reply."""
    problems: list[str] = []
    for item in error.errors[:_MAX_REPORTED_ERRORS]:
        if isinstance(item, dict):
            loc = ".".join(str(p) for p in item.get("loc", ()))  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType,reportUnknownMemberType]
            problems.append(f"- {loc or 'value'}: {item.get('msg', item)}")  # pyright: ignore[reportUnknownMemberType]
        else:
            problems.append(f"- {item}")
    listed = "\n".join(problems) or "- the reply could not be read"
    return (
        f"Your previous reply is not a valid {error.expected}:\n{listed}\n"
        "Reply again with only the corrected value, as JSON that matches the schema."
    )


def _conversation(p: Plan[T]) -> Flow[T]:
    cfg = p.config
    started = time.perf_counter()
    retry_on = cfg.retry_on or (OutputValidationError,)
    retries_left = cfg.retry or 0
    messages = p.request.messages
    usage = Usage()
    attempts = 0
    while True:
        attempts += 1
        request = (
            p.request if messages is p.request.messages else replace(p.request, messages=messages)
        )
        response = yield request
        usage = usage + response.usage
        try:
            value = p.output.parse(response.text, response.refusal)
        except retry_on as error:
            if retries_left <= 0:
                if isinstance(error, OutputValidationError) and attempts > 1:
                    raise OutputValidationError(
                        error.expected, error.raw_text, error.errors, attempts
                    ) from None
                raise
            retries_left -= 1
            if isinstance(error, OutputValidationError):
                messages = (*messages, response.message(), Message.user(correction(error)))
            continue
        return Result(
            value=value,
            text=response.text,
            usage=usage,
            model=response.model or request.model,
            provider=p.provider,
            finish_reason=response.finish_reason,
            tool_calls=(),
            attempts=attempts,
            duration_s=time.perf_counter() - started,
            request_id=response.request_id,
        )


def run_sync(p: Plan[T]) -> Result[T]:
    """Run the conversation with the backend's blocking client."""
    cfg, complete = p.config, p.backend.complete
    max_retries, max_wait = cfg.max_retries or 0, cfg.max_retry_wait or 0.0
    flow = _conversation(p)
    request = next(flow)
    while True:
        response, _ = call_with_retries(partial(complete, request), max_retries, max_wait)
        try:
            request = flow.send(response)
        except StopIteration as done:
            result: Result[T] = done.value
            return result


async def run_async(p: Plan[T]) -> Result[T]:
    """Run the conversation with the backend's asyncio client."""
    cfg, acomplete = p.config, p.backend.acomplete
    max_retries, max_wait = cfg.max_retries or 0, cfg.max_retry_wait or 0.0
    flow = _conversation(p)
    request = next(flow)
    while True:
        response, _ = await acall_with_retries(partial(acomplete, request), max_retries, max_wait)
        try:
            request = flow.send(response)
        except StopIteration as done:
            result: Result[T] = done.value
            return result
