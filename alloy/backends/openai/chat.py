"""The ``openai-chat`` backend: Chat Completions through the official ``openai`` SDK.

For OpenAI itself and for any OpenAI-compatible server (vLLM, llama.cpp, LM Studio, Ollama,
OpenRouter) reached with ``base_url``. Such servers omit many fields of OpenAI's reply
(usage details, tool call ids, even usage), so decoding treats every field as optional.

The token limit is sent as ``max_completion_tokens``, OpenAI's current name and the only one
its reasoning models accept. A server that only knows the older ``max_tokens`` can be given
it with ``provider_options={"openai-chat": {"extra_body": {"max_tokens": 500}}}``
(``max_tokens`` itself is reserved there because alloy sets the limit from its own setting).

The wire has no item ids or signatures to echo, so nothing is kept in ``provider_data``: an
assistant turn is always sent back from its parts.

A user turn with media is a content list (``text``, ``image_url``, ``input_audio``,
``file``) in the order of its parts; a text-only turn stays a plain string. Tool messages
take text only, so a tool result holding media is refused (``CapabilityError``) rather than
sent without it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any
from typing import ClassVar
from urllib.parse import urlsplit

from openai.types.chat import ChatCompletion

from ..._errors import CapabilityError
from ..._messages import MediaPart
from ..._messages import Message
from ..._messages import Request
from ..._messages import Response
from ..._messages import TextPart
from ..._messages import ToolCall
from ..._messages import ToolResult
from ..._messages import finish_of
from .._parts import system_of
from .._reasoning import ReasoningRow
from ..base import ModelProfile
from ._media import chat_part
from ._models import CHAT_PROFILES
from ._models import CHAT_REASONING
from ._shared import CHAT_FINISH
from ._shared import OUTPUT_TOOL
from ._shared import Api
from ._shared import OpenAIBase
from ._shared import chat_usage
from ._shared import finish_params
from ._shared import function_definition
from ._shared import json_schema_format
from ._shared import output_tool
from ._stream_chat import StreamDecoder

__all__ = [
    "NAME",
    "RESERVED_OPTIONS",
    "OpenAIChatBackend",
    "decode_response",
    "encode_request",
    "stream_params",
]

NAME = "openai-chat"
"""The backend's name."""

OPENAI_API = "https://api.openai.com/v1"
"""The SDK's base URL when neither ``base_url`` nor ``OPENAI_BASE_URL`` gives one."""

RESERVED_OPTIONS = frozenset(
    {
        "model",
        "messages",
        "temperature",
        "max_tokens",
        "max_completion_tokens",
        "tools",
        "stream",
        "timeout",
        "response_format",
        "reasoning_effort",
    }
)
"""``chat.completions.create`` arguments alloy sets from its typed settings."""


def encode_request(request: Request) -> dict[str, Any]:
    """The keyword arguments of ``chat.completions.create`` for ``request`` (no I/O)."""
    messages: list[dict[str, Any]] = []
    system = system_of(request)
    if system:
        messages.append({"role": "system", "content": system})
    for message in request.messages:
        messages.extend(_encode_message(message))
    params: dict[str, Any] = {"model": request.model, "messages": messages}
    if request.temperature is not None:
        params["temperature"] = request.temperature
    if request.max_tokens is not None:
        params["max_completion_tokens"] = request.max_tokens
    tools = [_encode_tool(function_definition(tool)) for tool in request.tools]
    if request.output is not None and request.output_mode == "json_schema":
        params["response_format"] = {
            "type": "json_schema",
            "json_schema": json_schema_format(request.output),
        }
    elif request.output is not None and request.output_mode == "tool_call":
        tools.append(_encode_tool(output_tool(request.output)))
        # With tools of its own the model may still call them first.
        forced = {"type": "function", "function": {"name": OUTPUT_TOOL}}
        params["tool_choice"] = "required" if request.tools else forced
    if tools:
        params["tools"] = tools
    if request.reasoning_effort is not None:
        params["reasoning_effort"] = request.reasoning_effort
    return finish_params(params, request)


def stream_params(request: Request) -> dict[str, Any]:
    """The arguments of a streamed call: the same request, with ``stream`` on and usage asked
    for (OpenAI sends it in a last chunk only when asked; servers that ignore the option send
    none). ``stream_options`` given in provider_options win."""
    params = encode_request(request)
    given: Any = params.get("stream_options")
    options: dict[str, Any] = dict(given) if isinstance(given, Mapping) else {}  # pyright: ignore[reportUnknownArgumentType]
    return {**params, "stream": True, "stream_options": {"include_usage": True, **options}}


def _encode_tool(definition: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", "function": definition}


def _encode_message(message: Message) -> list[dict[str, Any]]:
    text = "".join(p.text for p in message.parts if isinstance(p, TextPart))
    if message.role == "assistant":
        return [_encode_assistant(message, text)]
    # Tool messages must directly follow the assistant turn that made the calls, so they go
    # before any user text of the same turn.
    out: list[dict[str, Any]] = [
        {"role": "tool", "tool_call_id": p.call_id, "content": _tool_text(p)}
        for p in message.parts
        if isinstance(p, ToolResult)
    ]
    if any(type(p) is MediaPart for p in message.parts):
        # Text and media in their order. A text-only turn stays one string (below): the form
        # every OpenAI-compatible server takes, content lists being optional for them.
        content = [
            chat_part(p, NAME) for p in message.parts if isinstance(p, (TextPart, MediaPart))
        ]
        out.append({"role": "user", "content": content})
    elif text or not out:
        out.append({"role": "user", "content": text})
    return out


def _tool_text(result: ToolResult) -> str:
    """A tool message's content. Chat tool messages take text parts only: a tool result
    with media is refused rather than sent without its media."""
    if not isinstance(result.content, str):
        for part in result.content:
            if isinstance(part, MediaPart):
                raise CapabilityError(
                    f"{type(part.media).__name__} in a tool result ({result.name!r})",
                    NAME,
                    hint="Chat Completions tool messages take text only; the openai backend "
                    "(Responses) takes images and documents in tool outputs.",
                )
    return result.text


def _encode_assistant(message: Message, text: str) -> dict[str, Any]:
    calls = [
        {"id": p.id, "type": "function", "function": {"name": p.name, "arguments": p.arguments}}
        for p in message.parts
        if isinstance(p, ToolCall)
    ]
    encoded: dict[str, Any] = {"role": "assistant", "content": text or None}
    if calls:
        encoded["tool_calls"] = calls
    elif not text:
        encoded["content"] = ""
    return encoded


def decode_response(raw: ChatCompletion) -> Response:
    """The alloy ``Response`` for the SDK's parsed Chat Completions reply (no I/O).

    The first call of the output tool (``output_mode="tool_call"``) is the structured reply:
    its arguments become the text.
    """
    choice = raw.choices[0] if raw.choices else None
    message = choice.message if choice is not None else None
    calls: list[ToolCall] = []
    text = refusal = reasoning = output = None
    if message is not None:
        text, refusal = message.content, message.refusal
        for index, call in enumerate(message.tool_calls or ()):
            decoded = _decode_call(index, call)
            if decoded is not None and decoded.name == OUTPUT_TOOL and output is None:
                output = decoded.arguments
            elif decoded is not None:
                calls.append(decoded)
        # Not OpenAI's fields (so kept as pydantic extras): vLLM, DeepSeek and OpenRouter
        # return the reasoning text under one of these names.
        extra = message.model_extra or {}
        for field in ("reasoning_content", "reasoning"):
            value = extra.get(field)
            if isinstance(value, str) and value:
                reasoning = value
                break
    finish_reason = choice.finish_reason if choice is not None else None
    return Response(
        text=(output if output is not None else text) or "",
        tool_calls=tuple(calls),
        finish_reason=finish_reason,
        usage=chat_usage(raw.usage),
        model=raw.model or None,
        request_id=getattr(raw, "_request_id", None),
        refusal=refusal or None,
        reasoning=reasoning,
        finish=finish_of(CHAT_FINISH, finish_reason, refusal=bool(refusal), tool_calls=bool(calls)),
    )


def _decode_call(index: int, call: object) -> ToolCall | None:
    function = getattr(call, "function", None)
    name = getattr(function, "name", None)
    if not isinstance(name, str):
        return None  # a custom (free-form) tool call: alloy only declares function tools
    arguments: Any = getattr(function, "arguments", None)
    if not isinstance(arguments, str):
        # Some compatible servers send the arguments as an object, as Ollama's native API does.
        arguments = "" if arguments is None else json.dumps(arguments)
    call_id = getattr(call, "id", None)
    if not isinstance(call_id, str) or not call_id:
        call_id = f"call_{index}"  # the tool result must name the call it answers
    return ToolCall(call_id, name, arguments)


class OpenAIChatBackend(OpenAIBase):
    """Chat Completions (``client.chat.completions.create``), for OpenAI-compatible servers.

    ``client_options`` are the SDK client settings from
    ``provider_options={"openai-chat": {...}}``, typically ``base_url`` and ``api_key``;
    anything unset comes from the SDK's defaults (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``).
    A stream's ``Finish`` comes with ``data: [DONE]`` only (see ``_stream_chat``).

    >>> backend = OpenAIChatBackend({"base_url": "http://localhost:8000/v1", "api_key": "x"})
    >>> backend.capabilities("llama3.2").tools
    True
    """

    name = NAME
    api: ClassVar[Api[Any]] = Api(
        ChatCompletion,
        lambda client: client.chat.completions,
        encode_request,
        stream_params,
        decode_response,
        StreamDecoder,
    )
    key_hint: ClassVar[str] = (
        "set OPENAI_API_KEY or pass provider_options={'openai-chat': {'api_key': ...}} "
        "(a local server that checks no key accepts any placeholder)"
    )
    reserved_options: ClassVar[frozenset[str]] = RESERVED_OPTIONS
    profiles: ClassVar[tuple[ModelProfile, ...]] = CHAT_PROFILES
    reasoning_rows: ClassVar[tuple[ReasoningRow, ...]] = CHAT_REASONING

    def __init__(self, client_options: Mapping[str, Any] | None = None):
        super().__init__(client_options)
        self._base_url: object = (client_options or {}).get("base_url")

    def pricing(self) -> str | None:
        """This backend's name when it talks to OpenAI's API, whose list prices then apply
        (``Result.cost``); ``None`` for any other server. The URL is the one the SDK
        uses: the ``base_url`` option, else ``OPENAI_BASE_URL``, else OpenAI's."""
        url = str(self._base_url or os.environ.get("OPENAI_BASE_URL") or OPENAI_API)
        try:
            host = urlsplit(url).hostname or ""
        except ValueError:  # not a URL the SDK could send to either
            return None
        return self.name if host == "api.openai.com" or host.endswith(".api.openai.com") else None
