"""SDK and transport exceptions → alloy errors, at the ollama backend's one boundary.

The exceptions are the SDK's own: a real ``ollama.Client`` talks to an ``httpx.MockTransport``
that answers (or fails) as a server would, and the exception it raises, with its context
chain, is taken across the boundary.
"""
# The ollama SDK's chat() (a parameter typed with a bare Callable), its context managers and
# its clients' httpx attribute are partly untyped.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false
# pyright: reportUnknownArgumentType=false
# pyright: reportPrivateUsage=false

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

import httpx
import ollama
import pytest

import alloy
from alloy._messages import Message
from alloy._messages import Request
from alloy.backends.ollama import OllamaBackend
from alloy.backends.ollama.backend import _TIMEOUT

KEY = "ollama-key-0123456789abcdef"
Handler = Callable[[httpx.Request], httpx.Response]


def sdk_error(handler: Handler, *, stream: bool = False) -> Exception:
    """What ``Client.chat`` raises against a server that answers with ``handler``."""
    transport = httpx.MockTransport(handler)
    with ollama.Client(host="http://ollama.test:11434", transport=transport) as client:
        try:
            if stream:
                list(client.chat(model="m", messages=[], stream=True))
            else:
                client.chat(model="m", messages=[])
        except Exception as exc:  # noqa: BLE001 - whatever the SDK raises is under test
            return exc
    raise AssertionError("the SDK raised nothing")


def answer(
    status: int, body: Any = "", headers: dict[str, str] | None = None, ctype: str = ""
) -> Handler:
    text = body if isinstance(body, str) else json.dumps(body)
    all_headers = {"content-type": ctype or "application/json", **(headers or {})}
    return lambda request: httpx.Response(status, headers=all_headers, text=text)


def failing(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


@pytest.fixture
def backend() -> Iterator[OllamaBackend]:
    made = OllamaBackend({"headers": {"Authorization": f"Bearer {KEY}"}})
    yield made
    made.close()


def mapped(exc: BaseException, backend: OllamaBackend, timeout: float = 5.0) -> Any:
    """The alloy error raised when ``exc`` crosses the boundary (its cause must be ``exc``)."""
    with pytest.raises(alloy.AlloyError) as info, backend._boundary(timeout):
        raise exc
    assert info.value.__cause__ is exc
    return info.value


def test_401_hints_at_the_key_and_hides_it(backend: OllamaBackend) -> None:
    exc = sdk_error(answer(401, {"error": f"unauthorized: Bearer {KEY}"}))
    assert isinstance(exc, ollama.ResponseError)
    error = mapped(exc, backend)
    assert type(error) is alloy.AuthenticationError
    assert error.status_code == 401 and not error.retryable
    assert "OLLAMA_API_KEY" in str(error)
    assert "provider_options={'ollama': {'headers':" in str(error)
    assert KEY not in str(error)


def test_401_masks_credentials_alloy_was_not_given(backend: OllamaBackend) -> None:
    exc = sdk_error(answer(401, {"error": "Incorrect API key provided: sk-proxy-key-0042abcd"}))
    error = mapped(exc, backend)
    assert "sk-proxy-key-0042abcd" not in str(error)
    assert "Incorrect API key provided: ***" in str(error)


def test_the_env_key_is_scrubbed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_API_KEY", "envkey")
    backend = OllamaBackend()
    backend._cache.sync()  # the key is read when the client is built, as the SDK reads it
    exc = sdk_error(answer(500, {"error": "upstream said envkey is wrong"}))
    error = mapped(exc, backend)
    assert "envkey" not in str(error)
    backend.close()


def test_403(backend: OllamaBackend) -> None:
    error = mapped(sdk_error(answer(403, {"error": "forbidden"})), backend)
    assert type(error) is alloy.AuthenticationError and error.status_code == 403


def test_429_reads_retry_after_ms_and_the_request_id(backend: OllamaBackend) -> None:
    headers = {"retry-after-ms": "1500", "x-request-id": "req_7"}
    exc = sdk_error(answer(429, {"error": "too many requests"}, headers))
    error = mapped(exc, backend)
    assert type(error) is alloy.RateLimitError
    assert error.retry_after == 1.5 and error.retryable
    assert error.request_id == "req_7"
    assert "too many requests" in str(error)


def test_503_reads_retry_after_seconds(backend: OllamaBackend) -> None:
    error = mapped(sdk_error(answer(503, {"error": "busy"}, {"retry-after": "3"})), backend)
    assert type(error) is alloy.ProviderError
    assert error.status_code == 503 and error.retryable and error.retry_after == 3.0


@pytest.mark.parametrize("status", [500, 502, 504])
def test_server_errors_are_retryable(backend: OllamaBackend, status: int) -> None:
    error = mapped(sdk_error(answer(status, {"error": "model runner crashed"})), backend)
    assert error.status_code == status and error.retryable
    assert "model runner crashed" in str(error)


def test_html_proxy_page_is_described_not_dumped(backend: OllamaBackend) -> None:
    page = "<html><body><h1>502 Bad Gateway</h1></body></html>"
    error = mapped(sdk_error(answer(502, page, ctype="text/html")), backend)
    assert error.status_code == 502 and error.retryable
    assert "HTML" in str(error) and "<html>" not in str(error)


@pytest.mark.parametrize("status", [400, 404, 422])
def test_client_errors_are_not_retryable(backend: OllamaBackend, status: int) -> None:
    exc = sdk_error(answer(status, {"error": "model 'x' not found"}))
    error = mapped(exc, backend)
    assert type(error) is alloy.ProviderError
    assert error.status_code == status and not error.retryable
    assert "model 'x' not found" in str(error)


def test_an_error_body_the_sdk_cannot_read_is_still_the_http_error(
    backend: OllamaBackend,
) -> None:
    exc = sdk_error(answer(500, ["not", "an", "object"]))
    assert isinstance(exc, AttributeError)  # the SDK's ResponseError fails on this body
    error = mapped(exc, backend)
    assert error.status_code == 500 and error.retryable


def test_in_stream_error_line(backend: OllamaBackend) -> None:
    exc = sdk_error(answer(200, '{"error": "out of memory"}\n', ctype=""), stream=True)
    assert isinstance(exc, ollama.ResponseError) and exc.status_code == -1
    error = mapped(exc, backend)
    assert type(error) is alloy.StreamError
    assert error.status_code is None and not error.retryable
    assert "out of memory" in str(error)


def test_connection_refused_names_the_host(backend: OllamaBackend) -> None:
    exc = sdk_error(failing(httpx.ConnectError("[Errno 111] Connection refused")))
    assert type(exc) is ConnectionError  # the SDK's "Failed to connect to Ollama"
    error = mapped(exc, backend)
    assert type(error) is alloy.ProviderConnectionError and error.retryable
    assert "http://ollama.test:11434" in str(error)
    assert "Connection refused" in str(error)
    assert "OLLAMA_HOST" in str(error)


def test_reset(backend: OllamaBackend) -> None:
    exc = sdk_error(failing(httpx.ReadError("[Errno 104] Connection reset by peer")))
    assert isinstance(exc, httpx.ReadError)
    error = mapped(exc, backend)
    assert type(error) is alloy.ProviderConnectionError and error.retryable


def test_timeout(backend: OllamaBackend) -> None:
    exc = sdk_error(failing(httpx.ReadTimeout("timed out")))
    error = mapped(exc, backend, timeout=5.0)
    assert type(error) is alloy.ProviderTimeout and error.retryable
    assert "5s" in str(error)


def test_malformed_json_body(backend: OllamaBackend) -> None:
    exc = sdk_error(answer(200, '{"model": "m", "message": {'))
    assert isinstance(exc, json.JSONDecodeError)
    error = mapped(exc, backend)
    assert type(error) is alloy.ProviderError and not error.retryable
    assert "not valid JSON" in str(error)


def test_json_that_is_not_an_object(backend: OllamaBackend) -> None:
    exc = sdk_error(answer(200, [1, 2]))
    assert isinstance(exc, TypeError)
    error = mapped(exc, backend)
    assert type(error) is alloy.ProviderError and not error.retryable


def test_an_object_that_is_not_a_chat_response(backend: OllamaBackend) -> None:
    exc = sdk_error(answer(200, {"status": "ok"}))
    error = mapped(exc, backend)
    assert type(error) is alloy.ProviderError and not error.retryable
    assert "not an Ollama chat response" in str(error)


def test_other_exceptions_pass_through_unchanged(backend: OllamaBackend) -> None:
    boom = KeyError("not from the SDK")
    with pytest.raises(KeyError) as info, backend._boundary(None):
        raise boom
    assert info.value is boom
    own = alloy.ConfigurationError("already alloy's")
    with pytest.raises(alloy.ConfigurationError) as caught, backend._boundary(None):
        raise own
    assert caught.value is own


async def test_boundary_covers_awaited_calls(backend: OllamaBackend) -> None:
    async def call() -> None:
        raise sdk_error(answer(500, {"error": "oops"}))

    with pytest.raises(alloy.ProviderError) as info, backend._boundary(None):
        await call()
    assert isinstance(info.value.__cause__, ollama.ResponseError)


# Errors raised before any I/O, through the backend's own complete/acomplete (the host is a
# closed loopback port: reaching it would be a connection error, not these).

CLOSED = {"host": "http://127.0.0.1:9"}


def ask(model: str = "llama3.1", **fields: Any) -> Request:
    return Request(model=model, messages=(Message.user("hi"),), **fields)


def test_unknown_request_option_is_a_configuration_error() -> None:
    with pytest.raises(alloy.ConfigurationError, match="no_such_option") as info:
        OllamaBackend(CLOSED).complete(ask(options={"no_such_option": 1}))
    assert "keep_alive" in str(info.value)


async def test_unknown_request_option_async() -> None:
    with pytest.raises(alloy.ConfigurationError, match="no_such_option"):
        await OllamaBackend(CLOSED).acomplete(ask(options={"no_such_option": 1}))


def test_invalid_request_option_value_is_a_configuration_error() -> None:
    with pytest.raises(alloy.ConfigurationError, match="ChatRequest"):
        OllamaBackend(CLOSED).complete(ask(options={"keep_alive": [1, 2]}))


@pytest.mark.parametrize(
    "options", [{"host": 42}, {"headers": "x"}, {"host": "http://[::1"}, {"host": "h:port"}]
)
def test_invalid_client_options_are_configuration_errors(options: dict[str, Any]) -> None:
    with pytest.raises(alloy.ConfigurationError, match="provider_options"):
        OllamaBackend(options).complete(ask())


@alloy.tool
def noop() -> str:
    """Do nothing."""
    return ""


def test_native_tools_on_a_model_without_them_fail_in_planning_before_any_call() -> None:
    cmd = alloy.command(tools=[noop], output=str)(lambda: "hi").with_config(
        model="ollama:gemma3:4b", tool_mode="native", provider_options={"ollama": CLOSED}
    )
    with pytest.raises(alloy.CapabilityError, match="gemma3:4b") as info:
        cmd()
    assert "tool_mode='react'" in str(info.value)


def test_the_timeout_is_reset_after_a_failed_call() -> None:
    backend = OllamaBackend(CLOSED)
    with pytest.raises(alloy.ProviderConnectionError):
        backend.complete(ask(timeout=0.5))
    assert _TIMEOUT.get() is None
    backend.close()
