"""Batch jobs through the real SDKs against the emulator's batch APIs: typed results in input
order, each line's body equal to the realtime body, per-item errors, expiry and cancel, the
same values and usage as ``map``, collecting once, provider files deleted, a job spanning
several provider batches, re-attaching, and the backends without a batch API."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import alloy
from alloy import AlloyError
from alloy import CapabilityError
from alloy import ConfigurationError
from alloy import ProviderError
from alloy import command
from alloy import tool
from alloy import use_config
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import Verbatim

BATCHED = ["openai", "openai-chat", "anthropic", "gemini"]
MODELS = {
    "openai": "gpt-5-mini",
    "openai-chat": "gpt-4o",
    "anthropic": "claude-sonnet-4-6",
    "gemini": "gemini-2.5-flash",
}


@dataclass
class Invoice:
    vendor: str
    total: float


@command(output=Invoice, max_tokens=400)
def extract(text: str) -> str:
    return f"Extract the invoice: {text}"


@command(output=list[str], max_tokens=400)
def other_output(text: str) -> str:
    return f"Extract the invoice: {text}"


@tool
def lookup(key: str) -> str:
    """Look a key up."""
    return key


@command(tools=[lookup])
def with_tools(text: str) -> str:
    """{text}"""


def _invoice(n: int) -> Reply:
    return Reply(json={"vendor": f"V{n}", "total": float(n)}, input_tokens=10 + n, output_tokens=n)


@pytest.fixture
def batched(
    request: pytest.FixtureRequest, alloy_emulator: Scenario, tmp_path: Path
) -> Iterator[str]:
    name: str = request.param
    model = MODELS[name]
    alloy_emulator.set_batch_timing(validating=5, running=100)
    with use_config(model=f"{name}:{model}", store=str(tmp_path / "store.db")):
        yield name


def _submissions(scenario: Scenario) -> int:
    return len(scenario.batches)


@pytest.mark.parametrize("batched", BATCHED, indirect=True)
def test_submit_wait_and_typed_results_in_input_order(
    batched: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.enqueue(_invoice(1), _invoice(2), Fault(status=400, message="unreadable"))
    alloy_emulator.enqueue(Reply(json={"vendor": 3}))  # not an Invoice
    job = extract.batch(["one", "two", "three", "four"], name="december")
    assert job.status().state == "running"
    alloy_emulator.advance(200)
    results = job.wait(poll=0.01).results()
    assert [o.index for o in results] == [0, 1, 2, 3]
    assert [o.input for o in results] == ["one", "two", "three", "four"]
    assert results.values() == [Invoice("V1", 1.0), Invoice("V2", 2.0)]
    error = results.errors[2]
    assert isinstance(error, ProviderError) and error.status_code == 400
    assert "unreadable" in str(error)
    assert type(results.errors[3]).__name__ == "OutputValidationError"
    assert results.status == "partial"
    assert results.usage.input_tokens == 11 + 12  # the successful items'
    assert _submissions(alloy_emulator) == 1


@pytest.mark.parametrize("batched", BATCHED, indirect=True)
def test_each_line_is_the_realtime_body(batched: str, alloy_emulator: Scenario) -> None:
    alloy_emulator.set_default(_invoice(1))
    texts = ["ACME, $12", "Globex, $30"]
    for text in texts:
        extract(text)
    realtime = [r.json for r in alloy_emulator.requests]
    extract.batch(texts)
    (submitted,) = alloy_emulator.batches
    assert [line.body for line in submitted.lines] == realtime


@pytest.mark.parametrize("batched", BATCHED, indirect=True)
@pytest.mark.parametrize(
    "body", ['{"unexpected": [1, 2]}', '{"candidates": 5, "content": 5, "output": 5, "choices": 5}']
)
def test_a_malformed_reply_is_that_items_error(
    batched: str, body: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.set_default(_invoice(1))
    alloy_emulator.script_batch_item("alloy-000001", Verbatim(body=body))
    job = extract.batch(["a", "b", "c"])
    alloy_emulator.advance(200)
    try:
        results = job.wait(poll=0.01).results()
    except AlloyError:
        return  # the whole batch cannot be read: an alloy error, never a raw one
    assert results.values() == [Invoice("V1", 1.0)] * 2
    assert sorted(results.errors) == [1]
    assert isinstance(results.errors[1], AlloyError)


@pytest.mark.parametrize("batched", ["anthropic"], indirect=True)
def test_anthropic_params_are_plain_json(batched: str, alloy_emulator: Scenario) -> None:
    alloy_emulator.set_default(_invoice(1))
    extract.with_config(temperature=0.3).batch(["ACME, $12"])
    ((line,),) = [b.lines for b in alloy_emulator.batches]
    assert line.key == "alloy-000000"
    assert line.body["temperature"] == 0.3  # at the top level: the SDK sends params as given
    assert (
        "extra_body" not in line.body and "stream" not in line.body and "timeout" not in line.body
    )


@pytest.mark.parametrize("batched", BATCHED, indirect=True)
def test_batch_and_map_give_the_same_values_and_usage(
    batched: str, alloy_emulator: Scenario
) -> None:
    replies = [_invoice(n) for n in range(1, 6)]
    alloy_emulator.enqueue(*replies)
    mapped = extract.map([f"item {n}" for n in range(5)], concurrency=1)
    alloy_emulator.enqueue(*replies)
    job = extract.batch([f"item {n}" for n in range(5)])
    alloy_emulator.advance(200)
    batched_result = job.wait(poll=0.01).results()
    assert batched_result.values() == mapped.values()
    assert batched_result.usage == mapped.usage


@pytest.mark.parametrize("batched", BATCHED, indirect=True)
def test_collecting_twice_downloads_nothing_and_files_are_deleted(
    batched: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.set_default(_invoice(1))
    job = extract.batch(["a", "b"])
    alloy_emulator.advance(200)
    first = job.wait(poll=0.01).results()
    seen = len(alloy_emulator.requests)
    again = extract.batch_job(job.id)
    assert again.status().state == "ended"
    assert again.results().values() == first.values()
    assert len(alloy_emulator.requests) == seen  # no poll, no download
    files = alloy_emulator.files
    if batched.startswith("openai"):
        assert files and all(f.deleted for f in files)
    else:  # Anthropic batches own no files; a small Gemini batch goes inline
        assert files == []


@pytest.mark.parametrize("batched", BATCHED, indirect=True)
def test_expired_and_cancelled_items(batched: str, alloy_emulator: Scenario) -> None:
    alloy_emulator.set_default(_invoice(1))
    alloy_emulator.set_batch_timing(validating=0, running=100, expires_after=50)
    expiring = extract.batch([f"e{n}" for n in range(4)])
    alloy_emulator.advance(60)
    result = expiring.wait(poll=0.01).results()
    assert len(result.values()) == 2 and sorted(result.errors) == [2, 3]
    for error in result.errors.values():
        assert isinstance(error, alloy.BatchItemNotRun) and error.state == "expired"
        assert error.provider == batched and "submit it again" in str(error)
    alloy_emulator.set_batch_timing(expires_after=24 * 3600, cancel_lag=1)
    cancelled = extract.batch([f"c{n}" for n in range(4)])
    alloy_emulator.advance(30)  # the first item has its answer
    cancelled.cancel()
    alloy_emulator.advance(5)
    partial = cancelled.wait(poll=0.01).results()
    assert len(partial.values()) >= 1 and partial.errors
    for error in partial.errors.values():
        assert isinstance(error, alloy.BatchItemNotRun) and error.state == "cancelled"


@pytest.mark.parametrize("batched", BATCHED, indirect=True)
def test_a_job_over_the_provider_limit_spans_several_batches(
    batched: str, alloy_emulator: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alloy.backends._batching import BatchLimits

    module = _batch_module(batched)
    monkeypatch.setattr(module, "LIMITS", BatchLimits(max_requests=2, max_bytes=10**9))
    alloy_emulator.set_batch_limits(_api(batched), max_requests=2)
    alloy_emulator.enqueue(*[_invoice(n) for n in range(1, 6)])
    job = extract.batch([f"item {n}" for n in range(5)])
    assert [len(b.lines) for b in alloy_emulator.batches] == [2, 2, 1]
    alloy_emulator.advance(200)
    values = job.wait(poll=0.01).results().values()
    assert [v.total for v in values] == [1.0, 2.0, 3.0, 4.0, 5.0]


def _batch_module(backend: str) -> object:
    from alloy.backends.anthropic import _batch as anthropic_batch
    from alloy.backends.gemini import _batch as gemini_batch
    from alloy.backends.openai import _batch as openai_batch

    return {"anthropic": anthropic_batch, "gemini": gemini_batch}.get(backend, openai_batch)


def _api(backend: str) -> str:
    return "openai" if backend.startswith("openai") else backend


@pytest.mark.parametrize("batched", ["gemini"], indirect=True)
def test_gemini_goes_through_a_file_above_the_inline_limit(
    batched: str, alloy_emulator: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alloy.backends.gemini import _batch

    alloy_emulator.enqueue(_invoice(1), _invoice(2), _invoice(3), _invoice(4))
    inline = extract.batch(["small"])
    monkeypatch.setattr(_batch, "INLINE_LIMIT", 200)  # three lines are more than that
    alloy_emulator.set_batch_limits("gemini", max_bytes=200)  # and the API would refuse them
    texts = ["ACME, $12", "Globex, $30", "Initech, $7"]
    job = extract.batch(texts)
    first, second = alloy_emulator.batches
    assert (first.source, second.source) == ("inline", "file")
    (upload,) = alloy_emulator.files
    assert upload.metadata["displayName"] == f"{job.id}:0"  # the marker: found after a crash
    assert upload.media_type == "application/jsonl"
    alloy_emulator.advance(200)
    results = job.wait(poll=0.01).results()
    assert [o.input for o in results] == texts  # the file's answers come shuffled
    assert [v.total for v in results.values()] == [2.0, 3.0, 4.0]
    assert inline.wait(poll=0.01).results().values() == [Invoice("V1", 1.0)]
    files = alloy_emulator.files
    assert len(files) == 2 and all(f.deleted for f in files)  # the input, and the output
    alloy_emulator.set_default(_invoice(9))
    for text in texts:
        extract(text)
    realtime = [r.json for r in alloy_emulator.requests if r.provider == "gemini"][-3:]
    assert [line.body for line in second.lines] == realtime


@pytest.mark.parametrize("batched", ["openai"], indirect=True)
def test_re_attaching_checks_the_output_type_and_the_account(
    batched: str, alloy_emulator: Scenario
) -> None:
    alloy_emulator.set_default(_invoice(1))
    job = extract.batch(["a"])
    with pytest.raises(ConfigurationError, match="output type"):
        other_output.batch_job(job.id)
    with pytest.raises(ConfigurationError, match="no batch job"):
        extract.batch_job("ab_missing")
    other_key = extract.with_config(provider_options={"openai": {"api_key": "sk-other-account"}})
    with pytest.raises(ConfigurationError, match="another account"):
        other_key.batch_job(job.id).status()


def test_what_cannot_run_as_a_batch_is_refused(alloy_emulator: Scenario, tmp_path: Path) -> None:
    with use_config(store=str(tmp_path / "s.db")):
        with pytest.raises(CapabilityError, match="batch"):
            extract.with_config(model="ollama:llama3.2").batch(["a"])
        with pytest.raises(ConfigurationError, match="tools"):
            with_tools.with_config(model="openai:gpt-5-mini").batch(["a"])
        with pytest.raises(ConfigurationError, match="at least one"):
            extract.with_config(model="openai:gpt-5-mini").batch([])
    assert alloy_emulator.requests == []


@pytest.mark.parametrize("batched", ["openai"], indirect=True)
def test_batch_results_cost_batch_rates(batched: str, alloy_emulator: Scenario) -> None:
    pytest.importorskip("genai_prices", reason="prices come with the cost extra")
    from alloy._cost import price

    alloy_emulator.enqueue(_invoice(100), _invoice(100))
    realtime = extract.run("item")
    job = extract.batch(["item"])
    alloy_emulator.advance(200)
    (outcome,) = job.wait(poll=0.01).results()
    result = outcome.result
    assert result is not None and result.batch and not realtime.batch
    expected = price(result.usage, "openai", result.model, batch=True)
    assert result.cost is not None and realtime.cost is not None
    assert not isinstance(expected, str) and result.cost.usd == expected.usd
    assert result.cost.usd < realtime.cost.usd
