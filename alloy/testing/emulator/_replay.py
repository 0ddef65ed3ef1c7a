"""Strict signed replay: reasoning the emulator sent must come back as it was sent.

Each scenario remembers the signed parts of every turn it answers (``Rendered.turn``), and,
once ``Scenario.set_strict_reasoning(True)`` is on, checks each later model call that echoes
an assistant turn the way the real API does, before any scripted item is taken:

* Anthropic: every ``thinking`` block must carry a signature the scenario sent, with the
  same text (400 "Invalid `signature` in `thinking` block"); an echoed turn that was answered
  with thinking must keep its ``thinking`` and ``redacted_thinking`` blocks unchanged, in
  their order, before its ``tool_use`` blocks (400 "... cannot be modified"), and the last
  assistant message of the request must start with them (400 "Expected `thinking` or
  `redacted_thinking`, but found ..."); earlier turns may leave them out, as the API drops
  them anyway. An echoed turn is recognised by its tool_use ids or its signatures.
* Gemini: each echoed ``functionCall`` part (recognised by name and arguments) that was sent
  with a ``thoughtSignature`` must carry it back (400 ``INVALID_ARGUMENT`` "Function call is
  missing a thought_signature in functionCall parts. ..."; a different one: "Corrupted
  thought signature."). Signatures compare as bytes, since google-genai sends them back
  URL-safe.
* OpenAI Responses: under ``store: false`` an input ``reasoning`` item without
  ``encrypted_content``, or an ``item_reference``, is a 404 "Item with id '…' not found";
  an ``encrypted_content`` the scenario never sent is a 400 ``invalid_encrypted_content``.

The wording follows the errors the APIs answer with (as quoted in public bug reports). Turns
served verbatim from a recording are not remembered, so their signatures do not pass.
"""

from __future__ import annotations

import base64
import binascii
import json
import threading
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from typing import cast

from .wire import anthropic
from .wire import gemini

__all__ = ["Rejection", "ReplayLedger"]

_MODIFIED = (
    "`thinking` or `redacted_thinking` blocks in the latest assistant message cannot be "
    "modified. These blocks must remain as they were in the original response."
)
_MISSING_THINKING = (
    "Expected `thinking` or `redacted_thinking`, but found `{found}`. When `thinking` is "
    "enabled, a final `assistant` message must start with a thinking block (preceeding the "
    "lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking "
    "blocks from previous turns. To avoid this requirement, disable `thinking`. Please "
    "consult our documentation at "
    "https://docs.claude.com/en/docs/build-with-claude/extended-thinking"
)
_MISSING_SIGNATURE = (
    "Function call is missing a thought_signature in functionCall parts. This is required "
    "for tools to work correctly, and missing thought_signature may lead to degraded model "
    "performance. Additional data, function call `default_api:{name}` , position {position}. "
    "Please refer to https://ai.google.dev/gemini-api/docs/thought-signatures for more details."
)
_NOT_STORED = (
    "Item with id '{id}' not found. Items are not persisted when `store` is set to false. "
    "Try again with `store` set to true, or remove this item from your input."
)
_REASONING = frozenset({"thinking", "redacted_thinking"})


@dataclass(frozen=True)
class Rejection:
    """The provider's error answer to a request that fails a check."""

    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class _Turn:
    """An Anthropic turn answered with thinking: its reasoning blocks, in order, and what
    identifies an echo of it."""

    reasoning: tuple[dict[str, Any], ...]
    tool_ids: frozenset[str]
    marks: frozenset[str]


class ReplayLedger:
    """One scenario's memory of the reasoning it sent, and the strict checks on echoes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._strict = False
        self._turns: list[_Turn] = []
        self._thinking: dict[str, str] = {}
        self._calls: dict[tuple[str, str], set[bytes]] = {}
        self._encrypted: set[str] = set()

    @property
    def strict(self) -> bool:
        return self._strict

    def set_strict(self, on: object) -> None:
        """Switch the checks; ``object`` because control-plane JSON may send anything."""
        if not isinstance(on, bool):
            raise ValueError(f"strict reasoning must be true or false, not {on!r}")
        self._strict = on

    def clear(self) -> None:
        with self._lock:
            self._strict = False
            self._turns.clear()
            self._thinking.clear()
            self._calls.clear()
            self._encrypted.clear()

    def remember(self, provider: str, turn: Sequence[Mapping[str, Any]]) -> None:
        """Keep the signed parts of a turn just rendered for ``provider``."""
        with self._lock:
            if provider == "anthropic":
                self._remember_anthropic(turn)
            elif provider == "gemini":
                for part in turn:
                    call, signature = part.get("functionCall"), part.get("thoughtSignature")
                    if isinstance(call, Mapping) and isinstance(signature, str):
                        key = _call_key(cast("Mapping[str, Any]", call))
                        self._calls.setdefault(key, set()).add(_signature_bytes(signature))
            elif provider == "openai-responses":
                for item in turn:
                    encrypted = item.get("encrypted_content")
                    if isinstance(encrypted, str):
                        self._encrypted.add(encrypted)

    def _remember_anthropic(self, turn: Sequence[Mapping[str, Any]]) -> None:
        reasoning = tuple(_view(block) for block in turn if block.get("type") in _REASONING)
        if not reasoning:
            return
        for block in reasoning:
            if block["type"] == "thinking":
                self._thinking[block["signature"]] = block["thinking"]
        tool_ids = frozenset(str(block["id"]) for block in turn if block.get("type") == "tool_use")
        self._turns.append(_Turn(reasoning, tool_ids, frozenset(map(_mark, reasoning))))

    def check(self, provider: str, body: Any) -> Rejection | None:
        """The error the real API would answer ``body`` with, when strict; else None."""
        if not self._strict or not isinstance(body, Mapping):
            return None
        request = cast("Mapping[str, Any]", body)
        with self._lock:
            if provider == "anthropic":
                return self._check_anthropic(request)
            if provider == "gemini":
                return self._check_gemini(request)
            if provider == "openai-responses":
                return self._check_responses(request)
        return None

    def _check_anthropic(self, request: Mapping[str, Any]) -> Rejection | None:
        messages = _objects(request.get("messages"))
        echoes = [(i, m) for i, m in enumerate(messages) if m.get("role") == "assistant"]
        for position, (i, message) in enumerate(echoes):
            blocks = _objects(message.get("content"))
            message_text = self._anthropic_error(i, blocks, last=position == len(echoes) - 1)
            if message_text is not None:
                return Rejection(400, anthropic.error_body(400, message_text))
        return None

    def _anthropic_error(
        self, i: int, blocks: list[Mapping[str, Any]], *, last: bool
    ) -> str | None:
        """What is wrong with the content of assistant message ``i``, if anything."""
        for j, block in enumerate(blocks):
            signature = block.get("signature")
            if block.get("type") == "thinking" and (
                not isinstance(signature, str) or signature not in self._thinking
            ):
                return f"messages.{i}.content.{j}: Invalid `signature` in `thinking` block"
        turn = self._turn_of(blocks)
        if turn is None:
            return None
        echoed = [
            (j, _view(block)) for j, block in enumerate(blocks) if block.get("type") in _REASONING
        ]
        if not echoed:
            if not last or not blocks:
                return None
            found = blocks[0].get("type")
            return f"messages.{i}.content.0.type: " + _MISSING_THINKING.format(found=found)
        first_call = next(
            (j for j, block in enumerate(blocks) if block.get("type") == "tool_use"), len(blocks)
        )
        for index, (j, view) in enumerate(echoed):
            expected = turn.reasoning[index] if index < len(turn.reasoning) else None
            if view != expected or j > first_call:
                return f"messages.{i}.content.{j}: {_MODIFIED}"
        if len(echoed) < len(turn.reasoning):
            return f"messages.{i}.content.{echoed[-1][0] + 1}: {_MODIFIED}"
        return None

    def _turn_of(self, blocks: list[Mapping[str, Any]]) -> _Turn | None:
        """The remembered turn ``blocks`` echo (the latest one, when ids repeat), if any."""
        tool_ids = {str(block.get("id")) for block in blocks if block.get("type") == "tool_use"}
        marks = {_mark(_view(block)) for block in blocks if block.get("type") in _REASONING}
        for turn in reversed(self._turns):
            if turn.tool_ids & tool_ids or turn.marks & marks:
                return turn
        return None

    def _check_gemini(self, request: Mapping[str, Any]) -> Rejection | None:
        for i, content in enumerate(_objects(request.get("contents"))):
            if content.get("role") != "model":
                continue
            for part in _objects(content.get("parts")):
                call = part.get("functionCall")
                if not isinstance(call, Mapping):
                    continue
                call = cast("Mapping[str, Any]", call)
                sent = self._calls.get(_call_key(call))
                if not sent:
                    continue
                echoed = part.get("thoughtSignature", part.get("thought_signature"))
                if echoed is None:
                    message = _MISSING_SIGNATURE.format(name=call.get("name"), position=i + 1)
                    return Rejection(400, gemini.error_body(400, message))
                if not isinstance(echoed, str) or _signature_bytes(echoed) not in sent:
                    return Rejection(400, gemini.error_body(400, "Corrupted thought signature."))
        return None

    def _check_responses(self, request: Mapping[str, Any]) -> Rejection | None:
        inputs = request.get("input")
        stored = request.get("store") is not False
        for item in _objects(inputs if isinstance(inputs, list) else []):
            kind = item.get("type")
            encrypted = item.get("encrypted_content")
            if kind == "reasoning" and isinstance(encrypted, str):
                if encrypted not in self._encrypted:
                    shown = f"{encrypted[:4]}...{encrypted[-4:]}"
                    message = f"The encrypted content {shown} could not be verified."
                    return Rejection(400, _openai_error(message, None, "invalid_encrypted_content"))
            elif kind in ("reasoning", "item_reference") and not stored:
                message = _NOT_STORED.format(id=item.get("id"))
                return Rejection(404, _openai_error(message, "input", None))
        return None


def _openai_error(message: str, param: str | None, code: str | None) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }


def _objects(value: Any) -> list[Mapping[str, Any]]:
    """A JSON list's items as objects, in place (anything that is not an object reads as an
    empty one, since the wire is untrusted); anything but a list has none."""
    if not isinstance(value, list):
        return []
    return [
        cast("Mapping[str, Any]", v) if isinstance(v, Mapping) else {}
        for v in cast("Sequence[Any]", value)
    ]


def _view(block: Mapping[str, Any]) -> dict[str, Any]:
    """What of a reasoning block must come back unchanged."""
    if block.get("type") == "thinking":
        return {
            "type": "thinking",
            "thinking": block.get("thinking"),
            "signature": block.get("signature"),
        }
    return {"type": "redacted_thinking", "data": block.get("data")}


def _mark(view: Mapping[str, Any]) -> str:
    """A reasoning block's identity: its signature, or its redacted data."""
    return str(view.get("signature") if view["type"] == "thinking" else view.get("data"))


def _call_key(call: Mapping[str, Any]) -> tuple[str, str]:
    args = call.get("args")
    return str(call.get("name")), json.dumps(args, sort_keys=True, default=str)


def _signature_bytes(signature: str) -> bytes:
    """A base64 signature as bytes, standard or URL-safe alphabet, padded or not."""
    text = signature.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except (binascii.Error, ValueError):
        return signature.encode()
