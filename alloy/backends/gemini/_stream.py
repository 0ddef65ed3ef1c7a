"""Streaming for the ``gemini`` backend: ``generate_content_stream`` chunks → alloy deltas.

Pure, no I/O. Each chunk of a Gemini stream is a whole ``GenerateContentResponse`` holding
only the new parts, so ``StreamDecoder`` reads each one the way ``_decode`` reads a
complete reply, and the shared ``Assembler`` rebuilds the same ``Response``:

- text parts → ``TextDelta``, thought parts (``thought: true``) → ``ReasoningDelta``;
- a function call arrives whole → one ``ToolCallDelta`` (id made as ``complete`` makes it);
- ``usageMetadata`` may come on several chunks, each a running total → ``UsageDelta``;
- the API sends no terminator: the chunk that carries ``finishReason`` is the terminal
  event, the only one that yields ``Finish`` (a prompt blocked outright, with
  ``promptFeedback.blockReason`` and no candidate, ends the stream the same way).

The model's parts are kept for ``Finish.provider_data`` in the shape ``complete`` keeps
(``ProviderData("gemini", {"parts": ..., "role": ...})``, thought signatures included) so a
streamed turn is echoed the same way. Consecutive text pieces are merged back into one part,
as the API would have sent them whole; the pieces are joined once, when the part ends, so
the work is linear in the size of the reply.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from google.genai import types

from ..._deltas import Delta
from ..._deltas import Finish
from ..._deltas import ReasoningDelta
from ..._deltas import RefusalDelta
from ..._deltas import TextDelta
from ..._deltas import ToolCallDelta
from ..._deltas import UsageDelta
from ..._messages import NormalFinish
from ..._messages import ProviderData
from ..._messages import lookup_finish
from ._decode import BLOCKED
from ._decode import FINISH
from ._decode import call_arguments
from ._decode import call_id
from ._decode import token_usage
from ._decode import wire_value
from ._models import NAME

__all__ = ["StreamDecoder"]

_TEXT_FIELDS = frozenset({"text", "thought", "thought_signature"})


class StreamDecoder:
    """Turns one streamed reply's chunks into alloy deltas (see the module docstring).

    Satisfies ``alloy.backends.base.StreamDecoder``.
    """

    def __init__(self) -> None:
        self._parts: list[dict[str, Any]] = []
        self._open: list[str] | None = None  # pieces of the text part ``_parts[-1]``
        self._role: str | None = None
        self._calls = 0
        self._finished = False

    @property
    def finished(self) -> bool:
        """Whether the chunk carrying the finish reason (or the prompt's block) has come."""
        return self._finished

    def feed(self, chunk: types.GenerateContentResponse) -> Sequence[Delta]:
        """The deltas for one chunk, in order."""
        deltas: list[Delta] = []
        candidate = chunk.candidates[0] if chunk.candidates else None
        content = candidate.content if candidate is not None else None
        if content is not None:
            self._role = content.role or self._role or "model"
            for part in content.parts or ():
                self._part(part, chunk.response_id, deltas)
        if chunk.usage_metadata is not None:
            deltas.append(UsageDelta(token_usage(chunk.usage_metadata)))
        if self._finished:
            return deltas
        finish = wire_value(candidate.finish_reason) if candidate is not None else None
        refusal = None
        if finish is not None and candidate is not None and finish in BLOCKED:
            refusal = candidate.finish_message or f"the reply was blocked ({finish})"
        normal: NormalFinish | None = lookup_finish(FINISH, finish)
        feedback = chunk.prompt_feedback
        if candidate is None and feedback is not None and feedback.block_reason is not None:
            finish = wire_value(feedback.block_reason)
            refusal = feedback.block_reason_message or f"the prompt was blocked ({finish})"
            normal = "content_filter"
        if finish is None:
            return deltas
        if refusal is not None:
            deltas.append(RefusalDelta(refusal))
        self._finished = True
        model, response_id = chunk.model_version or None, chunk.response_id or None
        deltas.append(Finish(finish, model, response_id, self._content(), finish=normal))
        return deltas

    def _part(self, part: types.Part, response_id: str | None, deltas: list[Delta]) -> None:
        call = part.function_call
        if call is not None:
            data = part.model_dump(exclude_none=True, warnings=False)
            self._append(data)
            index = self._calls
            self._calls += 1
            deltas.append(
                ToolCallDelta(
                    index,
                    call_id(response_id, index, call),
                    call.name or "",
                    call_arguments(call),
                    ProviderData(NAME, data),
                )
            )
            return
        text = part.text
        if text:
            deltas.append(ReasoningDelta(text) if part.thought else TextDelta(text))
        fields = {name for name in part.model_fields_set if getattr(part, name) is not None}
        if text is None or not fields <= _TEXT_FIELDS:
            self._append(
                part.model_dump(exclude_none=True, warnings=False)
            )  # an image, code...: as it came
            return
        signature = part.thought_signature
        if self._open is not None and bool(self._parts[-1].get("thought")) == bool(part.thought):
            self._open.append(text)
            if signature is not None:
                self._parts[-1]["thought_signature"] = signature
                self._close()  # a signature ends the part it signs
        elif text or signature is not None:
            piece: dict[str, Any] = {
                "text": text
            }  # as ``model_dump(exclude_none=True, warnings=False)``
            if part.thought is not None:
                piece["thought"] = part.thought
            if signature is not None:
                piece["thought_signature"] = signature
            self._append(piece)
            if signature is None:
                self._open = [text]

    def _append(self, data: dict[str, Any]) -> None:
        self._close()
        self._parts.append(data)

    def _close(self) -> None:
        if self._open is not None:
            self._parts[-1]["text"] = "".join(self._open)
            self._open = None

    def _content(self) -> ProviderData | None:
        self._close()
        if self._role is None:
            return None
        return ProviderData(NAME, {"parts": self._parts, "role": self._role})
