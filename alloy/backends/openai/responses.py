"""The ``openai`` backend: OpenAI's Responses API through the official ``openai`` SDK.

encode (``Request`` → ``responses.create`` arguments) → one SDK call → decode (the SDK's
``Response`` → alloy ``Response``). Conversation state stays on the client: alloy sends the
whole conversation each turn and never ``store``/``previous_response_id``. An assistant turn
is sent back as the exact output items it came from (kept in ``provider_data``), so item ids
and reasoning items survive the round trip.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from contextlib import AbstractAsyncContextManager, AbstractContextManager
from typing import Any, ClassVar, cast

from openai import APIResponse, AsyncAPIResponse
from openai.types.responses import Response as SDKResponse
from openai.types.responses import (
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseOutputRefusal,
    ResponseOutputText,
    ResponseReasoningItem,
)

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
from ._stream_responses import ResponseEvents

__all__ = ["CAPABILITY_TABLE", "OpenAIBackend"]

RESERVED_OPTIONS = frozenset(
    {
        "model",
        "input",
        "instructions",
        "temperature",
        "max_output_tokens",
        "tools",
        "stream",
        "timeout",
    }
)
"""``responses.create`` arguments alloy sets from its typed settings."""

_NAME = "openai"


class OpenAIBackend:
    """OpenAI models through the Responses API (``client.responses.create``).

    ``client_options`` are the SDK client settings from
    ``provider_options={"openai": {...}}`` (``api_key``, ``base_url``, ``organization``,
    ``project``, ``default_headers``...); anything unset comes from the SDK's own defaults,
    so ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` work.

    >>> backend = OpenAIBackend({"api_key": "sk-..."})
    >>> backend.capabilities("gpt-5-mini").structured_output
    'json_schema'
    """

    name = _NAME
    client_options: ClassVar[frozenset[str]] = CLIENT_OPTIONS
    reserved_options: ClassVar[frozenset[str]] = RESERVED_OPTIONS

    def __init__(self, client_options: Mapping[str, Any] | None = None):
        self._clients = OpenAIClients(
            _NAME,
            client_options or {},
            key_hint="set OPENAI_API_KEY or pass provider_options={'openai': {'api_key': ...}}",
        )

    def capabilities(self, model: str) -> Capabilities:
        """The same for every model: JSON-schema output and native parallel tools."""
        return CAPABILITIES

    def close(self) -> None:
        """Close the SDK clients (the registry calls this when it drops the backend)."""
        self._clients.close()

    def complete(self, request: Request) -> Response:
        """One ``responses.create`` call with the sync client."""
        params = _encode_request(request)
        # Typed as returning ``object``: with a ``dict[str, Any]`` of arguments the type
        # checkers cannot pick one of the SDK's stream/non-stream overloads.
        client = self._clients.sync()
        create = cast("Callable[..., object]", client.responses.create)
        with self._clients.errors(request.timeout):
            raw = create(**params)
        return _decode_response(self._clients.expect(raw, SDKResponse))

    async def acomplete(self, request: Request) -> Response:
        """One ``responses.create`` call with this event loop's async client."""
        params = _encode_request(request)
        client = await self._clients.aclient()
        create = cast("Callable[..., Awaitable[object]]", client.responses.create)
        with self._clients.errors(request.timeout):
            raw = await create(**params)
        return _decode_response(self._clients.expect(raw, SDKResponse))

    def stream(self, request: Request) -> Iterator[Delta]:
        """One streamed ``responses.create`` call with the sync client, as deltas.

        ``Finish`` comes with ``response.completed`` or ``response.incomplete`` (see
        ``_openai_stream``); closing the iterator closes the HTTP response.
        """

        def open_stream() -> AbstractContextManager[APIResponse[object]]:
            client = self._clients.sync()
            create = cast(
                "Callable[..., AbstractContextManager[APIResponse[object]]]",
                client.responses.with_streaming_response.create,
            )
            return create(**_stream_params(request))

        return receive(self._clients, open_stream, request.timeout, _classifier)

    def astream(self, request: Request) -> AsyncIterator[Delta]:
        """The async twin of ``stream`` (an async generator), with this loop's client."""

        async def open_stream() -> AbstractAsyncContextManager[AsyncAPIResponse[object]]:
            client = await self._clients.aclient()
            create = cast(
                "Callable[..., AbstractAsyncContextManager[AsyncAPIResponse[object]]]",
                client.responses.with_streaming_response.create,
            )
            return create(**_stream_params(request))

        return areceive(self._clients, open_stream, request.timeout, _classifier)


def _classifier(request_id: str | None) -> ResponseEvents:
    """The stream classifier, decoding the final response object as ``complete`` does."""
    return ResponseEvents(_decode_response, request_id)


# --- encode ------------------------------------------------------------------------------


def _encode_request(request: Request) -> dict[str, Any]:
    """The keyword arguments of ``responses.create`` for ``request`` (no I/O)."""
    params: dict[str, Any] = {
        "model": request.model,
        "input": [item for message in request.messages for item in _encode_message(message)],
    }
    if request.system:
        params["instructions"] = request.system
    if request.temperature is not None:
        params["temperature"] = request.temperature
    if request.max_tokens is not None:
        params["max_output_tokens"] = request.max_tokens
    if request.output is not None:
        params["text"] = {"format": {"type": "json_schema", **json_schema_format(request.output)}}
    if request.tools:
        params["tools"] = [_encode_tool(tool) for tool in request.tools]
    return finish_params(params, request)


def _stream_params(request: Request) -> dict[str, Any]:
    """The arguments of a streamed call: the same request, with ``stream`` on."""
    return {**_encode_request(request), "stream": True}


def _encode_tool(tool: ToolSpec) -> dict[str, Any]:
    return {"type": "function", **function_definition(tool)}


def _encode_message(message: Message) -> list[dict[str, Any]]:
    if message.role == "assistant":
        echoed = _echo_items(message.provider_data)
        if echoed is not None:
            return echoed
        return _encode_assistant(message)
    # Tool outputs go before any text of the same turn, right after the calls they answer.
    items: list[dict[str, Any]] = [
        {"type": "function_call_output", "call_id": part.call_id, "output": part.content}
        for part in message.parts
        if isinstance(part, ToolResult)
    ]
    texts = [
        {"type": "input_text", "text": p.text} for p in message.parts if isinstance(p, TextPart)
    ]
    if texts:
        items.append({"role": "user", "content": texts})
    return items


def _encode_assistant(message: Message) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    texts = [
        {"type": "output_text", "text": p.text} for p in message.parts if isinstance(p, TextPart)
    ]
    if texts:
        items.append({"role": "assistant", "content": texts})
    for part in message.parts:
        if isinstance(part, ToolCall):
            items.append(_echo_call(part))
    return items


def _echo_call(call: ToolCall) -> dict[str, Any]:
    data: Any = call.provider_data
    if isinstance(data, dict) and data.get("type") == "function_call":  # pyright: ignore[reportUnknownMemberType]
        return dict(data)  # pyright: ignore[reportUnknownArgumentType]
    return {
        "type": "function_call",
        "call_id": call.id,
        "name": call.name,
        "arguments": call.arguments,
    }


def _echo_items(data: Any) -> list[dict[str, Any]] | None:
    """The output items stored by ``_decode_response``, or ``None`` if ``data`` is not that."""
    if not isinstance(data, list) or not data:
        return None
    items: list[dict[str, Any]] = []
    for item in data:  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(item, dict) or "type" not in item:
            return None
        items.append(item)  # pyright: ignore[reportUnknownArgumentType]
    return items


# --- decode ------------------------------------------------------------------------------


def _decode_response(raw: SDKResponse) -> Response:
    """The alloy ``Response`` for the SDK's parsed Responses-API reply (no I/O)."""
    texts: list[str] = []
    refusals: list[str] = []
    summaries: list[str] = []
    calls: list[ToolCall] = []
    items: list[dict[str, Any]] = []
    for item in raw.output or ():
        data = item.to_dict(mode="json")
        items.append(data)
        if isinstance(item, ResponseOutputMessage):
            for part in item.content or ():
                if isinstance(part, ResponseOutputText):
                    texts.append(part.text or "")
                elif isinstance(part, ResponseOutputRefusal):  # pyright: ignore[reportUnnecessaryIsInstance]
                    refusals.append(part.refusal or "")
        elif isinstance(item, ResponseFunctionToolCall):
            calls.append(ToolCall(item.call_id, item.name, item.arguments or "", data))
        elif isinstance(item, ResponseReasoningItem):
            summaries.extend(s.text for s in item.summary or () if s.text)
    finish: str | None = raw.status
    if raw.status == "incomplete" and raw.incomplete_details is not None:
        finish = raw.incomplete_details.reason or finish
    usage = raw.usage
    return Response(
        text="".join(texts),
        tool_calls=tuple(calls),
        finish_reason=finish,
        usage=Usage.of(
            count(usage, "input_tokens"),
            count(usage, "output_tokens"),
            cached_input_tokens=count(usage, "input_tokens_details", "cached_tokens"),
            reasoning_tokens=count(usage, "output_tokens_details", "reasoning_tokens"),
            total_tokens=count(usage, "total_tokens"),
        ),
        model=raw.model or None,
        request_id=getattr(raw, "_request_id", None),
        refusal="".join(refusals) or None,
        reasoning="\n\n".join(summaries) or None,
        provider_data=items,
    )
