import asyncio
import json
import random
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from alloy import CapabilityError
from alloy import ConfigurationError
from alloy import OutputValidationError
from alloy import command
from alloy._partial import NOTHING
from alloy._partial import JsonScanner
from alloy.backends import Capabilities
from alloy.testing import FakeBackend
from alloy.testing import use_backend


@dataclass
class Pet:
    name: str
    age: int


@command
def pets(n: int) -> list[Pet]:
    """List {n} pets."""
    ...


@command
def chat(text: str) -> str:
    """Reply to {text}."""
    ...


@pytest.fixture
def fake() -> Any:
    backend = FakeBackend(chunk_chars=4)
    with use_backend(backend):
        yield backend


def test_text_stream_and_result(fake: FakeBackend) -> None:
    fake.add_reply("hello there, friend")
    stream = chat.stream("hi")
    pieces = list(stream)
    assert pieces == ["hell", "o th", "ere,", " fri", "end"]
    result = stream.result()
    assert result.value == "hello there, friend" and result.provider == "fake"


def test_result_without_iterating(fake: FakeBackend) -> None:
    fake.add_reply(json=[{"name": "Rex", "age": 3}])
    assert pets.stream(1).result().value == [Pet("Rex", 3)]


def test_snapshots_grow_and_end_with_the_value(fake: FakeBackend) -> None:
    value = [{"name": "Rex", "age": 3}, {"name": "Tom", "age": 5}]
    fake.add_reply(json=value)
    snapshots = list(pets.stream(2))
    assert snapshots[-1] == value
    assert all(isinstance(s, list) for s in snapshots)
    assert len(snapshots) > 2


def test_items_are_validated(fake: FakeBackend) -> None:
    fake.add_reply(json=[{"name": "Rex", "age": 3}, {"name": "Tom", "age": "five"}])
    stream = pets.stream(2).items()
    assert next(stream) == Pet("Rex", 3)
    with pytest.raises(OutputValidationError, match="an element of"):
        next(stream)


def test_items_need_a_list_output(fake: FakeBackend) -> None:
    with pytest.raises(ConfigurationError, match="list"):
        next(chat.stream("x").items())


def test_reask_inside_a_stream(fake: FakeBackend) -> None:
    fake.add_reply(json=[{"name": "Rex"}])
    fake.add_reply(json=[{"name": "Rex", "age": 3}])
    result = pets.stream(1).result()
    assert result.value == [Pet("Rex", 3)] and result.attempts == 2


def test_streaming_capability_is_checked_before_any_call() -> None:
    fake = FakeBackend(capabilities=Capabilities(streaming=False))
    with use_backend(fake), pytest.raises(CapabilityError, match="streaming"):
        chat.stream("x")
    assert fake.requests == []


def test_async_stream(fake: FakeBackend) -> None:
    fake.add_reply("async pieces")

    @command
    async def achat(text: str) -> str:
        """Reply to {text}."""
        ...

    async def run() -> tuple[list[str], str]:
        stream = achat.stream("x")
        pieces = [p async for p in stream]
        return pieces, (await stream.result()).value

    pieces, value = asyncio.run(run())
    assert "".join(pieces) == value == "async pieces"


def _chunks(text: str, rng: random.Random) -> list[str]:
    out, i = [], 0
    while i < len(text):
        k = rng.randint(1, 9)
        out.append(text[i : i + k])
        i += k
    return out


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=5), children, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(value=st.lists(_JSON, max_size=5), seed=st.integers(0, 1000), wrapped=st.booleans())
def test_scanner_items_and_final_snapshot_match_json(
    value: list[Any], seed: int, wrapped: bool
) -> None:
    text = json.dumps({"value": value} if wrapped else value)
    scanner = JsonScanner("value" if wrapped else "root")
    items: list[str] = []
    for chunk in _chunks(text, random.Random(seed)):
        items.extend(scanner.feed(chunk))
        snapshot = scanner.snapshot()
        assert snapshot is NOTHING or isinstance(snapshot, dict if wrapped else list)
    assert scanner.done
    assert [json.loads(i) for i in items] == value
    assert scanner.snapshot() == json.loads(text)


def test_snapshots_are_geometrically_spaced() -> None:
    scanner = JsonScanner()
    text = json.dumps({"k": "x" * 100_000})
    taken = 0
    for i in range(0, len(text), 10):
        scanner.feed(text[i : i + 10])
        if scanner.due():
            scanner.snapshot()
            taken += 1
    assert taken < 100  # ~log(n) snapshots, not one per chunk: linear total cost


def test_items_of_an_async_command(fake: FakeBackend) -> None:
    @command
    async def apets(n: int) -> list[Pet]:
        """List {n} pets."""
        ...

    fake.add_reply(json=[{"name": "Rex", "age": 3}])

    async def run() -> list[Pet]:
        return [pet async for pet in apets.stream(1).items()]

    assert asyncio.run(run()) == [Pet("Rex", 3)]
