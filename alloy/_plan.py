"""Planning one command call: which backend (wrapped how), what it can do, what to send.

Everything here happens before any network call, so a call that cannot work fails here:
the backend is selected (a forced test backend, the ``backend`` setting, or the model's
prefix), wrapped in alloy's retries, any configured wrappers and the response cache (or a
test's cassette), asked for its capabilities, and the ``Request`` is built with the output
strategy decided once (``output_mode``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import replace
from functools import lru_cache
from typing import Any
from typing import Generic
from typing import Protocol
from typing import TypeVar

from ._config import Config
from ._config import Wrapper
from ._context import Context
from ._errors import CapabilityError
from ._errors import ConfigurationError
from ._messages import MediaPart
from ._messages import Message
from ._messages import OutputMode
from ._messages import OutputSchema
from ._messages import Prompt
from ._messages import Request
from ._messages import TextPart
from ._messages import context_parts
from ._output import OutputSpec
from ._react import instructions
from ._replay import recorder
from ._tools import ToolBox
from .backends._registry import generation
from .backends._registry import get_backend
from .backends._registry import info
from .backends._registry import overridden
from .backends._registry import registered
from .backends._registry import resolve
from .backends._registry import split_options
from .backends.base import Backend
from .backends.base import Capabilities

__all__ = ["Plan", "Turn", "Wrapper", "plan", "select_backend"]

T = TypeVar("T")


class Turn(Protocol):
    """A call made as the next turn of a conversation (``alloy._chat``)."""

    def history_for(self, provider: str, model: str) -> tuple[Message, ...]:
        """The earlier turns, as this backend and model may be sent them."""
        ...

    def commit(self, result: Any, provider: str, model: str) -> None:
        """The call succeeded with ``result``: keep its turns."""
        ...


@dataclass(frozen=True, slots=True)
class Plan(Generic[T]):
    """One command call, resolved: which backend, what to send, how to read the reply."""

    backend: Backend
    """The backend to call: the provider's, inside retries and any configured wrappers."""
    provider: str
    capabilities: Capabilities
    request: Request
    output: OutputSpec[T]
    config: Config
    tools: ToolBox | None = None
    react: bool = False
    finalize_request: Request | None = None
    """The request of a finalize turn: the output schema enforced, no tools, no ReAct text."""
    uploads: tuple[MediaPart, ...] = ()
    """Media parts of the prompt to upload through the Files API before the first request."""
    pricing: str | None = None
    """Whose list prices the call is charged at (``Result.pricing``); see ``_pricing``."""
    name: str | None = None
    """The command's qualified name, for observers (``None`` for ``alloy.ask``)."""
    turn: Turn | None = None
    """The conversation this call is a turn of, told of its result."""


def select_backend(cfg: Config) -> tuple[Backend, str, str, Mapping[str, Any]]:
    """(backend, provider name, model name, request options) for these settings; the
    backend is the provider's own, unwrapped."""
    model_setting = cfg.model or ""
    forced = overridden()
    if forced is not None or cfg.backend:
        try:
            model = resolve(model_setting)[1]
        except ConfigurationError:
            model = model_setting
        provider = forced.name if forced is not None else str(cfg.backend)
    else:
        provider, model = resolve(model_setting)
    _check_provider_names(cfg.provider_options)
    options = (cfg.provider_options or {}).get(provider)
    if forced is not None:
        return forced, provider, model, options or {}
    client, request_options = split_options(info(provider), options)
    return get_backend(provider, client), provider, model, request_options


def _check_provider_names(options: Mapping[str, Any] | None) -> None:
    """A misspelled provider in ``provider_options`` would silently configure nothing."""
    unknown = sorted(set(options or ()) - set(registered()))
    if unknown:
        raise ConfigurationError(
            f"provider_options names {', '.join(repr(n) for n in unknown)}, which is not a "
            f"backend. Known: {', '.join(registered())}."
        )


def wrapped(backend: Backend, cfg: Config) -> Backend:
    """``backend`` inside the configured wrappers and alloy's transport retries.

    The order is fixed: stored replies outermost (a test's cassette, else the
    ``response_cache``: a reply found there makes no attempt at all), then retries, then the
    ``wrappers`` setting in the order given (the first one outermost), then the guard that
    makes unreadable replies provider errors (``backends/_guarded.py``), then the provider's
    backend. A wrapper thus sees every attempt, retried ones included. Wrapped backends are
    built once per backend and settings, and reused.
    """
    replies = recorder()
    if replies is None and cfg.response_cache:
        replies = cfg.response_cache.at(cfg.store)
    key = (
        id(backend),
        cfg.max_retries or 0,
        cfg.max_retry_wait or 0.0,
        cfg.wrappers or (),
        replies,
    )
    found = _wrapped.get(key)
    if found is not None and found[0] is backend:
        return found[1]
    from .backends._guarded import Guarded

    # Innermost, the guard: an unreadable reply is a provider error whichever backend (and
    # whichever user wrapper) is around it.
    outer: Backend = Guarded(backend)
    for factory in reversed(key[3]):
        outer = factory(outer)
    from .backends._retrying import Retrying

    # Also with max_retries=0: a timeout that ends the call then says so (one attempt).
    outer = Retrying(outer, key[1], key[2])
    if replies is not None:
        from .backends._replaying import Replaying

        outer = Replaying(outer, replies)
    if len(_wrapped) >= 256:
        _wrapped.clear()  # settings made on the fly (a wrapper per call) must not pile up
    _wrapped[key] = (backend, outer)
    return outer


# (id of the backend, retries, longest wait, wrappers, stored replies) -> (the backend, what
# wraps it); the backend is kept so that its id cannot be reused while the entry lives.
_wrapped: dict[tuple[int, int, float, tuple[Wrapper, ...], object], tuple[Backend, Backend]] = {}


def plan(
    prompt: str | Prompt,
    output: OutputSpec[T],
    cfg: Config,
    tools: ToolBox | None = None,
    *,
    name: str | None = None,
    turn: Turn | None = None,
) -> Plan[T]:
    """Resolve settings into a ``Plan``; raises before any network call if it cannot work.

    Everything but the prompt depends only on the settings, the output and the tools, so it
    is resolved once per (config, output, tools) and reused while the registry and the
    forced test backend stay the same (a command's config is one object for as long as its
    layers do not change).
    """
    forced, recording = overridden(), recorder()
    key = (id(cfg), id(output), id(tools), id(forced), id(recording), generation())
    found = _resolved.get(key)
    if found is None or found[0] is not cfg or found[1] is not output or found[2] is not tools:
        entry = _resolve(output, cfg, tools)
        if len(_resolved) >= 256:
            _resolved.clear()  # configs made per call (``ask``) must not pile up
        _resolved[key] = found = (cfg, output, tools, (forced, recording), entry)
    backend, provider, caps, template, finalize, react, pricing = found[4]
    history = () if turn is None else turn.history_for(provider, template.model)
    # In a conversation, the first turn carries the context: later ones send it as history.
    if template.context is not None and not history:
        # The context's documents open the first user turn, every layer in order; the
        # encoders know where they end (``len(all_documents)``) to mark cache breakpoints.
        prompt = _with_context(template.context, prompt)
    uploads: tuple[MediaPart, ...] = ()
    if not isinstance(prompt, str) and any(type(part) is MediaPart for part in prompt):
        from ._media_policy import check_media
        from ._uploads import find_uploader

        uploads = check_media(
            [part for part in prompt if isinstance(part, MediaPart)],
            caps,
            provider,
            template.model,
            upload=cfg.media_upload or "auto",
            inline_limit=cfg.media_inline_limit,
            can_upload=find_uploader(backend) is not None,
        )
    messages = (*history, Message.user(prompt))
    if template.cache:
        routing = cache_key(name, template)
        template = replace(template, cache_key=routing)
        finalize = finalize if finalize is None else replace(finalize, cache_key=routing)
    request = template.with_messages(messages)
    finalize_request = request if finalize is None else finalize.with_messages(messages)
    return Plan(
        backend,
        provider,
        caps,
        request,
        output,
        cfg,
        tools,
        react,
        finalize_request,
        uploads,
        pricing,
        None if name is None else name.removeprefix("command "),
        turn,
    )


def cache_key(name: str | None, request: Request) -> str:
    """A digest naming a command's cacheable prefix: the command (``name``; for ``ask``, the
    system text), its context and its output schema. Stable across calls and processes."""
    return _cache_key(
        name or request.system or "",
        request.context.key if request.context is not None else "",
        request.output.name if request.output is not None else "",
    )


@lru_cache(maxsize=256)
def _cache_key(name: str, context: str, output: str) -> str:
    import hashlib

    return hashlib.sha256(f"{name}\0{context}\0{output}".encode()).hexdigest()[:32]


def _with_context(context: Context, prompt: str | Prompt) -> Prompt:
    parts = tuple(part for layer in context.layers for part in context_parts(layer))
    return (*parts, *((TextPart(prompt),) if isinstance(prompt, str) else prompt))


_Entry = tuple[Backend, str, Capabilities, Request, "Request | None", bool, "str | None"]
# (ids of config, output, tools, forced backend, cassette; registry generation) -> (the
# objects behind those ids, so that the ids cannot be reused while the entry lives; the
# resolved plan).
_resolved: dict[tuple[int, int, int, int, int, int], tuple[Any, Any, Any, Any, _Entry]] = {}


def _resolve(output: OutputSpec[Any], cfg: Config, tools: ToolBox | None) -> _Entry:
    raw, provider, model, request_options = select_backend(cfg)
    backend = wrapped(raw, cfg)
    pricing = _pricing(raw, provider)
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
    if cfg.reasoning_effort is not None or cfg.reasoning_budget is not None or cfg.show_reasoning:
        from .backends._reasoning import check

        check(
            caps.reasoning,
            provider=provider,
            model=model,
            effort=cfg.reasoning_effort,
            budget=cfg.reasoning_budget,
            show=cfg.show_reasoning,
            temperature=cfg.temperature,
            max_tokens=cfg.max_tokens,
        )
    if cfg.cache is not None or cfg.cache_ttl is not None:
        from .backends._caching import check_cache
        from .backends._caching import context_breakpoints

        check_cache(
            caps.prompt_cache,
            provider=provider,
            model=model,
            cache=cfg.cache,
            ttl=cfg.cache_ttl,
            breakpoints=context_breakpoints(cfg.context),
        )
    system = cfg.system
    output_mode = _output_mode(output.schema, caps)
    if output.schema is not None and (output_mode == "prompt" or caps.schema_in_prompt):
        system = _with_schema_instructions(system, output)
    request = Request(
        model=model,
        messages=(),
        system=system,
        output=output.schema,
        temperature=cfg.temperature,
        max_tokens=cfg.max_tokens,
        timeout=cfg.timeout,
        options=request_options,
        output_mode=output_mode,
        reasoning_effort=cfg.reasoning_effort,
        reasoning_budget=cfg.reasoning_budget,
        show_reasoning=cfg.show_reasoning,
        cache=cfg.cache,
        cache_ttl=cfg.cache_ttl,
        context=cfg.context,
    )
    if not tools:
        return backend, provider, caps, request, None, react, pricing
    finalize = request
    if react:
        schema = output.schema.schema if output.schema is not None else None
        taught = instructions(tools.specs(), schema)
        request = replace(
            request, system=f"{system}\n\n{taught}" if system else taught, output=None
        )
    else:
        request = replace(request, tools=tools.specs())
    return backend, provider, caps, request, finalize, react, pricing


def _pricing(backend: Backend, provider: str) -> str | None:
    """Whose list prices the call is charged at: the provider's, unless the backend says
    otherwise through an optional ``pricing()`` (``openai-chat`` answers ``None`` for a
    server that is not OpenAI's API). Asked of the provider's backend, inside any wrappers
    a forced test backend came in."""
    from ._inner import inner_with

    answering = inner_with(backend, "pricing")
    if answering is None:
        return provider
    found = answering.pricing()
    return found if isinstance(found, str) else None


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
