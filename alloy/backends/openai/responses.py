"""The ``openai`` backend: OpenAI's Responses API through the official ``openai`` SDK.

encode (``Request`` → ``responses.create`` arguments) → one SDK call → decode (the SDK's
``Response`` → alloy ``Response``). Conversation state stays on the client: alloy sends the
whole conversation each turn and never ``store``/``previous_response_id``. An assistant turn
is sent back as the exact output items it came from (kept in ``provider_data``, tagged
``"openai"``), so item ids and reasoning items survive the round trip; a turn another backend
produced is rebuilt from its parts.

A user turn is one message whose content interleaves ``input_text`` with the
``input_image``/``input_file`` items of its media, in the order of its parts; a tool result
holding media is sent as the same items in its ``function_call_output`` (see ``_media``).
"""

from __future__ import annotations

from functools import partial
from typing import Any
from typing import ClassVar

from openai.types.responses import Response as SDKResponse
from openai.types.responses import ResponseFunctionToolCall
from openai.types.responses import ResponseOutputMessage
from openai.types.responses import ResponseOutputRefusal
from openai.types.responses import ResponseOutputText
from openai.types.responses import ResponseReasoningItem

from ..._messages import MediaPart
from ..._messages import Message
from ..._messages import ProviderData
from ..._messages import Request
from ..._messages import Response
from ..._messages import TextPart
from ..._messages import ToolCall
from ..._messages import ToolResult
from ..._messages import finish_of
from ..._messages import native
from .._parts import system_of
from .._reasoning import ReasoningRow
from ..base import ModelProfile
from ._media import responses_item
from ._models import PROFILES
from ._models import REASONING
from ._shared import OUTPUT_TOOL
from ._shared import RESPONSES_FINISH
from ._shared import Api
from ._shared import OpenAIBase
from ._shared import finish_params
from ._shared import function_definition
from ._shared import json_schema_format
from ._shared import output_tool
from ._shared import responses_usage
from ._stream_responses import StreamDecoder

__all__ = [
    "NAME",
    "RESERVED_OPTIONS",
    "OpenAIBackend",
    "decode_response",
    "encode_request",
    "stream_params",
]

NAME = "openai"
"""The backend's name, and the tag of the provider data it keeps."""

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
        "reasoning",
    }
)
"""``responses.create`` arguments alloy sets from its typed settings."""

# The answer to an output-tool call that is followed by another turn (a re-ask): the API
# refuses a function call without its output.
_NOT_ACCEPTED = "This output was not accepted; see the next message."


def encode_request(request: Request) -> dict[str, Any]:
    """The keyword arguments of ``responses.create`` for ``request`` (no I/O)."""
    params: dict[str, Any] = {"model": request.model, "input": _encode_messages(request)}
    system = system_of(request)
    if system:
        params["instructions"] = system
    if request.temperature is not None:
        params["temperature"] = request.temperature
    if request.max_tokens is not None:
        params["max_output_tokens"] = request.max_tokens
    tools = [_encode_tool(function_definition(tool)) for tool in request.tools]
    if request.output is not None and request.output_mode == "json_schema":
        params["text"] = {"format": {"type": "json_schema", **json_schema_format(request.output)}}
    elif request.output is not None and request.output_mode == "tool_call":
        tools.append(_encode_tool(output_tool(request.output)))
        # With tools of its own the model may still call them first.
        forced = {"type": "function", "name": OUTPUT_TOOL}
        params["tool_choice"] = "required" if request.tools else forced
    if tools:
        params["tools"] = tools
    reasoning: dict[str, Any] = {}
    if request.reasoning_effort is not None:
        reasoning["effort"] = request.reasoning_effort
    if request.show_reasoning:
        reasoning["summary"] = "auto"
    if reasoning:
        params["reasoning"] = reasoning
    params = finish_params(params, request)
    if params.get("store") is False:
        # Unstored, a reasoning item can be sent back only with its encrypted content: ask
        # for it, so that tool loops keep the model's reasoning (see _encode_assistant).
        include = params.get("include")
        listed: list[Any] = list(include) if isinstance(include, list | tuple) else []  # pyright: ignore[reportUnknownArgumentType]
        if _ENCRYPTED not in listed:
            params["include"] = [*listed, _ENCRYPTED]
    return params


_ENCRYPTED = "reasoning.encrypted_content"


def stream_params(request: Request) -> dict[str, Any]:
    """The arguments of a streamed call: the same request, with ``stream`` on."""
    return {**encode_request(request), "stream": True}


def _encode_tool(definition: dict[str, Any]) -> dict[str, Any]:
    return {"type": "function", **definition}


def _encode_messages(request: Request) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    unanswered: list[str] = []
    for message in request.messages:
        if message.role == "assistant":
            encoded = _encode_assistant(message)
            unanswered = [
                item["call_id"]
                for item in encoded
                if item.get("type") == "function_call" and item.get("name") == OUTPUT_TOOL
            ]
            items += encoded
            continue
        answered = {part.call_id for part in message.parts if isinstance(part, ToolResult)}
        items += [
            {"type": "function_call_output", "call_id": call_id, "output": _NOT_ACCEPTED}
            for call_id in unanswered
            if call_id not in answered
        ]
        unanswered = []
        items += _encode_user(message)
    return items


def _encode_user(message: Message) -> list[dict[str, Any]]:
    # Tool outputs go before any text of the same turn, right after the calls they answer.
    items: list[dict[str, Any]] = [
        {"type": "function_call_output", "call_id": part.call_id, "output": _output(part)}
        for part in message.parts
        if isinstance(part, ToolResult)
    ]
    content = [
        responses_item(p, NAME) for p in message.parts if isinstance(p, (TextPart, MediaPart))
    ]
    if content:
        items.append({"role": "user", "content": content})
    return items


def _output(result: ToolResult) -> str | list[dict[str, Any]]:
    """A tool's output: its text, or, when it holds media, its items in order (a
    ``function_call_output`` takes ``input_text``/``input_image``/``input_file`` items)."""
    if isinstance(result.content, str) or not any(isinstance(p, MediaPart) for p in result.content):
        return result.text
    return [responses_item(p, NAME) for p in result.content]


def _encode_assistant(message: Message) -> list[dict[str, Any]]:
    echoed = _echo_items(native(message.provider_data, NAME))
    if echoed is not None:
        return echoed
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
    data: Any = native(call.provider_data, NAME)
    if isinstance(data, dict) and data.get("type") == "function_call":  # pyright: ignore[reportUnknownMemberType]
        return dict(data)  # pyright: ignore[reportUnknownArgumentType]
    return {
        "type": "function_call",
        "call_id": call.id,
        "name": call.name,
        "arguments": call.arguments,
    }


def _echo_items(data: Any) -> list[dict[str, Any]] | None:
    """The output items kept by ``decode_response``, or ``None`` if ``data`` is not that."""
    if not isinstance(data, list) or not data:
        return None
    items: list[dict[str, Any]] = []
    for item in data:  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(item, dict) or "type" not in item:
            return None
        items.append(item)  # pyright: ignore[reportUnknownArgumentType]
    return items


def decode_response(raw: SDKResponse) -> Response:
    """The alloy ``Response`` for the SDK's parsed Responses-API reply (no I/O).

    The first call of the output tool (``output_mode="tool_call"``) is the structured reply:
    its arguments become the text.
    """
    texts: list[str] = []
    refusals: list[str] = []
    summaries: list[str] = []
    calls: list[ToolCall] = []
    output: str | None = None
    items: list[dict[str, Any]] = []
    for item in raw.output or ():
        data = item.to_dict(mode="json", warnings=False)
        items.append(data)
        if isinstance(item, ResponseOutputMessage):
            for part in item.content or ():
                if isinstance(part, ResponseOutputText):
                    texts.append(part.text or "")
                elif isinstance(part, ResponseOutputRefusal):  # pyright: ignore[reportUnnecessaryIsInstance]
                    refusals.append(part.refusal or "")
        elif isinstance(item, ResponseFunctionToolCall):
            arguments = item.arguments or ""
            if item.name == OUTPUT_TOOL and output is None:
                output = arguments
            else:
                tagged = ProviderData(NAME, data)
                calls.append(ToolCall(item.call_id, item.name, arguments, tagged))
        elif isinstance(item, ResponseReasoningItem):
            # A summary where one was asked for; models that show their reasoning whole
            # (gpt-oss behind compatible servers) send it as content instead.
            found = [s.text for s in item.summary or () if s.text]
            found = found or [c.text for c in item.content or () if c.text]
            summaries.extend(found)
    finish: str | None = raw.status
    if raw.status == "incomplete" and raw.incomplete_details is not None:
        finish = raw.incomplete_details.reason or finish
    refusal = "".join(refusals) or None
    return Response(
        text=output if output is not None else "".join(texts),
        tool_calls=tuple(calls),
        finish_reason=finish,
        usage=responses_usage(raw.usage),
        model=raw.model or None,
        request_id=getattr(raw, "_request_id", None),
        refusal=refusal,
        reasoning="\n\n".join(summaries) or None,
        provider_data=ProviderData(NAME, items),
        finish=finish_of(
            RESPONSES_FINISH, finish, refusal=refusal is not None, tool_calls=bool(calls)
        ),
    )


class OpenAIBackend(OpenAIBase):
    """OpenAI models through the Responses API (``client.responses.create``).

    ``client_options`` are the SDK client settings from
    ``provider_options={"openai": {...}}`` (``api_key``, ``base_url``, ``organization``,
    ``project``, ``default_headers``...); anything unset comes from the SDK's own defaults,
    so ``OPENAI_API_KEY`` and ``OPENAI_BASE_URL`` work. A stream's ``Finish`` comes with
    ``response.completed`` or ``response.incomplete`` (see ``_stream_responses``).

    >>> backend = OpenAIBackend({"api_key": "sk-..."})
    >>> backend.capabilities("gpt-5-mini").structured_output
    'json_schema'
    """

    name = NAME
    api: ClassVar[Api[Any]] = Api(
        SDKResponse,
        lambda client: client.responses,
        encode_request,
        stream_params,
        decode_response,
        partial(StreamDecoder, decode_response),
    )
    key_hint: ClassVar[str] = (
        "set OPENAI_API_KEY or pass provider_options={'openai': {'api_key': ...}}"
    )
    reserved_options: ClassVar[frozenset[str]] = RESERVED_OPTIONS
    reasoning_rows: ClassVar[tuple[ReasoningRow, ...]] = REASONING
    profiles: ClassVar[tuple[ModelProfile, ...]] = PROFILES
