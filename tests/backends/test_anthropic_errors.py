"""SDK and transport exceptions → alloy errors at the anthropic backend's boundary.

The exceptions are real SDK instances, built the way the SDK builds them from a response
(``_make_status_error``) or from an ``httpx2`` failure; the HTTP cases run against the
emulator.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import anthropic
import httpx2
import pytest

import alloy
from alloy._messages import Message
from alloy._messages import Request
from alloy.backends._boundary import Secrets
from alloy.backends.anthropic import AnthropicBackend
from alloy.backends.anthropic._errors import translate
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

KEY = "sk-ant-test-0123456789abcdef"
URL = "https://api.anthropic.com/v1/messages"
NO_KEYS = Secrets()
REQUEST = Request(model="claude-sonnet-4-6", messages=(Message.user("hi"),))


def status_error(status: int, body: Any, headers: dict[str, str] | None = None) -> Exception:
    response = httpx2.Response(
        status,
        headers=headers or {},
        content=json.dumps(body).encode(),
        request=httpx2.Request("POST", URL),
    )
    client = anthropic.Anthropic(api_key=KEY)
    try:
        return client._make_status_error(  # pyright: ignore[reportPrivateUsage]
            f"Error code: {status}", body=body, response=response
        )
    finally:
        client.close()


def envelope(kind: str, message: str) -> dict[str, Any]:
    return {"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_1"}


def test_overloaded_is_retryable() -> None:
    exc = status_error(529, envelope("overloaded_error", "Overloaded"), {"retry-after": "2"})
    assert isinstance(exc, anthropic.OverloadedError)
    err = translate(exc, NO_KEYS, None)
    assert isinstance(err, alloy.ProviderError)
    assert err.retryable and err.status_code == 529 and err.retry_after == 2
    assert "Overloaded" in str(err)


def test_auth_error_names_the_variable_and_hides_the_key() -> None:
    exc = status_error(401, envelope("authentication_error", f"invalid x-api-key {KEY}"))
    err = translate(exc, Secrets([KEY]), None)
    assert isinstance(err, alloy.AuthenticationError)
    assert "ANTHROPIC_API_KEY" in str(err) and KEY not in str(err)


def test_rate_limit_and_bad_request() -> None:
    limited = translate(status_error(429, envelope("rate_limit_error", "slow")), NO_KEYS, None)
    assert isinstance(limited, alloy.RateLimitError)
    bad = translate(status_error(400, envelope("invalid_request_error", "nope")), NO_KEYS, None)
    assert isinstance(bad, alloy.ProviderError) and not bad.retryable


def test_connection_errors_use_their_cause() -> None:
    request = httpx2.Request("POST", URL)
    timeout = anthropic.APITimeoutError(request=request)
    timeout.__cause__ = httpx2.ReadTimeout("timed out", request=request)
    assert isinstance(translate(timeout, NO_KEYS, 5.0), alloy.ProviderTimeout)
    refused = anthropic.APIConnectionError(request=request)
    refused.__cause__ = httpx2.ConnectError("refused", request=request)
    assert isinstance(translate(refused, NO_KEYS, None), alloy.ProviderConnectionError)


def test_client_side_errors_are_configuration_errors() -> None:
    unknown = TypeError("Messages.create() got an unexpected keyword argument 'user'")
    assert isinstance(translate(unknown, NO_KEYS, None), alloy.ConfigurationError)
    keyless = TypeError("Could not resolve authentication method. Expected one of api_key")
    err = translate(keyless, NO_KEYS, None)
    assert isinstance(err, alloy.ConfigurationError) and "ANTHROPIC_API_KEY" in str(err)
    too_long = ValueError("Streaming is required for operations that may take longer ...")
    assert isinstance(translate(too_long, NO_KEYS, None), alloy.ConfigurationError)
    assert translate(KeyError("x"), NO_KEYS, None) is None


def test_temperature_reaches_the_body(alloy_emulator: Scenario) -> None:
    backend = AnthropicBackend({"api_key": KEY, "base_url": alloy_emulator.base_url("anthropic")})
    alloy_emulator.enqueue(Reply(text="ok"))
    try:
        assert backend.complete(replace(REQUEST, temperature=0.3)).text == "ok"
    finally:
        backend.close()
    body = alloy_emulator.requests[0].json
    assert body["temperature"] == 0.3 and body["max_tokens"] == 4096


def test_a_200_that_is_not_json(alloy_emulator: Scenario) -> None:
    backend = AnthropicBackend({"api_key": KEY, "base_url": alloy_emulator.base_url("anthropic")})
    alloy_emulator.enqueue(Fault(status=200, body="<html>proxy</html>"))
    try:
        with pytest.raises(alloy.ProviderError, match="without a JSON body"):
            backend.complete(REQUEST)
    finally:
        backend.close()


def test_overloaded_through_http_keeps_the_sdk_error(alloy_emulator: Scenario) -> None:
    backend = AnthropicBackend({"api_key": KEY, "base_url": alloy_emulator.base_url("anthropic")})
    alloy_emulator.enqueue(Fault(status=529, message="Overloaded"))
    try:
        with pytest.raises(alloy.ProviderError) as info:
            backend.complete(REQUEST)
    finally:
        backend.close()
    assert info.value.retryable and info.value.status_code == 529
    assert isinstance(info.value.__cause__, anthropic.OverloadedError)
