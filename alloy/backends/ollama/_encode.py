"""Request → keyword arguments of ``ollama.Client.chat`` (pure, no I/O).

Ollama's native ``/api/chat`` differs from the OpenAI shapes in ways that matter here:

* sampling settings live in ``options`` (``temperature``, ``num_predict`` for the token
  limit), merged with the model options a user passes as
  ``provider_options={"ollama": {"options": {...}}}``;
* tool calls carry their arguments as an object and have no id, and a tool result names the
  tool it answers (``tool_name``) instead of a call id;
* the SDK validates each tool into its ``Tool`` model, which keeps only ``type``, ``items``,
  ``description`` and ``enum`` of each parameter (the shape of the server's
  ``api.ToolProperty``): anything else about a parameter is moved into its description as
  compact JSON, so the model still reads it. alloy validates the arguments it gets back;
* thinking models want their reasoning back with the assistant turn (``thinking``): it is
  echoed only from provider data tagged ``"ollama"``; a turn another backend produced is
  sent from its neutral parts (text and tool calls) alone;
* images are not parts of the text but a list attached to the message (``images``), so they
  cannot sit between two pieces of text: the text is ``content``, and the images follow it
  in the order they came. They are passed as bytes, never as a string, because the SDK reads
  a string that names an existing file as that file. A text document goes into ``content``
  as text; planning has refused every other medium (audio, PDFs, URLs, file ids).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import cast

from ..._errors import ConfigurationError
from ..._messages import ContentPart
from ..._messages import MediaPart
from ..._messages import Message
from ..._messages import Request
from ..._messages import TextPart
from ..._messages import ToolCall
from ..._messages import ToolResult
from ..._messages import ToolSpec
from ..._messages import native
from ..._schema import for_output
from ..._schema import for_tool
from .._parts import as_text
from .._parts import system_of
from ..base import MediaSupport
from ._models import DIALECT
from ._models import NAME
from ._models import profile

__all__ = [
    "CLIENT_OPTIONS",
    "RESERVED_OPTIONS",
    "encode_request",
    "merge_options",
    "tool_parameters",
]

CLIENT_OPTIONS = frozenset({"host", "headers"})
"""``provider_options`` keys that configure the SDK client."""
RESERVED_OPTIONS = frozenset(
    {
        "model",
        "messages",
        "tools",
        "format",
        "stream",
        "system",
        "temperature",
        "max_tokens",
        "num_predict",
        "timeout",
        "think",
    }
)
"""Typed settings go in the request's model options (temperature, num_predict), or nowhere
on the wire (system is a message, timeout the client's); naming them here gives the "use
the typed setting" message instead of the SDK's TypeError."""

# Model options alloy sets from its typed settings; passing them in provider_options clashes.
_TYPED_OPTIONS = {"temperature": "temperature", "num_predict": "max_tokens"}
# What the SDK's ``Tool.Function.Parameters.Property`` model keeps of a parameter's schema.
_PROPERTY_KEYS = ("type", "items", "description", "enum")


def encode_request(request: Request, *, stream: bool = False) -> dict[str, Any]:
    """The keyword arguments of ``Client.chat`` for ``request``; a streamed request differs
    only in ``stream``.

    ``request.options`` (``provider_options["ollama"]`` minus the client keys) are other
    ``chat`` arguments such as ``keep_alive``; their ``options`` mapping is
    merged into the model options alloy sets.

    >>> encode_request(Request("llama3.2", (Message.user("hi"),), max_tokens=5))["options"]
    {'num_predict': 5}
    """
    messages: list[dict[str, Any]] = []
    system = system_of(request)
    if system:
        messages.append({"role": "system", "content": system})
    media = profile(request.model).capabilities.media
    for message in request.messages:
        messages.extend(_encode_message(message, media))
    params: dict[str, Any] = {"model": request.model, "messages": messages, "stream": stream}
    if request.tools:
        params["tools"] = [_encode_tool(tool) for tool in request.tools]
    if request.output is not None and request.output_mode != "prompt":
        # Ollama cannot force a tool call (and its capabilities never ask for one): any mode
        # that enforces the schema gets the grammar. With "prompt", planning already put the
        # schema into the system prompt.
        params["format"] = for_output(request.output, DIALECT).schema
    think = _think(request)
    if think is not None:
        params["think"] = think
    params.update(merge_options(request))
    return params


def _think(request: Request) -> bool | str | None:
    """``think`` for ``request``'s reasoning settings: ``False`` for ``reasoning_effort=
    "none"``, the level for a model that thinks at levels, ``True`` to show the thinking
    of a model that switches it on and off (planning has refused the rest)."""
    effort = request.reasoning_effort
    if effort == "none":
        return False
    if effort is not None:
        return effort
    return True if request.show_reasoning else None


def merge_options(request: Request) -> dict[str, Any]:
    """The ``chat`` arguments of ``request.options``, with ``temperature`` and
    ``max_tokens`` (as ``num_predict``) merged into the model ``options`` they may hold.

    >>> merge_options(Request("m", (), temperature=0.0, options={"options": {"num_ctx": 8}}))
    {'options': {'num_ctx': 8, 'temperature': 0.0}}
    """
    extra = dict(request.options)
    options = _model_options(extra.pop("options", None))
    if request.temperature is not None:
        options["temperature"] = request.temperature
    if request.max_tokens is not None:
        options["num_predict"] = request.max_tokens
    return {"options": options, **extra} if options else extra


def _model_options(given: object) -> dict[str, Any]:
    if given is None:
        return {}
    if not isinstance(given, Mapping):
        raise ConfigurationError(
            "provider_options['ollama']['options'] must be a dict of model options, "
            f"such as {{'num_ctx': 8192}}; got {type(given).__name__}."
        )
    options: dict[str, Any] = {str(k): v for k, v in given.items()}  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]
    clash = sorted(set(options) & set(_TYPED_OPTIONS))
    if clash:
        settings = ", ".join(f"{key} (use `{_TYPED_OPTIONS[key]}`)" for key in clash)
        raise ConfigurationError(
            f"provider_options['ollama']['options'] sets {settings}, which alloy sets from "
            "its own settings."
        )
    return options


def _encode_message(message: Message, media: MediaSupport) -> list[dict[str, Any]]:
    if message.role == "assistant":
        text = "".join(p.text for p in message.parts if isinstance(p, TextPart))
        encoded: dict[str, Any] = {"role": "assistant", "content": text}
        calls = [_encode_call(p) for p in message.parts if isinstance(p, ToolCall)]
        if calls:
            encoded["tool_calls"] = calls
        thinking = _thinking(native(message.provider_data, NAME))
        if thinking:
            # Thinking models (gpt-oss, qwen3...) expect their reasoning back in tool loops.
            encoded["thinking"] = thinking
        return [encoded]
    # Tool results must directly follow the assistant turn that made the calls, so they go
    # before any user text of the same turn.
    out: list[dict[str, Any]] = [
        _with_media(
            {"role": "tool", "tool_name": p.name},
            (TextPart(p.content),) if isinstance(p.content, str) else p.content,
            media,
        )
        for p in message.parts
        if isinstance(p, ToolResult)
    ]
    user = _with_media(
        {"role": "user"}, [p for p in message.parts if isinstance(p, (TextPart, MediaPart))], media
    )
    if user["content"] or "images" in user or not out:
        out.append(user)
    return out


def _with_media(
    message: dict[str, Any], parts: Sequence[ContentPart], media: MediaSupport
) -> dict[str, Any]:
    """``message`` with ``content`` (the text of ``parts``) and ``images`` (their images)."""
    texts: list[str] = []
    images: list[bytes] = []
    for part in parts:
        text = part.text if isinstance(part, TextPart) else as_text(part.media, media)
        if text is not None:
            texts.append(text)
        elif isinstance(part, MediaPart):
            images.append(part.media.data)
    message["content"] = "".join(texts)
    if images:
        message["images"] = images
    return message


def _encode_call(call: ToolCall) -> dict[str, Any]:
    try:
        arguments: Any = json.loads(call.arguments) if call.arguments else {}
    except ValueError:
        arguments = None
    if not isinstance(arguments, dict):
        # Ollama only takes an object. A call decoded from Ollama always has one; a call
        # replayed from another provider with broken arguments is sent without them (the
        # tool result that follows says what was wrong).
        arguments = {}
    return {"function": {"name": call.name, "arguments": arguments}}


def _thinking(data: object) -> str | None:
    """The thinking text kept with a turn this backend decoded (``{"thinking": text}``)."""
    if isinstance(data, Mapping):
        value = cast("Mapping[str, object]", data).get("thinking")
        if isinstance(value, str) and value:
            return value
    return None


def _encode_tool(tool: ToolSpec) -> dict[str, Any]:
    function: dict[str, Any] = {"name": tool.name}
    if tool.description:
        function["description"] = tool.description
    function["parameters"] = tool_parameters(for_tool(tool, DIALECT).schema)
    return {"type": "function", "function": function}


def tool_parameters(schema: Mapping[str, Any]) -> dict[str, Any]:
    """``schema`` in the shape the SDK's ``Tool`` model keeps (see the module docstring)."""
    properties: Mapping[str, Any] = schema.get("properties") or {}
    out: dict[str, Any] = {
        "type": "object",
        "properties": {name: _fit_property(prop) for name, prop in properties.items()},
    }
    required = schema.get("required")
    if required:
        out["required"] = list(required)
    if schema.get("$defs"):
        out["$defs"] = schema["$defs"]  # kept by the SDK; recursive types refer to it
    return out


def _fit_property(schema: Mapping[str, Any]) -> dict[str, Any]:
    rest = dict(schema)
    types = _union_types(rest.get("anyOf"))
    if "type" not in rest and types:
        # ``Optional[int]`` and other unions of plain types: the type list says it all.
        del rest["anyOf"]
        rest["type"] = types
    if "const" in rest and "enum" not in rest:
        rest["enum"] = [rest.pop("const")]
    rest.pop("title", None)  # the parameter's name already says it
    out = {key: rest.pop(key) for key in _PROPERTY_KEYS if key in rest}
    if rest:
        note = "JSON schema: " + json.dumps(rest, separators=(",", ":"), ensure_ascii=False)
        described = out.get("description")
        out["description"] = f"{described} ({note})" if described else note
    return out


def _union_types(union: object) -> list[object]:
    """The types of an ``anyOf`` whose members each give only a type, else ``[]``."""
    if not isinstance(union, list):
        return []
    types: list[object] = []
    for member in cast("list[object]", union):
        if not isinstance(member, dict) or list(cast("dict[str, object]", member)) != ["type"]:
            return []
        value = cast("dict[str, object]", member)["type"]
        types.extend(cast("list[object]", value) if isinstance(value, list) else [value])
    return types
