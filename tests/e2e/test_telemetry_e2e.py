"""alloy.telemetry through the real SDKs on every backend: the span tree of a tool command
with one re-ask (sync, async, streamed), usage summed over the chat spans, no Anthropic SDK
span while alloy traces (both when the application asks for the SDK's own), content off by
default, retries as events and the error type of a call that failed."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import alloy.telemetry
from alloy import ProviderError
from alloy import command
from alloy import tool
from alloy import use_config
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall
from tests.test_telemetry import tree

_EXPORTER = InMemorySpanExporter()


def _global_provider() -> TracerProvider:
    """OpenTelemetry's global provider, an SDK one exporting to ``_EXPORTER``: the Anthropic
    SDK traces to the global provider, so its spans would show here if it made any."""
    current = trace.get_tracer_provider()
    if not isinstance(current, TracerProvider):
        current = TracerProvider()
        trace.set_tracer_provider(current)
    if not getattr(current, "_alloy_test_exporter", False):
        current.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        current._alloy_test_exporter = True  # type: ignore[attr-defined]
    return current


@pytest.fixture
def spans(alloy_emulator: Scenario) -> Iterator[InMemorySpanExporter]:
    _global_provider()
    alloy.telemetry.instrument()  # the global provider
    _EXPORTER.clear()
    yield _EXPORTER
    alloy.telemetry.uninstrument()
    _EXPORTER.clear()


@tool
def add(a: int, b: int) -> int:
    """Add two integers."""
    return a + b


@command(tools=[add])
def calculate(question: str) -> int:
    """Use the tools to answer: {question}"""


@command
def echo(text: str) -> str:
    """{text}"""


def _attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


@pytest.mark.parametrize("mode", ["sync", "async", "stream"])
def test_a_tool_command_with_one_reask(
    provider: str, alloy_emulator: Scenario, spans: InMemorySpanExporter, mode: str
) -> None:
    alloy_emulator.enqueue(
        Reply(tool_calls=[ToolCall("add", {"a": 2, "b": 3})], input_tokens=20, output_tokens=4),
        Reply(json={"value": "five"}, input_tokens=30, output_tokens=6, cached_tokens=10),
        Reply(json={"value": 5}, input_tokens=40, output_tokens=8),
    )
    if mode == "sync":
        result = calculate.run("2+3")
    elif mode == "async":
        result = asyncio.run(calculate.run_async("2+3"))
    else:
        with calculate.stream("2+3") as stream:
            result = stream.result()
    assert result.value == 5
    workflow, chats, tools = tree(spans)  # nothing else: no anthropic.messages.create
    assert len(chats) == 3 and len(tools) == 1
    assert not [s for s in spans.get_finished_spans() if s.name.startswith("anthropic.")]
    operation = "generate_content" if provider == "gemini" else "chat"
    assert [c.name for c in chats] == [f"{operation} gpt-test"] * 3
    provider_name = {"openai-chat": "openai", "gemini": "gcp.gemini"}.get(provider, provider)
    assert {_attrs(c)["gen_ai.provider.name"] for c in chats} == {provider_name}
    usage = result.usage
    assert sum(_attrs(c)["gen_ai.usage.input_tokens"] for c in chats) == usage.input_tokens == 90
    assert sum(_attrs(c)["gen_ai.usage.output_tokens"] for c in chats) == usage.output_tokens
    cached = [_attrs(c).get("gen_ai.usage.cache_read.input_tokens") for c in chats]
    if provider == "ollama":  # its wire has no cache counts
        assert cached == [None] * 3 and usage.cached_input_tokens is None
    else:
        assert cached[1] == 10 == usage.cached_input_tokens
    assert not [k for k in _attrs(workflow) if k.startswith("gen_ai.usage.")]
    assert tools[0].name == "execute_tool add"
    for span in (workflow, *chats, *tools):
        keys = _attrs(span).keys()
        assert not keys & {"gen_ai.input.messages", "gen_ai.output.messages"}
        assert not keys & {"gen_ai.tool.call.arguments", "gen_ai.tool.call.result"}
        assert span.status.status_code is not StatusCode.ERROR


def test_a_retry_is_an_event_of_its_chat_span(
    provider: str, alloy_emulator: Scenario, spans: InMemorySpanExporter
) -> None:
    alloy_emulator.enqueue(Fault(status=429, headers={"retry-after-ms": "10"}), Reply(text="ok"))
    assert echo("hi") == "ok"
    _workflow, (chat,), _ = tree(spans)
    (event,) = [e for e in chat.events if e.name == "alloy.retry"]
    assert dict(event.attributes or {})["http.response.status_code"] == 429
    assert dict(event.attributes or {})["alloy.retry.attempt"] == 1
    assert _attrs(chat)["alloy.http_attempts"] == 2


def test_chat_spans_say_which_server_they_went_to(
    provider: str, alloy_emulator: Scenario, spans: InMemorySpanExporter
) -> None:
    from urllib.parse import urlsplit

    alloy_emulator.set_default(Reply(text="ok"))
    assert echo("hi") == "ok"
    _workflow, (chat,), _ = tree(spans)
    where = urlsplit(alloy_emulator.base_url("openai"))
    assert _attrs(chat)["server.address"] == where.hostname == "127.0.0.1"
    assert _attrs(chat)["server.port"] == where.port


def test_a_failed_call_has_its_error_type(
    provider: str, alloy_emulator: Scenario, spans: InMemorySpanExporter
) -> None:
    alloy_emulator.enqueue(
        Fault(status=429, headers={"retry-after-ms": "10"}),
        Fault(status=429, headers={"retry-after-ms": "10"}),
    )
    with use_config(max_retries=1), pytest.raises(ProviderError) as caught:
        echo("hi")
    workflow, (chat,), _ = tree(spans)
    assert [e.name for e in chat.events] == ["alloy.retry"]
    for span in (workflow, chat):
        assert _attrs(span)["error.type"] == type(caught.value).__name__ == "RateLimitError"
        assert span.status.status_code is StatusCode.ERROR


def test_the_sdks_own_spans_when_the_application_asks_for_them(
    alloy_emulator: Scenario, spans: InMemorySpanExporter
) -> None:
    # Only the Anthropic SDK makes spans of its own.
    alloy_emulator.enqueue(Reply(text="ok"))
    with use_config(
        model="anthropic:gpt-test",
        provider_options={"anthropic": {"open_telemetry": {"traces": True}}},
    ):
        assert echo("hi") == "ok"
    names = sorted(s.name for s in spans.get_finished_spans())
    assert names == ["anthropic.messages.create", "chat gpt-test", "invoke_workflow echo"]


def test_clients_built_before_instrument_stop_the_sdks_spans(
    provider: str, alloy_emulator: Scenario
) -> None:
    _global_provider()
    _EXPORTER.clear()
    alloy_emulator.enqueue(Reply(text="one"), Reply(text="two"))
    assert echo("hi") == "one"  # not instrumented: the Anthropic SDK traces on its own
    sdk = [s.name for s in _EXPORTER.get_finished_spans()]
    assert sdk == (["anthropic.messages.create"] if provider == "anthropic" else [])
    _EXPORTER.clear()
    alloy.telemetry.instrument()
    try:
        assert echo("hi") == "two"
    finally:
        alloy.telemetry.uninstrument()
    names = sorted(s.name for s in _EXPORTER.get_finished_spans())
    assert names == [
        f"{'generate_content' if provider == 'gemini' else 'chat'} gpt-test",
        "invoke_workflow echo",
    ]
    _EXPORTER.clear()


def _everything(span: ReadableSpan) -> str:
    events = [dict(e.attributes or {}) for e in span.events]
    return repr((span.name, _attrs(span), events, span.status.description))


def test_content_when_asked_and_never_a_key(
    provider: str,
    alloy_emulator: Scenario,
    spans: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key = "sk-distinctive-3f9a1c"
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY"):
        monkeypatch.setenv(name, key)
    alloy.telemetry.instrument(capture_content=True)
    alloy_emulator.enqueue(
        Reply(tool_calls=[ToolCall("add", {"a": 2, "b": 3})]),
        Reply(json={"value": 5}),
        Fault(status=400),
    )
    assert calculate("2+3") == 5
    with pytest.raises(ProviderError):
        echo("hi")
    found = spans.get_finished_spans()
    assert found and not [s for s in found if key in _everything(s)]
    chats = [s for s in found if s.name.endswith(" gpt-test") and "workflow" not in s.name]
    first = json.loads(_attrs(chats[0])["gen_ai.input.messages"])
    assert first[0]["role"] == "user"
    assert "2+3" in first[0]["parts"][0]["content"]
    reply = json.loads(_attrs(chats[0])["gen_ai.output.messages"])
    assert reply[0]["parts"][-1]["name"] == "add"
    (use,) = [s for s in found if s.name == "execute_tool add"]
    assert json.loads(_attrs(use)["gen_ai.tool.call.result"]) == 5
