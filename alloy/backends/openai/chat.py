"""The ``openai-chat`` backend: Chat Completions through the official ``openai`` SDK.

For OpenAI itself and for any OpenAI-compatible server (vLLM, llama.cpp, LM Studio, Ollama,
OpenRouter) reached with ``base_url``. Such servers omit many fields of OpenAI's reply
(usage details, tool call ids, even usage), so decoding treats every field as optional.

The token limit is sent as ``max_completion_tokens``, OpenAI's current name and the only one
its reasoning models accept. A server that only knows the older ``max_tokens`` can be given
it with ``provider_options={"openai-chat": {"extra_body": {"max_tokens": 500}}}``
(``max_tokens`` itself is reserved there because alloy sets the limit from its own setting).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, ClassVar, cast

from openai import APIResponse, AsyncAPIResponse
from openai.types.chat import ChatCompletion

from ..._deltas import Delta
from ..._messages import Message, Request, Response, TextPart, ToolCall, ToolResult, ToolSpec
from ..._usage import Usage
from ..base import Capabilities
from ._shared import (
    CAPABILITIES,
    CAPABILITY_TABLE,
    CLIENT_OPTIONS,
    OpenAIClients,
    count,
    finish_params,
    function_definition,
    json_schema_format,
)
from ._sse import areceive, receive
from ._stream_chat import ChatChunks

__all__ = ["CAPABILITY_TABLE", "OpenAIChatBackend"]

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
    }
)
"""``chat.completions.create`` arguments alloy sets from its typed settings."""

_NAME = "openai-chat"


class OpenAIChatBackend:
    """Chat Completions (``client.chat.completions.create``), for OpenAI-compatible servers.

    ``client_options`` are the SDK client settings from
    ``provider_options={"openai-chat": {...}}``, typically ``base_url`` and ``api_key``;
    anything unset comes from the SDK's defaults (``OPENAI_API_KEY``, ``OPENAI_BASE_URL``).

    >>> backend = OpenAIChatBackend({"base_url": "http://localhost:8000/v1", "api_key": "x"})
    >>> backend.capabilities("llama3.2").tools
    True
    """

    name = _NAME
    client_options: ClassVar[frozenset[str]] = CLIENT_OPTIONS
    reserved_options: ClassVar[frozenset[str]] = RESERVED_OPTIONS

    def __init__(self, client_options: Mapping[str, Any] | None = None):
        self._clients = OpenAIClients(
            _NAME,
            client_options or {},
            key_hint=(
                "set OPENAI_API_KEY or pass provider_options={'openai-chat': {'api_key': ...}} "
                "(a local server that checks no key accepts any placeholder)"
            ),
        )

    def capabilities(self, model: str) -> Capabilities:
        """The same for every model; a server without tools or JSON schema will say so."""
        return CAPABILITIES

    def close(self) -> None:
        """Close the SDK clients (the registry calls this when it drops the backend)."""
        self._clients.close()

    def complete(self, request: Request) -> Response:
        """One ``chat.completions.create`` call with the sync client."""
        params = _encode_request(request)
        client = self._clients.sync()
        # Typed as returning ``object``: with a ``dict[str, Any]`` of arguments the type
        # checkers cannot pick one of the SDK's stream/non-stream overloads.
        create = cast("Callable[..., object]", client.chat.completions.create)
        with self._clients.errors(request.timeout):
            raw = create(**params)
        return _decode_response(self._clients.expect(raw, ChatCompletion))

    async def acomplete(self, request: Request) -> Response:
        """One ``chat.completions.create`` call with this event loop's async client."""
        params = _encode_request(request)
        client = await self._clients.aclient()
        create = cast("Callable[..., Awaitable[object]]", client.chat.completions.create)
        with self._clients.errors(request.timeout):
            raw = await create(**params)
        return _decode_response(self._clients.expect(raw, ChatCompletion))

    def stream(self, request: Request) -> Iterator[Delta]:
        """One streamed ``chat.completions.create`` call with the sync client, as deltas.

        ``Finish`` comes with ``data: [DONE]`` only; closing the iterator closes the HTTP
        response.
        """

        def open_stream() -> AbstractContextManager[APIResponse[object]]:
            client = self._clients.sync()
            create = cast(
                "Callable[..., AbstractContextManager[APIResponse[object]]]",
                client.chat.completions.with_streaming_response.create,
            )
            return create(**_stream_params(request))

        return receive(self._clients, open_stream, request.timeout, ChatChunks)

    def astream(self, request: Request) -> AsyncIterator[Delta]:
        """The async twin of ``stream`` (an async generator), with this loop's client."""

        async def open_stream() -> AbstractAsyncContextManager[AsyncAPIResponse[object]]:
            client = await self._clients.aclient()
            create = cast(
                "Callable[..., AbstractAsyncContextManager[AsyncAPIResponse[object]]]",
                client.chat.completions.with_streaming_response.create,
            )
            return create(**_stream_params(request))

        return areceive(self._clients, open_stream, request.timeout, ChatChunks)


# --- encode ------------------------------------------------------------------------------


def _encode_request(request: Request) -> dict[str, Any]:
    """The keyword arguments of ``chat.completions.create`` for ``request`` (no I/O)."""
    messages: list[dict[str, Any]] = []
    if request.system:
        messages.append({"role": "system", "content": request.system})
    for message in request.messages:
        messages.extend(_encode_message(message))
    params: dict[str, Any] = {"model": request.model, "messages": messages}
    if request.temperature is not None:
        params["temperature"] = request.temperature
    if request.max_tokens is not None:
        params["max_completion_tokens"] = request.max_tokens
    if request.output is not None:
        params["response_format"] = {
            "type": "json_schema",
            "json_schema": json_schema_format(request.output),
        }
    if request.tools:
        params["tools"] = [_encode_tool(tool) for tool in request.tools]
    return finish_params(params, request)


def _stream_params(request: Request) -> dict[str, Any]:
    """The arguments of a streamed call: the same request, with ``stream`` on and usage asked
    for (OpenAI sends it in a last chunk only when asked; servers that ignore the option send
    none). ``stream_options`` given in provider_options win."""
    params = _encode_request(request)
    given: Any = params.get("stream_options")
    options: dict[str, Any] = dict(given) if isinstance(given, Mapping) else {}  # pyright: ignore[reportUnknownArgumentType]
    return {**params, "stream": True, "stream_options": {"include_usage": True, **options}}


def _encode_tool(tool: ToolSpec) -> dict[str, Any]:
    return {"type": "function", "function": function_definition(tool)}


def _encode_message(message: Message) -> list[dict[str, Any]]:
    text = "".join(p.text for p in message.parts if isinstance(p, TextPart))
    if message.role == "assistant":
        calls = [
            {
                "id": p.id,
                "type": "function",
                "function": {"name": p.name, "arguments": p.arguments},
            }
            for p in message.parts
            if isinstance(p, ToolCall)
        ]
        encoded: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            encoded["tool_calls"] = calls
        elif not text:
            encoded["content"] = ""
        return [encoded]
    # Tool messages must directly follow the assistant turn that made the calls, so they go
    # before any user text of the same turn.
    out: list[dict[str, Any]] = [
        {"role": "tool", "tool_call_id": p.call_id, "content": p.content}
        for p in message.parts
        if isinstance(p, ToolResult)
    ]
    if text or not out:
        out.append({"role": "user", "content": text})
    return out


# --- decode ------------------------------------------------------------------------------


def _decode_response(raw: ChatCompletion) -> Response:
    """The alloy ``Response`` for the SDK's parsed Chat Completions reply (no I/O)."""
    choice = raw.choices[0] if raw.choices else None
    message = choice.message if choice is not None else None
    calls: list[ToolCall] = []
    text = refusal = reasoning = None
    if message is not None:
        text, refusal = message.content, message.refusal
        for index, call in enumerate(message.tool_calls or ()):
            decoded = _decode_call(index, call)
            if decoded is not None:
                calls.append(decoded)
        # Not OpenAI's fields (so kept as pydantic extras): vLLM, DeepSeek and OpenRouter
        # return the reasoning text under one of these names.
        extra = message.model_extra or {}
        for field in ("reasoning_content", "reasoning"):
            value = extra.get(field)
            if isinstance(value, str) and value:
                reasoning = value
                break
    usage = raw.usage
    return Response(
        text=text or "",
        tool_calls=tuple(calls),
        finish_reason=choice.finish_reason if choice is not None else None,
        usage=Usage.of(
            count(usage, "prompt_tokens"),
            count(usage, "completion_tokens"),
            cached_input_tokens=count(usage, "prompt_tokens_details", "cached_tokens"),
            reasoning_tokens=count(usage, "completion_tokens_details", "reasoning_tokens"),
            total_tokens=count(usage, "total_tokens"),
        ),
        model=raw.model or None,
        request_id=getattr(raw, "_request_id", None),
        refusal=refusal or None,
        reasoning=reasoning,
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
