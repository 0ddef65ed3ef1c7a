"""The deadline hooks on plain ``httpx`` / ``httpx2`` clients, against the emulator."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from types import ModuleType

import httpx
import httpx2
import pytest

from alloy.backends import _deadline
from alloy.testing.emulator import Emulator
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

LIBRARIES = [pytest.param(httpx, id="httpx"), pytest.param(httpx2, id="httpx2")]
BODY = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


def _url(scenario: Scenario) -> str:
    return scenario.base_url("openai") + "/chat/completions"


@pytest.mark.parametrize("http", LIBRARIES)
def test_a_trickled_body_fails_at_the_deadline_with_the_librarys_read_timeout(
    emulator: Emulator, http: ModuleType
) -> None:
    scenario = emulator.scenario()
    scenario.enqueue(Reply(text="z" * 400, chunk_chars=4, chunk_delay=0.03))
    with http.Client(event_hooks=_deadline.hooks(http), timeout=0.3) as client:
        started = time.monotonic()
        with pytest.raises(http.ReadTimeout, match="did not finish within"):
            client.post(_url(scenario), json=BODY)
        assert time.monotonic() - started < 1.5


@pytest.mark.parametrize("http", LIBRARIES)
def test_a_read_waiting_at_the_deadline_is_woken(emulator: Emulator, http: ModuleType) -> None:
    scenario = emulator.scenario()
    # Headers and a first piece after 0.9 s, then nothing for 5 s: the read timeout alone
    # would end it at 1.9 s (1 s after that piece), the deadline at 1 s.
    scenario.enqueue(Reply(text="z" * 400, delay=0.9, chunk_chars=100, chunk_delay=5.0))

    async def run() -> float:
        hooks = _deadline.async_hooks(http)
        async with http.AsyncClient(event_hooks=hooks, timeout=1.0) as client:
            started = time.monotonic()
            async with client.stream("POST", _url(scenario), json=BODY) as response:
                with pytest.raises(http.ReadTimeout):
                    async for _ in response.aiter_bytes():
                        pass
            return time.monotonic() - started

    assert asyncio.run(run()) < 1.7


@pytest.mark.parametrize("http", LIBRARIES)
def test_bodies_that_finish_in_time_and_their_connections_are_untouched(
    emulator: Emulator, http: ModuleType
) -> None:
    scenario = emulator.scenario()
    scenario.enqueue(
        *(Reply(text=f"reply {n}", chunk_chars=3, chunk_delay=0.001) for n in range(3))
    )
    with http.Client(event_hooks=_deadline.hooks(http), timeout=0.4) as client:
        for n in range(3):
            response = client.post(_url(scenario), json=BODY)
            assert response.status_code == 200 and f"reply {n}" in response.text
        time.sleep(0.6)  # past the deadlines: the watchdog must not shut a pooled socket
        scenario.enqueue(Reply(text="after"))
        assert "after" in client.post(_url(scenario), json=BODY).text
    assert len(scenario.requests) == 4


def test_no_deadline_without_a_read_timeout(emulator: Emulator) -> None:
    scenario = emulator.scenario()
    scenario.enqueue(Reply(text="slow but allowed", chunk_chars=32, chunk_delay=0.05))
    with httpx2.Client(event_hooks=_deadline.hooks(httpx2), timeout=None) as client:
        assert "slow but allowed" in client.post(_url(scenario), json=BODY).text


def test_user_hooks_run_first_and_are_kept() -> None:
    def mine(_: object) -> None:
        pass

    merged = _deadline.with_hooks({"request": [mine]}, _deadline.hooks(httpx2))
    assert merged["request"][0] is mine and len(merged["request"]) == 2
    assert merged["response"] == _deadline.hooks(httpx2)["response"]
    assert _deadline.hooks(httpx2)["request"] == [_deadline.start]  # not changed by merging


def test_the_watchdog_forgets_finished_responses() -> None:
    dog = _deadline._Watchdog()
    left, right = socket.socketpair()
    try:
        entries = [dog.watch(time.monotonic() + 3600, left) for _ in range(200)]
        for entry in entries[:150]:
            dog.finish(entry)
        dog.finish(entries[0])  # twice is harmless
        # Rebuilt once most had finished: what is left is the 50 live ones and fewer
        # finished ones than would set off the next rebuild.
        assert 50 <= len(dog._heap) < 200
        assert sum(item[2].done for item in dog._heap) <= 64
        due = dog.watch(time.monotonic(), right)
        deadline = time.monotonic() + 2
        while not due.fired and time.monotonic() < deadline:
            time.sleep(0.01)
        assert due.fired
        assert right.recv(1) == b""  # shut down: reads see the end
        assert not any(entry.fired for entry in entries)
    finally:
        left.close()
        right.close()
