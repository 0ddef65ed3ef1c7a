"""The ``alloy_cassette`` fixture as a user of alloy sees it, in pytest runs of their own: a
cassette per test beside the test file, recorded against the emulator, replayed with no
server; ``ALLOY_RECORD=none`` fails a changed test with ``CassetteMiss``; unused replies
warn."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest

from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.pytest_plugin import cassette_path

USER_TESTS = """
import pytest
from alloy import command

@command(model="openai:gpt-test")
def greet(name: str) -> str:
    '''Greet {name}.'''

@pytest.mark.parametrize("name", ["Ada", "São Paulo"])
def test_greet(alloy_cassette, name):
    assert greet(name) == f"Hello, {name}!"

class TestTwice:
    def test_greet(self, alloy_cassette):
        assert greet("Bob") == "Hello, Bob!"
        assert greet("Bob") == "Hello, Bob!"
"""


@pytest.fixture(autouse=True)
def _default_record_mode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ALLOY_RECORD", raising=False)  # the inner runs inherit the variable


def _project(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makepyfile(test_users=USER_TESTS)


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _answer(scenario: Scenario) -> None:
    def hello(request: Any) -> Reply:
        body = json.dumps(request.json, ensure_ascii=False)
        name = next(n for n in ("Ada", "São Paulo", "Bob") if n in body)
        return Reply(text=f"Hello, {name}!")

    scenario.set_default(hello)


def test_record_then_replay_with_no_server(
    pytester: pytest.Pytester, alloy_emulator: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(pytester)
    _answer(alloy_emulator)
    recorded = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    recorded.assert_outcomes(passed=3)
    assert len(alloy_emulator.requests) == 4  # Bob twice: each call is recorded
    folder = pytester.path / "cassettes" / "test_users"
    assert sorted(p.name for p in folder.iterdir()) == [
        "TestTwice.test_greet.json",
        "test_greet-Ada.json",
        "test_greet-S-xe3o-Paulo.json",  # pytest escapes the id: S\\xe3o
    ]
    twice = json.loads((folder / "TestTwice.test_greet.json").read_text())
    assert [e["summary"]["prompt"] for e in twice["entries"]] == ["Greet Bob."] * 2

    dead = f"http://127.0.0.1:{_closed_port()}/openai/v1"
    monkeypatch.setenv("OPENAI_BASE_URL", dead)
    monkeypatch.delenv("OPENAI_API_KEY")
    monkeypatch.setenv("ALLOY_RECORD", "none")
    replayed = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error::UserWarning")
    replayed.assert_outcomes(passed=3)
    assert len(alloy_emulator.requests) == 4


def test_a_changed_test_fails_with_cassette_miss_in_none_mode(
    pytester: pytest.Pytester, alloy_emulator: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(pytester)
    _answer(alloy_emulator)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)
    pytester.makepyfile(test_users=USER_TESTS.replace("Greet {name}.", "Say hello to {name}."))
    monkeypatch.setenv("ALLOY_RECORD", "none")
    changed = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    changed.assert_outcomes(failed=3)
    changed.stdout.fnmatch_lines(["*CassetteMiss: The cassette *holds no reply for this request*"])
    assert len(alloy_emulator.requests) == 4  # nothing sent by the failed run
    changed.stdout.fnmatch_lines(["*were never used*"])


def test_new_records_what_is_missing_beside_what_is_there(
    pytester: pytest.Pytester, alloy_emulator: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    _project(pytester)
    _answer(alloy_emulator)
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=3)
    more = USER_TESTS.replace('["Ada", "São Paulo"]', '["Ada", "São Paulo", "Bob"]')
    pytester.makepyfile(test_users=more)
    monkeypatch.setenv("ALLOY_RECORD", "new")
    pytester.runpytest_subprocess("-p", "no:cacheprovider").assert_outcomes(passed=4)
    assert len(alloy_emulator.requests) == 5
    assert (pytester.path / "cassettes" / "test_users" / "test_greet-Bob.json").exists()


def test_the_path_of_a_cassette(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    items = pytester.getitems(
        """
        import pytest
        @pytest.mark.parametrize("x", ["a b", "c/d"])
        def test_one(x): pass
        class TestKind:
            def test_two(self): pass
        def test_"""
        + "n" * 150
        + """(): pass
        """
    )
    names = [cassette_path(item).relative_to(pytester.path).as_posix() for item in items]
    stem = Path(str(items[0].path)).stem
    assert names[:3] == [
        f"cassettes/{stem}/test_one-a-b.json",
        f"cassettes/{stem}/test_one-c-d.json",
        f"cassettes/{stem}/TestKind.test_two.json",
    ]
    assert len(Path(names[3]).name) == 100 + 1 + 12 + len(".json")
