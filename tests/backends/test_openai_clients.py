"""SDK clients of the OpenAI backends: their settings, the environment, key handling.

No request is made: building a client opens no connection. Reuse and closing (one sync
client, one async client per event loop) are ``ClientCache``'s, in test_clients.py.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import openai
import pytest

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
        # The same row for every model; the two APIs differ in media and reasoning only.
        found = backend.capabilities("any-model")
        assert replace(found, reasoning=None) == replace(
            capabilities("gpt-5-mini", cls.profiles), reasoning=None
        )
    assert OpenAIBackend.profiles is not OpenAIChatBackend.profiles


def test_capabilities() -> None:
    assert [row.models for row in PROFILES] == ["all models"]
    assert PROFILES[-1].capabilities == replace(CAPABILITIES, reasoning=None)
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


def test_async_client_is_built_with_sdk_retries_off() -> None:
    pool = clients()

    async def main() -> openai.AsyncOpenAI:
        return await pool.aclient()

    client = asyncio.run(main())
    assert client.max_retries == 0
    assert client.api_key == KEY
    assert client.is_closed()  # by the loop's shutdown


@pytest.mark.parametrize(
    ("base_url", "pricing"),
    [
        (None, "openai-chat"),
        ("https://api.openai.com/v1", "openai-chat"),
        ("https://eu.api.openai.com/v1", "openai-chat"),
        ("http://127.0.0.1:8000/v1", None),
        ("http://localhost:11434/v1", None),
        ("https://api.openai.com.example.net/v1", None),
        ("https://openrouter.ai/api/v1", None),
    ],
)
def test_openai_chat_is_priced_only_on_openais_api(
    monkeypatch: pytest.MonkeyPatch, base_url: str | None, pricing: str | None
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    options = {"api_key": KEY} if base_url is None else {"api_key": KEY, "base_url": base_url}
    backend = OpenAIChatBackend(options)
    assert backend.pricing() == pricing
    # The URL judged is the one the SDK client sends to.
    sent_to = str(backend._clients.sync().base_url)
    assert sent_to.rstrip("/") == (base_url or "https://api.openai.com/v1")


@pytest.mark.parametrize(
    ("env", "pricing"),
    [("http://127.0.0.1:9/v1", None), ("https://api.openai.com/v1", "openai-chat")],
)
def test_openai_chat_pricing_reads_the_base_url_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, env: str, pricing: str | None
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", env)
    backend = OpenAIChatBackend({"api_key": KEY})
    assert backend.pricing() == pricing
    assert str(backend._clients.sync().base_url).rstrip("/") == env
    # An option wins over the environment, for the SDK and for pricing alike.
    local = OpenAIChatBackend({"api_key": KEY, "base_url": "http://127.0.0.1:9/v1"})
    assert local.pricing() is None


def test_openai_chat_pricing_of_a_url_that_is_not_one_is_none() -> None:
    assert OpenAIChatBackend({"api_key": KEY, "base_url": "http://[::1/v1"}).pricing() is None
