"""``map`` and its family on the fake backend: outcomes in input order, errors as outcomes,
lazy inputs in a bounded window, ``return_exceptions=False``, ``starmap``'s arguments, the
async twins, async commands, and a map inside a running event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from alloy import ConfigurationError
from alloy import MapResult
from alloy import Outcome
from alloy import OutputValidationError
from alloy import ProviderError
from alloy import command
from alloy import use_config
from alloy.backends import Request
from alloy.testing import FakeBackend
from alloy.testing import use_backend


def _length(request: Request) -> Any:
    """Replies with the length of the item named in the prompt; 'bad' gets no number."""
    word = request.messages[0].text.rsplit(" ", 1)[-1]
    if word == "bad":
        return {"value": "not a number"}
    if word == "boom":
        raise ProviderError("refused", provider="fake", status_code=400, retryable=False)
    return {"value": len(word)}


@command(retry=0)
def length(word: str) -> int:
    """Count the letters of {word}"""


@command(retry=0)
def joined(first: str, second: str, sep: str = "-") -> str:
    """Join {first}{sep}{second}"""


@command(retry=0)
async def alength(word: str) -> int:
    """Count the letters of {word}"""


@pytest.fixture
def fake() -> Iterator[FakeBackend]:
    with use_backend(FakeBackend(_length)) as backend:
        assert isinstance(backend, FakeBackend)
        yield backend


WORDS = ["a", "bb", "bad", "dddd", "boom", "ffffff"]


def _check(result: MapResult[int]) -> None:
    assert [o.index for o in result] == list(range(len(WORDS)))
    assert [o.input for o in result] == WORDS
    assert result.values() == [1, 2, 4, 6]
    assert sorted(result.errors) == [2, 4]
    assert isinstance(result.errors[2], OutputValidationError)
    assert isinstance(result.errors[4], ProviderError)
    assert result.status == "partial"
    assert result.usage.output_tokens is not None
    ok = result[0]
    assert ok.ok and ok.value == 1 and ok.result is not None
    with pytest.raises(OutputValidationError):
        _ = result[2].value


def test_map_gives_every_outcome_in_input_order(fake: FakeBackend) -> None:
    _check(length.map(WORDS, concurrency=3))


def test_amap_gives_the_same(fake: FakeBackend) -> None:
    _check(asyncio.run(length.amap(WORDS, concurrency=3)))


def test_an_async_command_maps_from_sync_and_async_code(fake: FakeBackend) -> None:
    _check(alength.map(WORDS, concurrency=2))
    _check(asyncio.run(alength.amap(iter(WORDS), concurrency=2)))


@command(retry=0)
async def ajoined(first: str, second: str, sep: str = "-") -> str:
    """Join {first}{sep}{second}"""


def test_an_async_command_has_imap_and_starmap(fake: FakeBackend) -> None:
    outcomes = list(alength.imap(WORDS, concurrency=2))
    _check(MapResult(tuple(sorted(outcomes, key=lambda o: o.index)), 0.0))
    with use_backend(FakeBackend(lambda request: request.messages[0].text)):
        pairs = [("a", "b"), {"first": "c", "second": "d"}]
        assert ajoined.starmap(pairs, sep="+").values() == ["Join a+b", "Join c+d"]
        assert asyncio.run(ajoined.astarmap(pairs)).values() == ["Join a-b", "Join c-d"]
        assert joined.starmap(pairs).values() == asyncio.run(joined.astarmap(pairs)).values()


def test_an_async_commands_imap_reads_lazily_and_stops_when_left(fake: FakeBackend) -> None:
    read: list[int] = []

    def items() -> Iterator[str]:
        for n in range(1, 1_000_000):
            read.append(n)
            yield "x" * (n % 7 + 1)

    outcomes = alength.imap(items(), concurrency=4)
    first = [next(outcomes) for _ in range(10)]
    assert all(o.ok for o in first)
    outcomes.close()  # type: ignore[attr-defined]
    stopped = len(read)
    # Ten taken, four in flight, four waiting to be taken, one being read.
    assert stopped <= 10 + 4 + 4 + 1
    assert len(fake.requests) <= stopped
    assert not [t for t in threading.enumerate() if t.name == "alloy-map"]


def test_an_async_commands_imap_raises_like_map(fake: FakeBackend) -> None:
    with pytest.raises(OutputValidationError):
        list(alength.imap(WORDS, concurrency=1, return_exceptions=False))
    with pytest.raises(ConfigurationError, match="concurrency=0"):
        list(alength.imap(WORDS, concurrency=0))


def test_a_sync_map_works_inside_a_running_event_loop(fake: FakeBackend) -> None:
    async def inside() -> tuple[MapResult[int], MapResult[int], list[Outcome[int]]]:
        return length.map(WORDS), alength.map(WORDS), list(alength.imap(WORDS))

    first, second, third = asyncio.run(inside())
    _check(first)
    _check(second)
    assert sorted(o.index for o in third) == list(range(len(WORDS)))


def test_imap_yields_as_calls_finish_and_reads_inputs_lazily(fake: FakeBackend) -> None:
    read: list[int] = []

    def items() -> Iterator[str]:
        for n in range(1, 1_000_000):
            read.append(n)
            yield "x" * (n % 7 + 1)

    outcomes = length.imap(items(), concurrency=4)
    first = [next(outcomes) for _ in range(10)]
    assert all(o.ok for o in first)
    # Ten outcomes out: at most the ten, the four in flight and one being read.
    assert len(read) <= 10 + 4 + 1
    outcomes.close()  # type: ignore[attr-defined]


def test_concurrency_bounds_the_calls_in_flight() -> None:
    lock = threading.Lock()
    now = peak = 0

    def slow(request: Request) -> Any:
        nonlocal now, peak
        with lock:
            now += 1
            peak = max(peak, now)
        threading.Event().wait(0.01)
        with lock:
            now -= 1
        return {"value": 1}

    with use_backend(FakeBackend(slow)):
        result = length.map(["w"] * 40, concurrency=5)
    assert result.status == "ok" and len(result) == 40
    assert 1 < peak <= 5


def test_return_exceptions_false_raises_the_lowest_index_error(fake: FakeBackend) -> None:
    with pytest.raises(OutputValidationError):
        length.map(WORDS, concurrency=1, return_exceptions=False)
    calls_before = len(fake.requests)
    assert calls_before == 3  # stopped starting calls after 'bad' (the third item)
    with pytest.raises(OutputValidationError):
        asyncio.run(length.amap(WORDS, concurrency=1, return_exceptions=False))


def test_starmap_takes_tuples_and_mappings_with_fixed_arguments(fake: FakeBackend) -> None:
    seen: list[str] = []

    def echo(request: Request) -> Any:
        seen.append(request.messages[0].text)
        return "ok"

    with use_backend(FakeBackend(echo)):
        result = joined.starmap([("a", "b"), {"first": "c", "second": "d"}], sep="+")
    assert result.values() == ["ok", "ok"]
    assert sorted(seen) == ["Join a+b", "Join c+d"]
    with use_backend(FakeBackend(echo)):
        bad = joined.starmap(["not a tuple"])
    assert isinstance(bad.errors[0], ConfigurationError)


def test_concurrency_comes_from_the_settings(fake: FakeBackend) -> None:
    with pytest.raises(ConfigurationError, match="map_concurrency"), use_config(map_concurrency=0):
        pass
    with use_config(map_concurrency=1):
        assert length.map(["aa", "b"]).values() == [2, 1]
    with pytest.raises(ConfigurationError, match="concurrency=0"):
        length.map(["a"], concurrency=0)


def test_aimap_stops_cleanly_when_left_early(fake: FakeBackend) -> None:
    async def first_two() -> list[Outcome[int]]:
        found: list[Outcome[int]] = []
        async for outcome in length.aimap((w for w in ["a"] * 50), concurrency=4):
            found.append(outcome)
            if len(found) == 2:
                break
        return found

    assert [o.value for o in asyncio.run(first_two())] == [1, 1]
    assert len(fake.requests) <= 2 + 4


def test_empty_inputs_give_an_empty_ok_result(fake: FakeBackend) -> None:
    result = length.map([])
    assert (len(result), result.status, result.values(), result.errors) == (0, "ok", [], {})


def test_progress_calls_a_function_after_each_item(fake: FakeBackend) -> None:
    from alloy._progress import Progress

    seen: list[Progress] = []
    result = length.map(WORDS, concurrency=2, progress=seen.append)
    assert result.status == "partial"
    assert [p.done for p in seen] == list(range(1, len(WORDS) + 1))
    assert seen[-1].failed == 2 and seen[-1].total == len(WORDS)
    streamed: list[Progress] = []
    length.map(iter(WORDS), progress=streamed.append)
    assert streamed[-1].total is None and streamed[-1].done == len(WORDS)


def test_progress_true_draws_a_bar(fake: FakeBackend, capsys: pytest.CaptureFixture[str]) -> None:
    length.map(WORDS, progress=True)
    drawn = capsys.readouterr().err
    assert "alloy" in drawn and f"{len(WORDS)}/{len(WORDS)}" in drawn


def test_progress_without_tqdm_is_a_line_on_stderr(tmp_path: Any) -> None:
    import subprocess
    import sys

    code = (
        "import sys, importlib.abc\n"
        "class Hide(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path, target=None):\n"
        "        if name == 'tqdm' or name.startswith('tqdm.'):\n"
        "            raise ImportError(name)\n"
        "sys.meta_path.insert(0, Hide())\n"
        "from alloy import command\n"
        "from alloy.testing import FakeBackend, use_backend\n"
        "@command\n"
        "def echo(t: str) -> str:\n"
        "    '''{t}'''\n"
        "with use_backend(FakeBackend()):\n"
        "    r = echo.map(['a', 'b', 'c'], progress=True)\n"
        "assert r.status == 'ok'\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stderr.endswith("alloy: 3/3 items\n")


def test_ask_maps_prompts(fake: FakeBackend) -> None:
    from alloy import ask

    result = ask.map(["Count the letters of abc", "Count the letters of bad"], output=int)
    assert result.values() == [3]
    assert isinstance(result.errors[1], OutputValidationError)
    again = asyncio.run(ask.amap(["Count the letters of ab"], output=int, concurrency=2))
    assert again.values() == [2]
