"""Running a command: choose the backend, build the request, talk, validate, re-ask.

The conversation is written once, as a generator that yields each ``Request`` and is sent
back the ``Response`` (no I/O inside). ``run_sync`` and ``run_async`` drive it with the
backend's ``complete`` or ``acomplete``, each wrapped in alloy's transport retries.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import lru_cache, partial
from typing import Any, Generic, TypeVar

from ._config import Config
from ._conversation import RunTools, conversation
from ._errors import CapabilityError, ConfigurationError
from ._messages import Message, OutputMode, OutputSchema, Request
from ._output import OutputSpec
from ._react import instructions
from ._result import Result
from ._retry import acall_with_retries, call_with_retries
from ._tools import ToolBox
from .backends import _registry as registry
from .backends.base import Backend, Capabilities

__all__ = ["Plan", "plan", "run_async", "run_sync"]

T = TypeVar("T")

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
    tools: ToolBox | None = None
    react: bool = False
    finalize_request: Request | None = None
    """The request of a finalize turn: the output schema enforced, no tools, no ReAct text."""


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


def plan(prompt: str, output: OutputSpec[T], cfg: Config, tools: ToolBox | None = None) -> Plan[T]:
    """Resolve settings into a ``Plan``; raises before any network call if it cannot work."""
    backend, provider, model, request_options = select_backend(cfg)
    caps = backend.capabilities(model)
    react = False
    if tools:
        mode = cfg.tool_mode or "auto"
        if mode == "native" and not caps.tools:
            raise CapabilityError(
                "native tool calling",
                provider,
                model,
                hint="Use tool_mode='react' (or 'auto') to run tools as ReAct text.",
            )
        react = mode == "react" or not caps.tools
    system = cfg.system
    mode = _output_mode(output.schema, caps)
    if output.schema is not None and (mode == "prompt" or caps.schema_in_prompt):
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
        output_mode=mode,
    )
    finalize = request
    if tools and react:
        schema = output.schema.schema if output.schema is not None else None
        taught = instructions(tools.specs(), schema)
        request = replace(
            request, system=f"{system}\n\n{taught}" if system else taught, output=None
        )
    elif tools:
        request = replace(request, tools=tools.specs())
    return Plan(backend, provider, caps, request, output, cfg, tools, react, finalize)


def _output_mode(schema: OutputSchema | None, caps: Capabilities) -> OutputMode:
    """How the reply's schema is enforced, decided once for the whole call."""
    mode = caps.structured_output
    if schema is not None and mode == "json_schema" and caps.loose_schema_output is not None:
        from ._schema import for_output

        if not for_output(schema, caps.schema_dialect).strict:
            mode = caps.loose_schema_output
    return mode


def _with_schema_instructions(system: str | None, output: OutputSpec[Any]) -> str:
    assert output.schema is not None
    rule = _schema_rule(output.schema)
    return f"{system}\n\n{rule}" if system else rule


@lru_cache(maxsize=256)
def _schema_rule(schema: OutputSchema) -> str:
    """The instruction that states ``schema``, built once per schema (not on every call)."""
    import json

    text = json.dumps(schema.schema, separators=(",", ":"))
    return f"Reply with only a JSON value that matches this JSON schema, no other text: {text}"


def run_sync(p: Plan[T]) -> Result[T]:
    """Run the conversation with the backend's blocking client; tools run in threads."""
    cfg, complete = p.config, p.backend.complete
    max_retries, max_wait = cfg.max_retries or 0, cfg.max_retry_wait or 0.0
    parallel = cfg.parallel_tools_max or 1
    flow = conversation(p)
    step = next(flow)
    while True:
        if isinstance(step, RunTools):
            assert p.tools is not None
            outcome: Any = p.tools.run(step.calls, parallel)
        else:
            outcome, _ = call_with_retries(partial(complete, step), max_retries, max_wait)
        try:
            step = flow.send(outcome)
        except StopIteration as done:
            result: Result[T] = done.value
            return result


async def run_async(p: Plan[T]) -> Result[T]:
    """Run the conversation with the backend's asyncio client; async tools are awaited."""
    cfg, acomplete = p.config, p.backend.acomplete
    max_retries, max_wait = cfg.max_retries or 0, cfg.max_retry_wait or 0.0
    parallel = cfg.parallel_tools_max or 1
    flow = conversation(p)
    step = next(flow)
    while True:
        if isinstance(step, RunTools):
            assert p.tools is not None
            outcome: Any = await p.tools.arun(step.calls, parallel)
        else:
            outcome, _ = await acall_with_retries(partial(acomplete, step), max_retries, max_wait)
        try:
            step = flow.send(outcome)
        except StopIteration as done:
            result: Result[T] = done.value
            return result
