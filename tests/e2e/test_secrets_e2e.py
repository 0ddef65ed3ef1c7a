"""No API key in any exception message, repr, str of an alloy object, or log record."""

from __future__ import annotations

import logging
import socket
from typing import Any

import pytest

from alloy import AlloyError
from alloy import Config
from alloy import command
from alloy import use_config
from alloy.backends import clear_instances
from alloy.backends import get_backend
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from tests.e2e.wires import Wire

SECRETS = {
    "OPENAI_API_KEY": "sk-alloyleak-openai-7f3a9c2b1d",
    "ANTHROPIC_API_KEY": "sk-ant-alloyleak-5d2e1b9f8c",
    "GEMINI_API_KEY": "AIzaAlloyLeakGemini00042xyz",
    "OLLAMA_API_KEY": "ollama-alloyleak-91ab37cd",
}
OPTION_SECRET = "sk-alloyleak-option-0a1b2c3d4e"


@pytest.fixture
def secret_env(alloy_emulator: Scenario, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    for name, value in SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("GOOGLE_API_KEY", raising=False)
    clear_instances()
    return SECRETS


def _leaks(text: str) -> list[str]:
    return [s for s in (*SECRETS.values(), OPTION_SECRET) if s in text]


@command
def rate(product: str) -> int:
    """Rate {product} from 1 to 5."""
    ...


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


FAULTS = {
    "401-echoing-the-key": [Fault(status=401, message="Incorrect API key provided: {key}")],
    "400-echoing-the-key": [Fault(status=400, message="bad request for key {key}")],
    "500-then-500": [Fault(status=500, message="{key} broke", headers={"retry-after-ms": "1"})] * 3,
    "malformed": [Fault(malformed=True)],
    "validation": [Reply(json={"value": "many"}), Reply(json={"value": "lots"})],
    "stream-error": [Reply(text="x" * 200, chunk_chars=10, error_after=2)],
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_no_key_in_errors_reprs_or_logs(
    provider: str,
    wire: Wire,
    alloy_emulator: Scenario,
    secret_env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    key = SECRETS.get(wire.key_env or "OLLAMA_API_KEY", SECRETS["OLLAMA_API_KEY"])
    for item in FAULTS[fault]:
        if isinstance(item, Fault) and "{key}" in item.message:
            item = Fault(
                status=item.status, message=item.message.format(key=key), headers=item.headers
            )
        alloy_emulator.enqueue(item)
    caplog.set_level(logging.DEBUG)
    streamed = fault == "stream-error"
    call = (lambda: rate.stream("tea").result()) if streamed else (lambda: rate("tea"))
    with pytest.raises(AlloyError) as info:
        call()
    err = info.value
    seen = [str(err), repr(err), *map(str, err.args), repr(rate), repr(Config(model="x"))]
    seen += [record.getMessage() for record in caplog.records]
    seen += [str(record.args) for record in caplog.records]
    assert _leaks("\n".join(seen)) == []


def test_keys_given_in_provider_options_stay_hidden(
    provider: str,
    wire: Wire,
    alloy_emulator: Scenario,
    secret_env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    url = f"http://127.0.0.1:{_closed_port()}"
    options: dict[str, Any] = {**wire.client_option(url)}
    if wire.key_env is not None:
        options["api_key"] = OPTION_SECRET
    else:
        options["headers"] = {"Authorization": f"Bearer {OPTION_SECRET}"}
    cfg = Config(provider_options={provider: options})
    with use_config(cfg), pytest.raises(AlloyError) as info:
        rate.with_config(max_retries=0)("tea")
    seen = [
        str(info.value),
        repr(info.value),
        repr(cfg),
        str(cfg),
        repr(get_backend(provider, options)),
    ]
    seen += [record.getMessage() for record in caplog.records]
    assert _leaks("\n".join(seen)) == []


@pytest.mark.parametrize("status", [401, 500])
def test_no_key_in_the_cause_chain_or_a_printed_traceback(
    provider: str, wire: Wire, alloy_emulator: Scenario, secret_env: dict[str, str], status: int
) -> None:
    import traceback

    key = SECRETS.get(wire.key_env or "OLLAMA_API_KEY", SECRETS["OLLAMA_API_KEY"])
    alloy_emulator.enqueue(Fault(status=status, message=f"Incorrect API key provided: {key}"))
    with pytest.raises(AlloyError) as info:
        rate.with_config(max_retries=0)("tea")
    printed = "".join(traceback.format_exception(info.value))
    assert "Incorrect API key provided" in printed  # the server's words are still there
    chain: list[BaseException] = []
    current: BaseException | None = info.value
    while current is not None and len(chain) < 10:
        chain.append(current)
        current = current.__cause__ or current.__context__
    seen = printed + "".join(repr(e) + repr(getattr(e, "body", "")) for e in chain)
    assert _leaks(seen) == []


def test_no_key_in_sdk_or_http_logs_when_the_server_echoes_it(
    provider: str,
    wire: Wire,
    alloy_emulator: Scenario,
    secret_env: dict[str, str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    import asyncio

    key = SECRETS.get(wire.key_env or "OLLAMA_API_KEY", SECRETS["OLLAMA_API_KEY"])
    echo = {"x-echo": key, "set-cookie": f"session={key}"}
    alloy_emulator.enqueue(
        Fault(status=400, message=f"bad key {key}", headers=echo),
        Reply(json={"value": 3}, headers=echo),
        Reply(json={"value": 4}, headers=echo),
        Reply(json={"value": 5}, headers=echo),
    )
    caplog.set_level(logging.DEBUG)
    once = rate.with_config(max_retries=0)
    with pytest.raises(AlloyError):
        once("tea")
    assert once("tea") == 3
    assert once.stream("tea").result().value == 4
    assert asyncio.run(once.async_("tea")) == 5
    http_records = [r for r in caplog.records if r.name.startswith(("httpcore", "httpx"))]
    assert any("x-echo" in r.getMessage() for r in http_records)  # the headers were logged
    seen = [record.getMessage() for record in caplog.records]
    seen += [record.exc_text or "" for record in caplog.records]
    assert _leaks("\n".join(seen)) == []
