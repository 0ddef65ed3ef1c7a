"""Cassettes through the real SDKs: recorded against the emulator, replayed with it stopped
on every backend and call style; a replay-only cassette refuses a changed request without
sending it; the file holds no key; the record modes; unused replies warn."""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from alloy import ResponseCache
from alloy import ask
from alloy import backends
from alloy import use_config
from alloy.testing import Cassette
from alloy.testing import CassetteMiss
from alloy.testing.emulator import Emulator
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall
from tests.e2e.conftest import BACKENDS
from tests.e2e.test_response_cache_e2e import MODES
from tests.e2e.test_response_cache_e2e import Invoice
from tests.e2e.test_response_cache_e2e import extract
from tests.e2e.test_response_cache_e2e import run
from tests.e2e.test_response_cache_e2e import same_answer
from tests.e2e.test_response_cache_e2e import shout

KEY_VARS = ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "GEMINI_API_KEY", "GOOGLE_API_KEY")


@pytest.fixture(autouse=True)
def _default_record_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALLOY_RECORD", raising=False)  # an exported one must not steer these


@pytest.fixture
def own_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Emulator, Scenario]]:
    """An emulator of this test's own, which the test may stop; the SDKs point at it."""
    emulator = Emulator(strict=True).start()
    scenario = emulator.scenario()
    for name, value in scenario.env().items():
        monkeypatch.setenv(name, value)
    backends.clear_instances()
    try:
        yield emulator, scenario
    finally:
        emulator.stop()
        backends.clear_instances()


@pytest.mark.parametrize("provider", BACKENDS)
@pytest.mark.parametrize("mode", MODES)
def test_a_recording_replays_with_the_emulator_stopped_and_no_key(
    own_emulator: tuple[Emulator, Scenario],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    provider: str,
    mode: str,
) -> None:
    emulator, scenario = own_emulator
    path = tmp_path / "cassette.json"
    scenario.enqueue(
        Reply(json={"vendor": "ACME", "total": 49.99}, input_tokens=20, output_tokens=7),
        Reply(text="LOUD AND CLEAR, " * 6),
    )
    with use_config(model=f"{provider}:gpt-test"):
        with Cassette(path) as recording:  # ALLOY_RECORD unset: once; no file yet: records
            invoice, _ = run(mode, extract, "ACME ... $49.99")
            loud, _ = run(mode, shout, "loud and clear")
        assert recording.recorded == 2
        assert len(scenario.requests) == 2
        emulator.stop()
        for var in KEY_VARS:
            monkeypatch.delenv(var, raising=False)
        backends.clear_instances()
        with Cassette(path, mode="none"):
            invoice_again, _ = run(mode, extract, "ACME ... $49.99")
            loud_again, pieces = run(mode, shout, "loud and clear")
    assert invoice_again.value == Invoice("ACME", 49.99)
    same_answer(invoice, invoice_again)
    same_answer(loud, loud_again)
    assert invoice_again.cached and loud_again.cached
    if mode.startswith("stream"):
        assert "".join(pieces) == loud.text and len(pieces) > 1
    assert len(scenario.requests) == 2


def test_a_replay_only_cassette_refuses_a_changed_prompt_without_a_request(
    provider: str, alloy_emulator: Scenario, tmp_path: Path
) -> None:
    path = tmp_path / "cassette.json"
    alloy_emulator.enqueue(Reply(text="recorded"))
    with Cassette(path, mode="all"):
        assert ask("What is recorded?") == "recorded"
    with (
        pytest.warns(UserWarning, match="1 of the replies"),  # the recorded one, unused
        Cassette(path, mode="none"),
        pytest.raises(CassetteMiss) as caught,
    ):
        ask("What is recorded now?")
    assert len(alloy_emulator.requests) == 1
    miss = caught.value
    assert miss.path == path and miss.mode == "none"
    assert miss.summary["prompt"] == "What is recorded now?"
    assert "ALLOY_RECORD=new" in str(miss) and str(path) in str(miss)


def test_once_replays_an_existing_file_and_refuses_what_it_lacks(
    provider: str, alloy_emulator: Scenario, tmp_path: Path
) -> None:
    path = tmp_path / "cassette.json"
    alloy_emulator.set_default(Reply(text="live"))
    with Cassette(path, mode="once"):
        assert ask("first") == "live"
    with Cassette(path, mode="once"):
        assert ask("first") == "live"
        with pytest.raises(CassetteMiss, match="holds no reply"):
            ask("second")
    assert len(alloy_emulator.requests) == 1


def test_new_replays_what_it_holds_and_records_the_rest(
    provider: str, alloy_emulator: Scenario, tmp_path: Path
) -> None:
    path = tmp_path / "cassette.json"
    alloy_emulator.enqueue(Reply(text="one"), Reply(text="two"))
    with Cassette(path, mode="new"):
        assert ask("first") == "one"
    with Cassette(path, mode="new") as cassette:
        assert ask("first") == "one"
        assert ask("second") == "two"
        assert cassette.recorded == 1
    with Cassette(path, mode="none"):
        assert (ask("first"), ask("second")) == ("one", "two")
    assert len(alloy_emulator.requests) == 2
    entries = json.loads(path.read_text())["entries"]
    assert [e["summary"]["prompt"] for e in entries] == ["first", "second"]


def test_all_records_afresh_and_replaces_the_file(
    provider: str, alloy_emulator: Scenario, tmp_path: Path
) -> None:
    path = tmp_path / "cassette.json"
    alloy_emulator.enqueue(Reply(text="old"), Reply(text="new"))
    with Cassette(path, mode="all"):
        ask("what now?")
    with Cassette(path, mode="all"):
        assert ask("what now?") == "new"
    with Cassette(path, mode="none"):
        assert ask("what now?") == "new"
    assert len(json.loads(path.read_text())["entries"]) == 1


def test_identical_requests_replay_in_recorded_order(
    provider: str, alloy_emulator: Scenario, tmp_path: Path
) -> None:
    path = tmp_path / "cassette.json"
    alloy_emulator.enqueue(Reply(text="heads"), Reply(text="tails"))
    with Cassette(path):
        assert [ask("Toss a coin"), ask("Toss a coin")] == ["heads", "tails"]
    with Cassette(path, mode="none"):
        assert [ask("Toss a coin"), ask("Toss a coin")] == ["heads", "tails"]
        with pytest.raises(CassetteMiss, match="replayed every reply it recorded"):
            ask("Toss a coin")
    assert len(alloy_emulator.requests) == 2


def test_a_tool_loop_replays_with_its_tools_run(
    provider: str, alloy_emulator: Scenario, tmp_path: Path
) -> None:
    from alloy import command
    from alloy import tool

    ran: list[str] = []

    @tool
    def stock(product: str) -> int:
        """How many are in stock."""
        ran.append(product)
        return 3

    @command(tools=[stock])
    def reorder(product: str) -> bool:
        """Should we reorder {product}? Check the stock."""
        ...

    path = tmp_path / "cassette.json"
    alloy_emulator.enqueue(
        Reply(tool_calls=[ToolCall("stock", {"product": "tea"})]), Reply(json={"value": True})
    )
    with Cassette(path):
        assert reorder("tea") is True
    with Cassette(path, mode="none"):
        assert reorder("tea") is True
    assert ran == ["tea", "tea"]
    assert len(alloy_emulator.requests) == 2
    summaries = [e["summary"] for e in json.loads(path.read_text())["entries"]]
    assert [s["tools"] for s in summaries] == [["stock"], ["stock"]]
    assert summaries[0]["prompt"] == summaries[1]["prompt"]  # the last user text, not a result


def test_the_file_is_sorted_reviewable_json_without_a_key_or_header(
    provider: str, alloy_emulator: Scenario, tmp_path: Path
) -> None:
    key = "sk-distinctive-cassette-key-42"
    options = {"headers": {"Authorization": f"Bearer {key}"}} if provider == "ollama" else {}
    options = options or {"api_key": key}
    path = tmp_path / "cassette.json"
    alloy_emulator.enqueue(Reply(text="secret-free"))
    with use_config(provider_options={provider: options}), Cassette(path):
        assert ask("x" * 100) == "secret-free"
    text = path.read_text()
    assert key not in text
    assert "authorization" not in text.lower()
    doc = json.loads(text)
    assert text == json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    (entry,) = doc["entries"]
    assert entry["summary"] == {
        "provider": provider,
        "model": "gpt-test",
        "prompt": "x" * 80 + "…",
        "tools": [],
    }
    assert len(entry["fingerprint"]) == 64
    assert entry["response"]["text"] == "secret-free"


def test_unused_replies_warn_naming_how_many(
    provider: str, alloy_emulator: Scenario, tmp_path: Path
) -> None:
    path = tmp_path / "cassette.json"
    alloy_emulator.set_default(Reply(text="ok"))
    with Cassette(path):
        ask("one")
        ask("two")
        ask("three")
    unused = r"2 of the replies in the cassette .* were never used"
    with pytest.warns(UserWarning, match=unused), Cassette(path, mode="none"):
        ask("two")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with Cassette(path, mode="none"):
            for prompt in ("one", "two", "three"):
                ask(prompt)


def test_a_cassette_takes_the_place_of_the_response_cache(
    provider: str, alloy_emulator: Scenario, tmp_path: Path
) -> None:
    cache = ResponseCache(tmp_path / "alloy.db")
    alloy_emulator.set_default(Reply(text="ok"))
    with use_config(response_cache=cache), Cassette(tmp_path / "cassette.json", mode="all"):
        ask("same")
        ask("same")  # recorded twice: the cassette records each call
    assert len(alloy_emulator.requests) == 2
    assert cache.clear() == 0


def test_a_damaged_cassette_is_a_configuration_error_naming_it(tmp_path: Path) -> None:
    from alloy import ConfigurationError

    path = tmp_path / "cassette.json"
    path.write_text('{"alloy_cassette": 1, "entries": [{"nonsense": true}]}')
    with pytest.raises(ConfigurationError, match=r"Cannot read the cassette .*ALLOY_RECORD=all"):
        Cassette(path, mode="none")
    path.write_text('{"alloy_cassette": 99, "entries": []}')
    with pytest.raises(ConfigurationError, match="another layout"):
        Cassette(path)
    assert Cassette(path, mode="all").recorded == 0  # re-recording does not read it


def test_a_bad_record_mode_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    from alloy import ConfigurationError

    monkeypatch.setenv("ALLOY_RECORD", "sometimes")
    with pytest.raises(ConfigurationError, match=r"ALLOY_RECORD='sometimes'.*once, none, new, all"):
        Cassette("unused.json")
