"""A batch line's answer: the item scripted for it, rendered as a realtime call would be.

The same wire renderers answer both, so a line's body equals what the realtime endpoint
returns for the same ``Reply``, and a ``Fault`` becomes the provider's error envelope with
the fault's status.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._items import Fault
from .._items import Item
from .._items import Reply
from ..files import FileStore
from ..wire import WIRES
from ..wire import JsonBody
from ..wire import RenderContext
from ._jobs import BatchStore
from ._jobs import Outcome
from ._jobs import mapping

__all__ = ["BatchContext", "Take", "answer"]

Take = Callable[[str, Any, str], Item | str]
"""``(wire format, body, api path)`` to the scenario's next item for a realtime call with
that body, or the message of the error a realtime call would have had instead."""


@dataclass(frozen=True)
class BatchContext:
    """What a batch API handler works with: the scenario's batches, files and items."""

    store: BatchStore
    files: FileStore
    take: Take


def answer(
    ctx: BatchContext, key: str, wire_name: str, body: Any, api_path: str, model: str
) -> Outcome:
    """The outcome of one line: its per-key script, else the scenario's queue or default."""
    wire = WIRES[wire_name]
    scripted = ctx.store.scripted(key)
    item = ctx.take(wire_name, body, api_path) if scripted is None else scripted
    if isinstance(item, str):
        return Outcome(400, wire.error_body(400, item))
    if isinstance(item, Fault):
        fault_body: Any = item.body
        if isinstance(fault_body, Mapping):
            return Outcome(item.status, dict(mapping(fault_body)))
        return Outcome(item.status, wire.error_body(item.status, item.message))
    if not isinstance(item, Reply):
        try:
            return Outcome(item.status, json.loads(item.body_bytes))
        except ValueError:
            message = "emulator: a recorded answer that is not JSON cannot be a batch result"
            return Outcome(500, wire.error_body(500, message))
    request = mapping(body)
    asked = request.get("model")
    shown = item.model or (asked if isinstance(asked, str) else None) or model
    context = RenderContext(
        request=request, stream=False, model=shown, created=int(ctx.store.now())
    )
    try:
        rendered = wire.render(item, context)
    except Exception as exc:  # noqa: BLE001 - a bad script must answer, not kill the server
        return Outcome(500, wire.error_body(500, f"emulator: cannot render reply: {exc}"))
    if not isinstance(rendered, JsonBody):  # a non-streamed render is always a body
        return Outcome(500, wire.error_body(500, "emulator: the reply rendered as a stream"))
    return Outcome(rendered.status, rendered.body, item)
