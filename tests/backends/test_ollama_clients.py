"""Clients of the ollama backend: SDK defaults and environment, timeouts, capabilities.

No request is made: building a client opens no connection. The tests look inside the
backend and the SDK client (``_client`` is its httpx client) on purpose. Reuse and closing
(one sync client, one async client per event loop) are ``ClientCache``'s, in
test_clients.py.
"""
# The ollama SDK's chat() (a parameter typed with a bare Callable), its context managers and
# its clients' httpx attribute are partly untyped.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false
# pyright: reportUnknownArgumentType=false
# pyright: reportPrivateUsage=false

from __future__ import annotations

import asyncio
from dataclasses import replace

import httpx
import ollama
import pytest

from alloy.backends import _deadline
from alloy.backends import get_backend
from alloy.backends import info
from alloy.backends.base import Backend
from alloy.backends.ollama import NO_TOOLS
from alloy.backends.ollama import PROFILES
from alloy.backends.ollama import TOOLS
from alloy.backends.ollama import OllamaBackend
from alloy.backends.ollama import model_capabilities
from alloy.backends.ollama.backend import _TIMEOUT
from alloy.backends.ollama.backend import _aapply_timeout
from alloy.backends.ollama.backend import _apply_timeout


def http(client: ollama.Client | ollama.AsyncClient) -> httpx.Client | httpx.AsyncClient:
    """The SDK client's httpx client."""
    inner: httpx.Client | httpx.AsyncClient = client._client
    return inner


def base_url(client: ollama.Client | ollama.AsyncClient) -> str:
    return str(http(client).base_url)


def test_registered_and_satisfies_the_protocol() -> None:
    backend = get_backend("ollama", {"host": "http://127.0.0.1:9"})
    assert isinstance(backend, OllamaBackend)
    assert isinstance(backend, Backend)
    assert backend.name == "ollama"
    assert info("ollama").factory == "alloy.backends.ollama:OllamaBackend"
    assert OllamaBackend.client_options == {"host", "headers"}
    assert {"temperature", "max_tokens", "num_predict", "format", "stream"} <= (
        OllamaBackend.reserved_options
    )


def test_ollama_host_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9/emulated/ollama")
    client = OllamaBackend()._cache.sync()
    assert base_url(client) == "http://127.0.0.1:9/emulated/ollama/"
    client.close()


def test_host_option_wins_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    client = OllamaBackend({"host": "http://127.0.0.1:8"})._cache.sync()
    assert base_url(client) == "http://127.0.0.1:8"
    client.close()


def test_default_host(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OLLAMA_HOST", raising=False)
    client = OllamaBackend()._cache.sync()
    assert base_url(client) == "http://127.0.0.1:11434"
    client.close()


def test_api_key_and_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_API_KEY", "key-from-env")
    backend = OllamaBackend({"headers": {"X-Team": "a"}})
    client = backend._cache.sync()
    assert http(client).headers["authorization"] == "Bearer key-from-env"
    assert http(client).headers["x-team"] == "a"
    assert "key-from-env" in backend._secrets.values
    backend.close()


def test_authorization_header_option_is_a_secret() -> None:
    backend = OllamaBackend({"headers": {"Authorization": "Bearer tok-123456"}})
    assert "tok-123456" in backend._secrets.values
    assert "Bearer tok-123456" in backend._secrets.values


def test_clients_keep_the_sdks_default_timeout() -> None:
    backend = OllamaBackend({"host": "http://127.0.0.1:9"})
    assert http(backend._cache.sync()).timeout == httpx.Timeout(None)  # alloy's is per call

    async def timeout() -> object:
        return http(await backend._cache.aclient()).timeout

    assert asyncio.run(timeout()) == httpx.Timeout(None)
    backend.close()


def test_the_request_hook_applies_the_call_timeout() -> None:
    request = httpx.Request("POST", "http://127.0.0.1:9/api/chat")
    request.extensions = {"timeout": httpx.Timeout(None).as_dict()}
    _apply_timeout(request)
    assert request.extensions["timeout"] == httpx.Timeout(None).as_dict()  # no alloy timeout
    token = _TIMEOUT.set(2.5)
    try:
        _apply_timeout(request)
        assert request.extensions["timeout"] == httpx.Timeout(2.5).as_dict()
        request.extensions = {}
        asyncio.run(_aapply_timeout(request))
        assert request.extensions["timeout"] == httpx.Timeout(2.5).as_dict()
    finally:
        _TIMEOUT.reset(token)


def test_clients_carry_the_timeout_hook_before_the_deadline_hooks() -> None:
    backend = OllamaBackend({"host": "http://127.0.0.1:9"})
    deadline = _deadline.hooks(httpx)
    sync_hooks = http(backend._cache.sync()).event_hooks
    assert sync_hooks["request"] == [_apply_timeout, *deadline["request"]]
    assert sync_hooks["response"] == deadline["response"]

    async def hooks() -> object:
        return http(await backend._cache.aclient()).event_hooks["request"]

    assert asyncio.run(hooks()) == [_aapply_timeout, *_deadline.async_hooks(httpx)["request"]]
    backend.close()


@pytest.mark.parametrize(
    "model",
    [
        "llama3.1",
        "llama3.1:8b",
        "llama3.2:3b-instruct-q4_K_M",
        "llama3.3:70b",
        "qwen2.5:7b",
        "qwen2.5-coder:14b",
        "qwen3:8b",
        "Qwen3:8B",
        "mistral",
        "mistral-nemo",
        "mistral-small3.2",
        "command-r7b",
        "gpt-oss:20b",
        "phi4-mini",
        "deepseek-r1:14b",
        "registry.ollama.ai/library/llama3.1:latest",
        "my-own-finetune:latest",
        "gpt-test",
    ],
)
def test_models_with_native_tools(model: str) -> None:
    # The tool rows, whatever the model's thinking row adds.
    assert replace(model_capabilities(model), reasoning=None) == TOOLS
    assert OllamaBackend().capabilities(model).tools


@pytest.mark.parametrize(
    "model",
    [
        "llama2",
        "llama3",
        "llama3:8b",
        "llama3-chatqa",
        "llama3.2-vision:11b",
        "gemma3:4b",
        "gemma2",
        "codegemma",
        "phi3:mini",
        "phi4",
        "phi4-mini-reasoning",
        "qwen:7b",
        "qwen2.5vl:7b",
        "mistral-openorca",
        "llava:13b",
        "deepseek-coder-v2",
        "deepseek-v3",
    ],
)
def test_models_without_native_tools(model: str) -> None:
    assert replace(model_capabilities(model), reasoning=None) == NO_TOOLS
    assert not NO_TOOLS.parallel_tools


def test_capabilities_common_to_every_model() -> None:
    for caps in (TOOLS, NO_TOOLS):
        assert caps.structured_output == "json_schema"
        assert caps.schema_dialect == "ollama"
        assert not caps.tool_error_flag
        assert caps.streaming


def test_profile_rows() -> None:
    labels = [row.models for row in PROFILES]
    assert labels[-1] == "all other models"
    assert "`llama3.1*`" in labels[1] and "`gemma*`" in labels[2]
    assert [row.capabilities for row in PROFILES] == [NO_TOOLS, TOOLS, NO_TOOLS, TOOLS]
    assert PROFILES[-1].prefixes == ()
