"""Schemas, a tool and a request builder that the backends' encode suites share."""

from __future__ import annotations

from typing import Any
from typing import Protocol

from alloy._messages import Message
from alloy._messages import Request
from alloy._messages import ToolCall
from alloy._messages import ToolResult
from alloy._messages import ToolSpec

# An invoice: two required fields, extra properties left to the provider's default.
OPEN_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"vendor": {"type": "string"}, "total": {"type": "number"}},
    "required": ["vendor", "total"],
}
# The same, closed: what OpenAI strict mode accepts as it is.
STRICT_SCHEMA: dict[str, Any] = {**OPEN_SCHEMA, "additionalProperties": False}
# An optional field with a default: OpenAI strict mode needs every property required.
LOOSE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"vendor": {"type": "string"}, "note": {"type": "string", "default": ""}},
    "required": ["vendor"],
}

_CITY: dict[str, Any] = {
    "type": "object",
    "properties": {"city": {"type": "string"}},
    "required": ["city"],
}
# A tool taking one required city, open to extra properties ...
OPEN_WEATHER = ToolSpec("get_weather", "Current weather for a city.", _CITY)
# ... and closed to them.
WEATHER = ToolSpec(
    "get_weather", "Current weather for a city.", {**_CITY, "additionalProperties": False}
)

# An assistant's two calls of it, and the user turn with their results.
WEATHER_CALLS = (
    ToolCall("call_1", "get_weather", '{"city":"Oslo"}'),
    ToolCall("call_2", "get_weather", '{"city":"Rome"}'),
)
WEATHER_RESULTS = Message(
    "user",
    (ToolResult("call_1", "get_weather", "rain"), ToolResult("call_2", "get_weather", "sun")),
)


class RequestBuilder(Protocol):
    def __call__(self, *messages: Message, model: str = ..., **fields: Any) -> Request: ...


def request_builder(default_model: str) -> RequestBuilder:
    """``request(*messages, model=default_model, **fields)``: a ``Request`` for ``model``
    with those messages (one user "hi" when none are given) and fields."""

    def request(*messages: Message, model: str = default_model, **fields: Any) -> Request:
        return Request(model=model, messages=messages or (Message.user("hi"),), **fields)

    return request
