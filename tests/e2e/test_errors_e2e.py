"""Every error class, raised by alloy (never raw SDK or transport exceptions), through HTTP."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Callable
from typing import Any

import pytest

from alloy import AlloyError
from alloy import AuthenticationError
from alloy import ConfigurationError
from alloy import OutputValidationError
from alloy import ProviderConnectionError
from alloy import ProviderError
from alloy import ProviderTimeout
from alloy import RateLimitError
from alloy import command
from alloy import use_config
from alloy.backends import clear_instances
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from tests.e2e.wires import Wire

FAST = {"retry-after-ms": "1"}


@command
def rate(product: str) -> int:
    """Rate {product} from 1 to 5."""


def _call(mode: str, **overrides: Any) -> int:
    cmd = rate.with_config(**overrides) if overrides else rate
    if mode == "sync":
        return cmd("tea")
    return asyncio.run(cmd.async_("tea"))


def _raises(mode: str, cls: type[AlloyError], **overrides: Any) -> AlloyError:
    with pytest.raises(AlloyError) as info:
        _call(mode, **overrides)
    assert type(info.value) is cls, f"{type(info.value).__name__}: {info.value}"
    return info.value


MODES = pytest.mark.parametrize("mode", ["sync", "async"])


@MODES
def test_401_names_the_env_var_and_hides_the_key(
    wire: Wire, alloy_emulator: Scenario, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if wire.key_env:
        monkeypatch.setenv(wire.key_env, "sk-distinctive-test-key-0042")
        clear_instances()
    alloy_emulator.enqueue(
        Fault(status=401, message="Incorrect API key provided: sk-distinctive-test-key-0042")
    )
    err = _raises(mode, AuthenticationError)
    if wire.key_env:
        assert wire.key_env in str(err)
    assert "sk-distinctive-test-key-0042" not in str(err)
    assert err.__cause__ is not None
    assert len(alloy_emulator.requests) == 1


@MODES
def test_429_retried_then_rate_limit_error(
    provider: str, alloy_emulator: Scenario, mode: str
) -> None:
    alloy_emulator.enqueue(*(Fault(status=429, headers=FAST) for _ in range(3)))
    err = _raises(mode, RateLimitError)
    assert isinstance(err, RateLimitError) and err.retry_after == 0.001
    assert err.status_code == 429
    assert len(alloy_emulator.requests) == 3  # max_retries=2: three attempts


@MODES
def test_429_with_retry_after_seconds(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    alloy_emulator.enqueue(
        Fault(status=429, headers={"retry-after": "0.01"}), Reply(json={"value": 4})
    )
    assert _call(mode) == 4
    assert len(alloy_emulator.requests) == 2


@MODES
def test_500_then_success(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    alloy_emulator.enqueue(Fault(status=500, headers=FAST), Reply(json={"value": 5}))
    assert _call(mode) == 5
    assert len(alloy_emulator.requests) == 2


@MODES
def test_503_until_retries_are_exhausted(
    provider: str, alloy_emulator: Scenario, mode: str
) -> None:
    alloy_emulator.enqueue(*(Fault(status=503, headers=FAST) for _ in range(2)))
    err = _raises(mode, ProviderError, max_retries=1)
    assert err.status_code == 503 and err.retryable  # type: ignore[attr-defined]
    assert len(alloy_emulator.requests) == 2


@MODES
def test_retry_after_beyond_max_retry_wait(
    provider: str, alloy_emulator: Scenario, mode: str
) -> None:
    alloy_emulator.enqueue(Fault(status=503, headers={"retry-after": "120"}))
    err = _raises(mode, RateLimitError)
    assert isinstance(err, RateLimitError) and err.retry_after == 120
    assert len(alloy_emulator.requests) == 1


@pytest.mark.parametrize("status", [400, 404, 422])
def test_client_errors_are_not_retried(
    provider: str, alloy_emulator: Scenario, status: int
) -> None:
    alloy_emulator.enqueue(Fault(status=status, message="bad things"))
    err = _raises("sync", ProviderError)
    assert err.status_code == status and not err.retryable  # type: ignore[attr-defined]
    assert "bad things" in str(err)
    assert len(alloy_emulator.requests) == 1


@MODES
def test_html_502_page(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    alloy_emulator.enqueue(*(Fault(status=502, html=True, headers=FAST) for _ in range(2)))
    err = _raises(mode, ProviderError, max_retries=1)
    assert err.status_code == 502  # type: ignore[attr-defined]
    assert len(alloy_emulator.requests) == 2


@MODES
def test_malformed_body(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    alloy_emulator.enqueue(Fault(malformed=True))
    err = _raises(mode, ProviderError)
    assert not err.retryable  # type: ignore[attr-defined]
    assert len(alloy_emulator.requests) == 1


@MODES
def test_slow_headers_time_out(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    alloy_emulator.enqueue(Reply(json={"value": 1}, delay=2.0))
    _raises(mode, ProviderTimeout, timeout=0.3, max_retries=0)


@MODES
def test_hang_times_out_after_retries(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    alloy_emulator.enqueue(Fault(hang=True), Fault(hang=True))
    _raises(mode, ProviderTimeout, timeout=0.2, max_retries=1)
    assert len(alloy_emulator.requests) == 2


@MODES
def test_connection_reset(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    alloy_emulator.enqueue(Fault(reset=True))
    _raises(mode, ProviderConnectionError, max_retries=0)


@MODES
def test_connection_reset_then_success(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    alloy_emulator.enqueue(Fault(reset=True), Reply(json={"value": 2}))
    assert _call(mode, max_retries=1) == 2


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@MODES
def test_connection_refused(provider: str, wire: Wire, alloy_emulator: Scenario, mode: str) -> None:
    url = f"http://127.0.0.1:{_closed_port()}"
    with use_config(provider_options={provider: wire.client_option(url)}):
        _raises(mode, ProviderConnectionError, max_retries=0)


@MODES
def test_output_validation_error(provider: str, alloy_emulator: Scenario, mode: str) -> None:
    alloy_emulator.enqueue(Reply(json={"value": "five"}), Reply(json={"value": 5.5}))
    err = _raises(mode, OutputValidationError)
    assert isinstance(err, OutputValidationError)
    assert err.attempts == 2 and err.raw_text == '{"value": 5.5}'
    assert err.expected == "int"


def test_missing_api_key_is_a_configuration_error(
    wire: Wire, alloy_emulator: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    if wire.key_env is None:
        # This provider takes no key: a call must go through without one.
        alloy_emulator.enqueue(Reply(json={"value": 1}))
        assert _call("sync") == 1
        return
    for name in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY"):
        monkeypatch.delenv(name, raising=False)
    clear_instances()
    err = _raises("sync", ConfigurationError)
    assert wire.key_env in str(err)
    assert alloy_emulator.requests == []


def test_clashing_provider_options_are_rejected_before_any_call(
    provider: str, alloy_emulator: Scenario
) -> None:
    with use_config(provider_options={provider: {"temperature": 1}}):
        err = _raises("sync", ConfigurationError)
    assert "temperature" in str(err)
    assert alloy_emulator.requests == []


def test_provider_options_reach_the_request(
    provider: str, wire: Wire, alloy_emulator: Scenario
) -> None:
    alloy_emulator.enqueue(Reply(json={"value": 1}))
    with use_config(provider_options={provider: dict(wire.request_options)}):
        assert _call("sync") == 1
    body = alloy_emulator.requests[0].json
    assert {key: body[key] for key in wire.request_options} == wire.request_options


def test_unknown_provider_option_is_a_configuration_error(
    provider: str, alloy_emulator: Scenario
) -> None:
    with use_config(provider_options={provider: {"no_such_option": 1}}):
        _raises("sync", ConfigurationError)
    assert alloy_emulator.requests == []


def test_clients_are_reused_across_calls_and_loops(provider: str, alloy_emulator: Scenario) -> None:
    alloy_emulator.enqueue(*(Reply(json={"value": i}) for i in range(4)))
    assert [_call("sync"), _call("sync")] == [0, 1]
    assert [_call("async"), _call("async")] == [2, 3]  # successive asyncio.run calls
    from alloy.backends import get_backend

    backend: Callable[[], object] = lambda: get_backend(provider, {})  # noqa: E731
    assert backend() is backend()


def test_capability_error_before_any_network_call(provider: str, alloy_emulator: Scenario) -> None:
    from alloy import Audio
    from alloy import CapabilityError
    from alloy import Image

    @command
    def describe(picture: Image) -> str:
        """Describe {picture}."""
        ...

    # A file uploaded to another provider is valid nowhere else; ollama takes no file at all.
    elsewhere = "anthropic" if provider.startswith("openai") else "openai"
    with pytest.raises(CapabilityError, match="'picture'"):
        describe(Image.from_file_id(elsewhere, "file-1"))

    @command
    def hear(clip: Audio) -> str:
        """Transcribe {clip}."""
        ...

    if provider not in ("gemini", "openai-chat"):  # the two that take audio
        with pytest.raises(CapabilityError, match="'clip'"):
            hear(Audio.from_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(32)))
    assert alloy_emulator.requests == []
