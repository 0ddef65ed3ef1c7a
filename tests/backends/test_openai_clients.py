"""SDK client lifecycle of the OpenAI backends: lazy, reused, per event loop, closed, no leaks.

No request is made: building a client opens no connection.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import weakref

import openai
import pytest

from alloy.backends import clear_instances
from alloy.backends import get_backend
from alloy.backends._clients import ClientCache
from alloy.backends.base import Backend
from alloy.backends.openai import PROFILES
from alloy.backends.openai import OpenAIBackend
from alloy.backends.openai import OpenAIChatBackend
from alloy.backends.openai._models import capabilities

KEY = "sk-test-0123456789abcdef"
CAPABILITIES = capabilities("gpt-5-mini")


def clients(**options: object) -> ClientCache[openai.OpenAI, openai.AsyncOpenAI]:
    return OpenAIBackend({"api_key": KEY, **options})._clients


def test_backends_satisfy_the_protocol_and_registry() -> None:
    for name, cls in (("openai", OpenAIBackend), ("openai-chat", OpenAIChatBackend)):
        backend = get_backend(name, {"api_key": KEY})
        assert isinstance(backend, cls)
        assert isinstance(backend, Backend)
        assert backend.name == name
        assert backend.capabilities("any-model") == CAPABILITIES


def test_capabilities() -> None:
    assert [row.models for row in PROFILES] == ["all models"]
    assert PROFILES[-1].capabilities is CAPABILITIES
    assert CAPABILITIES.structured_output == "json_schema"
    assert CAPABILITIES.schema_dialect == "openai"
    assert CAPABILITIES.tools and CAPABILITIES.parallel_tools and CAPABILITIES.streaming
    assert not CAPABILITIES.tool_error_flag


def test_sync_client_is_built_once_with_sdk_retries_off() -> None:
    pool = clients(base_url="http://127.0.0.1:9/v1", organization="org-1")
    client = pool.sync()
    assert pool.sync() is client
    assert client.max_retries == 0
    assert client.api_key == KEY
    assert client.organization == "org-1"
    assert str(client.base_url) == "http://127.0.0.1:9/v1/"


def test_sync_client_is_shared_across_threads() -> None:
    pool = clients()
    seen: list[openai.OpenAI] = []
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait()
        seen.append(pool.sync())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({id(c) for c in seen}) == 1


def test_sdk_environment_variables_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-0000")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/emulated/v1")
    client = OpenAIBackend()._clients.sync()
    assert client.api_key == "sk-from-env-0000"
    assert str(client.base_url) == "http://127.0.0.1:9/emulated/v1/"


def test_key_from_the_environment_is_scrubbed_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env-0000")
    backend = OpenAIBackend()
    backend._clients.sync()
    assert "sk-from-env-0000" in backend._secrets.values


def test_one_async_client_per_loop_closed_when_the_loop_ends() -> None:
    pool = clients()

    async def twice() -> tuple[openai.AsyncOpenAI, openai.AsyncOpenAI]:
        return await pool.aclient(), await pool.aclient()

    first, again = asyncio.run(twice())
    second, _ = asyncio.run(twice())
    assert first is again
    assert first is not second
    assert first.max_retries == 0
    assert first.is_closed() and second.is_closed()
    assert len(pool._async) == 0


def test_concurrent_tasks_share_the_loop_client() -> None:
    pool = clients()

    async def main() -> set[int]:
        got = await asyncio.gather(*(pool.aclient() for _ in range(20)))
        return {id(c) for c in got}

    assert len(asyncio.run(main())) == 1


def test_finished_loops_are_not_kept_alive() -> None:
    pool = clients()
    loops: list[weakref.ref[asyncio.AbstractEventLoop]] = []

    async def main() -> None:
        loops.append(weakref.ref(asyncio.get_running_loop()))
        await pool.aclient()

    asyncio.run(main())
    gc.collect()
    assert loops[0]() is None


def test_a_loop_closed_without_shutdown_is_dropped_on_next_use() -> None:
    pool = clients()
    loop = asyncio.new_event_loop()
    stale = loop.run_until_complete(pool.aclient())
    loop.close()  # no shutdown_asyncgens: the closer never ran
    fresh = asyncio.run(pool.aclient())
    assert fresh is not stale
    assert list(pool._async) == []


async def test_client_of_the_test_loop_is_reused() -> None:
    pool = clients()
    assert await pool.aclient() is await pool.aclient()


def test_close_closes_the_sync_client_and_a_new_one_is_made_on_use() -> None:
    backend = OpenAIBackend({"api_key": KEY})
    first = backend._clients.sync()
    backend.close()
    assert first.is_closed()
    assert backend._clients.sync() is not first


def test_close_then_immediate_reuse_keeps_the_new_client() -> None:
    backend = OpenAIBackend({"api_key": KEY})

    async def main() -> tuple[openai.AsyncOpenAI, openai.AsyncOpenAI, bool]:
        first = await backend._clients.aclient()
        backend.close()
        second = await backend._clients.aclient()  # before the old closer has run
        for _ in range(3):
            await asyncio.sleep(0)
        return first, second, second.is_closed() or len(backend._clients._async) == 0

    first, second, lost = asyncio.run(main())
    assert first.is_closed()
    assert not lost
    assert second.is_closed()  # by the loop's shutdown


def test_close_closes_async_clients_on_their_loop() -> None:
    backend = OpenAIChatBackend({"api_key": KEY})

    async def main() -> tuple[openai.AsyncOpenAI, openai.AsyncOpenAI, bool]:
        first = await backend._clients.aclient()
        backend.close()
        for _ in range(3):  # let the scheduled close run
            await asyncio.sleep(0)
        closed = first.is_closed()
        return first, await backend._clients.aclient(), closed

    first, second, closed_in_loop = asyncio.run(main())
    assert closed_in_loop
    assert second is not first
    assert second.is_closed()


def test_registry_clear_instances_closes_backends() -> None:
    backend = get_backend("openai", {"api_key": KEY, "organization": "org-close"})
    assert isinstance(backend, OpenAIBackend)
    client = backend._clients.sync()
    clear_instances()
    assert client.is_closed()
