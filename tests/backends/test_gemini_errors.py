"""SDK and transport exceptions → alloy errors, at the ``gemini`` backend's one boundary.

The exceptions are real instances, built the way google-genai builds them: status errors by
``errors.APIError.raise_for_response`` from an ``httpx2.Response`` (what ``generate_content``
calls on every reply), the rest as its HTTP stack and JSON parsing raise them.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import httpx2
import pydantic
import pytest
from google.genai import errors
from google.genai import types

import alloy
from alloy._messages import Message
from alloy._messages import Request
from alloy.backends.gemini import GeminiBackend
from alloy.backends.gemini.backend import GeminiClients

KEY = "AIza-test-0123456789abcdef"
URL = "https://generativelanguage.googleapis.com/v1/models/gemini-2.5-flash:generateContent"
INVALID_KEY_BODY: dict[str, Any] = {
    "error": {
        "code": 400,
        "message": "API key not valid. Please pass a valid API key.",
        "status": "INVALID_ARGUMENT",
        "details": [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "API_KEY_INVALID",
                "domain": "googleapis.com",
            }
        ],
    }
}


def clients() -> GeminiClients:
    return GeminiClients({"api_key": KEY})


def status_error(status: int, body: Any, headers: dict[str, str] | None = None) -> errors.APIError:
    """As the SDK raises it for a non-200 reply."""
    text = json.dumps(body) if isinstance(body, dict) else body
    response = httpx2.Response(
        status, headers=headers or {}, text=text, request=httpx2.Request("POST", URL)
    )
    with pytest.raises(errors.APIError) as raised:
        errors.APIError.raise_for_response(response)
    return raised.value


def envelope(status: int, message: str, name: str) -> dict[str, Any]:
    return {"error": {"code": status, "message": message, "status": name}}


def mapped(exc: BaseException, target: GeminiClients | None = None, timeout: float = 5.0) -> Any:
    """The alloy error raised when ``exc`` crosses the boundary (its cause must be ``exc``)."""
    with pytest.raises(alloy.AlloyError) as info, (target or clients()).errors(timeout):
        raise exc
    assert info.value.__cause__ is exc
    return info.value


def test_invalid_key_is_an_authentication_error_although_it_is_a_400() -> None:
    exc = status_error(400, INVALID_KEY_BODY)
    assert isinstance(exc, errors.ClientError)
    error = mapped(exc)
    assert type(error) is alloy.AuthenticationError
    assert error.status_code == 400
    assert error.provider == "gemini"
    assert not error.retryable
    assert "API key not valid" in str(error)
    assert "GEMINI_API_KEY" in str(error)
    assert "provider_options={'gemini': {'api_key': ...}}" in str(error)


@pytest.mark.parametrize(("status", "name"), [(401, "UNAUTHENTICATED"), (403, "PERMISSION_DENIED")])
def test_401_and_403_name_the_env_var_and_scrub_the_key(status: int, name: str) -> None:
    error = mapped(status_error(status, envelope(status, f"Bad key {KEY}", name)))
    assert type(error) is alloy.AuthenticationError
    assert error.status_code == status
    assert "GEMINI_API_KEY" in str(error)
    assert KEY not in str(error)


def test_a_key_from_the_environment_is_scrubbed_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEMINI_API_KEY", "AIza-from-the-env-42")
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    pool = GeminiClients({})
    pool.sync()
    error = mapped(status_error(401, envelope(401, "no: AIza-from-the-env-42", "X")), pool)
    assert "AIza-from-the-env-42" not in str(error)


def test_429_with_retry_after() -> None:
    body = envelope(429, "Resource has been exhausted", "RESOURCE_EXHAUSTED")
    error = mapped(status_error(429, body, headers={"retry-after": "3"}))
    assert type(error) is alloy.RateLimitError
    assert error.retry_after == 3.0
    assert error.retryable


def test_429_with_retry_after_ms_and_request_id() -> None:
    exc = status_error(
        429,
        envelope(429, "slow down", "RESOURCE_EXHAUSTED"),
        headers={"retry-after-ms": "1500", "x-request-id": "req-9"},
    )
    error = mapped(exc)
    assert error.retry_after == 1.5
    assert error.request_id == "req-9"


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retryable(status: int) -> None:
    error = mapped(status_error(status, envelope(status, "The model is overloaded", "X")))
    assert type(error) is alloy.ProviderError
    assert error.status_code == status
    assert error.retryable
    assert "The model is overloaded" in str(error)


def test_html_proxy_page_is_described_not_dumped() -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"
    exc = status_error(502, page)
    assert isinstance(exc, errors.ServerError)
    error = mapped(exc)
    assert error.status_code == 502 and error.retryable
    assert "HTML" in str(error)
    assert "nginx" not in str(error)


@pytest.mark.parametrize(("status", "name"), [(400, "INVALID_ARGUMENT"), (404, "NOT_FOUND")])
def test_client_errors_are_not_retryable(status: int, name: str) -> None:
    error = mapped(status_error(status, envelope(status, "models/x is not found", name)))
    assert type(error) is alloy.ProviderError
    assert not error.retryable
    assert "models/x is not found" in str(error)


def test_unparsable_reply_is_a_provider_error() -> None:
    with pytest.raises(json.JSONDecodeError) as raised:
        json.loads("{not json")
    error = mapped(raised.value)
    assert type(error) is alloy.ProviderError
    assert not error.retryable
    assert "not valid JSON" in str(error)


def test_unknown_api_response_does_not_quote_the_body() -> None:
    body = '{"candidates": [' + KEY
    with pytest.raises(json.JSONDecodeError) as raised:
        json.loads(body)
    # As HttpResponse._load_json_from_response raises it: ``raise ... from`` the JSON error.
    exc = errors.UnknownApiResponseError(f"Failed to parse response as JSON. Raw response: {body}")
    exc.__cause__ = raised.value
    error = mapped(exc)
    assert type(error) is alloy.ProviderError
    assert "not valid JSON" in str(error)
    assert KEY not in str(error)


@pytest.mark.parametrize(
    ("exc", "cls"),
    [
        (httpx2.ReadError("[Errno 104] Connection reset by peer"), alloy.ProviderConnectionError),
        (httpx2.ConnectError("[Errno 111] Connection refused"), alloy.ProviderConnectionError),
        (httpx2.RemoteProtocolError("peer closed"), alloy.ProviderConnectionError),
        (httpx2.ReadTimeout("timed out"), alloy.ProviderTimeout),
        (httpx2.ConnectTimeout("timed out"), alloy.ProviderTimeout),
        (httpx.ReadError("reset"), alloy.ProviderConnectionError),
        (httpx.ReadTimeout("timed out"), alloy.ProviderTimeout),
        (ConnectionResetError(104, "Connection reset by peer"), alloy.ProviderConnectionError),
        (TimeoutError("timed out"), alloy.ProviderTimeout),
    ],
    ids=lambda v: (
        type(v).__module__.split(".")[0] + "." + type(v).__name__
        if isinstance(v, Exception)
        else ""
    ),
)
def test_transport_errors(exc: Exception, cls: type[alloy.ProviderError]) -> None:
    error = mapped(exc, timeout=5.0)
    assert type(error) is cls
    assert error.retryable
    if cls is alloy.ProviderTimeout:
        assert "5s" in str(error)


def test_other_transport_errors_are_provider_errors() -> None:
    error = mapped(httpx2.DecodingError("bad gzip"))
    assert type(error) is alloy.ProviderError


def test_a_failed_automatic_continuation_reports_its_cause() -> None:
    cause = status_error(503, envelope(503, "overloaded", "UNAVAILABLE"))
    with pytest.raises(errors.ContinuationInterruptedError) as raised:
        raise errors.ContinuationInterruptedError("hop 2 failed") from cause
    error = mapped(raised.value)
    assert error.status_code == 503 and error.retryable


def test_a_client_closed_under_a_call_is_retryable() -> None:
    error = mapped(RuntimeError("Cannot send a request, as the client has been closed."))
    assert type(error) is alloy.ProviderConnectionError
    assert error.retryable


def test_a_reply_the_sdk_cannot_model_is_a_provider_error() -> None:
    with pytest.raises(pydantic.ValidationError) as raised:
        types.GenerateContentResponse.model_validate({"candidates": "nope"})
    error = mapped(raised.value)
    assert type(error) is alloy.ProviderError
    assert not error.retryable


def test_a_request_the_sdk_refuses_is_a_configuration_error() -> None:
    exc = ValueError("routing_config parameter is only supported in Vertex AI mode")
    error = mapped(exc)
    assert type(error) is alloy.ConfigurationError
    assert "routing_config" in str(error)


def test_other_exceptions_pass_through_unchanged() -> None:
    boom = KeyError("not from the SDK")
    with pytest.raises(KeyError) as info, clients().errors(None):
        raise boom
    assert info.value is boom
    own = alloy.ConfigurationError("already alloy's")
    with pytest.raises(alloy.ConfigurationError) as caught, clients().errors(None):
        raise own
    assert caught.value is own


async def test_boundary_covers_awaited_calls() -> None:
    async def call() -> None:
        raise status_error(500, envelope(500, "oops", "INTERNAL"))

    with pytest.raises(alloy.ProviderError) as info, clients().errors(None):
        await call()
    assert isinstance(info.value.__cause__, errors.ServerError)


# Errors raised before any I/O, through the backend's own complete/acomplete.


def ask(**fields: Any) -> Request:
    return Request(model="gemini-2.5-flash", messages=(Message.user("hi"),), **fields)


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_GENAI_USE_VERTEXAI"):
        monkeypatch.delenv(var, raising=False)


@pytest.mark.usefixtures("no_key")
def test_missing_api_key_is_a_configuration_error() -> None:
    with pytest.raises(alloy.ConfigurationError) as info:
        GeminiBackend().complete(ask())
    assert "GEMINI_API_KEY" in str(info.value)
    assert "provider_options={'gemini': {'api_key': ...}}" in str(info.value)
    assert isinstance(info.value.__cause__, ValueError)


@pytest.mark.usefixtures("no_key")
async def test_missing_api_key_async() -> None:
    with pytest.raises(alloy.ConfigurationError, match="GEMINI_API_KEY"):
        await GeminiBackend().acomplete(ask())


def test_invalid_client_option_is_a_configuration_error() -> None:
    with pytest.raises(alloy.ConfigurationError, match="invalid client settings") as info:
        GeminiBackend({"api_key": KEY, "http_options": {"timeout": "soon"}}).complete(ask())
    assert KEY not in str(info.value)
    with pytest.raises(alloy.ConfigurationError, match="http_options must be"):
        GeminiBackend({"api_key": KEY, "http_options": 42}).complete(ask())


def test_sdk_retries_cannot_be_switched_on() -> None:
    options = {"api_key": KEY, "http_options": {"retry_options": {"attempts": 3}}}
    with pytest.raises(alloy.ConfigurationError, match="max_retries"):
        GeminiBackend(options).complete(ask())


def test_unknown_request_option_is_a_configuration_error() -> None:
    with pytest.raises(alloy.ConfigurationError, match="no_such_option"):
        GeminiBackend({"api_key": KEY}).complete(ask(options={"no_such_option": 1}))


async def test_unknown_request_option_async() -> None:
    with pytest.raises(alloy.ConfigurationError, match="no_such_option"):
        await GeminiBackend({"api_key": KEY}).acomplete(ask(options={"no_such_option": 1}))
