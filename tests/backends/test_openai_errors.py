"""SDK and transport exceptions → alloy errors, at the boundary both OpenAI backends use.

The exceptions are real SDK instances, built the way the SDK builds them from a response
(``_make_status_error``) or from an ``httpx2`` failure (``raise APIConnectionError from``).
"""

from __future__ import annotations

import json
from typing import Any

import httpx2
import openai
import pytest

import alloy
from alloy._messages import Message
from alloy._messages import Request
from alloy.backends._boundary import expect
from alloy.backends.openai import OpenAIBackend
from alloy.backends.openai import OpenAIChatBackend
from alloy.backends.openai._shared import OpenAIBase

KEY = "sk-test-0123456789abcdef"
URL = "https://api.openai.com/v1/responses"
STATUS_ERRORS: dict[int, type[openai.APIStatusError]] = {
    400: openai.BadRequestError,
    401: openai.AuthenticationError,
    404: openai.NotFoundError,
    429: openai.RateLimitError,
    500: openai.InternalServerError,
    503: openai.InternalServerError,
}


def backend(cls: type[OpenAIBase] = OpenAIBackend) -> OpenAIBase:
    return cls({"api_key": KEY})


def status_error(
    status: int, body: Any, headers: dict[str, str] | None = None
) -> openai.APIStatusError:
    """As ``OpenAI._make_status_error_from_response`` builds it."""
    request = httpx2.Request("POST", URL)
    text = json.dumps(body) if isinstance(body, dict) else body
    response = httpx2.Response(status, headers=headers or {}, text=text, request=request)
    data = body.get("error", body) if isinstance(body, dict) else body
    message = f"Error code: {status}"
    if isinstance(data, dict) and data.get("message"):
        message += f" - {data['message']}"
    return STATUS_ERRORS[status](message, response=response, body=data)


def envelope(message: str, type_: str = "invalid_request_error", code: str | None = None) -> Any:
    return {"error": {"message": message, "type": type_, "param": None, "code": code}}


def transport_error(
    cause: Exception, wrapper: type[openai.APIConnectionError]
) -> openai.APIConnectionError:
    """As the SDK raises it: ``raise APIConnectionError(request=...) from <httpx2 error>``."""
    request = httpx2.Request("POST", URL)
    if wrapper is openai.APITimeoutError:
        error: openai.APIConnectionError = openai.APITimeoutError(request=request)
    else:
        error = wrapper(request=request)
    error.__cause__ = cause
    return error


def mapped(exc: BaseException, target: OpenAIBase | None = None, timeout: float = 5.0) -> Any:
    """The alloy error raised when ``exc`` crosses the boundary (its cause must be ``exc``)."""
    with pytest.raises(alloy.AlloyError) as info, (target or backend())._boundary(timeout):
        raise exc
    assert info.value.__cause__ is exc
    return info.value


def test_401_names_the_env_var_and_scrubs_the_key() -> None:
    exc = status_error(
        401,
        envelope(f"Incorrect API key provided: {KEY}.", code="invalid_api_key"),
        headers={"x-request-id": "req_401"},
    )
    error = mapped(exc)
    assert type(error) is alloy.AuthenticationError
    assert error.status_code == 401
    assert error.request_id == "req_401"
    assert error.provider == "openai"
    assert not error.retryable
    assert "OPENAI_API_KEY" in str(error)
    assert "provider_options={'openai': {'api_key': ...}}" in str(error)
    assert KEY not in str(error)


def test_401_on_openai_chat_names_its_own_provider_key() -> None:
    error = mapped(status_error(401, envelope("bad key")), backend(OpenAIChatBackend))
    assert error.provider == "openai-chat"
    assert "provider_options={'openai-chat': {'api_key': ...}}" in str(error)


def test_429_with_retry_after_ms() -> None:
    exc = status_error(429, envelope("Slow down", "requests"), headers={"retry-after-ms": "1500"})
    error = mapped(exc)
    assert type(error) is alloy.RateLimitError
    assert error.retry_after == 1.5
    assert error.retryable


def test_429_with_retry_after_seconds() -> None:
    error = mapped(status_error(429, envelope("Slow down"), headers={"retry-after": "3"}))
    assert error.retry_after == 3.0


@pytest.mark.parametrize("status", [500, 503])
def test_server_errors_are_retryable(status: int) -> None:
    error = mapped(status_error(status, envelope("The server had an error")))
    assert type(error) is alloy.ProviderError
    assert error.status_code == status
    assert error.retryable
    assert "The server had an error" in str(error)


def test_html_proxy_page_is_described_not_dumped() -> None:
    error = mapped(status_error(503, "<html><body>Bad gateway</body></html>"))
    assert error.retryable
    assert "HTML" in str(error)


@pytest.mark.parametrize("status", [400, 404])
def test_client_errors_are_not_retryable(status: int) -> None:
    exc = status_error(
        status, envelope("The requested model 'x' does not exist.", code="model_not_found")
    )
    error = mapped(exc)
    assert type(error) is alloy.ProviderError
    assert not error.retryable
    assert "does not exist" in str(error)


def test_timeout() -> None:
    exc = transport_error(httpx2.ReadTimeout("timed out"), openai.APITimeoutError)
    error = mapped(exc, timeout=5.0)
    assert type(error) is alloy.ProviderTimeout
    assert error.retryable
    assert "5s" in str(error)


def test_connection_error_says_what_failed() -> None:
    exc = transport_error(
        httpx2.ConnectError("[Errno 111] Connection refused"), openai.APIConnectionError
    )
    error = mapped(exc)
    assert type(error) is alloy.ProviderConnectionError
    assert error.retryable
    assert "Connection refused" in str(error)


def test_raw_json_decode_error() -> None:
    with pytest.raises(json.JSONDecodeError) as raised:
        json.loads("{not json")
    error = mapped(raised.value)
    assert type(error) is alloy.ProviderError
    assert not error.retryable
    assert "not valid JSON" in str(error)


def test_raw_httpx2_errors() -> None:
    assert type(mapped(httpx2.ReadError("reset by peer"))) is alloy.ProviderConnectionError
    assert type(mapped(httpx2.ReadTimeout("slow"))) is alloy.ProviderTimeout
    assert type(mapped(httpx2.DecodingError("bad gzip"))) is alloy.ProviderError


def test_api_error_without_status() -> None:
    request = httpx2.Request("POST", URL)
    body = {"message": "An error occurred during streaming", "type": "server_error"}
    error = mapped(openai.APIError("An error occurred during streaming", request, body=body))
    assert type(error) is alloy.ProviderError
    assert error.status_code is None
    assert not error.retryable
    assert "during streaming" in str(error)


def test_other_exceptions_pass_through_unchanged() -> None:
    boom = KeyError("not from the SDK")
    with pytest.raises(KeyError) as info, backend()._boundary(None):
        raise boom
    assert info.value is boom
    own = alloy.ConfigurationError("already alloy's")
    with pytest.raises(alloy.ConfigurationError) as caught, backend()._boundary(None):
        raise own
    assert caught.value is own


async def test_boundary_covers_awaited_calls() -> None:
    async def call() -> None:
        raise status_error(500, envelope("oops"))

    with pytest.raises(alloy.ProviderError) as info, backend()._boundary(None):
        await call()
    assert isinstance(info.value.__cause__, openai.InternalServerError)


def test_non_json_body_is_a_provider_error() -> None:
    with pytest.raises(alloy.ProviderError, match="without a JSON body") as info:
        expect(f"echo: Bearer {KEY}", dict, "openai", backend()._secrets)
    assert KEY not in str(info.value)


# Errors raised before any I/O, through the backends' own complete/acomplete.

BACKENDS = [OpenAIBackend, OpenAIChatBackend]


def ask(**fields: Any) -> Request:
    return Request(model="gpt-5-mini", messages=(Message.user("hi"),), **fields)


@pytest.fixture
def no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("OPENAI_API_KEY", "OPENAI_ADMIN_KEY"):
        monkeypatch.delenv(var, raising=False)


@pytest.mark.usefixtures("no_key")
@pytest.mark.parametrize("cls", BACKENDS)
def test_missing_api_key_is_a_configuration_error(cls: type[OpenAIBase]) -> None:
    with pytest.raises(alloy.ConfigurationError) as info:
        cls().complete(ask())
    assert "OPENAI_API_KEY" in str(info.value)
    assert f"provider_options={{'{cls.name}': {{'api_key': ...}}}}" in str(info.value)
    assert isinstance(info.value.__cause__, openai.OpenAIError)


@pytest.mark.usefixtures("no_key")
@pytest.mark.parametrize("cls", BACKENDS)
async def test_missing_api_key_async(cls: type[OpenAIBase]) -> None:
    with pytest.raises(alloy.ConfigurationError, match="OPENAI_API_KEY"):
        await cls().acomplete(ask())


@pytest.mark.parametrize("cls", BACKENDS)
def test_invalid_client_option_is_a_configuration_error(cls: type[OpenAIBase]) -> None:
    with pytest.raises(alloy.ConfigurationError, match="invalid client settings") as info:
        cls({"api_key": KEY, "base_url": 42}).complete(ask())
    assert KEY not in str(info.value)


@pytest.mark.parametrize("cls", BACKENDS)
def test_unknown_request_option_is_a_configuration_error(cls: type[OpenAIBase]) -> None:
    with pytest.raises(alloy.ConfigurationError, match="extra_body"):
        cls({"api_key": KEY}).complete(ask(options={"no_such_option": 1}))


@pytest.mark.parametrize("cls", BACKENDS)
async def test_unknown_request_option_async(cls: type[OpenAIBase]) -> None:
    with pytest.raises(alloy.ConfigurationError, match="no_such_option"):
        await cls({"api_key": KEY}).acomplete(ask(options={"no_such_option": 1}))
