"""The observer hook through the real SDKs: a transport retry inside a model call is told as
``model_retried`` on that call, between its start and its end, on every backend."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from alloy import command
from alloy._observe import ModelCall
from alloy._observe import Observer
from alloy._observe import observe
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario


class Log(Observer):
    def __init__(self) -> None:
        self.events: list[tuple[Any, ...]] = []

    def model_started(self, call: ModelCall) -> None:
        self.events.append(("model", call.turn))

    def model_retried(self, call: ModelCall, error: BaseException, wait: float) -> None:
        self.events.append(("retried", call.turn, getattr(error, "status_code", None)))

    def model_finished(self, call: ModelCall, response: Any) -> None:
        self.events.append(("reply", call.turn, response.text))


@command
def echo(text: str) -> str:
    """{text}"""


@pytest.mark.parametrize("mode", ["sync", "async", "stream"])
def test_a_retry_is_told_on_its_model_call(
    provider: str, alloy_emulator: Scenario, mode: str
) -> None:
    alloy_emulator.enqueue(Fault(status=429, headers={"retry-after-ms": "10"}), Reply(text="ok"))
    log = Log()
    with observe(log):
        if mode == "sync":
            assert echo("hi") == "ok"
        elif mode == "async":
            assert asyncio.run(echo.async_("hi")) == "ok"
        else:
            with echo.stream("hi") as stream:
                assert stream.result().value == "ok"
    assert log.events == [("model", 1), ("retried", 1, 429), ("reply", 1, "ok")]
    assert len(alloy_emulator.requests) == 2
