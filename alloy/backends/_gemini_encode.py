"""Encoding for the ``gemini`` backend: alloy ``Request`` → ``generate_content`` arguments.

Pure functions (no I/O). Also the per-model data the encoding depends on: what each model
family can do (``ModelProfile``), looked up by name prefix.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import pydantic
from google.genai import types

from .._errors import CapabilityError, ConfigurationError
from .._messages import Message, Request, TextPart, ToolCall, ToolResult, ToolSpec
from .._schema import for_output, for_tool
from .base import Capabilities

__all__ = [
    "CAPABILITIES",
    "CAPABILITY_TABLE",
    "GEMMA",
    "ModelProfile",
    "NAME",
    "encode_request",
    "profile",
]

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
    }
)
"""``GenerateContentConfig`` fields alloy sets (the backend also refuses their camelCase
spellings), plus the typed settings' own names for a clearer message."""

NAME = "gemini"

CAPABILITIES = Capabilities(
    structured_output="json_schema",
    schema_dialect="gemini",
    tools=True,
    parallel_tools=True,
    tool_error_flag=True,
    streaming=True,
)
"""Gemini models: native JSON-schema output and native parallel function calling. A failed
tool's result is sent as ``{"error": ...}`` instead of ``{"output": ...}``, the convention
Gemini's function-calling documentation sets."""


@dataclass(frozen=True, slots=True)
class ModelProfile:
    """What one family of models served by the Gemini API can do.

    Attributes:
        capabilities: what the command layer may ask of the model.
        system_instruction: the model takes ``system_instruction``; if not, the system text
            goes first in the first user turn.
        schema_with_tools: the model takes a response schema and function declarations in
            one request. Gemini 2.x answers 400 ("Function calling with a response mime
            type: 'application/json' is unsupported"), so on tool turns the schema is left
            out and the turn without tools that ends the command enforces it.
    """

    capabilities: Capabilities = CAPABILITIES
    system_instruction: bool = True
    schema_with_tools: bool = False


GEMMA = Capabilities(
    structured_output="prompt",
    schema_dialect="gemini",
    tools=False,
    parallel_tools=False,
    tool_error_flag=False,
    streaming=True,
)
"""Gemma served by the Gemini API rejects JSON mode, function calling and system
instructions ("... is not enabled for models/gemma-3-27b-it"): schema by instructions,
tools through ReAct."""

# By name prefix, first match wins; ``models/`` is stripped first, as the SDK does.
_PROFILES: tuple[tuple[str, ModelProfile], ...] = (
    ("gemini-3", ModelProfile(schema_with_tools=True)),
    ("gemma-", ModelProfile(GEMMA, system_instruction=False)),
)
_DEFAULT = ModelProfile()

CAPABILITY_TABLE = (("`gemma-*`", GEMMA), ("all other models", CAPABILITIES))
"""Rows for the generated capability matrix (``alloy.backends._matrix``), as ``profile``
reads them; the first row matching a model applies."""

_SNAKE = re.compile(r"(?<=[a-z0-9])([A-Z])")  # a camelCase hump, for snake_case keys


def profile(model: str) -> ModelProfile:
    """The profile of ``model`` (``"gemini-2.5-flash"``, ``"models/gemma-3-27b-it"``...)."""
    name = model.removeprefix("models/")
    for prefix, found in _PROFILES:
        if name.startswith(prefix):
            return found
    return _DEFAULT


def encode_request(request: Request, *, config_dict: bool = False) -> dict[str, Any]:
    """The keyword arguments of ``models.generate_content`` for ``request`` (no I/O).

    ``config`` is a validated ``GenerateContentConfig``: a ``provider_options`` key it does
    not know raises ``ConfigurationError`` here, before any network call. With
    ``config_dict``, it is validated the same way but passed on as the dict it was validated
    from: the SDK's asyncio methods deep-copy a ``GenerateContentConfig`` on every call
    (about 0.4 ms of CPU with an output schema) where they validate a dict once.
    """
    model = profile(request.model)
    caps = model.capabilities
    if request.tools and not caps.tools:
        raise CapabilityError(
            "native tool calling", NAME, request.model, "Use tool_mode='react' for this model."
        )
    contents = _encode_messages(request.messages)
    # Automatic function calling stays off: alloy runs the tools, and with it off the SDK
    # also skips its AFC loop (which deep-copies the config on every call).
    config: dict[str, Any] = {"automatic_function_calling": {"disable": True}}
    if request.system:
        if model.system_instruction:
            config["system_instruction"] = request.system
        else:
            contents = _prepend_text(contents, request.system)
    if request.temperature is not None:
        config["temperature"] = request.temperature
    if request.max_tokens is not None:
        config["max_output_tokens"] = request.max_tokens
    native = caps.structured_output == "json_schema"
    if request.output is not None and native and (model.schema_with_tools or not request.tools):
        config["response_mime_type"] = "application/json"
        config["response_json_schema"] = for_output(request.output, caps.schema_dialect).schema
    if request.tools:
        declarations = [_encode_tool(tool, caps.schema_dialect) for tool in request.tools]
        config["tools"] = [{"function_declarations": declarations}]
    if request.timeout is not None:
        # HttpOptions.timeout is in milliseconds; 0 would mean "no timeout" to the SDK.
        config["http_options"] = {"timeout": max(1, round(request.timeout * 1000))}
    if request.options:
        config = _merge(config, _request_options(request.options))
    validated = _validated(config)
    return {
        "model": request.model,
        "contents": contents,
        "config": config if config_dict else validated,
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
            "thinking_config or safety_settings; client settings are api_key, base_url, "
            "api_version, headers, http_options."
        ) from None


def _request_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with snake_case keys: the SDK takes camelCase too, and both spellings of
    one field would otherwise reach the config, or slip past the reserved-name check."""

    snake = {_SNAKE.sub(r"_\1", key).lower(): value for key, value in options.items()}
    clash = sorted(set(snake) & RESERVED_OPTIONS)
    if clash:
        raise ConfigurationError(
            f"provider_options[{NAME!r}] sets {', '.join(clash)}, which alloy sets from its "
            "own settings. Use the typed setting (model, temperature, max_tokens, system, "
            "timeout, output type, tools) instead."
        )
    return snake


def _merge(params: dict[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` with ``options`` on top; nested mappings merge instead of replacing."""
    merged = dict(params)
    for key, value in options.items():
        current = merged.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            merged[key] = _merge(current, value)  # pyright: ignore[reportUnknownArgumentType]
        else:
            merged[key] = value
    return merged


def _encode_tool(tool: ToolSpec, dialect: str) -> dict[str, Any]:
    declaration: dict[str, Any] = {
        "name": tool.name,
        "parameters_json_schema": for_tool(tool, dialect).schema,
    }
    if tool.description:
        declaration["description"] = tool.description
    return declaration


def _encode_messages(messages: tuple[Message, ...]) -> list[dict[str, Any]]:
    contents: list[dict[str, Any]] = []
    # Gemini matches a function response to its call by name (and by id when the call had
    # one on the wire), so remember the wire id of every call made so far.
    wire_ids: dict[str, str | None] = {}
    for message in messages:
        if message.role == "assistant":
            contents.append(_encode_assistant(message, wire_ids))
        else:
            contents.append(_encode_user(message, wire_ids))
    return contents


def _encode_user(message: Message, wire_ids: Mapping[str, str | None]) -> dict[str, Any]:
    parts: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, ToolResult):
            key = "error" if part.is_error else "output"
            response: dict[str, Any] = {"name": part.name, "response": {key: part.content}}
            wire_id = wire_ids.get(part.call_id)
            if wire_id:
                response["id"] = wire_id
            parts.append({"function_response": response})
    # Function responses first: they must directly follow the turn that made the calls.
    parts += [{"text": p.text} for p in message.parts if isinstance(p, TextPart)]
    return {"role": "user", "parts": parts or [{"text": ""}]}


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
    if _field(call.provider_data, "function_call") is not None:
        return dict(call.provider_data)
    try:
        args: Any = json.loads(call.arguments) if call.arguments else {}
    except ValueError:
        args = None
    # Gemini takes arguments only as an object; a call alloy could not read is echoed
    # empty (its tool result already told the model what was wrong).
    return {"function_call": {"name": call.name, "args": args if isinstance(args, dict) else {}}}


def _wire_id(call: ToolCall) -> str | None:
    wire_id = _field(_field(call.provider_data, "function_call"), "id")
    return wire_id if isinstance(wire_id, str) else None


def _echoed_content(data: Any) -> dict[str, Any] | None:
    """The model turn stored by the decoder in ``provider_data``, if ``data`` is one."""
    content = _field(data, NAME)
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
