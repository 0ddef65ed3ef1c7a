"""SDK clients of the ``gemini`` backend: their options, the environment, TLS, transports.

Building a ``genai.Client`` opens no connection; the last test makes real calls to the
emulator to show that no socket outlives its loop. Reuse and closing (one sync client, one
async client per event loop) are ``ClientCache``'s, in test_clients.py.
"""

from __future__ import annotations

import asyncio
import gc
import ssl
from typing import Any

import httpx2
import pytest
from google import genai

from alloy.backends import Message
from alloy.backends import Request
from alloy.backends import get_backend
from alloy.backends.base import Backend
from alloy.backends.gemini import GeminiBackend
from alloy.backends.gemini.backend import GeminiClients
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

KEY = "AIza-test-0123456789abcdef"


def clients(**options: Any) -> GeminiClients:
    return GeminiClients({"api_key": KEY, **options})


def api(client: genai.Client) -> Any:
    """The SDK's private API client, where its settings and HTTP clients live."""
    return client._api_client  # pyright: ignore[reportPrivateUsage]


def test_backend_satisfies_the_protocol_and_registry() -> None:
    backend = get_backend("gemini", {"api_key": KEY})
    assert isinstance(backend, GeminiBackend)
    assert isinstance(backend, Backend)
    assert backend.name == "gemini"
    assert get_backend("gemini", {"api_key": KEY}) is backend


def test_sync_client_is_built_once_with_the_client_options() -> None:
    pool = clients(
        base_url="http://127.0.0.1:9/gemini",
        api_version="v1beta",
        headers={"x-team": "alloy"},
    )
    client = pool.sync()
    assert pool.sync() is client
    settings = api(client)
    assert settings.api_key == KEY
    assert settings._http_options.base_url == "http://127.0.0.1:9/gemini"
    assert settings._http_options.api_version == "v1beta"
    assert settings._http_options.headers["x-team"] == "alloy"
    assert settings._http_options.retry_options is None  # the SDK retries nothing
    assert settings._http_options.timeout is None  # per request instead


def test_plain_keys_override_http_options() -> None:
    http_options = {"base_url": "http://127.0.0.1:9/a", "headers": {"x-a": "1"}}
    pool = clients(http_options=http_options, base_url="http://127.0.0.1:9/b", headers={"x-b": "2"})
    settings = api(pool.sync())._http_options
    assert settings.base_url == "http://127.0.0.1:9/b"
    assert {"x-a": "1", "x-b": "2"}.items() <= settings.headers.items()
    assert http_options == {"base_url": "http://127.0.0.1:9/a", "headers": {"x-a": "1"}}


def test_sdk_environment_variables_apply(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-from-env-0000")
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    monkeypatch.setenv("GOOGLE_GEMINI_BASE_URL", "http://127.0.0.1:9/emulated")
    monkeypatch.setenv("GOOGLE_GENAI_API_VERSION", "v1beta")
    pool = GeminiClients({})
    settings = api(pool.sync())
    assert settings.api_key == "AIza-from-env-0000"
    assert settings._http_options.base_url == "http://127.0.0.1:9/emulated"
    assert settings._http_options.api_version == "v1beta"
    assert "AIza-from-env-0000" in pool.secrets.values


def test_async_client_uses_its_own_httpx2_transport() -> None:
    pool = clients(http_options={"async_client_args": {"verify": False}})

    async def main() -> Any:
        return api(await pool.aclient())._async_httpx_client

    http = asyncio.run(main())
    assert isinstance(http, httpx2.AsyncClient)
    # A transport of alloy's: the SDK neither switches to aiohttp nor pools per loop.
    assert isinstance(http._transport, httpx2.AsyncHTTPTransport)
    assert http._per_loop is False


def test_aiohttp_would_not_be_used_even_if_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    from google.genai import _api_client  # pyright: ignore[reportPrivateUsage]

    # What the SDK checks to switch its async path to aiohttp (not installed here).
    monkeypatch.setattr(_api_client, "has_aiohttp", True)
    pool = clients()

    async def main() -> bool:
        uses: bool = api(await pool.aclient())._use_aiohttp()
        return uses

    assert asyncio.run(main()) is False
    assert api(pool.sync())._use_aiohttp() is True  # a client without alloy's transport


def test_a_transport_of_the_users_is_kept() -> None:
    transport = httpx2.AsyncHTTPTransport()
    pool = clients(http_options={"async_client_args": {"transport": transport}})

    async def main() -> Any:
        return api(await pool.aclient())._async_httpx_client._transport

    assert asyncio.run(main()) is transport


def test_one_tls_context_serves_every_client() -> None:
    pool = clients()

    async def main() -> Any:
        return api(await pool.aclient())._http_options

    first, second = asyncio.run(main()), asyncio.run(main())
    context = api(pool.sync())._http_options.client_args["verify"]
    assert isinstance(context, ssl.SSLContext)
    assert first.async_client_args["verify"] is context
    assert second.async_client_args["verify"] is context


def test_a_tls_setting_of_the_users_is_kept() -> None:
    own = ssl.create_default_context()
    pool = clients(http_options={"client_args": {"verify": own}})
    assert api(pool.sync())._http_options.client_args["verify"] is own


def test_vertex_ai_keeps_the_sdks_own_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOOGLE_GENAI_USE_VERTEXAI", "true")
    assert clients()._tls() is None  # pyright: ignore[reportPrivateUsage]


def test_the_sync_client_gets_no_async_transport() -> None:
    settings = api(clients().sync())._http_options
    assert not (settings.async_client_args or {}).get("transport")


def test_real_calls_on_successive_loops_leave_nothing_open(alloy_emulator: Scenario) -> None:
    alloy_emulator.enqueue(*(Reply(text=f"hi {i}") for i in range(4)))
    backend = GeminiBackend({"base_url": alloy_emulator.base_url("gemini"), "api_key": KEY})
    request = Request(model="gemini-2.5-flash", messages=(Message.user("hi"),), timeout=5.0)

    async def call() -> str:
        return (await backend.acomplete(request)).text

    assert [asyncio.run(call()), asyncio.run(call())] == ["hi 0", "hi 1"]
    assert backend.complete(request).text == "hi 2"
    backend.close()
    assert backend.complete(request).text == "hi 3"
    backend.close()
    # An unclosed socket would surface here as a ResourceWarning (an error in this suite).
    gc.collect()
    assert alloy_emulator.requests[0].headers["x-goog-api-key"] == "***"
    assert alloy_emulator.requests[0].carries_key(KEY)
    assert alloy_emulator.requests[0].headers["x-server-timeout"] == "5"
