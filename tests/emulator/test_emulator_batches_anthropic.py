"""Anthropic Message Batches through the real anthropic SDK: create, retrieve, results from
the absolute ``results_url``, cancel lag, expiry, failure, delete, list, validation, limits."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from anthropic import Anthropic

from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

MODEL = "claude-sonnet-4-6"


def _requests(count: int, **params: Any) -> list[Any]:
    return [
        {
            "custom_id": f"r{i}",
            "params": {
                "model": MODEL,
                "max_tokens": 64,
                "temperature": 0.5,
                "messages": [{"role": "user", "content": f"question {i}"}],
                **params,
            },
        }
        for i in range(count)
    ]


def test_phases_results_shuffled_and_realtime_parity(claude: Anthropic, scenario: Scenario) -> None:
    scenario.set_batch_timing(running=60)
    scenario.enqueue(*(Reply(text=f"answer {i}") for i in range(5)))  # r5 is scripted
    scenario.script_batch_item("r5", Fault(status=529, message="overloaded"))
    requests = _requests(6)
    batch = claude.messages.batches.create(requests=requests)
    assert batch.id.startswith("msgbatch_") and batch.processing_status == "in_progress"
    assert batch.results_url is None and batch.request_counts.processing == 6
    assert (batch.expires_at - batch.created_at).total_seconds() == pytest.approx(86400, abs=1)
    with pytest.raises(anthropic.AnthropicError, match="No `results_url`"):
        list(claude.messages.batches.results(batch.id))
    with pytest.raises(anthropic.BadRequestError, match="has not ended"):
        claude.get(f"/v1/messages/batches/{batch.id}/results", cast_to=object)
    scenario.advance(30)
    assert claude.messages.batches.retrieve(batch.id).request_counts.succeeded == 3
    scenario.advance(30)
    ended = claude.messages.batches.retrieve(batch.id)
    assert ended.processing_status == "ended" and ended.ended_at is not None
    assert (ended.request_counts.succeeded, ended.request_counts.errored) == (5, 1)
    assert (
        ended.results_url
        == f"{scenario.base_url('anthropic')}/v1/messages/batches/{batch.id}/results"
    )

    results = list(claude.messages.batches.results(batch.id))
    keys = [r.custom_id for r in results]
    assert sorted(keys) == [f"r{i}" for i in range(6)] and keys != sorted(keys)
    by_key = {r.custom_id: r.result for r in results}
    succeeded = by_key["r0"]
    assert succeeded.type == "succeeded"
    assert (
        succeeded.message.content[0].type == "text"
        and succeeded.message.content[0].text == "answer 0"
    )
    errored = by_key["r5"]
    assert errored.type == "errored" and errored.error.error.type == "overloaded_error"
    results_get = scenario.requests[-1]
    assert results_get.path.endswith(f"/{batch.id}/results")
    assert results_get.headers["accept"] == "application/binary"

    scenario.enqueue(Reply(text="answer 0"))
    params = dict(requests[0]["params"])
    temperature = params.pop("temperature")
    live = claude.messages.create(**params, extra_body={"temperature": temperature})
    assert scenario.requests[-1].json == requests[0]["params"]
    assert succeeded.message.model_dump(exclude={"id"}) == live.model_dump(exclude={"id"})

    (submitted,) = scenario.batches
    assert submitted.provider == "anthropic" and submitted.model == MODEL
    assert [line.key for line in submitted.lines] == [f"r{i}" for i in range(6)]
    assert submitted.lines[0].body == requests[0]["params"]
    assert submitted.lines[0].body["temperature"] == 0.5


def test_cancel_lag_expiry_and_failure(claude: Anthropic, scenario: Scenario) -> None:
    scenario.set_default(Reply(text="ok"))
    scenario.set_batch_timing(running=100, cancel_lag=10)
    cancelled = claude.messages.batches.create(requests=_requests(4))
    scenario.advance(50)
    canceling = claude.messages.batches.cancel(cancelled.id)
    assert canceling.processing_status == "canceling" and canceling.cancel_initiated_at is not None
    scenario.advance(10)
    ended = claude.messages.batches.retrieve(cancelled.id)
    assert ended.processing_status == "ended"
    assert (ended.request_counts.succeeded, ended.request_counts.canceled) == (2, 2)
    kinds = {r.custom_id: r.result.type for r in claude.messages.batches.results(cancelled.id)}
    assert kinds == {"r0": "succeeded", "r1": "succeeded", "r2": "canceled", "r3": "canceled"}

    scenario.set_batch_timing(expires_after=25, cancel_lag=0)
    expiring = claude.messages.batches.create(requests=_requests(4))
    scenario.advance(30)
    counts = claude.messages.batches.retrieve(expiring.id).request_counts
    assert (counts.succeeded, counts.expired) == (1, 3)

    failing = claude.messages.batches.create(requests=_requests(2))
    scenario.fail_batch(failing.id, message="internal trouble")
    failed = claude.messages.batches.retrieve(failing.id)
    assert failed.processing_status == "ended" and failed.request_counts.errored == 2
    (first, *_) = claude.messages.batches.results(failing.id)
    assert first.result.type == "errored" and first.result.error.error.message == "internal trouble"


def test_delete_and_list(claude: Anthropic, scenario: Scenario) -> None:
    scenario.set_default(Reply(text="ok"))
    ids = [claude.messages.batches.create(requests=_requests(1)).id for _ in range(3)]
    page = claude.messages.batches.list(limit=2)
    assert [b.id for b in page.data] == ids[::-1][:2] and page.has_more
    assert [b.id for b in claude.messages.batches.list(limit=2)] == ids[::-1]
    with pytest.raises(anthropic.BadRequestError, match="cancel it first"):
        claude.messages.batches.delete(ids[0])
    scenario.advance(60)
    deleted = claude.messages.batches.delete(ids[0])
    assert (deleted.id, deleted.type) == (ids[0], "message_batch_deleted")
    with pytest.raises(anthropic.NotFoundError):
        claude.messages.batches.retrieve(ids[0])
    assert scenario.batches[0].deleted


@pytest.mark.parametrize(
    ("requests", "match"),
    [
        ([], "requests"),
        ([{"custom_id": "a b", "params": {}}], "custom_id"),
        ([*_requests(1), *_requests(1)], "Duplicate custom_id"),
        ([{"custom_id": "a", "params": {"model": MODEL, "messages": []}}], "max_tokens: Field"),
        (_requests(1, max_tokens=0), "greater than or equal to 1"),
    ],
)
def test_bad_requests_refuse_the_batch(
    claude: Anthropic, scenario: Scenario, requests: list[Any], match: str
) -> None:
    with pytest.raises(anthropic.BadRequestError, match=match):
        claude.messages.batches.create(requests=requests)
    assert scenario.batches == []


def test_limits(claude: Anthropic, scenario: Scenario) -> None:
    scenario.set_default(Reply(text="ok"))
    scenario.set_batch_limits("anthropic", max_requests=2)
    with pytest.raises(anthropic.BadRequestError, match="at most 2 items"):
        claude.messages.batches.create(requests=_requests(3))
    scenario.set_batch_limits("anthropic", max_requests=None, max_bytes=100)
    with pytest.raises(anthropic.APIStatusError) as too_big:
        claude.messages.batches.create(requests=_requests(3))
    assert too_big.value.status_code == 413
    scenario.set_batch_limits("anthropic")
    assert claude.messages.batches.create(requests=_requests(3)).request_counts.processing == 3
