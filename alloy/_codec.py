"""Versioned JSON for the provider-neutral conversation, and a canonical request fingerprint.

What a response cache, a saved conversation or a durable batch job stores is this JSON:
``Message``, ``Request`` and ``Response`` become plain dicts (``dump_*``) and back
(``load_*``), losslessly for everything alloy reads. ``provider_data`` travels as JSON too;
``bytes`` inside it (Gemini's thought signatures) become ``{"$bytes": "<base64>"}``. A
document carries its format version (``"v"``); loading a newer one is refused with a clear
error rather than misread.

``fingerprint(request)`` is a SHA-256 over the canonical JSON (sorted keys, no spaces) of
everything that shapes the reply: the timeout is left out, since it changes only how long
alloy waits. Media count by what the provider receives: inline content by its SHA-256 (not
its bytes, nor whether it came from a path or from bytes), a URL or a file id as itself.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import json
from collections.abc import Callable
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any
from typing import cast

from ._context import Context
from ._media import Audio
from ._media import Document
from ._media import Image
from ._media import Media
from ._messages import FINISHES
from ._messages import MediaPart
from ._messages import Message
from ._messages import NormalFinish
from ._messages import OutputSchema
from ._messages import Part
from ._messages import ProviderData
from ._messages import Request
from ._messages import Response
from ._messages import TextPart
from ._messages import ToolCall
from ._messages import ToolResult
from ._messages import ToolSpec
from ._messages import context_parts
from ._usage import Usage

__all__ = [
    "VERSION",
    "dump_message",
    "dump_request",
    "dump_response",
    "dumps",
    "fingerprint",
    "load_message",
    "load_request",
    "load_response",
    "loads",
]

VERSION = 1
"""The format version written into every document."""

_BYTES = "$bytes"
_DICT = "$dict"  # a user dict whose only key is one of these markers, escaped


# --- JSON values with bytes -----------------------------------------------------------------


def to_json(value: object) -> Any:
    """``value`` as JSON: tuples as lists, ``bytes`` as ``{"$bytes": base64}``, pydantic
    models (SDK types in request options) as their JSON dump."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, bytes):
        return {_BYTES: base64.b64encode(value).decode("ascii")}
    if isinstance(value, Mapping):
        out = {str(k): to_json(v) for k, v in cast("Mapping[object, Any]", value).items()}
        return {_DICT: out} if len(out) == 1 and next(iter(out)) in (_BYTES, _DICT) else out
    if isinstance(value, list | tuple):
        items: list[object] | tuple[object, ...] = value  # pyright: ignore[reportUnknownVariableType]
        return [to_json(v) for v in items]
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return to_json(dump(mode="json", exclude_none=True))
    raise TypeError(f"{type(value).__name__} cannot be stored as JSON")


def from_json(value: object) -> Any:
    """The inverse of ``to_json`` (lists stay lists)."""
    if isinstance(value, list):
        listed: list[object] = value  # pyright: ignore[reportUnknownVariableType]
        return [from_json(v) for v in listed]
    if isinstance(value, dict):
        items = cast("dict[str, Any]", value)
        if len(items) == 1:
            key, inner = next(iter(items.items()))
            if key == _BYTES and isinstance(inner, str):
                return base64.b64decode(inner, validate=True)
            if key == _DICT and isinstance(inner, dict):
                return {k: from_json(v) for k, v in cast("dict[str, Any]", inner).items()}
        return {k: from_json(v) for k, v in items.items()}
    return value


# --- the conversation -----------------------------------------------------------------------


def _dump_data(data: ProviderData | None) -> Any:
    return None if data is None else {"backend": data.backend, "data": to_json(data.data)}


def _load_data(raw: Any) -> ProviderData | None:
    if raw is None:
        return None
    return ProviderData(_str(raw, "backend"), from_json(raw.get("data")))


_MediaDump = Callable[[MediaPart], dict[str, Any]]


def _dump_part(part: Part, media: _MediaDump | None = None) -> dict[str, Any]:
    if isinstance(part, TextPart):
        return {"type": "text", "text": part.text}
    if isinstance(part, ToolCall):
        return {
            "type": "tool_call",
            "id": part.id,
            "name": part.name,
            "arguments": part.arguments,
            "provider_data": _dump_data(part.provider_data),
        }
    if isinstance(part, MediaPart):
        return (media or _dump_media)(part)
    content = part.content
    return {
        "type": "tool_result",
        "call_id": part.call_id,
        "name": part.name,
        "content": content if isinstance(content, str) else [_dump_part(p, media) for p in content],
        "is_error": part.is_error,
    }


def _load_part(raw: Any) -> Part:
    kind = _str(raw, "type")
    if kind == "text":
        return TextPart(_str(raw, "text"))
    if kind == "tool_call":
        return ToolCall(
            _str(raw, "id"),
            _str(raw, "name"),
            _str(raw, "arguments"),
            _load_data(raw.get("provider_data")),
        )
    if kind == "media":
        return _load_media(raw)
    if kind == "tool_result":
        content = raw.get("content")
        parts = content if isinstance(content, str) else tuple(_content_part(p) for p in content)
        return ToolResult(
            _str(raw, "call_id"), _str(raw, "name"), parts, bool(raw.get("is_error", False))
        )
    raise ValueError(f"unknown part type {kind!r}")


def _content_part(raw: Any) -> TextPart | MediaPart:
    part = _load_part(raw)
    if not isinstance(part, (TextPart, MediaPart)):
        raise ValueError("a tool result's content holds only text and media parts")
    return part


_MEDIA_CLASSES: dict[str, type[Media]] = {"image": Image, "audio": Audio, "document": Document}


def _dump_media(part: MediaPart) -> dict[str, Any]:
    """A media part as JSON: bytes as base64, a path, a URL or a file id (what it refers
    to, not a copy of a file's content)."""
    media = part.media
    out: dict[str, Any] = {
        "type": "media",
        "kind": media.kind,
        "source": media.source,
        "media_type": media.media_type,
        "name": part.name,
        "filename": media.filename,
        "detail": media.detail,
    }
    if media.inline:
        out["sha256"] = media.sha256  # what a fingerprint of the request depends on
    if media.source == "bytes":
        out["data"] = media.base64()
    elif media.source == "path":
        out["path"] = str(media.path)
    elif media.source == "url":
        out["url"] = media.url
    else:
        out["provider"], out["file_id"] = media.provider, media.file_id
    return out


def _media_digest(part: MediaPart) -> dict[str, Any]:
    """A media part as a fingerprint counts it: what reaches the provider, with inline
    content by its SHA-256 (the part's parameter name never reaches it)."""
    media = part.media
    out: dict[str, Any] = {
        "type": "media",
        "kind": media.kind,
        "media_type": media.media_type,
        "filename": media.filename,
        "detail": media.detail,
    }
    if media.inline:
        out["sha256"] = media.sha256
    elif media.source == "url":
        out["url"] = media.url
    else:
        out["provider"], out["file_id"] = media.provider, media.file_id
    return out


def _load_media(raw: Any) -> MediaPart:
    from pathlib import Path

    cls = _MEDIA_CLASSES.get(_str(raw, "kind"))
    if cls is None:
        raise ValueError(f"unknown media kind {raw.get('kind')!r}")
    source, media_type = _str(raw, "source"), _str(raw, "media_type")
    common: dict[str, Any] = {"filename": raw.get("filename"), "detail": raw.get("detail")}
    if source == "bytes":
        data = base64.b64decode(_str(raw, "data"), validate=True)
        media = cls("bytes", media_type, data=data, **common)
    elif source == "path":
        media = cls("path", media_type, path=Path(_str(raw, "path")), **common)
    elif source == "url":
        media = cls("url", media_type, url=_str(raw, "url"), **common)
    elif source == "file":
        media = cls(
            "file", media_type, provider=_str(raw, "provider"), file_id=_str(raw, "file_id")
        )
    else:
        raise ValueError(f"unknown media source {source!r}")
    name = raw.get("name")
    return MediaPart(media, name if isinstance(name, str) else None)


def dump_message(message: Message) -> dict[str, Any]:
    """``message`` as JSON."""
    return _dump_message(message, _dump_media)


def _dump_message(message: Message, media: _MediaDump) -> dict[str, Any]:
    return {
        "role": message.role,
        "parts": [_dump_part(p, media) for p in message.parts],
        "provider_data": _dump_data(message.provider_data),
    }


def load_message(raw: Mapping[str, Any]) -> Message:
    """The ``Message`` that ``dump_message`` wrote."""
    role = _str(raw, "role")
    parts = tuple(_load_part(p) for p in _list(raw, "parts"))
    if role == "user":
        return Message("user", parts, _load_data(raw.get("provider_data")))
    if role == "assistant":
        return Message("assistant", parts, _load_data(raw.get("provider_data")))
    raise ValueError(f"unknown role {role!r}")


def _dump_usage(usage: Usage) -> dict[str, Any]:
    out: dict[str, Any] = {
        f.name: v
        for f in dataclasses.fields(usage)
        if f.name != "details" and (v := getattr(usage, f.name)) is not None
    }
    if usage.details:
        out["details"] = dict(usage.details)
    return out


def _load_usage(raw: Mapping[str, Any]) -> Usage:
    counts = {k: v for k, v in raw.items() if k != "details"}
    return dataclasses.replace(
        Usage(**counts), details=MappingProxyType(dict(raw.get("details") or {}))
    )


def dump_request(request: Request) -> dict[str, Any]:
    """``request`` as JSON (its options too; an option that is not JSON is a ``TypeError``)."""
    return _dump_request(request, _dump_media)


def _dump_request(request: Request, media: _MediaDump) -> dict[str, Any]:
    output = request.output
    return {
        "model": request.model,
        "messages": [_dump_message(m, media) for m in request.messages],
        "system": request.system,
        "output": None
        if output is None
        else {"name": output.name, "schema": to_json(output.schema), "wrapped": output.wrapped},
        "output_mode": request.output_mode,
        "tools": [
            {"name": t.name, "description": t.description, "parameters": to_json(t.parameters)}
            for t in request.tools
        ],
        "temperature": request.temperature,
        "max_tokens": request.max_tokens,
        "timeout": request.timeout,
        "options": to_json(request.options),
        "reasoning_effort": request.reasoning_effort,
        "reasoning_budget": request.reasoning_budget,
        "show_reasoning": request.show_reasoning,
        "cache": request.cache,
        "cache_ttl": request.cache_ttl,
        "cache_key": request.cache_key,
        "cached_content": request.cached_content,
        "context": None if request.context is None else _dump_context(request.context, media),
    }


def _dump_context(context: Context, media: _MediaDump) -> list[dict[str, Any]]:
    """A context as its layers, the first base first."""
    return [
        {
            "system": layer.system,
            "name": layer.name,
            "documents": [_dump_part(part, media) for part in context_parts(layer)],
        }
        for layer in context.layers
    ]


def _load_context(raw: Any) -> Context | None:
    if raw is None:
        return None
    context: Context | None = None
    layers: list[Any] = raw if isinstance(raw, list) else [raw]  # pyright: ignore[reportUnknownVariableType]
    for layer in layers:
        documents = [
            part.text if isinstance(part, TextPart) else part.media
            for part in (_content_part(p) for p in _list(layer, "documents"))
        ]
        name = layer.get("name")
        name = name if isinstance(name, str) else "context"
        context = Context(layer.get("system"), documents, name=name, base=context)
    return context


def load_request(raw: Mapping[str, Any]) -> Request:
    """The ``Request`` that ``dump_request`` wrote."""
    output = raw.get("output")
    return Request(
        model=_str(raw, "model"),
        messages=tuple(load_message(m) for m in _list(raw, "messages")),
        system=raw.get("system"),
        output=None
        if output is None
        else OutputSchema(
            _str(output, "name"), from_json(output["schema"]), bool(output["wrapped"])
        ),
        tools=tuple(
            ToolSpec(_str(t, "name"), str(t.get("description", "")), from_json(t["parameters"]))
            for t in _list(raw, "tools")
        ),
        temperature=raw.get("temperature"),
        max_tokens=raw.get("max_tokens"),
        timeout=raw.get("timeout"),
        options=from_json(raw.get("options") or {}),
        output_mode=raw.get("output_mode", "json_schema"),
        reasoning_effort=raw.get("reasoning_effort"),
        reasoning_budget=raw.get("reasoning_budget"),
        show_reasoning=raw.get("show_reasoning"),
        cache=raw.get("cache"),
        cache_ttl=raw.get("cache_ttl"),
        cache_key=raw.get("cache_key"),
        cached_content=raw.get("cached_content"),
        context=_load_context(raw.get("context")),
    )


def dump_response(response: Response) -> dict[str, Any]:
    """``response`` as JSON."""
    return {
        "text": response.text,
        "tool_calls": [_dump_part(c) for c in response.tool_calls],
        "finish_reason": response.finish_reason,
        "finish": response.finish,
        "usage": _dump_usage(response.usage),
        "model": response.model,
        "request_id": response.request_id,
        "refusal": response.refusal,
        "reasoning": response.reasoning,
        "provider_data": _dump_data(response.provider_data),
    }


def load_response(raw: Mapping[str, Any]) -> Response:
    """The ``Response`` that ``dump_response`` wrote."""
    calls = tuple(_load_part(c) for c in _list(raw, "tool_calls"))
    if not all(isinstance(c, ToolCall) for c in calls):
        raise ValueError("a response's tool_calls hold only tool calls")
    return Response(
        text=_str(raw, "text"),
        tool_calls=cast("tuple[ToolCall, ...]", calls),
        finish_reason=raw.get("finish_reason"),
        usage=_load_usage(raw.get("usage") or {}),
        model=raw.get("model"),
        request_id=raw.get("request_id"),
        refusal=raw.get("refusal"),
        reasoning=raw.get("reasoning"),
        provider_data=_load_data(raw.get("provider_data")),
        finish=_finish(raw.get("finish")),
    )


def _finish(value: object) -> NormalFinish | None:
    """A stored normalised finish; documents written before it existed have none."""
    if value is None:
        return None
    if not isinstance(value, str) or value not in FINISHES:
        raise ValueError(f"finish must be one of {sorted(FINISHES)}, not {value!r}")
    return cast("NormalFinish", value)


# --- documents and fingerprints ---------------------------------------------------------------

Stored = Message | Request | Response
_LOAD: dict[str, Callable[[Mapping[str, Any]], Stored]] = {
    "message": load_message,
    "request": load_request,
    "response": load_response,
}


def dumps(value: Stored) -> str:
    """A JSON document for ``value``, with its kind and the format version."""
    if isinstance(value, Message):
        kind, body = "message", dump_message(value)
    elif isinstance(value, Request):
        kind, body = "request", dump_request(value)
    else:
        kind, body = "response", dump_response(value)
    return json.dumps({"v": VERSION, "kind": kind, **body}, ensure_ascii=False)


def loads(text: str | bytes) -> Stored:
    """The value of a document ``dumps`` wrote; ``ValueError`` for anything else."""
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not a stored alloy document: {exc}") from None
    if not isinstance(raw, dict):
        raise ValueError("not a stored alloy document: expected a JSON object")
    doc = cast("dict[str, Any]", raw)
    version, kind = doc.pop("v", None), doc.pop("kind", None)
    if not isinstance(version, int) or version > VERSION or version < 1:
        raise ValueError(
            f"stored document has format version {version!r}; this alloy reads up to "
            f"{VERSION}. Upgrade alloy to read it."
        )
    load = _LOAD.get(kind) if isinstance(kind, str) else None
    if load is None:
        raise ValueError(f"unknown stored document kind {kind!r}")
    try:
        return load(doc)
    except (KeyError, TypeError, AttributeError, ValueError, RecursionError) as exc:
        raise ValueError(f"malformed stored {kind}: {type(exc).__name__}: {exc}") from None


def fingerprint(request: Request) -> str:
    """A stable hex digest of what shapes ``request``'s reply: everything but the timeout and
    the provider cache's name (a re-created cache holds the same prefix), with media by
    what they hold (``_media_digest``)."""
    body = _dump_request(request, _media_digest)
    del body["timeout"], body["cached_content"]
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def _str(raw: Any, key: str) -> str:
    value = raw[key]
    if not isinstance(value, str):
        raise TypeError(f"{key} must be a string, not {type(value).__name__}")
    return value


def _list(raw: Any, key: str) -> list[Any]:
    value: object = raw.get(key) or []
    if not isinstance(value, list):
        raise TypeError(f"{key} must be a list, not {type(value).__name__}")
    listed: list[Any] = value  # pyright: ignore[reportUnknownVariableType]
    return listed
