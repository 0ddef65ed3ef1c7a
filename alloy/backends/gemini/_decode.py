"""Decoding for the ``gemini`` backend: the SDK's ``GenerateContentResponse`` → alloy ``Response``.

Pure functions (no I/O). Only the first candidate is read (alloy never asks for more).
"""

from __future__ import annotations

import enum
import json
from typing import Any

from google.genai import types

from ..._messages import NormalFinish
from ..._messages import ProviderData
from ..._messages import Response
from ..._messages import ToolCall
from ..._messages import finish_of
from ..._usage import Usage
from .._params import as_int
from ._models import NAME

__all__ = [
    "BLOCKED",
    "FINISH",
    "call_arguments",
    "call_id",
    "decode_response",
    "token_usage",
    "wire_value",
]

# Finish reasons for which Gemini withheld (part of) the reply: alloy reports a refusal.
BLOCKED = frozenset(
    {
        "SAFETY",
        "RECITATION",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "SPII",
        "IMAGE_SAFETY",
        "IMAGE_PROHIBITED_CONTENT",
        "IMAGE_RECITATION",
        "MODEL_ARMOR",
    }
)

FINISH: dict[str, NormalFinish | None] = {
    "STOP": "stop",
    "MAX_TOKENS": "length",
    # The per-request token limit cut a reply that could be continued: a cut all the same.
    "CONTINUATION": "length",
    **dict.fromkeys(BLOCKED, "content_filter"),
    "ESCALATION": "content_filter",
    # No word for these: the call failed (a malformed or unexpected function call, an
    # unsupported language, a missing signature, the account) rather than ended.
    **dict.fromkeys(
        (
            "FINISH_REASON_UNSPECIFIED",
            "OTHER",
            "LANGUAGE",
            "MALFORMED_FUNCTION_CALL",
            "UNEXPECTED_TOOL_CALL",
            "TOO_MANY_TOOL_CALLS",
            "MISSING_THOUGHT_SIGNATURE",
            "MALFORMED_RESPONSE",
            "IMAGE_OTHER",
            "NO_IMAGE",
            "PUP_LIMITED_DISABLED",
        ),
        None,
    ),
}
"""``finishReason`` in alloy's words (``Response.finish``). A prompt blocked outright (no
candidate, ``promptFeedback.blockReason``) is ``content_filter`` whatever its reason."""


def decode_response(raw: types.GenerateContentResponse) -> Response:
    """The alloy ``Response`` for the SDK's parsed reply (no I/O).

    Thought parts (``thought: true``) become ``reasoning``, never text. Function calls carry
    no id on the Gemini API, so each gets one made from the response id and its position
    (the same every time this reply is decoded). ``provider_data`` holds the model's turn as
    it came (``{"parts": ..., "role": ...}``, thought signatures as bytes), and each call's
    ``provider_data`` its part, for the encoder to send back (signatures must be echoed).
    The API sends no request-id header, so ``request_id`` is the reply's ``responseId``.
    """
    candidate = raw.candidates[0] if raw.candidates else None
    content = candidate.content if candidate is not None else None
    texts: list[str] = []
    thoughts: list[str] = []
    calls: list[ToolCall] = []
    for part in (content.parts if content is not None else None) or ():
        call = part.function_call
        if call is not None:
            calls.append(
                ToolCall(
                    call_id(raw.response_id, len(calls), call),
                    call.name or "",
                    call_arguments(call),
                    ProviderData(NAME, part.model_dump(exclude_none=True, warnings=False)),
                )
            )
        elif part.text is not None:
            (thoughts if part.thought else texts).append(part.text)
    finish = wire_value(candidate.finish_reason) if candidate is not None else None
    refusal = None
    if candidate is not None and finish in BLOCKED:
        refusal = candidate.finish_message or f"the reply was blocked ({finish})"
    normal = finish_of(FINISH, finish, refusal=refusal is not None, tool_calls=bool(calls))
    feedback = raw.prompt_feedback
    if candidate is None and feedback is not None and feedback.block_reason is not None:
        # The prompt itself was blocked: no candidate at all, the reason is here instead.
        finish = wire_value(feedback.block_reason)
        refusal = feedback.block_reason_message or f"the prompt was blocked ({finish})"
        normal = "content_filter"
    return Response(
        text="".join(texts),
        tool_calls=tuple(calls),
        finish_reason=finish,
        usage=token_usage(raw.usage_metadata),
        model=raw.model_version or None,
        request_id=raw.response_id or None,
        refusal=refusal,
        reasoning="".join(thoughts) or None,
        provider_data=(
            ProviderData(NAME, content.model_dump(exclude_none=True, warnings=False))
            if content is not None
            else None
        ),
        finish=normal,
    )


def call_id(response_id: str | None, index: int, call: types.FunctionCall) -> str:
    """The id of the ``index``-th function call of a reply: the API's, or one made from the
    reply's ``responseId`` (the same every time this reply is decoded)."""
    if call.id:
        return call.id  # Vertex AI and newer models may send one
    return f"{response_id or 'call'}-{index}"


def call_arguments(call: types.FunctionCall) -> str:
    """The arguments as JSON text: the SDK gives a dict, alloy's tool layer reads text."""
    return json.dumps(call.args if call.args is not None else {})


_RAW_COUNTS = {
    "promptTokenCount": "prompt_token_count",
    "candidatesTokenCount": "candidates_token_count",
    "thoughtsTokenCount": "thoughts_token_count",
    "cachedContentTokenCount": "cached_content_token_count",
    "toolUsePromptTokenCount": "tool_use_prompt_token_count",
    "totalTokenCount": "total_token_count",
}
"""``usageMetadata`` fields, by their wire names (what ``Usage.details`` uses)."""


def token_usage(usage: types.GenerateContentResponseUsageMetadata | None) -> Usage:
    """The reply's ``usageMetadata`` as alloy ``Usage``: the prompt count already includes
    cached content; the output is the candidates plus the thoughts, which Gemini counts
    apart."""
    counts = {wire: _count(usage, name) for wire, name in _RAW_COUNTS.items()}
    candidates, thoughts = counts["candidatesTokenCount"], counts["thoughtsTokenCount"]
    output = (
        None if candidates is None and thoughts is None else (candidates or 0) + (thoughts or 0)
    )
    return Usage.of(
        counts["promptTokenCount"],
        output,
        cached_input_tokens=counts["cachedContentTokenCount"],
        reasoning_tokens=thoughts,
        total_tokens=counts["totalTokenCount"],
        details=counts,
    )


def wire_value(reason: Any) -> str | None:
    """The raw wire value of one of the SDK's enums (``"STOP"``, ``"MAX_TOKENS"``...)."""
    if reason is None:
        return None
    return str(reason.value) if isinstance(reason, enum.Enum) else str(reason)


def _count(usage: types.GenerateContentResponseUsageMetadata | None, field: str) -> int | None:
    value: Any = getattr(usage, field, None) if usage is not None else None
    return as_int(value)
