"""The key structure of a provider's response body, to compare real answers with the emulator's.

``shape(body)`` is the set of key paths in a JSON body, an SSE stream or an NDJSON stream:
``choices[].message.content``, with list items that carry a string ``type`` named by it
(``content[text].text``, ``content[tool_use].name``) and stream events prefixed by their
type (``message_delta: usage.output_tokens``). Values are left out, and so is what is inside
free-form values (tool arguments, the model's JSON), so two answers of the same kind have the
same shape whatever they say.

``drift(emulated, real)`` is what the emulator renders that the real answer lacks: the keys
the decoders read come from the emulator's rendering, so a key the provider renamed or
dropped shows up here. Keys a provider sends only sometimes (cache counters, ``null`` fields
left out) are listed per provider in ``OPTIONAL``.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Any

from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

__all__ = ["OPTIONAL", "drift", "emulated_body", "shape"]

# Values whose inside is the model's (or the caller's) own JSON, not the provider's format.
_FREE_FORM = frozenset({"input", "args", "arguments", "partial_json", "parsed", "schema"})


def _paths(value: Any, prefix: str, out: set[str]) -> None:
    if isinstance(value, dict):
        for key, child in value.items():  # pyright: ignore[reportUnknownVariableType]
            path = f"{prefix}.{key}" if prefix else str(key)
            out.add(path)
            if key not in _FREE_FORM:
                _paths(child, path, out)
    elif isinstance(value, list):
        for item in value:  # pyright: ignore[reportUnknownVariableType]
            kind = item.get("type") if isinstance(item, dict) else None
            label = kind if isinstance(kind, str) else ""
            _paths(item, f"{prefix}[{label}]", out)


def _events(body: str) -> Iterable[tuple[str, Any]]:
    """``(event name, JSON)`` for each event of an SSE or NDJSON stream."""
    name = ""
    for line in body.splitlines():
        line = line.strip()
        if line.startswith("event:"):
            name = line.removeprefix("event:").strip()
        elif line.startswith("data:"):
            data = line.removeprefix("data:").strip()
            if data and data != "[DONE]":
                yield name, json.loads(data)
            name = ""
        elif line.startswith("{"):
            yield "", json.loads(line)


def shape(body: str) -> set[str]:
    """The key paths of a response body (JSON, or a stream of JSON events)."""
    out: set[str] = set()
    try:
        whole = json.loads(body)
    except ValueError:
        whole = None
    if isinstance(whole, dict):
        _paths(whole, "", out)
        return out
    for name, event in _events(body):
        kind = event.get("type") if isinstance(event, dict) else None
        label = kind if isinstance(kind, str) else name
        found: set[str] = set()
        _paths(event, "", found)
        out.update(f"{label}: {path}" if label else path for path in found)
    return out


# Keys the emulator renders that a real answer of the same kind may leave out: fields newer
# than some of the recorded answers (December 2025), which the decoders read when present.
OPTIONAL: dict[str, frozenset[str]] = {
    "anthropic": frozenset({"stop_details"}),
    "openai": frozenset({"completed_at", "cache_write_tokens"}),
}
_SEGMENTS = re.compile(r"[.\[\]: ]+")


def drift(backend: str, emulated: str, real: str) -> set[str]:
    """The key paths of the emulator's body that the real body lacks (optional ones aside).

    ``backend`` is alloy's name for it (``openai`` is the Responses API, ``openai-chat``
    Chat Completions)."""
    optional = OPTIONAL.get(backend, frozenset())
    return {
        path
        for path in shape(emulated) - shape(real)
        if not optional.intersection(_SEGMENTS.split(path))
    }


_API = {"openai-chat": "openai", "openai-responses": "openai"}


def emulated_body(
    emulator: Scenario, provider: str, request: Mapping[str, Any], answer: Reply | Fault
) -> str:
    """What ``emulator`` answers, scripted with ``answer``, to a recorded ``request``
    (``method``, ``path`` and ``body``) of ``provider``: the same API, path and stream mode."""
    emulator.enqueue(answer)
    api = _API.get(provider, provider)
    url = f"{emulator.url}/{api}{request['path']}"
    headers = {
        "content-type": "application/json",
        "authorization": "Bearer test",
        "x-api-key": "test",
        "x-goog-api-key": "test",
        "anthropic-version": "2023-06-01",
    }
    data = None if request.get("body") is None else json.dumps(request["body"]).encode()
    sent = urllib.request.Request(url, data=data, headers=headers, method=request["method"])
    try:
        with urllib.request.urlopen(sent, timeout=30) as response:
            return str(response.read().decode())
    except urllib.error.HTTPError as exc:
        return str(exc.read().decode())
