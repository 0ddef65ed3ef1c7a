"""alloy.telemetry on the fake backend: the span tree of a command call, its attributes,
content capture (off by default), failures, the names pinned in one module, and the
process-wide observer hook it stands on."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

import alloy.telemetry
from alloy import Image
from alloy import ProviderError
from alloy import command
from alloy import tool
from alloy._observe import Observer
from alloy._observe import observers
from alloy._observe import register
from alloy._observe import tracing
from alloy._observe import unregister
from alloy.telemetry import _semconv
from alloy.testing import FakeBackend

CHAT_OPERATIONS = {"chat", "generate_content"}


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    alloy.telemetry.instrument(provider)
    assert alloy.telemetry.instrumented()
    yield exporter
    alloy.telemetry.uninstrument()


@tool
def double(n: int) -> int:
    """Double a number."""
    return 2 * n


@command(tools=[double])
def compute(n: int) -> int:
    """Compute with the tools: {n}"""


@command
def echo(text: str) -> str:
    """{text}"""


def _script(fake: FakeBackend) -> None:
    fake.add_reply(tool_calls=[("double", {"n": 2})])
    fake.add_reply(json="four")  # not an int: re-asked once
    fake.add_reply(json=4)


def _op(span: ReadableSpan) -> Any:
    return (span.attributes or {}).get("gen_ai.operation.name")


def tree(
    exporter: InMemorySpanExporter,
) -> tuple[ReadableSpan, list[ReadableSpan], list[ReadableSpan]]:
    """The one workflow span, the chat spans and the tool spans, checked for parenting."""
    found = exporter.get_finished_spans()
    workflows = [s for s in found if _op(s) == "invoke_workflow"]
    assert len(workflows) == 1, [s.name for s in found]
    workflow = workflows[0]
    chats = [s for s in found if _op(s) in CHAT_OPERATIONS]
    tools = [s for s in found if _op(s) == "execute_tool"]
    assert len(found) == 1 + len(chats) + len(tools), [s.name for s in found]
    assert workflow.context is not None
    for child in (*chats, *tools):
        assert child.parent is not None
        assert child.parent.span_id == workflow.context.span_id
        assert child.context is not None
        assert child.context.trace_id == workflow.context.trace_id
    return workflow, sorted(chats, key=lambda s: s.start_time or 0), tools


def _attrs(span: ReadableSpan) -> dict[str, Any]:
    return dict(span.attributes or {})


@pytest.mark.parametrize("mode", ["sync", "async", "stream"])
def test_a_tool_command_with_a_reask(
    alloy_fake: FakeBackend, spans: InMemorySpanExporter, mode: str
) -> None:
    _script(alloy_fake)
    if mode == "sync":
        result = compute.run(2)
    elif mode == "async":
        result = asyncio.run(compute.run_async(2))
    else:
        with compute.stream(2) as stream:
            result = stream.result()
    assert result.value == 4
    workflow, chats, tools = tree(spans)
    assert len(chats) == 3 and len(tools) == 1
    assert workflow.name == "invoke_workflow compute"
    wf = _attrs(workflow)
    assert wf["gen_ai.workflow.name"] == "compute"
    assert wf["alloy.attempts"] == 2
    assert wf["gen_ai.request.stream"] is (mode == "stream")
    assert not [k for k in wf if k.startswith("gen_ai.usage.")]  # no double counting
    assert wf["alloy.usage.input_tokens"] == result.usage.input_tokens
    model = alloy_fake.requests[0].model
    assert [c.name for c in chats] == [f"chat {model}"] * 3
    assert [_attrs(c)["alloy.turn"] for c in chats] == [1, 2, 3]
    for key, field in (
        ("gen_ai.usage.input_tokens", "input_tokens"),
        ("gen_ai.usage.output_tokens", "output_tokens"),
    ):
        assert sum(_attrs(c)[key] for c in chats) == getattr(result.usage, field)
    first = _attrs(chats[0])
    assert first["gen_ai.provider.name"] == "fake"
    assert first["gen_ai.output.type"] == "json"
    assert first["gen_ai.response.finish_reasons"] == ("tool_calls",)
    (use,) = tools
    assert use.name == "execute_tool double"
    assert _attrs(use)["gen_ai.tool.name"] == "double"
    assert _attrs(use)["gen_ai.tool.type"] == "function"
    # The tool ran after the first model call and before the second.
    assert (chats[0].end_time or 0) <= (use.start_time or 0) <= (chats[1].start_time or 0)
    for span in (workflow, *chats, *tools):
        keys = _attrs(span)
        assert not {"gen_ai.input.messages", "gen_ai.output.messages"} & keys.keys()
        assert "gen_ai.tool.call.arguments" not in keys
        assert "gen_ai.tool.call.result" not in keys


def test_content_when_asked_with_media_as_placeholders(alloy_fake: FakeBackend) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    pixels = b"\x89PNG\r\n\x1a\n" + b"\x00secret-pixels" * 20

    @command(tools=[double], system="You compute.")
    def look(picture: Image, n: int) -> int:
        """Look at {picture} and compute {n}"""

    _script(alloy_fake)
    alloy.telemetry.instrument(provider, capture_content=True)
    try:
        assert look(Image.from_bytes(pixels, "image/png"), 2) == 4
    finally:
        alloy.telemetry.uninstrument()
    _workflow, chats, tools = tree(exporter)
    first = _attrs(chats[0])
    messages = json.loads(first["gen_ai.input.messages"])
    parts = messages[0]["parts"]
    blob = next(p for p in parts if p["type"] == "blob")
    assert blob["mime_type"] == "image/png"
    assert blob["size"] == len(pixels)
    assert blob["content"].startswith("<Image image/png")
    assert "secret-pixels" not in first["gen_ai.input.messages"]
    assert json.loads(first["gen_ai.system_instructions"])[0]["content"] == "You compute."
    assert json.loads(first["gen_ai.tool.definitions"])[0]["name"] == "double"
    out = json.loads(first["gen_ai.output.messages"])
    assert out[0]["parts"][0] == {
        "type": "tool_call",
        "id": out[0]["parts"][0]["id"],
        "name": "double",
        "arguments": {"n": 2},
    }
    (use,) = tools
    assert json.loads(_attrs(use)["gen_ai.tool.call.arguments"]) == {"n": 2}
    assert json.loads(_attrs(use)["gen_ai.tool.call.result"]) == 4


def test_the_environment_turns_content_on(
    alloy_fake: FakeBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "true")
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    alloy_fake.add_reply("hello back")
    alloy.telemetry.instrument(provider)
    try:
        assert echo("hello") == "hello back"
    finally:
        alloy.telemetry.uninstrument()
    _workflow, (chat,), _ = tree(exporter)
    assert "hello" in _attrs(chat)["gen_ai.input.messages"]
    assert "hello back" in _attrs(chat)["gen_ai.output.messages"]


def test_a_failed_call_has_its_error_type(
    alloy_fake: FakeBackend, spans: InMemorySpanExporter
) -> None:
    alloy_fake.add_error(ProviderError("boom", provider="fake", status_code=400, retryable=False))
    with pytest.raises(ProviderError):
        echo("hi")
    workflow, (chat,), _ = tree(spans)
    for span in (workflow, chat):
        assert _attrs(span)["error.type"] == "ProviderError"
        assert span.status.status_code is StatusCode.ERROR


def test_a_stream_closed_early_ends_its_spans(
    alloy_fake: FakeBackend, spans: InMemorySpanExporter
) -> None:
    alloy_fake.add_reply("a long reply, in many pieces")
    with echo.stream("hi") as stream:
        next(iter(stream))
    workflow, chats, _ = tree(spans)
    assert _attrs(workflow)["alloy.closed_early"] is True
    assert len(chats) == 1


def test_a_refusal_before_the_request_ends_the_chat_span(
    alloy_fake: FakeBackend, spans: InMemorySpanExporter
) -> None:
    class Refuse(Observer):
        def model_started(self, call: Any) -> None:
            raise ProviderError("over budget", provider="fake", retryable=False)

    from alloy._observe import observe

    with observe(Refuse()), pytest.raises(ProviderError):
        echo("hi")
    workflow, (chat,), _ = tree(spans)
    assert _attrs(chat)["error.type"] == "ProviderError"
    assert _attrs(workflow)["error.type"] == "ProviderError"
    assert alloy_fake.requests == []


def test_a_tool_span_is_current_inside_the_tool(
    alloy_fake: FakeBackend, spans: InMemorySpanExporter
) -> None:
    from opentelemetry import trace

    seen: list[int] = []

    @tool
    def where(n: int) -> int:
        """Report the current span."""
        seen.append(trace.get_current_span().get_span_context().span_id)
        return n

    @command(tools=[where])
    def ask_where(n: int) -> int:
        """{n}"""

    alloy_fake.add_reply(tool_calls=[("where", {"n": 1})])
    alloy_fake.add_reply(json=1)
    assert ask_where(1) == 1
    _workflow, _chats, (use,) = tree(spans)
    assert use.context is not None
    assert seen == [use.context.span_id]


def test_the_names_are_pinned_in_one_module() -> None:
    assert _semconv.SEMCONV_VERSION == "1.44.0"
    names = {
        value
        for key, value in vars(_semconv).items()
        if key.isupper() and isinstance(value, str) and "." in value
    }
    assert {
        "gen_ai.operation.name",
        "gen_ai.provider.name",
        "gen_ai.request.model",
        "gen_ai.request.max_tokens",
        "gen_ai.request.temperature",
        "gen_ai.response.model",
        "gen_ai.response.id",
        "gen_ai.response.finish_reasons",
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_write.input_tokens",
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.input.messages",
        "gen_ai.output.messages",
        "gen_ai.tool.call.arguments",
        "error.type",
    } <= names
    assert [_semconv.provider_name(b) for b in ("openai", "openai-chat", "gemini", "ollama")] == [
        "openai",
        "openai",
        "gcp.gemini",
        "ollama",
    ]
    assert _semconv.provider_name("anthropic") == "anthropic"


def test_process_wide_observers() -> None:
    class Traces(Observer):
        traces = True

    watcher = Traces()
    assert observers() == () and not tracing()
    register(watcher)
    register(watcher)
    try:
        assert observers() == (watcher,)
        assert tracing()
    finally:
        unregister(watcher)
    assert observers() == () and not tracing()


def test_instrument_without_opentelemetry_names_the_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['opentelemetry'] = None\n"
        "import alloy.telemetry\n"
        "try:\n"
        "    alloy.telemetry.instrument()\n"
        "except alloy.ConfigurationError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'alloy-llm[otel]'" in out.stdout
    assert "opentelemetry-api" in out.stdout


def test_a_chat_answered_from_the_response_cache_says_so_and_spends_nothing(
    spans: InMemorySpanExporter, tmp_path: Any
) -> None:
    from alloy import ResponseCache
    from alloy import use_config
    from alloy.testing import use_backend

    with use_backend(FakeBackend()), use_config(response_cache=ResponseCache(tmp_path / "a.db")):
        echo("hi")
        echo("hi")
    chats = [s for s in spans.get_finished_spans() if _op(s) in CHAT_OPERATIONS]
    live, hit = (dict(s.attributes or {}) for s in chats)
    assert "gen_ai.usage.input_tokens" in live and _semconv.CACHED not in live
    assert hit[_semconv.CACHED] is True and hit[_semconv.HTTP_ATTEMPTS] == 0
    assert not any(name.startswith("gen_ai.usage.") for name in hit)
