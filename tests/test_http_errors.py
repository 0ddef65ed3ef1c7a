import json

import pytest

from alloy import AuthenticationError
from alloy import ProviderConnectionError
from alloy import ProviderError
from alloy import ProviderTimeout
from alloy import RateLimitError
from alloy.backends._http import body_message
from alloy.backends._http import error_for_status
from alloy.backends._http import error_for_transport
from alloy.backends._http import retry_after


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500"}, 1.5),
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after-ms": "20", "retry-after": "9"}, 0.02),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),
        ({}, None),
        ({"retry-after": "soon"}, None),
    ],
)
def test_retry_after(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after(headers) == expected


@pytest.mark.parametrize(
    ("status", "cls", "retryable"),
    [
        (400, ProviderError, False),
        (401, AuthenticationError, False),
        (403, AuthenticationError, False),
        (404, ProviderError, False),
        (408, ProviderError, True),
        (409, ProviderError, True),
        (422, ProviderError, False),
        (429, RateLimitError, True),
        (500, ProviderError, True),
        (502, ProviderError, True),
        (503, ProviderError, True),
        (529, ProviderError, True),
    ],
)
def test_status_classes(status: int, cls: type[ProviderError], retryable: bool) -> None:
    err = error_for_status(
        "openai", status, "msg", headers={"retry-after": "1"}, request_id="req_1"
    )
    assert type(err) is cls
    assert err.retryable is retryable
    assert (err.status_code, err.request_id, err.provider) == (status, "req_1", "openai")
    assert err.retry_after == 1.0


def test_auth_message_says_what_to_do_and_hides_the_key() -> None:
    err = error_for_status(
        "openai",
        401,
        "Incorrect API key provided: sk-test-abcdef123456",
        key_hint="set OPENAI_API_KEY",
        secrets=("sk-test-abcdef123456",),
    )
    assert "set OPENAI_API_KEY" in str(err)
    assert "sk-test-abcdef123456" not in str(err)


def test_transport_errors_by_class_name() -> None:
    class ReadTimeout(Exception):
        pass

    class TimeoutException(Exception):
        pass

    class ReadTimeoutSub(ReadTimeout, TimeoutException):
        pass

    class ConnectError(Exception):
        pass

    class NetworkError(ConnectError):
        pass

    assert isinstance(error_for_transport("p", ReadTimeoutSub(), 3.0), ProviderTimeout)
    assert isinstance(
        error_for_transport("p", NetworkError("refused"), None), ProviderConnectionError
    )
    assert isinstance(
        error_for_transport("p", ConnectionResetError(), None), ProviderConnectionError
    )
    bad_json = error_for_transport("p", json.JSONDecodeError("Expecting value", "<html>", 0), None)
    assert type(bad_json) is ProviderError and not bad_json.retryable
    assert error_for_transport("p", KeyError("x"), None) is None


def test_body_message_envelopes() -> None:
    assert body_message({"error": {"message": "openai style"}}, "f") == "openai style"
    assert (
        body_message({"type": "error", "error": {"type": "x", "message": "anthropic"}}, "f")
        == "anthropic"
    )
    assert body_message({"error": "ollama style"}, "f") == "ollama style"
    assert "HTML" in body_message("<html><body>502 Bad Gateway</body></html>", "f")
    assert body_message(None, "fallback") == "fallback"


def test_a_retry_after_that_is_no_number_of_seconds_is_ignored() -> None:
    from alloy.backends._http import retry_after

    for value in ("nan", "inf", "-inf", "1e400", "NaN"):
        assert retry_after({"retry-after": value}) is None, value
        assert retry_after({"retry-after-ms": value}) is None, value
    assert retry_after({"retry-after-ms": "nan", "retry-after": "2"}) == 2.0
