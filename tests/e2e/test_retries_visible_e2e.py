"""Transport retries are visible: a record per retry under the ``alloy`` logger (with the
status and the wait), and ``Result.http_attempts`` next to ``attempts``."""

from __future__ import annotations

import asyncio
import logging

import pytest

from alloy import command
from alloy import use_config
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario


@command
def shout(text: str) -> str:
    """Shout {text}."""
    ...


def test_a_retried_call_reports_its_http_attempts_and_logs_each_retry(
    provider: str, alloy_emulator: Scenario, caplog: pytest.LogCaptureFixture
) -> None:
    alloy_emulator.enqueue(Fault(status=503), Fault(status=429), Reply(text="ok"))
    with caplog.at_level(logging.INFO, logger="alloy"), use_config(max_retries=3, max_retry_wait=1):
        result = shout.run("x")
    assert result.value == "ok"
    assert (result.attempts, result.http_attempts) == (1, 3)
    retries = [r for r in caplog.records if r.name == "alloy"]
    assert len(retries) == 2
    assert "HTTP 503" in retries[0].getMessage() and "HTTP 429" in retries[1].getMessage()
    assert all("retrying in" in r.getMessage() for r in retries)


def test_streams_and_async_calls_count_their_attempts_too(
    provider: str, alloy_emulator: Scenario
) -> None:
    with use_config(max_retries=2, max_retry_wait=1):
        alloy_emulator.enqueue(Fault(status=500), Reply(text="streamed"))
        with shout.stream("x") as stream:
            assert stream.result().http_attempts == 2
        alloy_emulator.enqueue(Fault(status=502), Reply(text="async"))
        assert asyncio.run(shout.run_async("x")).http_attempts == 2
        alloy_emulator.enqueue(Reply(text="first time"))
        assert shout.run("x").http_attempts == 1


def test_nothing_is_printed_when_the_application_configures_no_logging(
    provider: str, alloy_emulator: Scenario, capsys: pytest.CaptureFixture[str]
) -> None:
    alloy_emulator.enqueue(Fault(status=503), Reply(text="ok"))
    with use_config(max_retries=1, max_retry_wait=1):
        assert shout("x") == "ok"
    captured = capsys.readouterr()
    assert "retrying" not in captured.err and "retrying" not in captured.out
