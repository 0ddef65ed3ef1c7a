"""OpenAI Batch through the real openai SDK: upload, create, the phases on the scenario
clock, output and error files in shuffled order, cancel lag, expiry, validation, limits."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai import OpenAI

from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

MODEL = "gpt-4o-mini"


def _line(custom_id: str, text: str, **changes: Any) -> dict[str, Any]:
    body = {"model": MODEL, "input": text}
    line: dict[str, Any] = {"custom_id": custom_id, "method": "POST", "url": "/v1/responses"}
    line["body"] = body
    line.update(changes)
    return line


def _upload(client: OpenAI, lines: list[dict[str, Any]]) -> str:
    data = "".join(json.dumps(line) + "\n" for line in lines).encode()
    return client.files.create(file=("in.jsonl", data, "application/jsonl"), purpose="batch").id


def _submit(client: OpenAI, lines: list[dict[str, Any]], **options: Any) -> str:
    file_id = _upload(client, lines)
    batch = client.batches.create(
        input_file_id=file_id, endpoint="/v1/responses", completion_window="24h", **options
    )
    return batch.id


def _rows(client: OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    assert file_id is not None
    return [json.loads(row) for row in client.files.content(file_id).text.splitlines()]


def test_phases_output_in_shuffled_order_and_realtime_parity(
    client: OpenAI, scenario: Scenario
) -> None:
    scenario.set_batch_timing(validating=10, running=100, finalizing=5)
    scenario.enqueue(
        *(Reply(text=f"answer {i}", input_tokens=7, output_tokens=3) for i in range(8))
    )
    lines = [_line(f"item-{i}", f"question {i}") for i in range(8)]
    batch_id = _submit(client, lines, metadata={"alloy_job": "ab_1"})

    created = client.batches.retrieve(batch_id)
    assert (created.status, created.metadata, created.model) == (
        "validating",
        {"alloy_job": "ab_1"},
        MODEL,
    )
    assert created.request_counts is not None and created.request_counts.total == 8
    assert created.expires_at == created.created_at + 24 * 3600
    scenario.advance(10)
    assert client.batches.retrieve(batch_id).status == "in_progress"
    scenario.advance(50)
    half = client.batches.retrieve(batch_id)
    assert half.request_counts is not None and half.request_counts.completed == 4
    scenario.advance(50)
    assert client.batches.retrieve(batch_id).status == "finalizing"
    scenario.advance(5)
    done = client.batches.retrieve(batch_id)
    assert done.status == "completed" and done.error_file_id is None
    assert done.completed_at is not None and done.in_progress_at is not None
    assert done.usage is not None and (done.usage.input_tokens, done.usage.total_tokens) == (56, 80)

    rows = _rows(client, done.output_file_id)
    keys = [row["custom_id"] for row in rows]
    assert sorted(keys) == sorted(f"item-{i}" for i in range(8))
    assert keys != [f"item-{i}" for i in range(8)]
    by_key = {row["custom_id"]: row for row in rows}
    first = by_key["item-0"]
    assert first["id"].startswith("batch_req_") and first["error"] is None
    assert first["response"]["status_code"] == 200
    parsed = openai.types.responses.Response.model_validate(first["response"]["body"])
    assert parsed.output_text == "answer 0"

    # The body of a line is what the same Reply gives a realtime call.
    scenario.enqueue(Reply(text="answer 0", input_tokens=7, output_tokens=3))
    live = client.responses.create(model=MODEL, input="question 0")
    realtime, batched = live.model_dump(), parsed.model_dump()
    for volatile in ("id", "created_at"):
        realtime.pop(volatile), batched.pop(volatile)
    realtime["output"][0].pop("id"), batched["output"][0].pop("id")
    assert batched == realtime

    (submitted,) = scenario.batches
    assert (submitted.provider, submitted.id, submitted.endpoint) == (
        "openai",
        batch_id,
        "/v1/responses",
    )
    assert [line.body for line in submitted.lines] == [line["body"] for line in lines]
    creates = [
        r for r in scenario.requests if r.path.endswith("/v1/batches") and r.method == "POST"
    ]
    assert len(creates) == 1 and creates[0].provider == "openai-batches"


def test_faults_and_chat_endpoint_go_to_the_error_file(client: OpenAI, scenario: Scenario) -> None:
    scenario.set_batch_timing(running=0)
    scenario.script_batch_item("bad", Fault(status=400, message="no such thing"))
    scenario.set_default(Reply(text="fine"))
    lines = [
        {
            "custom_id": cid,
            "method": "POST",
            "url": "/v1/chat/completions",
            "body": {"model": MODEL, "messages": [{"role": "user", "content": cid}]},
        }
        for cid in ("good", "bad")
    ]
    file_id = _upload(client, lines)
    batch = client.batches.create(
        input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    done = client.batches.retrieve(batch.id)
    assert done.status == "completed"
    assert done.request_counts is not None
    assert (done.request_counts.completed, done.request_counts.failed) == (1, 1)
    (good,) = _rows(client, done.output_file_id)
    completion = openai.types.chat.ChatCompletion.model_validate(good["response"]["body"])
    assert completion.choices[0].message.content == "fine"
    (bad,) = _rows(client, done.error_file_id)
    assert bad["custom_id"] == "bad" and bad["response"]["status_code"] == 400
    assert bad["response"]["body"]["error"]["message"] == "no such thing"


def test_cancel_lag_keeps_finished_lines(client: OpenAI, scenario: Scenario) -> None:
    scenario.set_batch_timing(running=100, cancel_lag=30)
    scenario.set_default(Reply(text="ok"))
    batch_id = _submit(client, [_line(f"c{i}", "q") for i in range(4)])
    scenario.advance(50)
    cancelling = client.batches.cancel(batch_id)
    assert cancelling.status == "cancelling" and cancelling.cancelling_at is not None
    scenario.advance(29)
    assert client.batches.retrieve(batch_id).status == "cancelling"
    scenario.advance(1)
    cancelled = client.batches.retrieve(batch_id)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    assert sorted(row["custom_id"] for row in _rows(client, cancelled.output_file_id)) == [
        "c0",
        "c1",
    ]
    errors = _rows(client, cancelled.error_file_id)
    assert sorted(row["custom_id"] for row in errors) == ["c2", "c3"]
    assert {row["error"]["code"] for row in errors} == {"batch_cancelled"}
    with pytest.raises(openai.ConflictError, match="Cannot cancel"):
        client.batches.cancel(batch_id)


def test_expiry_and_whole_batch_failure(client: OpenAI, scenario: Scenario) -> None:
    scenario.set_batch_timing(running=100, expires_after=75)
    scenario.set_default(Reply(text="ok"))
    batch_id = _submit(client, [_line(f"e{i}", "q") for i in range(4)])
    scenario.advance(80)
    expired = client.batches.retrieve(batch_id)
    assert expired.status == "expired" and expired.expired_at is not None
    assert len(_rows(client, expired.output_file_id)) == 3
    (late,) = _rows(client, expired.error_file_id)
    assert (late["custom_id"], late["error"]["code"]) == ("e3", "batch_expired")

    failing = _submit(client, [_line("f0", "q")])
    assert scenario.fail_batch(message="capacity") == failing
    failed = client.batches.retrieve(failing)
    assert failed.status == "failed" and failed.errors is not None and failed.errors.data
    assert failed.errors.data[0].message == "capacity"
    assert failed.output_file_id is None


@pytest.mark.parametrize(
    ("lines", "code"),
    [
        ([_line("a", "q"), _line("a", "q")], "duplicate_custom_id"),
        ([_line("a", "q", method="GET")], "invalid_method"),
        ([_line("a", "q", url="/v1/chat/completions")], "mismatched_url"),
        (
            [_line("a", "q"), _line("b", "q", body={"model": "other", "input": "q"})],
            "mismatched_model",
        ),
        ([_line("a", "q", body=["not", "an", "object"])], "invalid_body"),
    ],
)
def test_bad_input_fails_validation(
    client: OpenAI, scenario: Scenario, lines: list[dict[str, Any]], code: str
) -> None:
    scenario.set_batch_timing(validating=5)
    batch_id = _submit(client, lines)
    assert client.batches.retrieve(batch_id).status == "validating"
    scenario.advance(5)
    failed = client.batches.retrieve(batch_id)
    assert failed.status == "failed" and failed.errors is not None and failed.errors.data
    assert code in {error.code for error in failed.errors.data}
    assert failed.request_counts is not None and failed.request_counts.completed == 0


def test_limits_and_create_errors(client: OpenAI, scenario: Scenario) -> None:
    scenario.set_batch_limits("openai", max_requests=2)
    scenario.set_default(Reply(text="ok"))
    too_many = _submit(client, [_line(f"x{i}", "q") for i in range(3)])
    failed = client.batches.retrieve(too_many)
    assert failed.status == "failed" and failed.errors is not None and failed.errors.data
    assert failed.errors.data[0].code == "too_many_requests"
    scenario.set_batch_limits("openai", max_bytes=10)
    big = client.batches.retrieve(_submit(client, [_line("y", "q")]))
    assert (
        big.errors is not None and big.errors.data and big.errors.data[0].code == "file_too_large"
    )

    with pytest.raises(openai.NotFoundError, match="No such File"):
        client.batches.create(
            input_file_id="file-nope", endpoint="/v1/responses", completion_window="24h"
        )
    with pytest.raises(openai.NotFoundError, match="No batch found"):
        client.batches.retrieve("batch_nope")


def test_list_pages_newest_first_and_files_delete(client: OpenAI, scenario: Scenario) -> None:
    scenario.set_default(Reply(text="ok"))
    ids = [_submit(client, [_line("a", "q")]) for _ in range(3)]
    first = client.batches.list(limit=2)
    assert [b.id for b in first.data] == ids[::-1][:2] and first.has_more
    assert [b.id for b in client.batches.list(limit=2)] == ids[::-1]
    (upload, *_) = scenario.files
    assert client.files.delete(upload.id).deleted
    assert scenario.files[0].deleted
