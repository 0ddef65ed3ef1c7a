"""Gemini batch mode through the real google-genai SDK: inline and file batches, the states
as the SDK maps them, inline answers in input order, the shuffled ``responsesFile``, cancel,
expiry, failure, delete, list, the inline limit; and scripting batches over the control
plane with ``RemoteEmulator``."""

from __future__ import annotations

import io
import json
from typing import Any

import pytest
from google import genai
from google.genai import errors
from google.genai import types
from openai import OpenAI

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import Fault
from alloy.testing.emulator import RemoteEmulator
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

MODEL = "gemini-2.5-flash"


def _inline(count: int) -> list[types.InlinedRequest]:
    return [
        types.InlinedRequest(
            contents=f"question {i}",
            config=types.GenerateContentConfig(temperature=0.2),
            metadata={"key": f"k{i}"},
        )
        for i in range(count)
    ]


def test_inline_batch_states_and_answers_in_input_order(
    gemini: genai.Client, scenario: Scenario
) -> None:
    scenario.set_batch_timing(validating=5, running=40)
    scenario.enqueue(*(Reply(text=f"answer {i}") for i in range(3)))
    scenario.script_batch_item("k3", Fault(status=400, message="bad prompt"))
    job = gemini.batches.create(model=MODEL, src=_inline(4), config={"display_name": "alloy:ab_1"})
    assert job.name is not None and job.name.startswith("batches/")
    assert (job.state, job.display_name) == (types.JobState.JOB_STATE_PENDING, "alloy:ab_1")
    scenario.advance(5)
    assert gemini.batches.get(name=job.name).state == types.JobState.JOB_STATE_RUNNING
    scenario.advance(40)
    done = gemini.batches.get(name=job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED and done.end_time is not None
    assert done.dest is not None and done.dest.inlined_responses is not None
    answers = done.dest.inlined_responses
    assert [a.metadata for a in answers] == [{"key": f"k{i}"} for i in range(4)]
    assert [a.response.text for a in answers[:3] if a.response] == [
        "answer 0",
        "answer 1",
        "answer 2",
    ]
    assert answers[3].response is None and answers[3].error is not None
    assert answers[3].error.message == "bad prompt"

    scenario.enqueue(Reply(text="answer 0"))
    live = gemini.models.generate_content(
        model=MODEL, contents="question 0", config=types.GenerateContentConfig(temperature=0.2)
    )
    first = answers[0].response
    assert first is not None
    # The SDK fills these itself: the HTTP response and its function-calling history.
    local = {"response_id", "sdk_http_response", "automatic_function_calling_history"}
    assert first.model_dump(exclude=local) == live.model_dump(exclude=local)
    (submitted,) = scenario.batches
    assert (submitted.provider, submitted.source, submitted.model) == (
        "gemini",
        "inline",
        f"models/{MODEL}",
    )
    realtime_body = dict(scenario.requests[-1].json)
    assert submitted.lines[0].body == realtime_body


def test_file_batch_downloads_a_shuffled_responses_file(
    gemini: genai.Client, scenario: Scenario
) -> None:
    scenario.set_default(Reply(text="ok"))
    rows = [
        {"key": f"f{i}", "request": {"contents": [{"role": "user", "parts": [{"text": f"q{i}"}]}]}}
        for i in range(6)
    ]
    data = "".join(json.dumps(row) + "\n" for row in rows).encode()
    uploaded = gemini.files.upload(file=io.BytesIO(data), config={"mime_type": "application/jsonl"})
    assert uploaded.name is not None
    job = gemini.batches.create(model=MODEL, src=uploaded.name)
    assert job.name is not None
    scenario.advance(60)
    done = gemini.batches.get(name=job.name)
    assert done.state == types.JobState.JOB_STATE_SUCCEEDED
    assert done.dest is not None and done.dest.file_name is not None
    output = gemini.files.get(name=done.dest.file_name)
    assert output.source == types.FileSource.GENERATED and output.download_uri
    lines = [
        json.loads(row) for row in gemini.files.download(file=done.dest.file_name).splitlines()
    ]
    keys = [line["key"] for line in lines]
    assert sorted(keys) == [f"f{i}" for i in range(6)] and keys != sorted(keys)
    parsed = types.GenerateContentResponse.model_validate(lines[0]["response"])
    assert parsed.candidates
    assert [line.body for line in scenario.batches[0].lines] == [row["request"] for row in rows]
    with pytest.raises(errors.ClientError):
        gemini.files.download(file=uploaded.name)


def test_cancel_expiry_failure_delete_and_list(gemini: genai.Client, scenario: Scenario) -> None:
    scenario.set_default(Reply(text="ok"))
    scenario.set_batch_timing(running=100, cancel_lag=10)
    cancelled = gemini.batches.create(model=MODEL, src=_inline(4))
    assert cancelled.name is not None
    scenario.advance(50)
    gemini.batches.cancel(name=cancelled.name)
    assert gemini.batches.get(name=cancelled.name).state == types.JobState.JOB_STATE_RUNNING
    scenario.advance(10)
    ended = gemini.batches.get(name=cancelled.name)
    assert ended.state == types.JobState.JOB_STATE_CANCELLED
    assert ended.dest is not None and ended.dest.inlined_responses is not None
    assert [a.error is None for a in ended.dest.inlined_responses] == [True, True, False, False]

    scenario.set_batch_timing(expires_after=30, cancel_lag=0)
    expiring = gemini.batches.create(model=MODEL, src=_inline(2))
    failing = gemini.batches.create(model=MODEL, src=_inline(2))
    assert expiring.name is not None and failing.name is not None
    scenario.fail_batch(failing.name, message="quota")
    assert gemini.batches.get(name=failing.name).state == types.JobState.JOB_STATE_FAILED
    scenario.advance(30)
    assert gemini.batches.get(name=expiring.name).state == types.JobState.JOB_STATE_EXPIRED
    with pytest.raises(errors.ClientError) as refused:
        gemini.batches.cancel(name=expiring.name)
    assert refused.value.code == 400

    listed = [job.name for job in gemini.batches.list(config={"page_size": 2})]
    assert listed == [failing.name, expiring.name, cancelled.name]
    gemini.batches.delete(name=cancelled.name)
    with pytest.raises(errors.ClientError) as missing:
        gemini.batches.get(name=cancelled.name)
    assert missing.value.code == 404


def test_inline_limit(gemini: genai.Client, scenario: Scenario) -> None:
    scenario.set_default(Reply(text="ok"))
    scenario.set_batch_limits("gemini", max_bytes=200)
    with pytest.raises(errors.ClientError, match="Request payload size exceeds the limit: 200"):
        gemini.batches.create(model=MODEL, src=_inline(5))
    assert scenario.batches == []
    scenario.set_batch_limits("gemini", max_requests=1)
    with pytest.raises(errors.ClientError, match="at most 1 requests"):
        gemini.batches.create(model=MODEL, src=_inline(2))


def _openai_line(custom_id: str) -> str:
    body: dict[str, Any] = {"model": "gpt-4o-mini", "input": custom_id}
    return json.dumps(
        {"custom_id": custom_id, "method": "POST", "url": "/v1/responses", "body": body}
    )


def test_remote_emulator_scripts_batches(emulator: Emulator) -> None:
    remote = RemoteEmulator(emulator.url).scenario()
    try:
        remote.set_batch_timing(running=10, cancel_lag=5)
        remote.set_default(Reply(text="ok"))
        remote.script_batch_item("b", Fault(status=500, message="boom"))
        remote.set_batch_limits("openai", max_requests=5)
        with OpenAI(base_url=remote.base_url("openai"), api_key="t", max_retries=0) as sdk:
            data = (_openai_line("a") + "\n" + _openai_line("b") + "\n").encode()
            upload = sdk.files.create(file=("in.jsonl", data), purpose="batch")
            batch = sdk.batches.create(
                input_file_id=upload.id, endpoint="/v1/responses", completion_window="24h"
            )
            assert sdk.batches.retrieve(batch.id).status == "in_progress"
            remote.advance(10)
            done = sdk.batches.retrieve(batch.id)
            assert done.status == "completed" and done.request_counts is not None
            assert (done.request_counts.completed, done.request_counts.failed) == (1, 1)
            second = sdk.batches.create(
                input_file_id=upload.id, endpoint="/v1/responses", completion_window="24h"
            )
            assert remote.fail_batch(message="down") == second.id
            assert sdk.batches.retrieve(second.id).status == "failed"
        (first, failed) = remote.batches
        assert (first.id, first.status, failed.status) == (batch.id, "completed", "failed")
        assert [line.key for line in first.lines] == ["a", "b"]
        assert first.lines[0].body == {"model": "gpt-4o-mini", "input": "a"}
        with pytest.raises(RuntimeError, match="unknown batch phase"):
            remote._post("batch_timing", {"sprinting": 1})  # pyright: ignore[reportPrivateUsage]
        remote.reset()
        assert remote.batches == []
    finally:
        remote.reset()
