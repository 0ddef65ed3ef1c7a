import asyncio
import threading
from dataclasses import dataclass
from typing import Annotated
from typing import Any

import pytest
from pydantic import Field

from alloy import CapabilityError
from alloy import ConfigurationError
from alloy import ToolError
from alloy import ToolLoopLimitExceeded
from alloy import Usage
from alloy import command
from alloy import ensure
from alloy import require
from alloy import tool
from alloy.backends import Capabilities
from alloy.backends import ToolResult
from alloy.testing import FakeBackend
from alloy.testing import use_backend


@tool
def add(a: int, b: int = 1) -> int:
    """Add two numbers.

    Args:
        a: the first number.
        b: the second number.
    """
    return a + b


@dataclass
class Place:
    city: str
    country: str = "FR"


def weather(
    place: Place,
    unit: Annotated[str, "celsius or fahrenheit"] = "celsius",
    days: Annotated[int, Field(ge=1, le=7, description="forecast length")] = 1,
) -> str:
    """Weather forecast for a place.

    Parameters
    ----------
    place : Place
        where to look
    """
    return f"sunny in {place.city} ({unit}, {days}d)"


@command(tools=[add])
def calculate(question: str) -> int:
    """Answer using the tools: {question}"""
    ...


@pytest.fixture
def fake() -> Any:
    backend = FakeBackend()
    with use_backend(backend):
        yield backend


def _results(fake: FakeBackend, request_index: int) -> list[ToolResult]:
    last = fake.requests[request_index].messages[-1]
    return [p for p in last.parts if isinstance(p, ToolResult)]


def test_schema_from_signature_and_docstrings() -> None:
    spec = add.spec()
    assert spec.name == "add" and spec.description == "Add two numbers."
    props = spec.parameters["properties"]
    assert props["a"] == {"type": "integer", "description": "the first number.", "title": "A"}
    assert props["b"]["default"] == 1 and props["b"]["description"] == "the second number."
    assert spec.parameters["required"] == ["a"]

    w = tool(weather).spec()
    assert (
        w.description == "Weather for a place." or w.description == "Weather forecast for a place."
    )
    wp = w.parameters["properties"]
    assert wp["unit"]["description"] == "celsius or fahrenheit"
    assert wp["days"]["description"] == "forecast length" and wp["days"]["maximum"] == 7
    assert wp["place"]["description"] == "where to look"
    assert w.parameters["required"] == ["place"]
    assert "Place" in w.parameters["$defs"]


def test_tool_name_and_description_overrides() -> None:
    def plus(a: int, b: int) -> int:
        return a + b

    named = tool(name="plus", description="Adds.")(plus)
    assert (named.spec().name, named.spec().description) == ("plus", "Adds.")


def test_var_args_are_refused() -> None:
    def spread(*values: int) -> int:
        return sum(values)

    with pytest.raises(ConfigurationError, match="values"):
        tool(spread)


@pytest.mark.parametrize("order", ["contracts_below_tool", "contracts_above_tool"])
def test_contracts_in_any_order(order: str) -> None:
    def half(n: int) -> float:
        return n / 2

    checks = [
        require(lambda args: args.n >= 0, "n must not be negative"),
        ensure(lambda result: result < 100, "result too large"),
    ]
    if order == "contracts_below_tool":
        for check in checks:
            half = check(half)
        wrapped = tool(half)
    else:
        wrapped = tool(half)
        for check in checks:
            wrapped = check(wrapped)
    assert wrapped(4) == 2
    with pytest.raises(ToolError, match="negative"):
        wrapped(-1)
    with pytest.raises(ToolError, match="too large"):
        wrapped(400)


def test_tool_loop_runs_the_tool_and_sums_usage(fake: FakeBackend) -> None:
    fake.add_reply(tool_calls=[("add", {"a": 2, "b": 3})], usage=Usage.of(10, 2))
    fake.add_reply(json=5, usage=Usage.of(20, 1))
    result = calculate.run("2+3?")
    assert result.value == 5
    assert result.usage.input_tokens == 30 and result.usage.output_tokens == 3
    assert [(t.name, t.arguments, t.result, t.error) for t in result.tool_calls] == [
        ("add", {"a": 2, "b": 3}, 5, None)
    ]
    first, second = fake.requests
    assert [t.name for t in first.tools] == ["add"]
    (answer,) = _results(fake, 1)
    assert (answer.content, answer.is_error) == ("5", False)
    assert second.messages[1].role == "assistant"


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ('{"a": 2', "not valid JSON"),
        ({"a": "two"}, "invalid arguments"),
        ({"b": 2}, "invalid arguments"),
        ({"a": 1, "c": 2}, "invalid arguments"),
    ],
)
def test_bad_arguments_go_back_as_errors(fake: FakeBackend, arguments: Any, problem: str) -> None:
    calls: list[int] = []

    def counted(a: int, b: int = 1) -> int:
        calls.append(a)
        return a + b

    cmd = calculate.with_config()
    cmd = command(tools=[tool(name="add")(counted)])(calculate.__wrapped__)
    fake.add_reply(tool_calls=[("add", arguments)])
    fake.add_reply(json=0)
    assert cmd("?") == 0
    assert calls == []
    (result,) = _results(fake, 1)
    assert result.is_error and problem in result.content


def test_unknown_tool(fake: FakeBackend) -> None:
    fake.add_reply(tool_calls=[("subtract", {"a": 1})])
    fake.add_reply(json=1)
    result = calculate.run("?")
    (answer,) = _results(fake, 1)
    assert (
        answer.is_error and "no tool named 'subtract'" in answer.content and "add" in answer.content
    )
    assert result.tool_calls[0].error is not None


def test_contract_failure_is_reported_then_corrected(fake: FakeBackend) -> None:
    @require(lambda args: args.n > 0, "n must be positive")
    @tool
    def double(n: int) -> int:
        return 2 * n

    @command(tools=[double])
    def twice(n: int) -> int:
        """Double {n} with the tool."""
        ...

    fake.add_reply(tool_calls=[("double", {"n": -3})])
    fake.add_reply(tool_calls=[("double", {"n": 3})])
    fake.add_reply(json=6)
    result = twice.run(3)
    assert result.value == 6
    assert [t.error for t in result.tool_calls] == ["n must be positive", None]
    (failed,) = _results(fake, 1)
    assert failed.is_error and "n must be positive" in failed.content


def test_tool_exception_is_reported(fake: FakeBackend) -> None:
    def explode(x: int) -> int:
        raise ValueError(f"cannot handle {x}")

    cmd = command(tools=[explode])(calculate.__wrapped__)
    fake.add_reply(tool_calls=[("explode", {"x": 7})])
    fake.add_reply(json=1)
    assert cmd("?") == 1
    (failed,) = _results(fake, 1)
    assert failed.is_error and "ValueError: cannot handle 7" in failed.content


def test_parallel_calls_overlap_and_keep_call_order(fake: FakeBackend) -> None:
    barrier = threading.Barrier(2, timeout=5)

    def slow(tag: str) -> str:
        barrier.wait()  # both calls must be running at once to get past this
        return tag.upper()

    cmd = command(tools=[slow], output=str)(lambda: "go")
    fake.add_reply(tool_calls=[("slow", {"tag": "a"}), ("slow", {"tag": "b"})])
    fake.add_reply("done")
    assert cmd() == "done"
    assert [r.content for r in _results(fake, 1)] == ["A", "B"]


def test_parallel_tools_max_limits_concurrency(fake: FakeBackend) -> None:
    active = 0
    peak = 0
    lock = threading.Lock()

    def work(i: int) -> int:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        threading.Event().wait(0.02)
        with lock:
            active -= 1
        return i

    cmd = command(tools=[work], output=str, parallel_tools_max=2)(lambda: "go")
    fake.add_reply(tool_calls=[("work", {"i": i}) for i in range(6)])
    fake.add_reply("ok")
    cmd()
    assert peak <= 2
    assert [r.content for r in _results(fake, 1)] == [str(i) for i in range(6)]


def test_async_tools_from_sync_and_async_commands(fake: FakeBackend) -> None:
    async def fetch(key: str) -> str:
        await asyncio.sleep(0)
        return f"value-{key}"

    cmd = command(tools=[fetch], output=str)(lambda: "go")
    fake.add_reply(tool_calls=[("fetch", {"key": "k"})])
    fake.add_reply("sync ok")
    assert cmd() == "sync ok"
    assert _results(fake, 1)[0].content == "value-k"

    async def main() -> str:
        fake.add_reply(tool_calls=[("fetch", {"key": "j"})])
        fake.add_reply("async ok")
        return await cmd.async_()

    assert asyncio.run(main()) == "async ok"
    assert _results(fake, 3)[0].content == "value-j"


def test_sync_command_with_async_tool_inside_a_running_loop(fake: FakeBackend) -> None:
    async def fetch(key: str) -> str:
        return key * 2

    cmd = command(tools=[fetch], output=str)(lambda: "go")

    async def notebook_cell() -> str:
        fake.add_reply(tool_calls=[("fetch", {"key": "ab"})])
        fake.add_reply("fine")
        return cmd()  # a sync call while this loop runs, as in Jupyter

    assert asyncio.run(notebook_cell()) == "fine"
    assert _results(fake, 1)[0].content == "abab"


def test_turn_limit(fake: FakeBackend) -> None:
    for _ in range(4):
        fake.add_reply("still working", tool_calls=[("add", {"a": 1})])
    with pytest.raises(ToolLoopLimitExceeded) as info:
        calculate.with_config(max_tool_turns=2)("?")
    err = info.value
    assert (err.max_turns, err.turns_taken, err.partial_text) == (2, 3, "still working")
    assert len(fake.requests) == 3


def test_finalize_turn_asks_for_the_value_without_tools(fake: FakeBackend) -> None:
    fake.add_reply(tool_calls=[("add", {"a": 1, "b": 1})])
    fake.add_reply("The answer is two.")
    fake.add_reply(json=2)
    result = calculate.run("1+1?")
    assert result.value == 2
    finalize = fake.requests[2]
    assert finalize.tools == () and finalize.output is not None
    assert "final answer" in finalize.messages[-1].text


def test_finalize_can_be_turned_off(fake: FakeBackend) -> None:
    from alloy import OutputValidationError

    fake.add_reply(tool_calls=[("add", {"a": 1, "b": 1})])
    fake.add_reply("The answer is two.")
    with pytest.raises(OutputValidationError):
        calculate.with_config(auto_finalize_missing_output=False, retry=0)("1+1?")


def test_command_as_a_tool(fake: FakeBackend) -> None:
    @command
    def translate(text: str, language: str = "French") -> str:
        """Translate into {language}: {text}"""
        ...

    @command(tools=[translate])
    def greet(name: str) -> str:
        """Greet {name} in French."""
        ...

    fake.add_reply(tool_calls=[("translate", {"text": "Hello Ada"})])
    fake.add_reply("Bonjour Ada")  # the inner command's own model call
    fake.add_reply("Bonjour Ada !")
    assert greet("Ada") == "Bonjour Ada !"
    spec = fake.requests[0].tools[0]
    assert spec.name == "translate" and spec.parameters["required"] == ["text"]
    assert fake.requests[1].messages[0].text == "Translate into French: Hello Ada"


def test_react_fallback_for_models_without_native_tools() -> None:
    fake = FakeBackend(capabilities=Capabilities(tools=False))
    fake.add_reply('Thought: I need to add.\nAction: add\nAction Input: {"a": 40, "b": 2}')
    fake.add_reply("Thought: done.\nFinal Answer: 42")
    with use_backend(fake):
        result = calculate.run("40+2?")
    assert result.value == 42
    first, second = fake.requests
    assert first.tools == () and first.output is None
    assert first.system is not None and "Action Input:" in first.system and "add" in first.system
    assert second.messages[-1].text == "Observation: 42"
    assert result.tool_calls[0].arguments == {"a": 40, "b": 2}


def test_react_protocol_slips_are_fed_back() -> None:
    fake = FakeBackend(capabilities=Capabilities(tools=False))
    fake.add_reply("Thought: hmm, let me think about this")
    fake.add_reply(
        '**Action:** `add`\n**Action Input:**\n```json\n{"a": 1, "b": 1}\n```\nObservation: 7'
    )
    fake.add_reply("Final Answer: 2")
    with use_backend(fake):
        assert calculate.with_config(tool_mode="react")("1+1?") == 2
    assert "did not follow the format" in fake.requests[1].messages[-1].text
    assert fake.requests[2].messages[-1].text == "Observation: 2"


def test_native_tools_on_a_model_without_them_is_a_capability_error() -> None:
    fake = FakeBackend(capabilities=Capabilities(tools=False))
    with use_backend(fake), pytest.raises(CapabilityError, match="native tool calling"):
        calculate.with_config(tool_mode="native")("?")
    assert fake.requests == []


def test_forced_react_on_a_native_backend(fake: FakeBackend) -> None:
    fake.add_reply("Final Answer: 9")
    assert calculate.with_config(tool_mode="react")("?") == 9
    assert fake.requests[0].tools == ()


def test_ask_with_plain_function_tools(fake: FakeBackend) -> None:
    from alloy import ask

    def shout(text: str) -> str:
        return text.upper()

    fake.add_reply(tool_calls=[("shout", {"text": "hi"})])
    fake.add_reply("HI")
    assert ask("Shout hi", tools=[shout]) == "HI"
    assert _results(fake, 1)[0].content == "HI"


def test_duplicate_tool_names_are_refused() -> None:
    with pytest.raises(ConfigurationError, match="named 'add'"):
        command(tools=[add, tool(name="add")(lambda: 1)])(calculate.__wrapped__)
