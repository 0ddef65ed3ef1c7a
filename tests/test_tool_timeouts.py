"""Tools get an optional timeout, and Ctrl-C during parallel sync tool calls returns at once
instead of waiting for the tools to finish."""

from __future__ import annotations

import asyncio
import os
import signal
import threading
import time

import pytest

from alloy import ConfigurationError
from alloy import command
from alloy import tool
from alloy.testing import FakeBackend
from alloy.testing import use_backend

release = threading.Event()


@tool(timeout=0.2)
def slow(seconds: float) -> str:
    """Wait a while."""
    release.wait(seconds)
    return "done"


@tool(timeout=0.2)
async def aslow(seconds: float) -> str:
    """Wait a while, asynchronously."""
    await asyncio.sleep(seconds)
    return "done"


@tool
def stuck(seconds: float) -> str:
    """Wait until released."""
    release.wait(seconds)
    return "released"


@pytest.fixture(autouse=True)
def _release_the_tools() -> object:
    release.clear()
    yield None
    release.set()  # let any thread a test left behind finish


def _turns(fake: FakeBackend, name: str, calls: int = 1) -> None:
    fake.add_reply(tool_calls=[(name, {"seconds": 30})] * calls)
    fake.add_reply(json=1)


@pytest.mark.parametrize("name", ["slow", "aslow"])
@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_tool_past_its_timeout_is_reported_to_the_model(name: str, mode: str) -> None:
    @command(tools=[slow, aslow])
    def work(task: str) -> int:
        """Do {task}."""
        ...

    fake = FakeBackend()
    _turns(fake, name)
    with use_backend(fake):
        result = work.run("x") if mode == "sync" else asyncio.run(work.run_async("x"))
    assert result.value == 1
    assert result.tool_calls[0].error is not None
    assert "did not finish in 0.2s" in result.tool_calls[0].error


def test_a_timeout_must_be_a_positive_number() -> None:
    with pytest.raises(ConfigurationError, match="timeout"):
        tool(timeout=0)(lambda: None)


def test_ctrl_c_during_parallel_sync_tools_returns_at_once(request: pytest.FixtureRequest) -> None:
    @command(tools=[stuck])
    def work(task: str) -> int:
        """Do {task}."""
        ...

    fake = FakeBackend()
    _turns(fake, "stuck", calls=2)
    # Python's own Ctrl-C handler, as a user's program has it (whatever an earlier test in
    # this process left installed), then a real SIGINT, as Ctrl-C sends: it interrupts the
    # wait for the tools' results.
    saved = signal.signal(signal.SIGINT, signal.default_int_handler)
    request.addfinalizer(lambda: signal.signal(signal.SIGINT, saved))
    threading.Timer(0.3, os.kill, (os.getpid(), signal.SIGINT)).start()
    started = time.monotonic()
    with use_backend(fake), pytest.raises(KeyboardInterrupt):
        work("x")
    # The tools wait 30 s; the interrupt must not wait for them.
    assert time.monotonic() - started < 10
