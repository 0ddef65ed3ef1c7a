"""What a tool's return value becomes for the model: text (strings as they are, anything
else as JSON), or media parts when it returns an ``Image`` / ``Audio`` / ``Document`` or a
list of strings and media."""

from __future__ import annotations

from typing import Any
from typing import cast

from ._media import Media
from ._messages import MediaPart
from ._messages import TextPart

__all__ = ["media_content", "serialize"]


def media_content(value: object) -> tuple[TextPart | MediaPart, ...] | None:
    """A tool's return value as parts, when it holds media: an ``Image`` (``Audio``,
    ``Document``) alone, or a list of ``str`` and media; None for anything else."""
    if isinstance(value, Media):
        return (MediaPart(value),)
    if not isinstance(value, (list, tuple)):
        return None
    items = cast("list[object] | tuple[object, ...]", value)
    if not any(isinstance(item, Media) for item in items):
        return None
    if not all(isinstance(item, (str, Media)) for item in items):
        return None  # a list of mixed values: sent as JSON, like any other
    return tuple(
        MediaPart(item) if isinstance(item, Media) else TextPart(cast("str", item))
        for item in items
    )


def serialize(value: Any) -> str:
    """A tool's return value as text for the model: strings as they are, the rest as JSON."""
    if isinstance(value, str):
        return value
    from pydantic_core import to_json

    from ._parsers import dumped

    try:
        return to_json(value, fallback=dumped).decode()
    except Exception:  # noqa: BLE001 - not JSON-able: the text is the best the model gets
        return str(value)
