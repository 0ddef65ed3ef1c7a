"""Encoding for the ``gemini`` backend: alloy ``Request`` → ``generate_content`` arguments.

Pure functions (no I/O). What the encoding depends on per model (a system instruction, a
schema alongside tools) comes from the rows of ``_models``; how the output schema is
enforced comes from ``Request.output_mode``, decided by planning.

Media are parts of the turn, in its order: bytes and paths as ``inline_data`` (raw bytes,
which the SDK writes as base64), URLs and uploaded files as ``file_data`` with their URI.
A tool result's media go in its ``function_response.parts``, which google-genai 3.4 models;
its text stays the ``response``. Text documents Gemini has no media type for (JSON) go as
text.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from typing import cast

import pydantic
from google.genai import types

from ..._errors import CapabilityError
from ..._errors import ConfigurationError
from ..._media import Media
from ..._messages import MediaPart
from ..._messages import Message
from ..._messages import OutputSchema
from ..._messages import Request
from ..._messages import TextPart
from ..._messages import ToolCall
from ..._messages import ToolResult
from ..._messages import ToolSpec
from ..._messages import native
from ..._schema import for_output
from ..._schema import for_tool
from .._params import clash_error
from .._params import merge_options
from .._parts import as_text
from .._parts import context_size
from .._parts import system_of
from .._reasoning import budget_for
from ..base import MediaSupport
from ..base import ModelProfile
from ._models import NAME
from ._models import capabilities
from ._models import profile

__all__ = ["CLIENT_OPTIONS", "RESERVED_OPTIONS", "cache_config", "encode_request"]

CLIENT_OPTIONS = frozenset(
    {
        "api_key",
        "base_url",
        "api_version",
        "headers",
        "http_options",
        "vertexai",
        "project",
        "location",
        "credentials",
    }
)
"""``genai.Client`` arguments, and the ``HttpOptions`` fields that make sense per client."""
RESERVED_OPTIONS = frozenset(
    {
        "model",
        "contents",
        "system",
        "system_instruction",
        "temperature",
        "max_tokens",
        "max_output_tokens",
        "response_mime_type",
        "response_json_schema",
        "response_schema",
        "tools",
        "automatic_function_calling",
        "timeout",
        "thinking_config",
    }
)
"""``GenerateContentConfig`` fields alloy sets (the backend also refuses their camelCase
spellings), plus the typed settings' own names for a clearer message."""

_SNAKE = re.compile(r"(?<=[a-z0-9])([A-Z])")  # a camelCase hump, for snake_case keys

FILES_URI = "https://generativelanguage.googleapis.com/v1beta/files/"
"""Where the Gemini Files API keeps a file: ``from_file_id("gemini", "files/abc")`` (or
``"abc"``) is sent as this URI plus ``abc``, as ``files.upload`` reports it in ``uri``."""


def encode_request(request: Request, *, config_dict: bool = False) -> dict[str, Any]:
    """The keyword arguments of ``models.generate_content`` for ``request`` (no I/O).

    ``config`` is a validated ``GenerateContentConfig``: a ``provider_options`` key it does
    not know raises ``ConfigurationError`` here, before any network call. With
    ``config_dict``, it is validated the same way but passed on as the dict it was validated
    from: the SDK's asyncio methods deep-copy a ``GenerateContentConfig`` on every call
    (about 0.4 ms of CPU with an output schema) where they validate a dict once.
    """
    model = profile(request.model)
    dialect = model.capabilities.schema_dialect
    cached = request.cached_content
    messages = _without_context(request.messages, context_size(request)) if cached else None
    contents = _encode_messages(messages or request.messages, model.capabilities.media)
    # Automatic function calling stays off: alloy runs the tools, and with it off the SDK
    # also skips its AFC loop (which deep-copies the config on every call).
    config: dict[str, Any] = {"automatic_function_calling": {"disable": True}}
    # With a cached content, the context, the system text and the tools are in the cache:
    # the API refuses a request that sends them again.
    system = None if cached else system_of(request)
    if cached:
        config["cached_content"] = cached
    if system:
        if model.system_prompt:
            config["system_instruction"] = system
        else:
            contents = _prepend_text(contents, system)
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.max_tokens is not None:
        config["max_output_tokens"] = request.max_tokens
    if request.output is not None:
        config.update(_output_config(request.output, request, model))
    thinking = thinking_config(request)
    if thinking:
        config["thinking_config"] = thinking
    if request.tools and not cached:
        config["tools"] = _encode_tools(request.tools, dialect)
    if request.timeout is not None:
        # HttpOptions.timeout is in milliseconds; 0 would mean "no timeout" to the SDK.
        config["http_options"] = {"timeout": max(1, round(request.timeout * 1000))}
    if request.options:
        options = _request_options(request.options)
        if cached:
            options.pop("tool_config", None)  # in the cache (``cache_config``)
        config = merge_options(config, options)
    validated = _validated(config)
    return {
        "model": request.model,
        "contents": contents,
        "config": config if config_dict else validated,
    }


def cache_config(request: Request) -> dict[str, Any]:
    """What a cached content for ``request`` holds, as ``CreateCachedContentConfig`` fields
    (no I/O): the context's documents as one user turn, encoded as ``encode_request``
    encodes them; the system text (the context's and the command's); the tools and a
    ``tool_config`` from ``provider_options``, which a request naming the cache leaves out.
    """
    model = profile(request.model)
    config: dict[str, Any] = {}
    size = context_size(request)
    first = request.messages[0] if request.messages else None
    contents: list[dict[str, Any]] = []
    if size and first is not None and first.role == "user":
        context = Message("user", first.parts[:size])
        contents = [_encode_user(context, {}, model.capabilities.media)]
    system = system_of(request)
    if system and model.system_prompt:
        config["system_instruction"] = system
    elif system:
        contents = _prepend_text(contents, system)
    if contents:
        config["contents"] = contents
    if request.tools:
        config["tools"] = _encode_tools(request.tools, model.capabilities.schema_dialect)
    tool_config = _request_options(request.options).get("tool_config")
    if tool_config is not None:
        config["tool_config"] = tool_config
    return config


def _without_context(messages: tuple[Message, ...], size: int) -> tuple[Message, ...]:
    """``messages`` without the context's parts, the first ``size`` of the first user turn."""
    if not size or not messages or messages[0].role != "user":
        return messages
    first = messages[0]
    return (Message("user", first.parts[size:], first.provider_data), *messages[1:])


def _encode_tools(tools: tuple[ToolSpec, ...], dialect: str) -> list[dict[str, Any]]:
    return [{"function_declarations": [_encode_tool(tool, dialect) for tool in tools]}]


def thinking_config(request: Request) -> dict[str, Any]:
    """``thinking_config`` for ``request``'s reasoning settings, as the model's row in
    ``REASONING`` spells them (planning has refused what it cannot take)."""
    config: dict[str, Any] = {}
    effort, budget = request.reasoning_effort, request.reasoning_budget
    support = capabilities(request.model).reasoning
    if support is not None and (effort is not None or budget is not None):
        if budget is not None:
            config["thinking_budget"] = budget
        elif effort == "none":
            config["thinking_budget"] = 0
        elif support.style == "budget" and effort is not None:
            config["thinking_budget"] = budget_for(support, effort)
        elif effort is not None:
            config["thinking_level"] = effort.upper()
    if support is not None and request.show_reasoning is not None:
        config["include_thoughts"] = request.show_reasoning
    return config


def _output_config(output: OutputSchema, request: Request, model: ModelProfile) -> dict[str, Any]:
    """The config fields that enforce ``output`` the way ``request.output_mode`` says."""
    if request.output_mode == "tool_call":
        raise CapabilityError(
            "structured output through a forced tool call",
            NAME,
            request.model,
            "Gemini models enforce output schemas natively (output_mode 'json_schema').",
        )
    if request.output_mode == "prompt":
        return {}  # planning already put the schema in the system prompt
    if request.tools and not model.schema_with_tools:
        # Gemini 2.x refuses a schema next to function declarations: the turn without
        # tools that ends the command enforces it.
        return {}
    return {
        "response_mime_type": "application/json",
        "response_json_schema": for_output(output, model.capabilities.schema_dialect).schema,
    }


def _validated(config: dict[str, Any]) -> types.GenerateContentConfig:
    try:
        return types.GenerateContentConfig.model_validate(config)
    except pydantic.ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'config'}: {error['msg']}"
            for error in exc.errors(include_url=False)
        )
        raise ConfigurationError(
            f"{NAME}: provider_options[{NAME!r}] does not fit GenerateContentConfig "
            f"({problems}). Request options are GenerateContentConfig fields, e.g. "
            "safety_settings or top_p; client settings are api_key, base_url, "
            "api_version, headers, http_options."
        ) from None


def _request_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with snake_case keys: the SDK takes camelCase too, and both spellings of
    one field would otherwise reach the config, or slip past the reserved-name check."""

    snake = {_SNAKE.sub(r"_\1", key).lower(): value for key, value in options.items()}
    clash = sorted(set(snake) & RESERVED_OPTIONS)
    if clash:
        raise clash_error(NAME, clash)
    return snake


def _encode_tool(tool: ToolSpec, dialect: str) -> dict[str, Any]:
    declaration: dict[str, Any] = {
        "name": tool.name,
        "parameters_json_schema": for_tool(tool, dialect).schema,
    }
    if tool.description:
        declaration["description"] = tool.description
    return declaration


def _encode_messages(messages: tuple[Message, ...], media: MediaSupport) -> list[dict[str, Any]]:
    contents: list[dict[str, Any]] = []
    # Gemini matches a function response to its call by name (and by id when the call had
    # one on the wire), so remember the wire id of every call made so far.
    wire_ids: dict[str, str | None] = {}
    for message in messages:
        if message.role == "assistant":
            contents.append(_encode_assistant(message, wire_ids))
        else:
            contents.append(_encode_user(message, wire_ids, media))
    return contents


def _encode_user(
    message: Message, wire_ids: Mapping[str, str | None], media: MediaSupport
) -> dict[str, Any]:
    parts: list[dict[str, Any]] = [
        {"function_response": _function_response(part, wire_ids, media)}
        for part in message.parts
        if isinstance(part, ToolResult)
    ]
    # Function responses first: they must directly follow the turn that made the calls.
    for part in message.parts:
        if isinstance(part, TextPart):
            parts.append({"text": part.text})
        elif isinstance(part, MediaPart):
            text = as_text(part.media, media)
            parts.append({"text": text} if text is not None else _media_part(part.media))
    return {"role": "user", "parts": parts or [{"text": ""}]}


def _function_response(
    result: ToolResult, wire_ids: Mapping[str, str | None], media: MediaSupport
) -> dict[str, Any]:
    texts: list[str] = []
    attached: list[dict[str, Any]] = []
    for part in (TextPart(result.content),) if isinstance(result.content, str) else result.content:
        text = part.text if isinstance(part, TextPart) else as_text(part.media, media)
        if text is not None:
            texts.append(text)
        elif isinstance(part, MediaPart):
            attached.append(_media_part(part.media))
    key = "error" if result.is_error else "output"
    response: dict[str, Any] = {"name": result.name, "response": {key: "".join(texts)}}
    wire_id = wire_ids.get(result.call_id)
    if wire_id:
        response["id"] = wire_id
    if attached:
        response["parts"] = attached
    return response


def _media_part(media: Media) -> dict[str, Any]:
    """A ``Part`` (or ``FunctionResponsePart``) of ``media``: the two share these fields."""
    if media.inline:
        # Raw bytes, as ``Blob.data`` is typed: the SDK writes them as base64 itself (in the
        # URL-safe alphabet, which the API reads), so alloy never encodes them twice.
        return {"inline_data": {"mime_type": media.media_type, "data": media.data}}
    return {"file_data": {"file_uri": _uri(media), "mime_type": media.media_type}}


def _uri(media: Media) -> str:
    if media.source == "url" and media.url is not None:
        return media.url
    file_id = media.file_id or ""
    return file_id if "://" in file_id else FILES_URI + file_id.removeprefix("files/")


def _encode_assistant(message: Message, wire_ids: dict[str, str | None]) -> dict[str, Any]:
    for part in message.parts:
        if isinstance(part, ToolCall):
            wire_ids[part.id] = _wire_id(part)
    echoed = _echoed_content(message.provider_data)
    if echoed is not None:
        # The turn exactly as the model sent it: thought parts and thought signatures
        # included, which Gemini needs back to continue its reasoning after tool calls.
        return echoed
    parts: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, TextPart):
            parts.append({"text": part.text})
        elif isinstance(part, ToolCall):
            parts.append(_encode_call(part))
    return {"role": "model", "parts": parts or [{"text": ""}]}


def _encode_call(call: ToolCall) -> dict[str, Any]:
    part = native(call.provider_data, NAME)
    if _field(part, "function_call") is not None:
        # The part as the model sent it, with its id and thought signature.
        return dict(cast("dict[str, Any]", part))
    try:
        args: Any = json.loads(call.arguments) if call.arguments else {}
    except ValueError:
        args = None
    # Gemini takes arguments only as an object; a call alloy could not read is echoed
    # empty (its tool result already told the model what was wrong).
    return {"function_call": {"name": call.name, "args": args if isinstance(args, dict) else {}}}


def _wire_id(call: ToolCall) -> str | None:
    wire_id = _field(_field(native(call.provider_data, NAME), "function_call"), "id")
    return wire_id if isinstance(wire_id, str) else None


def _echoed_content(data: object) -> dict[str, Any] | None:
    """The model turn the decoder kept in ``provider_data``, if it is this backend's."""
    content = native(data, NAME)
    if isinstance(content, dict) and isinstance(_field(content, "parts"), list):
        return cast("dict[str, Any]", content)
    return None


def _field(data: Any, key: str) -> Any:
    return cast("dict[str, Any]", data).get(key) if isinstance(data, dict) else None


def _prepend_text(contents: list[dict[str, Any]], text: str) -> list[dict[str, Any]]:
    if contents and contents[0]["role"] == "user":
        first = contents[0]
        return [{**first, "parts": [{"text": text}, *first["parts"]]}, *contents[1:]]
    return [{"role": "user", "parts": [{"text": text}]}, *contents]
