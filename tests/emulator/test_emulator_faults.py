"""Faults and stream cuts, and what the real openai SDK raises for each (as observed)."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable

import openai
import pytest
from openai import OpenAI
from openai.types.chat import ChatCompletionMessageParam

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import Fault
from alloy.testing.emulator import RecordedRequest
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

MakeClient = Callable[..., OpenAI]
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hi"}]


def _chat(client: OpenAI) -> str | None:
    return client.chat.completions.create(model="m", messages=MESSAGES).choices[0].message.content


def _stream_text(client: OpenAI, pieces: list[str]) -> None:
    """Collect streamed text into ``pieces`` so it survives an exception."""
    with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].delta.content:
                pieces.append(chunk.choices[0].delta.content)


def _wait_finished(scenario: Scenario, timeout: float = 5.0) -> RecordedRequest:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        requests = scenario.requests
        if requests and requests[-1].finished_at is not None:
            return requests[-1]
        time.sleep(0.01)
    raise AssertionError("the emulator did not finish the request")


def test_429_then_success_with_sdk_retries(make_client: MakeClient, scenario: Scenario) -> None:
    client = make_client(max_retries=1)
    scenario.enqueue(Fault(status=429, headers={"retry-after-ms": "1"}), Reply(text="second try"))
    assert _chat(client) == "second try"
    requests = scenario.requests
    assert [r.attempt for r in requests] == [0, 1]
    assert [r.status for r in requests] == [429, 200]
    assert requests[0].item == Fault(status=429, headers={"retry-after-ms": "1"})


def test_429_exhausts_retries(make_client: MakeClient, scenario: Scenario) -> None:
    client = make_client(max_retries=2)
    fault = Fault(status=429, headers={"retry-after-ms": "1"}, message="slow down")
    scenario.enqueue(fault, fault, fault)
    with pytest.raises(openai.RateLimitError) as caught:
        _chat(client)
    assert caught.value.body == {
        "message": "slow down",
        "type": "requests",
        "param": None,
        "code": "rate_limit_exceeded",
    }
    assert [r.attempt for r in scenario.requests] == [0, 1, 2]


def test_500_json_envelope(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Fault(status=500, message="boom"))
    with pytest.raises(openai.InternalServerError) as caught:
        _chat(client)
    assert caught.value.status_code == 500
    assert caught.value.message == "Error code: 500 - boom"


def test_custom_bodies(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(
        Fault(status=400, body={"error": {"message": "custom", "code": "x"}}),
        Fault(status=503, body="plain text failure"),
    )
    with pytest.raises(openai.BadRequestError) as bad:
        _chat(client)
    assert bad.value.body == {"message": "custom", "code": "x"}
    with pytest.raises(openai.InternalServerError) as unavailable:
        _chat(client)
    assert unavailable.value.body == "plain text failure"


def test_html_502(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Fault(status=502, html=True))
    with pytest.raises(openai.InternalServerError) as caught:
        _chat(client)
    assert caught.value.status_code == 502
    assert caught.value.response.headers["content-type"].startswith("text/html")
    assert "<h1>502 Bad Gateway</h1>" in str(caught.value.body)


def test_reset_is_a_connection_error(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Fault(reset=True))
    with pytest.raises(openai.APIConnectionError) as caught:
        _chat(client)
    assert type(caught.value.__cause__).__name__ == "ReadError"
    assert scenario.requests[0].first_byte_at is None


def test_malformed_body_raises_raw_json_error(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Fault(malformed=True))
    with pytest.raises(json.JSONDecodeError):
        _chat(client)
    assert scenario.requests[0].status == 200


def test_hang_times_out(make_client: MakeClient, scenario: Scenario) -> None:
    client = make_client(timeout=0.3)
    scenario.enqueue(Fault(hang=True))
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        _chat(client)
    assert 0.25 < time.monotonic() - started < 3
    request = _wait_finished(scenario)
    assert request.disconnected is True
    assert request.first_byte_at is None


def test_delay_before_headers(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="late", delay=0.2), Fault(status=400, delay=0.2))
    started = time.monotonic()
    assert _chat(client) == "late"
    with pytest.raises(openai.BadRequestError):
        _chat(client)
    assert time.monotonic() - started >= 0.4
    first = scenario.requests[0]
    assert first.first_byte_at is not None
    assert first.first_byte_at - first.arrived_at >= 0.2


def test_truncate_after_ends_without_done(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="hello world", chunk_chars=3, truncate_after=3))
    with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
        chunks = list(stream)
    # Event 0 is the role chunk; then "hel" and "lo "; no finish chunk, no [DONE], no error.
    assert [c.choices[0].delta.content for c in chunks] == ["", "hel", "lo "]
    assert all(c.choices[0].finish_reason is None for c in chunks)


def test_truncate_after_raw_body(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="abc", truncate_after=100))
    with client.chat.completions.with_streaming_response.create(
        model="m", messages=MESSAGES, stream=True
    ) as response:
        lines = [line for line in response.iter_lines() if line]
    assert "data: [DONE]" not in lines
    assert json.loads(lines[-1].removeprefix("data: "))["choices"][0]["finish_reason"] == "stop"


def test_error_after_raises_api_error(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="hello world", chunk_chars=3, error_after=2))
    pieces: list[str] = []
    with pytest.raises(openai.APIError, match="injected stream error") as caught:
        _stream_text(client, pieces)
    assert pieces == ["hel"]
    assert caught.value.body == {
        "message": "emulator: injected stream error",
        "type": "server_error",
        "param": None,
        "code": None,
    }


def test_abort_after_is_a_connection_error(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="hello world", chunk_chars=3, abort_after=3))
    pieces: list[str] = []
    with pytest.raises(openai.APIConnectionError):
        _stream_text(client, pieces)
    assert pieces == ["hel", "lo "]


def test_malformed_after_raises_raw_json_error(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="hello world", chunk_chars=3, malformed_after=2))
    pieces: list[str] = []
    with pytest.raises(json.JSONDecodeError):
        _stream_text(client, pieces)
    assert pieces == ["hel"]


def test_stall_pauses_mid_stream(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="abcdef", chunk_chars=2, stall_after=2, stall=0.25))
    arrivals: list[float] = []
    with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
        for _ in stream:
            arrivals.append(time.monotonic())
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert max(gaps) >= 0.2
    assert gaps.index(max(gaps)) == 1


def test_responses_error_after(client: OpenAI, scenario: Scenario) -> None:
    """The SDK yields the error and response.failed events; only the helper raises."""
    scenario.enqueue(Reply(text="hello", error_after=3), Reply(text="hello", error_after=3))
    with client.responses.create(model="m", input="hi", stream=True) as stream:
        events = list(stream)
    assert [e.type for e in events][-2:] == ["error", "response.failed"]
    assert [e.sequence_number for e in events] == list(range(len(events)))
    with (
        client.responses.stream(model="m", input="hi") as helper,
        pytest.raises(RuntimeError, match=r"response\.completed"),
    ):
        helper.get_final_response()


def test_responses_truncate_after(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="hello", truncate_after=5))
    with (
        client.responses.stream(model="m", input="hi") as helper,
        pytest.raises(RuntimeError, match=r"response\.completed"),
    ):
        helper.get_final_response()


def test_client_disconnect_is_recorded(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="x" * 200, chunk_chars=1, chunk_delay=0.01))
    with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
        next(iter(stream))
    request = _wait_finished(scenario)
    assert request.disconnected is True
    assert request.finished_at is not None
    assert request.finished_at - request.arrived_at < 1.5


def test_complete_stream_is_not_a_disconnect(client: OpenAI, scenario: Scenario) -> None:
    scenario.enqueue(Reply(text="abc", chunk_delay=0.01))
    with client.chat.completions.create(model="m", messages=MESSAGES, stream=True) as stream:
        list(stream)
    assert _wait_finished(scenario).disconnected is False


def test_stop_releases_hung_requests() -> None:
    with Emulator() as emulator:
        emulator.enqueue(Fault(hang=True))
        with OpenAI(base_url=emulator.base_url("openai"), api_key="t", max_retries=0) as sdk:
            errors: list[BaseException] = []

            def call() -> None:
                try:
                    _chat(sdk)
                except openai.APIError as exc:
                    errors.append(exc)

            worker = threading.Thread(target=call)
            worker.start()
            while not emulator.requests:
                time.sleep(0.01)
            started = time.monotonic()
            emulator.stop()
            assert time.monotonic() - started < 2
            worker.join(5)
            assert [type(e) for e in errors] == [openai.APIConnectionError]
