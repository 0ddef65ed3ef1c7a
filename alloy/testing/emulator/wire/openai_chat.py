"""OpenAI Chat Completions (``POST …/v1/chat/completions``), JSON and SSE.

Shapes follow what openai 3.52 validates in strict mode (PROVIDERS.md 3.1, 3.2).

OpenAI itself sends no reasoning text on this API; a ``Reply.reasoning`` is sent the way
compatible servers (vLLM, DeepSeek, Ollama's compatible endpoint) do: ``reasoning_content``
on the message, or streamed as ``reasoning_content`` deltas before the content (the SDK
keeps it as an extra field). ``usage.prompt_tokens_details`` has ``cached_tokens`` and,
when nonzero, ``cache_write_tokens`` (both parts of ``prompt_tokens``; openai 3.52 types the
latter, older recordings lack it).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from typing import cast

from .._items import Reply
from .._items import new_id
from ._base import EventStream
from ._base import JsonBody
from ._base import RenderContext
from ._base import Rendered
from ._base import WireFormat
from ._base import pieces
from ._base import sse

__all__ = ["WIRE", "error_body", "render"]

_ERROR_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    403: ("invalid_request_error", "unsupported_country_region_territory"),
    404: ("invalid_request_error", "model_not_found"),
    408: ("timeout", None),
    409: ("invalid_request_error", "conflict"),
    429: ("requests", "rate_limit_exceeded"),
    501: ("not_implemented", "not_implemented"),
}


def error_body(status: int, message: str) -> dict[str, Any]:
    """The ``{"error": {message, type, param, code}}`` envelope OpenAI uses for non-2xx."""
    kind, code = _ERROR_KINDS.get(
        status, ("server_error", None) if status >= 500 else ("invalid_request_error", None)
    )
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


def render(reply: Reply, ctx: RenderContext) -> Rendered:
    """A ``chat.completion`` object, or its ``chat.completion.chunk`` stream."""
    return _stream(reply, ctx) if ctx.stream else JsonBody(_completion(reply, ctx))


WIRE = WireFormat(provider="openai-chat", error_body=error_body, render=render)


def _finish_reason(reply: Reply) -> str:
    if reply.finish_reason is not None:
        return reply.finish_reason
    return "tool_calls" if reply.tool_calls else "stop"


def _usage(reply: Reply) -> dict[str, Any]:
    prompt: dict[str, Any] = {"cached_tokens": reply.cached_tokens, "audio_tokens": 0}
    if reply.cache_write_tokens:
        prompt["cache_write_tokens"] = reply.cache_write_tokens
    return {
        "prompt_tokens": reply.input_tokens,
        "completion_tokens": reply.output_tokens,
        "total_tokens": reply.input_tokens + reply.output_tokens,
        "prompt_tokens_details": prompt,
        "completion_tokens_details": {
            "reasoning_tokens": reply.reasoning_tokens,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def _completion(reply: Reply, ctx: RenderContext) -> dict[str, Any]:
    message: dict[str, Any] = {
        "role": "assistant",
        "content": reply.content,
        "refusal": reply.refusal,
        "annotations": [],
    }
    if reply.reasoning is not None:
        message["reasoning_content"] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments_text},
            }
            for call in reply.tool_calls
        ]
    return {
        "id": new_id("chatcmpl-"),
        "object": "chat.completion",
        "created": ctx.created,
        "model": ctx.model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": _finish_reason(reply),
            }
        ],
        "usage": _usage(reply),
        "service_tier": "default",
        "system_fingerprint": "fp_emulator",
    }


def _stream(reply: Reply, ctx: RenderContext) -> EventStream:
    completion_id = new_id("chatcmpl-")
    include_usage = _wants_usage(ctx)

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        body: dict[str, Any] = {
            "id": completion_id,
            "object": "chat.completion.chunk",
            "created": ctx.created,
            "model": ctx.model,
            "system_fingerprint": "fp_emulator",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
        }
        if include_usage:
            body["usage"] = None
        return sse(body)

    content = reply.content
    events = [chunk({"role": "assistant", "content": "" if content is not None else None})]
    events += [
        chunk({"reasoning_content": piece})
        for piece in pieces(reply.reasoning or "", reply.chunk_chars)
    ]
    events += [chunk({"content": piece}) for piece in pieces(content or "", reply.chunk_chars)]
    events += [
        chunk({"refusal": piece}) for piece in pieces(reply.refusal or "", reply.chunk_chars)
    ]
    for index, call in enumerate(reply.tool_calls):
        head = {
            "index": index,
            "id": call.call_id,
            "type": "function",
            "function": {"name": call.name, "arguments": ""},
        }
        events.append(chunk({"tool_calls": [head]}))
        events += [
            chunk({"tool_calls": [{"index": index, "function": {"arguments": piece}}]})
            for piece in pieces(call.arguments_text, reply.chunk_chars)
        ]
    events.append(chunk({}, _finish_reason(reply)))
    if include_usage:
        events.append(
            sse(
                {
                    "id": completion_id,
                    "object": "chat.completion.chunk",
                    "created": ctx.created,
                    "model": ctx.model,
                    "system_fingerprint": "fp_emulator",
                    "choices": [],
                    "usage": _usage(reply),
                }
            )
        )
    error = {
        "error": {
            "message": "emulator: injected stream error",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    return EventStream(
        events=events,
        terminal=[b"data: [DONE]\n\n"],
        error=[sse(error)],
        malformed=b'data: {"id": "chatcmpl-broken", "choices": [\n\n',
    )


def _wants_usage(ctx: RenderContext) -> bool:
    options: Any = ctx.request.get("stream_options")
    if not isinstance(options, Mapping):
        return False
    return bool(cast("Mapping[str, Any]", options).get("include_usage"))
