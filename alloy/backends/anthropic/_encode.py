"""Encoding for the ``anthropic`` backend: an alloy ``Request`` → ``messages.create`` arguments.

Pure functions, no I/O. How each setting travels is described in
``alloy.backends.anthropic.backend``.

Media go as content blocks, in the order of the turn's parts: an image as an ``image``
block, a PDF or plain-text document as a ``document`` block (base64, URL or Files API id;
plain text as a ``text`` source), any other text document as a text block. Tool results
carry the same blocks. Planning has already refused what Anthropic cannot take (audio).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import cast

from ..._media import Media
from ..._media_policy import way_of
from ..._messages import ContentPart
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
from .._params import merge_options
from .._parts import as_text
from .._parts import system_of
from .._reasoning import budget_for
from ._models import MEDIA
from ._models import NAME
from ._models import capabilities

__all__ = [
    "CLIENT_OPTIONS",
    "DEFAULT_MAX_TOKENS",
    "OUTPUT_TOOL",
    "RESERVED_OPTIONS",
    "encode_messages",
    "encode_request",
    "encode_tool",
    "offers_output_tool",
    "thinking",
]

CLIENT_OPTIONS = frozenset(
    {"api_key", "auth_token", "base_url", "default_headers", "open_telemetry"}
)
"""``provider_options`` keys that configure the SDK client (``open_telemetry``: the SDK's
own spans, which alloy turns off while it traces unless this says otherwise)."""
RESERVED_OPTIONS = frozenset(
    {
        "model",
        "messages",
        "system",
        "temperature",
        "max_tokens",
        "tools",
        "stream",
        "timeout",
        "output_format",
        "output_config",
        "thinking",
    }
)
"""``messages.create`` arguments alloy sets from its typed settings."""

DEFAULT_MAX_TOKENS = 4096
"""``max_tokens`` when none is set (the API requires one), on top of any thinking budget."""

OUTPUT_TOOL = "alloy_output"
"""The tool that carries a structured reply when it is not sent as native JSON output."""

_NOT_ACCEPTED = "This output was not accepted; see the next message."


def offers_output_tool(request: Request) -> bool:
    """Whether ``request`` goes out with the forced output tool (``output_mode="tool_call"``).

    The stream decoder needs the same answer: while the tool is offered, plain text is held
    back, because a call of the tool replaces it.
    """
    return request.output is not None and request.output_mode == "tool_call"


def encode_request(request: Request) -> dict[str, Any]:
    """The keyword arguments of ``messages.create`` for ``request``.

    The output schema travels as ``request.output_mode`` says: ``"json_schema"`` as
    ``output_config.format``, ``"tool_call"`` as a forced call of ``OUTPUT_TOOL``, and
    ``"prompt"`` not at all (the system prompt already describes it).
    """
    block, effort = thinking(request)
    params: dict[str, Any] = {
        "model": request.model,
        "max_tokens": _max_tokens(request, block),
        "messages": encode_messages(request.messages),
    }
    if block is not None:
        params["thinking"] = block
    if effort is not None:
        params["output_config"] = {"effort": effort}
    system = system_of(request)
    if request.cache and request.context is not None:
        _mark_context(params, request)
    elif system:
        params["system"] = system
    if request.cache:
        params["cache_control"] = _cache_control(request)
    tools = [encode_tool(tool) for tool in request.tools]
    if request.output is not None:
        if request.output_mode == "json_schema":
            schema = for_output(request.output, "anthropic").schema
            config = params.setdefault("output_config", {})
            config["format"] = {"type": "json_schema", "schema": schema}
        elif request.output_mode == "tool_call":
            tools.append(_output_tool(request.output))
            params["tool_choice"] = _output_choice(request, block)
        # "prompt": planning already wrote the schema into the system prompt.
    if tools:
        params["tools"] = tools
    if request.temperature is not None:
        # The 2.11 SDK's ``create`` has no ``temperature`` parameter; the API still reads it.
        params["extra_body"] = {"temperature": request.temperature}
    if request.timeout is not None:
        params["timeout"] = request.timeout
    return merge_options(params, request.options) if request.options else params


def encode_tool(tool: ToolSpec) -> dict[str, Any]:
    """A tool definition: ``{name, description, input_schema}``."""
    encoded: dict[str, Any] = {"name": tool.name}
    if tool.description:
        encoded["description"] = tool.description
    encoded["input_schema"] = for_tool(tool, "anthropic").schema
    return encoded


def encode_messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """The ``messages`` list: user turns with their tool results, assistant turns echoed."""
    encoded: list[dict[str, Any]] = []
    unanswered: list[str] = []
    for message in messages:
        if message.role == "assistant":
            content = _assistant_content(message)
            unanswered = [block["id"] for block in content if block.get("type") == "tool_use"]
            if content:  # the API refuses an empty turn; the user turns around it merge
                encoded.append({"role": "assistant", "content": content})
        else:
            encoded.append({"role": "user", "content": _user_content(message, unanswered)})
            unanswered = []
    return encoded


def _user_content(message: Message, unanswered: Sequence[str]) -> str | list[dict[str, Any]]:
    parts = message.parts
    if not unanswered and len(parts) == 1 and isinstance(parts[0], TextPart):
        return parts[0].text
    answered = {part.call_id for part in parts if isinstance(part, ToolResult)}
    # Every tool_use must be answered by a tool_result at the start of the next user turn;
    # a structured reply sent through the output tool is answered here when it is re-asked.
    blocks: list[dict[str, Any]] = [
        {"type": "tool_result", "tool_use_id": call_id, "content": _NOT_ACCEPTED, "is_error": True}
        for call_id in unanswered
        if call_id not in answered
    ]
    for part in parts:
        if isinstance(part, ToolResult):
            result: dict[str, Any] = {
                "type": "tool_result",
                "tool_use_id": part.call_id,
                "content": _result_content(part),
            }
            if part.is_error:
                result["is_error"] = True
            blocks.append(result)
    blocks += _blocks(p for p in parts if isinstance(p, (TextPart, MediaPart)))
    return blocks


def _result_content(result: ToolResult) -> str | list[dict[str, Any]]:
    content = result.content
    if isinstance(content, str) or not any(isinstance(p, MediaPart) for p in content):
        return result.text
    return _blocks(content)


def _blocks(parts: Iterable[ContentPart]) -> list[dict[str, Any]]:
    """Text and media blocks in the order of ``parts``. Text blocks that are empty or only
    whitespace are left out: the API refuses them, and between two media they say nothing."""
    blocks: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, TextPart):
            if part.text.strip():
                blocks.append({"type": "text", "text": part.text})
        else:
            blocks.append(_media_block(part.media))
    return blocks


def _media_block(media: Media) -> dict[str, Any]:
    text = as_text(media, MEDIA)
    if text is not None:
        return {"type": "text", "text": text}
    if media.kind == "image":
        return {"type": "image", "source": _source(media)}
    block: dict[str, Any] = {"type": "document", "source": _source(media)}
    if media.filename:
        block["title"] = media.filename
    return block


def _source(media: Media) -> dict[str, Any]:
    way = way_of(media)
    if way == "url":
        return {"type": "url", "url": media.url}
    if way == "file":
        return {"type": "file", "file_id": media.file_id}
    if media.media_type == "text/plain":
        # A plain-text document is a ``text`` source; the API wants its text, not base64.
        return {
            "type": "text",
            "media_type": "text/plain",
            "data": media.data.decode("utf-8", errors="replace"),
        }
    return {"type": "base64", "media_type": media.media_type, "data": media.base64()}


def _assistant_content(message: Message) -> list[dict[str, Any]]:
    echoed = _echoed(native(message.provider_data, NAME))
    if echoed is not None:
        return echoed
    # Not a turn this backend produced (or one without its blocks): the neutral parts.
    blocks: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, TextPart) and part.text:
            blocks.append({"type": "text", "text": part.text})
        elif isinstance(part, ToolCall):
            blocks.append(
                {"type": "tool_use", "id": part.id, "name": part.name, "input": _input(part)}
            )
    return blocks


def _echoed(data: Any) -> list[dict[str, Any]] | None:
    """The content blocks the decoder kept (thinking signatures intact), if ``data`` is that."""
    if not isinstance(data, list) or not data:
        return None
    blocks: list[dict[str, Any]] = []
    for item in data:  # pyright: ignore[reportUnknownVariableType]
        if not isinstance(item, dict) or "type" not in item:
            return None
        block = cast("dict[str, Any]", item)
        if block["type"] != "text" or block.get("text"):  # the API refuses empty text
            blocks.append(dict(block))
    return blocks


def _input(call: ToolCall) -> dict[str, Any]:
    try:
        value: Any = json.loads(call.arguments) if call.arguments else {}
    except ValueError:
        return {}
    return cast("dict[str, Any]", value) if isinstance(value, dict) else {}


def _output_tool(output: OutputSchema) -> dict[str, Any]:
    return {
        "name": OUTPUT_TOOL,
        "description": (
            f"Give your final answer ({output.name}) by calling this tool with it as the input."
        ),
        "input_schema": for_output(output, "anthropic").schema,
    }


def _cache_control(request: Request) -> dict[str, Any]:
    control: dict[str, Any] = {"type": "ephemeral"}
    if request.cache_ttl is not None:
        ttl = capabilities(request.model).prompt_cache.ttl(request.cache_ttl)
        if ttl is not None:  # planning refused the others
            control["ttl"] = ttl
    return control


def _mark_context(params: dict[str, Any], request: Request) -> None:
    """The system blocks and the first turn with a cache breakpoint after the context's
    system text and after each layer's documents, so that calls sharing a layer reuse it."""
    assert request.context is not None
    control = _cache_control(request)
    blocks: list[dict[str, Any]] = [
        {"type": "text", "text": layer.system} for layer in request.context.layers if layer.system
    ]
    if blocks:
        blocks[-1]["cache_control"] = control
    if request.system:
        blocks.append({"type": "text", "text": request.system})
    if blocks:
        params["system"] = blocks
    first = [p for p in request.messages[0].parts if isinstance(p, TextPart | MediaPart)]
    content: list[dict[str, Any]] = []
    start = 0
    for layer in request.context.layers:
        end = start + len(layer.documents)
        layer_blocks = _blocks(first[start:end])
        if layer_blocks:
            layer_blocks[-1]["cache_control"] = control
        content += layer_blocks
        start = end
    content += _blocks(first[start:])
    params["messages"][0] = {"role": "user", "content": content}


def thinking(request: Request) -> tuple[dict[str, Any] | None, str | None]:
    """The ``thinking`` block and the ``output_config.effort`` of ``request``'s reasoning
    settings, as the model's row spells them (planning has refused what it cannot take)."""
    effort, budget = request.reasoning_effort, request.reasoning_budget
    if effort is None and budget is None and not request.show_reasoning:
        return None, None
    if effort == "none":
        return {"type": "disabled"}, None
    support = capabilities(request.model).reasoning
    if support is None:
        return None, None
    block: dict[str, Any]
    sent_effort: str | None = None
    if budget is None and support.style == "budget" and effort is not None:
        budget = budget_for(support, effort)
    if budget is not None:
        block = {"type": "enabled", "budget_tokens": budget}
    else:
        block = {"type": "adaptive"}
        sent_effort = effort
    if request.show_reasoning is not None:
        block["display"] = "summarized" if request.show_reasoning else "omitted"
    return block, sent_effort


def _max_tokens(request: Request, block: Mapping[str, Any] | None) -> int:
    if request.max_tokens is not None:
        return request.max_tokens
    if block is None or block["type"] == "disabled":
        return DEFAULT_MAX_TOKENS
    budget = block.get("budget_tokens")
    if not isinstance(budget, int):
        # Adaptive thinking: room for what the effort usually spends, then the answer.
        support = capabilities(request.model).reasoning
        effort = request.reasoning_effort or "medium"
        budget = budget_for(support, effort) if support is not None else 0
    return DEFAULT_MAX_TOKENS + budget


def _output_choice(request: Request, block: Mapping[str, Any] | None) -> dict[str, Any]:
    if block is not None and block["type"] != "disabled":
        # The API refuses a forced tool choice while the model thinks.
        return {"type": "auto"}
    if request.tools:
        return {"type": "any"}  # the model may still call the command's own tools first
    return {"type": "tool", "name": OUTPUT_TOOL}
