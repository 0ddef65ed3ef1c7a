"""The response cache through the real SDKs and the emulator, on every backend: a second
identical call makes no request (sync, async, streamed and async-streamed, and across them),
every ingredient of the key changed makes a request, another process hits, errors and cut
streams are never kept, and identical calls in flight at once make one request."""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from alloy import ProviderError
from alloy import ResponseCache
from alloy import Result
from alloy import StreamError
from alloy import ask
from alloy import command
from alloy import tool
from alloy import use_config
from alloy.testing.emulator import Emulator
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall

MODES = ["sync", "async", "stream", "stream_async"]


@dataclass
class Invoice:
    vendor: str
    total: float


@command
def extract(text: str) -> Invoice:
    """Extract the invoice from: {text}"""
    ...


@command
def shout(text: str) -> str:
    """Shout {text}."""
    ...


def run(mode: str, cmd: Any, *args: Any) -> tuple[Result[Any], list[Any]]:
    """``cmd``'s result in ``mode``, and what its stream yielded (empty when not streamed)."""
    if mode == "sync":
        return cmd.run(*args), []
    if mode == "async":
        return asyncio.run(cmd.run_async(*args)), []
    if mode == "stream":
        with cmd.stream(*args) as stream:
            pieces = list(stream)
            return stream.result(), pieces

    async def streamed() -> tuple[Result[Any], list[Any]]:
        async with cmd.stream_async(*args) as stream:
            pieces = [piece async for piece in stream]
            return await stream.result(), pieces

    return asyncio.run(streamed())


def same_answer(a: Result[Any], b: Result[Any]) -> None:
    assert (a.value, a.text, a.usage, a.model, a.finish, a.finish_reason) == (
        b.value,
        b.text,
        b.usage,
        b.model,
        b.finish,
        b.finish_reason,
    )


@pytest.fixture
def cache(tmp_path: Path) -> ResponseCache:
    return ResponseCache(tmp_path / "alloy.db")


@pytest.mark.parametrize("mode", MODES)
def test_a_second_identical_call_makes_no_request(
    provider: str, alloy_emulator: Scenario, cache: ResponseCache, mode: str
) -> None:
    alloy_emulator.enqueue(
        Reply(json={"vendor": "ACME", "total": 49.99}, input_tokens=20, output_tokens=7),
        Reply(json={"vendor": "other", "total": 1.0}),  # what a second request would get
    )
    with use_config(response_cache=cache):
        first, _ = run(mode, extract, "ACME ... total due $49.99")
        second, pieces = run(mode, extract, "ACME ... total due $49.99")
    assert len(alloy_emulator.requests) == 1
    assert second.value == first.value == Invoice("ACME", 49.99)
    same_answer(first, second)
    assert (first.cached, second.cached) == (False, True)
    assert (first.http_attempts, second.http_attempts) == (1, 0)
    assert second.cached_usage == first.usage  # the usage recorded with the reply
    assert second.cost is not None and second.cost.usd == 0
    if mode.startswith("stream"):
        assert pieces[-1] == {"vendor": "ACME", "total": 49.99}  # snapshots, as live


@pytest.mark.parametrize(("store_with", "read_with"), [("sync", "stream"), ("stream", "async")])
def test_a_reply_stored_by_one_call_style_answers_another(
    provider: str, alloy_emulator: Scenario, cache: ResponseCache, store_with: str, read_with: str
) -> None:
    alloy_emulator.enqueue(Reply(text="A QUIET SHOUT, LONG ENOUGH TO COME IN SEVERAL PIECES. " * 3))
    with use_config(response_cache=cache):
        live, _ = run(store_with, shout, "a quiet shout")
        replayed, pieces = run(read_with, shout, "a quiet shout")
    assert len(alloy_emulator.requests) == 1
    same_answer(live, replayed)
    assert replayed.cached
    if read_with.startswith("stream"):
        assert len(pieces) > 1 and "".join(pieces) == live.text


def _pointed(provider: str, scenario: Scenario) -> dict[str, Any]:
    """provider_options sending ``provider``'s requests to ``scenario``."""
    if provider == "ollama":
        return {"host": scenario.base_url("ollama")}
    return {"base_url": scenario.base_url(provider)}


def _other_key(provider: str) -> dict[str, Any]:
    if provider == "ollama":
        return {"headers": {"Authorization": "Bearer another-key"}}
    return {"api_key": "another-key"}


@tool
def lookup(vendor: str) -> str:
    """Look a vendor up."""
    return f"{vendor} is a supplier."


CHANGES: dict[str, Callable[[str], dict[str, Any]]] = {
    "model": lambda p: {"model": f"{p}:gpt-test-2"},
    "system": lambda p: {"system": "Be terse."},
    "temperature": lambda p: {"temperature": 0.3},
    "max_tokens": lambda p: {"max_tokens": 99},
    "api key": lambda p: {"provider_options": {p: _other_key(p)}},
    "tools": lambda p: {"tools": [lookup]},
}


@pytest.mark.parametrize("change", [*CHANGES, "prompt", "output type", "base url", "timeout"])
def test_each_ingredient_of_the_key_changed_makes_a_request_but_the_timeout(
    provider: str,
    alloy_emulator: Scenario,
    alloy_emulator_server: Emulator,
    cache: ResponseCache,
    change: str,
) -> None:
    alloy_emulator.set_default(Reply(text="fine"))
    with use_config(response_cache=cache, timeout=30):
        assert ask("How are you?") == "fine"
        assert ask("How are you?") == "fine"
        assert len(alloy_emulator.requests) == 1
        other = alloy_emulator_server.scenario()
        other.set_default(Reply(text="fine"))
        if change == "prompt":
            ask("How are you today?")
        elif change == "output type":
            alloy_emulator.set_default(Reply(json={"value": "fine"}))
            ask("How are you?", output=str | None)
        elif change == "base url":
            ask("How are you?", provider_options={provider: _pointed(provider, other)})
        elif change == "timeout":
            ask("How are you?", timeout=45)
        else:
            ask("How are you?", **CHANGES[change](provider))
    sent = len(alloy_emulator.requests) + len(other.requests)
    assert sent == (1 if change == "timeout" else 2), change


def test_a_changed_request_option_makes_a_request(
    provider: str, alloy_emulator: Scenario, cache: ResponseCache, wire: Any
) -> None:
    alloy_emulator.set_default(Reply(text="fine"))
    with use_config(response_cache=cache):
        ask("Hi")
        ask("Hi", provider_options={provider: dict(wire.request_options)})
        ask("Hi", provider_options={provider: dict(wire.request_options)})
    assert len(alloy_emulator.requests) == 2


def test_a_tool_loop_is_answered_whole_from_the_cache_and_its_tools_run_again(
    provider: str, alloy_emulator: Scenario, cache: ResponseCache
) -> None:
    ran: list[str] = []

    @tool
    def supplier(vendor: str) -> str:
        """Look a vendor up."""
        ran.append(vendor)
        return f"{vendor} is a supplier."

    @command(tools=[supplier])
    def check(vendor: str) -> bool:
        """Is {vendor} a supplier? Look it up."""
        ...

    for _ in range(2):
        alloy_emulator.enqueue(
            Reply(tool_calls=[ToolCall("supplier", {"vendor": "ACME"})]),
            Reply(json={"value": True}),
        )
    with use_config(response_cache=cache):
        first = check.run("ACME")
        second = check.run("ACME")
    assert first.value is second.value is True
    assert len(alloy_emulator.requests) == 2  # the tool turn and the answer, once
    assert ran == ["ACME", "ACME"]
    assert second.cached and not first.cached
    assert second.http_attempts == 0


@pytest.mark.parametrize("mode", MODES)
def test_errors_are_never_kept(
    provider: str, alloy_emulator: Scenario, cache: ResponseCache, mode: str
) -> None:
    alloy_emulator.enqueue(Fault(status=500), Reply(text="BACK"), Reply(text="AGAIN"))
    with use_config(response_cache=cache, max_retries=0):
        with pytest.raises(ProviderError):
            run(mode, shout, "back")
        assert run(mode, shout, "back")[0].text == "BACK"
        assert run(mode, shout, "back")[0].text == "BACK"
    assert len(alloy_emulator.requests) == 2


@pytest.mark.parametrize("mode", ["stream", "stream_async"])
def test_a_stream_cut_short_is_never_kept(
    provider: str, alloy_emulator: Scenario, cache: ResponseCache, mode: str
) -> None:
    text = "A REPLY THAT COMES IN MANY PIECES, " * 3
    alloy_emulator.enqueue(Reply(text=text, chunk_chars=8, truncate_after=2), Reply(text="WHOLE"))
    with use_config(response_cache=cache, max_retries=0):
        with pytest.raises(StreamError):
            run(mode, shout, "cut")
        assert run(mode, shout, "cut")[0].text == "WHOLE"
        assert run("sync", shout, "cut")[0].cached
    assert len(alloy_emulator.requests) == 2


def _in_this_context(target: Callable[[], None]) -> threading.Thread:
    """A thread running ``target`` with this context's settings (``use_config`` is per
    thread)."""
    return threading.Thread(target=contextvars.copy_context().run, args=(target,))


def test_ten_identical_calls_in_flight_at_once_make_one_request(
    provider: str, alloy_emulator: Scenario, cache: ResponseCache
) -> None:
    alloy_emulator.set_default(Reply(text="ONCE", delay=0.4))
    start = threading.Barrier(10)
    results: list[Result[str]] = []
    lock = threading.Lock()

    def one() -> None:
        start.wait()
        result = shout.run("once")
        with lock:
            results.append(result)

    with use_config(response_cache=cache):
        threads = [_in_this_context(one) for _ in range(10)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(alloy_emulator.requests) == 1
    assert [r.text for r in results] == ["ONCE"] * 10
    assert sum(not r.cached for r in results) == 1


def test_ten_identical_async_calls_at_once_make_one_request(
    provider: str, alloy_emulator: Scenario, cache: ResponseCache
) -> None:
    alloy_emulator.set_default(Reply(text="ONCE", delay=0.4))

    async def many() -> list[Result[str]]:
        return list(await asyncio.gather(*(shout.run_async("once") for _ in range(10))))

    with use_config(response_cache=cache):
        results = asyncio.run(many())
    assert len(alloy_emulator.requests) == 1
    assert [r.text for r in results] == ["ONCE"] * 10
    assert sum(r.cached for r in results) == 9


def test_when_the_call_in_flight_fails_each_waiting_call_goes_on_its_own(
    provider: str, alloy_emulator: Scenario, cache: ResponseCache
) -> None:
    alloy_emulator.enqueue(Fault(status=500, delay=0.4))
    alloy_emulator.set_default(Reply(text="LATER"))
    start = threading.Barrier(3)
    outcomes: list[object] = []
    lock = threading.Lock()

    def one() -> None:
        start.wait()
        try:
            outcome: object = shout.run("later").text
        except ProviderError as exc:
            outcome = exc
        with lock:
            outcomes.append(outcome)

    with use_config(response_cache=cache, max_retries=0):
        threads = [_in_this_context(one) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sum(isinstance(o, ProviderError) for o in outcomes) == 1
    assert outcomes.count("LATER") == 2
    assert len(alloy_emulator.requests) == 3  # the failed one, then one each


def test_another_process_is_answered_from_the_same_store(
    provider: str, alloy_emulator: Scenario, tmp_path: Path
) -> None:
    path = tmp_path / "shared.db"
    alloy_emulator.enqueue(Reply(text="the first one"))
    with use_config(response_cache=ResponseCache(path)):
        assert ask("Which process answers?") == "the first one"
    script = (
        "import json, sys\n"
        "import alloy\n"
        "alloy.configure(response_cache=alloy.ResponseCache(sys.argv[1]), model=sys.argv[2])\n"
        "print(json.dumps(alloy.ask('Which process answers?')))\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}  # another hash seed than this process's
    done = subprocess.run(
        [sys.executable, "-c", script, str(path), f"{provider}:gpt-test"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == "the first one"
    assert len(alloy_emulator.requests) == 1


def test_the_store_holds_no_key(provider: str, alloy_emulator: Scenario, tmp_path: Path) -> None:
    key = "sk-distinctive-0123456789abcdef"
    alloy_emulator.enqueue(Reply(text="kept"))
    path = tmp_path / "alloy.db"
    options = {"headers": {"Authorization": f"Bearer {key}"}} if provider == "ollama" else {}
    options = options or {"api_key": key}
    with use_config(response_cache=ResponseCache(path), provider_options={provider: options}):
        assert ask("Keep this") == "kept"
        assert ask("Keep this") == "kept"
    assert len(alloy_emulator.requests) == 1
    for file in tmp_path.iterdir():
        assert key.encode() not in file.read_bytes(), file.name


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_cached_reply_needs_no_gemini_cached_content(
    alloy_emulator: Scenario, tmp_path: Path, mode: str
) -> None:
    from alloy import Context

    contract = Context(system="You are a contracts analyst.", documents=["Ninety days. " * 50])

    @command(context=contract, cache=True)
    def clause(question: str) -> str:
        """Answer from the contract: {question}"""

    alloy_emulator.enqueue(Reply(text="ninety days"))
    cache = ResponseCache(tmp_path / "replies.db")
    with use_config(model="gemini:gemini-2.5-flash", response_cache=cache):
        with use_config(store=str(tmp_path / "first.db")):
            assert run(mode, clause, "notice?")[0].text == "ninety days"
        made = len(alloy_emulator.requests)
        assert made == 2  # the cached content, then the call naming it
        # Another store knows no cached content: finding one would create it again.
        with use_config(store=str(tmp_path / "second.db")):
            assert run(mode, clause, "notice?")[0].cached
    assert len(alloy_emulator.requests) == made
