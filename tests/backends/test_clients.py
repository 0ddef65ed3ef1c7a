"""``ClientCache``, the SDK client reuse every backend shares: one sync client, one async
client per event loop, each closed on its own loop when that loop shuts down.

The cache is tested once, directly, with small stand-in clients; then one smoke test per
backend shows that its real SDK clients go through it.
"""
# pyright: reportPrivateUsage=false

from __future__ import annotations

import asyncio
import gc
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from alloy.backends import Message
from alloy.backends import Request
from alloy.backends import clear_instances
from alloy.backends import get_backend
from alloy.backends._clients import ClientCache
from alloy.backends.base import Backend
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

# --- the cache, with stand-in clients -------------------------------------------------------


class SyncClient:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


class AsyncClient:
    """Bound to the loop it was made on, as the SDKs' async clients are (held weakly here,
    so that a test's clients keep no loop alive)."""

    def __init__(self) -> None:
        self._loop = weakref.ref(asyncio.get_running_loop())
        self.closed = False
        self.closed_on_its_loop = False

    async def aclose(self) -> None:
        self.closed = True
        self.closed_on_its_loop = asyncio.get_running_loop() is self._loop()


class Clients:
    """A ``ClientCache`` of stand-in clients, and a count of what it made."""

    def __init__(self) -> None:
        self.made_sync: list[SyncClient] = []
        self.made_async = 0
        self.cache: ClientCache[SyncClient, AsyncClient] = ClientCache(
            self._make_sync, self._make_async, SyncClient.close, AsyncClient.aclose
        )

    def _make_sync(self) -> SyncClient:
        client = SyncClient()
        self.made_sync.append(client)
        return client

    def _make_async(self) -> AsyncClient:
        self.made_async += 1
        return AsyncClient()


def test_the_sync_client_is_made_on_first_use_and_reused() -> None:
    clients = Clients()
    assert clients.made_sync == []
    client = clients.cache.sync()
    assert clients.cache.sync() is client
    assert clients.made_sync == [client]


def test_the_sync_client_is_shared_across_threads() -> None:
    clients = Clients()
    seen: list[SyncClient] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        seen.append(clients.cache.sync())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 8
    assert len({id(c) for c in seen}) == 1
    assert len(clients.made_sync) == 1


def test_one_async_client_per_loop_closed_on_its_loop_when_the_loop_ends() -> None:
    clients = Clients()

    async def twice() -> tuple[AsyncClient, AsyncClient]:
        return await clients.cache.aclient(), await clients.cache.aclient()

    first, again = asyncio.run(twice())
    second, _ = asyncio.run(twice())
    assert first is again
    assert first is not second
    assert clients.made_async == 2
    assert first.closed_on_its_loop and second.closed_on_its_loop
    assert len(clients.cache._async) == 0
    assert clients.made_sync == []  # async use makes no sync client


def test_concurrent_tasks_share_the_loop_client() -> None:
    clients = Clients()

    async def main() -> set[int]:
        got = await asyncio.gather(*(clients.cache.aclient() for _ in range(20)))
        return {id(c) for c in got}

    assert len(asyncio.run(main())) == 1
    assert clients.made_async == 1


def test_finished_loops_are_not_kept_alive() -> None:
    clients = Clients()
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    async def main() -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        await clients.cache.aclient()

    asyncio.run(main())
    gc.collect()
    assert loops[0]() is None


def test_a_loop_closed_without_shutdown_closes_its_client_first_and_is_dropped() -> None:
    clients = Clients()
    loop = asyncio.new_event_loop()
    stale = loop.run_until_complete(clients.cache.aclient())
    other = Clients()
    also = loop.run_until_complete(other.cache.aclient())
    loop.close()  # no shutdown_asyncgens
    assert loop.is_closed()
    assert stale.closed_on_its_loop and also.closed_on_its_loop
    fresh = asyncio.run(clients.cache.aclient())
    assert fresh is not stale
    assert fresh.closed_on_its_loop
    assert list(clients.cache._async) == []


def test_a_loop_shut_down_properly_closes_each_client_once() -> None:
    clients = Clients()
    loop = asyncio.new_event_loop()
    client = loop.run_until_complete(clients.cache.aclient())
    loop.run_until_complete(loop.shutdown_asyncgens())
    assert client.closed_on_its_loop
    client.closed_on_its_loop = False
    loop.close()  # the closer has finished: closing again does nothing
    assert not client.closed_on_its_loop


async def test_the_running_loops_client_is_reused() -> None:
    clients = Clients()
    assert await clients.cache.aclient() is await clients.cache.aclient()
    assert clients.made_async == 1


def test_close_before_any_use_closes_nothing() -> None:
    clients = Clients()
    clients.cache.close()
    assert clients.made_sync == []
    assert clients.made_async == 0


def test_close_closes_the_sync_client_and_a_new_one_is_made_on_use() -> None:
    clients = Clients()
    first = clients.cache.sync()
    clients.cache.close()
    assert first.closed
    second = clients.cache.sync()
    assert second is not first
    assert not second.closed


def test_close_then_immediate_reuse_keeps_the_new_client() -> None:
    clients = Clients()

    async def main() -> tuple[AsyncClient, AsyncClient, bool]:
        first = await clients.cache.aclient()
        clients.cache.close()
        second = await clients.cache.aclient()  # before the old closer has run
        for _ in range(3):
            await asyncio.sleep(0)
        return first, second, second.closed or len(clients.cache._async) == 0

    first, second, lost = asyncio.run(main())
    assert first.closed_on_its_loop
    assert not lost
    assert second.closed_on_its_loop  # by the loop's shutdown


def test_close_closes_async_clients_on_their_loop() -> None:
    clients = Clients()

    async def main() -> tuple[AsyncClient, AsyncClient, bool]:
        first = await clients.cache.aclient()
        clients.cache.close()
        for _ in range(3):  # let the scheduled close run
            await asyncio.sleep(0)
        closed = first.closed_on_its_loop
        return first, await clients.cache.aclient(), closed

    first, second, closed_in_loop = asyncio.run(main())
    assert closed_in_loop
    assert second is not first
    assert second.closed_on_its_loop


# --- every backend's real SDK clients go through it ----------------------------------------


def _genai_api(client: Any) -> Any:
    """A google-genai client's private API client, where its HTTP clients live."""
    return client._api_client


def _openai_closed(client: Any) -> bool:
    closed: bool = client.is_closed()
    return closed


@dataclass(frozen=True)
class SDK:
    """How to point a backend at the emulator, reach its ``ClientCache`` and tell that an
    SDK client is closed."""

    backend: str
    options: Callable[[Scenario], dict[str, Any]]
    cache: Callable[[Any], ClientCache[Any, Any]]
    sync_closed: Callable[[Any], bool]
    async_closed: Callable[[Any], bool]


SDKS = [
    SDK(
        "openai",
        lambda s: {"base_url": s.base_url("openai"), "api_key": "sk-test"},
        lambda b: b._clients,
        _openai_closed,
        _openai_closed,
    ),
    SDK(
        "openai-chat",
        lambda s: {"base_url": s.base_url("openai"), "api_key": "sk-test"},
        lambda b: b._clients,
        _openai_closed,
        _openai_closed,
    ),
    SDK(
        "anthropic",
        lambda s: {"base_url": s.base_url("anthropic"), "api_key": "sk-test"},
        lambda b: b._cache,
        _openai_closed,
        _openai_closed,
    ),
    SDK(
        "gemini",
        lambda s: {"base_url": s.base_url("gemini"), "api_key": "test-key-1234"},
        lambda b: b._clients._cache,
        lambda c: bool(_genai_api(c)._httpx_client.is_closed),
        # The async genai client holds an async and a sync httpx client: both are closed.
        lambda c: bool(
            _genai_api(c)._async_httpx_client.is_closed and _genai_api(c)._httpx_client.is_closed
        ),
    ),
    SDK(
        "ollama",
        lambda s: {"host": s.base_url("ollama")},
        lambda b: b._cache,
        lambda c: bool(c._client.is_closed),
        lambda c: bool(c._client.is_closed),
    ),
]


@pytest.mark.parametrize("sdk", SDKS, ids=lambda sdk: sdk.backend)
def test_a_backend_reuses_its_sync_client_and_closes_each_loops_client(
    sdk: SDK, alloy_emulator: Scenario
) -> None:
    alloy_emulator.enqueue(*(Reply(text=f"hi {i}") for i in range(3)))
    backend: Backend = get_backend(sdk.backend, sdk.options(alloy_emulator))
    cache = sdk.cache(backend)
    request = Request(model="gpt-test", messages=(Message.user("hi"),), timeout=5.0)

    sync = cache.sync()
    assert cache.sync() is sync
    assert backend.complete(request).text == "hi 0"
    assert cache.sync() is sync

    async def call() -> tuple[Any, str, Any]:
        client = await cache.aclient()
        text = (await backend.acomplete(request)).text
        return client, text, await cache.aclient()

    first, text, again = asyncio.run(call())
    second, text_2, _ = asyncio.run(call())
    assert [text, text_2] == ["hi 1", "hi 2"]
    assert first is again
    assert first is not second
    assert sdk.async_closed(first) and sdk.async_closed(second)
    assert len(cache._async) == 0
    assert not sdk.sync_closed(sync)

    backend.close()
    assert sdk.sync_closed(sync)
    fresh = cache.sync()
    assert fresh is not sync
    clear_instances()  # the registry closes the backends it made
    assert sdk.sync_closed(fresh)
    # An unclosed socket would surface here as a ResourceWarning (an error in this suite).
    gc.collect()
