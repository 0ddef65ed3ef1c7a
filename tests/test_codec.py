"""The codec: versioned JSON for messages, requests and responses, and the fingerprint."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alloy import Image
from alloy import _codec
from alloy._context import Context
from alloy._messages import Message
from alloy._messages import OutputSchema
from alloy._messages import ProviderData
from alloy._messages import Request
from alloy._messages import Response
from alloy._messages import TextPart
from alloy._messages import ToolCall
from alloy._messages import ToolResult
from alloy._messages import ToolSpec
from alloy._usage import Usage

SCHEMA = OutputSchema(
    "Invoice", {"type": "object", "properties": {"total": {"type": "number"}}}, False
)
WEATHER = ToolSpec("weather", "The weather in a city.", {"type": "object", "properties": {}})


def _history() -> tuple[Message, ...]:
    call = ToolCall(
        "c1", "weather", '{"city":"Oslo"}', ProviderData("gemini", {"sig": b"\x00\xff"})
    )
    return (
        Message.user("What's the weather?"),
        Message("assistant", (TextPart("Checking."), call), ProviderData("openai", [{"id": "i"}])),
        Message(
            "user",
            (
                ToolResult("c1", "weather", "rain", is_error=False),
                ToolResult("c2", "weather", (TextPart("a"), TextPart("b")), is_error=True),
            ),
        ),
    )


PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)


def _request(**changes: Any) -> Request:
    base: dict[str, Any] = {
        "model": "gpt-5-mini",
        "messages": _history(),
        "system": "Be brief.",
        "output": SCHEMA,
        "tools": (WEATHER,),
        "temperature": 0.2,
        "max_tokens": 100,
        "timeout": 30.0,
        "options": {"text": {"verbosity": "low"}},
        "output_mode": "tool_call",
        "reasoning_effort": "low",
        "reasoning_budget": 2048,
        "show_reasoning": True,
        "cache": True,
        "cache_ttl": "1h",
        "cache_key": "k1",
        "cached_content": "cachedContents/abc",
        "context": Context("Shared.", ["a document", Image.from_bytes(PNG)]),
    }
    base.update(changes)
    return Request(**base)


def test_a_request_round_trips_through_a_document() -> None:
    request = _request()
    loaded = _codec.loads(_codec.dumps(request))
    assert isinstance(loaded, Request)
    assert loaded.messages == request.messages
    assert loaded.output is not None and loaded.output.schema == SCHEMA.schema
    assert loaded.output.name == "Invoice" and loaded.output.wrapped is False
    assert [t.name for t in loaded.tools] == ["weather"]
    assert loaded.tools[0].parameters == WEATHER.parameters
    assert loaded.context == request.context and loaded.context is not None
    assert loaded.context.documents[1] == Image.from_bytes(PNG)
    settings = (
        "reasoning_effort",
        "reasoning_budget",
        "show_reasoning",
        "cache",
        "cache_ttl",
        "cache_key",
        "cached_content",
    )
    assert [getattr(loaded, n) for n in settings] == [getattr(request, n) for n in settings]
    assert (loaded.temperature, loaded.max_tokens, loaded.timeout) == (0.2, 100, 30.0)
    assert loaded.options == {"text": {"verbosity": "low"}}
    assert loaded.output_mode == "tool_call"
    assert _codec.fingerprint(loaded) == _codec.fingerprint(request)
    recreated = replace(request, cached_content="cachedContents/def")
    assert _codec.fingerprint(recreated) == _codec.fingerprint(request)


def test_bytes_in_provider_data_are_base64_and_come_back_as_bytes() -> None:
    doc = json.loads(_codec.dumps(_request()))
    call = doc["messages"][1]["parts"][1]
    assert call["provider_data"] == {"backend": "gemini", "data": {"sig": {"$bytes": "AP8="}}}
    loaded = _codec.loads(_codec.dumps(_request()))
    assert isinstance(loaded, Request)
    data = loaded.messages[1].parts[1]
    assert isinstance(data, ToolCall) and data.provider_data is not None
    assert data.provider_data.data == {"sig": b"\x00\xff"}


def test_a_user_dict_shaped_like_a_marker_is_kept_as_it_was() -> None:
    odd = {"$bytes": "not base64 at all"}
    message = Message("assistant", (TextPart("x"),), ProviderData("openai", [odd, {"$dict": 1}]))
    loaded = _codec.loads(_codec.dumps(message))
    assert loaded == message


def test_a_response_round_trips() -> None:
    response = Response(
        text="hi",
        tool_calls=(ToolCall("c", "weather", "{}"),),
        finish_reason="stop",
        usage=Usage.of(3, 4, 1, 2),
        model="m",
        request_id="req_1",
        refusal=None,
        reasoning="thought",
        provider_data=ProviderData("anthropic", [{"type": "thinking", "signature": "s"}]),
        finish="stop",
    )
    assert _codec.loads(_codec.dumps(response)) == response


def test_a_stored_finish_is_checked_and_older_documents_have_none() -> None:
    doc = json.loads(_codec.dumps(Response("Once upon", finish_reason="length", finish="length")))
    assert doc["finish"] == "length"
    older = {key: value for key, value in doc.items() if key != "finish"}
    assert _codec.loads(json.dumps(older)) == Response("Once upon", finish_reason="length")
    for bad in ("truncated", 3):
        with pytest.raises(ValueError, match="malformed stored response"):
            _codec.loads(json.dumps({**doc, "finish": bad}))


def test_the_fingerprint_ignores_the_timeout_and_key_order_only() -> None:
    base = _codec.fingerprint(_request())
    assert _codec.fingerprint(_request(timeout=5.0)) == base
    reordered = _request(options={"b": 1, "a": 2})
    assert _codec.fingerprint(reordered) == _codec.fingerprint(_request(options={"a": 2, "b": 1}))
    for change in (
        {"temperature": 0.3},
        {"model": "gpt-5"},
        {"system": None},
        {"output_mode": "json_schema"},
        {"messages": _history()[:1]},
        {"tools": ()},
        {"max_tokens": 101},
    ):
        assert _codec.fingerprint(_request(**change)) != base, change


def test_a_newer_or_foreign_document_is_refused_clearly() -> None:
    doc = json.loads(_codec.dumps(Message.user("x")))
    with pytest.raises(ValueError, match="version 2"):
        _codec.loads(json.dumps({**doc, "v": 2}))
    with pytest.raises(ValueError, match="kind"):
        _codec.loads(json.dumps({**doc, "kind": "spaceship"}))
    with pytest.raises(ValueError, match="not a stored alloy document"):
        _codec.loads("[1, 2]")
    with pytest.raises(ValueError, match="malformed stored message"):
        _codec.loads(json.dumps({"v": 1, "kind": "message", "role": "user", "parts": [{}]}))
    with pytest.raises(ValueError, match="not a stored alloy document"):
        _codec.loads("[" * 100_000)


def test_an_option_that_is_not_json_is_named() -> None:
    with pytest.raises(TypeError, match="object cannot be stored"):
        _codec.dumps(_request(options={"client": object()}))


_json_leaf = st.none() | st.booleans() | st.integers() | st.text() | st.binary(max_size=8)
_json = st.recursive(
    _json_leaf,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)


def _canonical(value: Any) -> Any:
    """``value`` with tuples as lists, as JSON keeps them."""
    if isinstance(value, tuple | list):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    return value


@given(_json, st.text(), st.sampled_from(["user", "assistant"]))
def test_any_json_provider_data_round_trips(data: Any, text: str, role: Any) -> None:
    message = Message(role, (TextPart(text),), ProviderData("x", data))
    loaded = _codec.loads(_codec.dumps(message))
    assert isinstance(loaded, Message)
    assert loaded.parts == message.parts and loaded.role == role
    assert loaded.provider_data is not None
    assert loaded.provider_data.data == _canonical(data)


def test_with_messages_keeps_every_other_field() -> None:
    import dataclasses

    request = _request()
    changed = request.with_messages(_history()[:1])
    assert changed == dataclasses.replace(request, messages=_history()[:1])
    # Every field but messages must differ from its default above, or this proves nothing.
    defaults = Request(model="x", messages=())
    for f in dataclasses.fields(Request):
        if f.name not in ("messages", "model"):
            assert getattr(request, f.name) != getattr(defaults, f.name), f.name
