"""Gemini explicit caching at the command level, through google-genai and the emulator's
``cachedContents``: one cache for twenty concurrent calls (threads and tasks) and for a second
process, one re-creation after expiry or a 404 mid-call, the inline fallback for a cache too
small, a tool-less cache for the finalize turn, ``close_context``, and no key in the store."""

from __future__ import annotations

import asyncio
import contextvars
import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from alloy import Context
from alloy import ProviderError
from alloy import close_context
from alloy import command
from alloy import use_config
from alloy._store import context_caches
from alloy._store import open_store
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import ToolCall

TEXT = "The notice period is ninety days. " * 20
CONTRACT = Context(system="You are a contracts analyst.", documents=[TEXT])
OK = Reply(text="ninety days", input_tokens=10, output_tokens=2)
SECRET = "AIzaSyD-alloy-test-secret-key-0123456789"


@command(context=CONTRACT, cache=True)
def clause(question: str) -> str:
    """Answer from the contract: {question}"""


class Notice(BaseModel):
    days: int


def lookup(term: str) -> str:
    """Look a term up in the glossary."""
    return f"{term}: a period of days"


@command(context=CONTRACT, cache=True, tools=[lookup])
def notice(question: str) -> Notice:
    """Answer from the contract: {question}"""


@pytest.fixture
def gemini(alloy_emulator: Scenario, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "alloy.db"
    options = {"gemini": {"api_key": SECRET}}
    with use_config(model="gemini:gemini-2.5-flash", store=str(path), provider_options=options):
        yield path


def _creates(scenario: Scenario) -> list[Any]:
    return [
        r for r in scenario.requests if r.method == "POST" and r.path.endswith("/cachedContents")
    ]


def _generates(scenario: Scenario) -> list[Any]:
    return [r for r in scenario.requests if r.provider == "gemini"]


def _assert_cached(request: Any, name: str | None = None) -> None:
    body = request.json
    assert body["cachedContent"] == name if name else body["cachedContent"].startswith("cached")
    assert not {"systemInstruction", "tools", "toolConfig"} & set(body)
    assert TEXT not in json.dumps(body)  # the context's document is in the cache only


def test_twenty_concurrent_calls_create_one_cache(alloy_emulator: Scenario, gemini: Path) -> None:
    alloy_emulator.set_default(OK)
    with ThreadPoolExecutor(20) as pool:
        futures = [
            pool.submit(contextvars.copy_context().run, clause.run, f"question {i}")
            for i in range(20)
        ]
        results = [future.result() for future in futures]
    assert [r.value for r in results] == ["ninety days"] * 20
    (create,) = _creates(alloy_emulator)
    (held,) = alloy_emulator.cached_contents()
    assert create.json["systemInstruction"] == {
        "parts": [{"text": "You are a contracts analyst."}],
        "role": "user",
    }
    assert create.json["contents"] == [{"parts": [{"text": TEXT}], "role": "user"}]
    assert create.json["ttl"] == "3600s" and CONTRACT.key in create.json["displayName"]
    generates = _generates(alloy_emulator)
    assert len(generates) == 20
    for request in generates:
        _assert_cached(request, held.name)
    assert {r.usage.cached_input_tokens for r in results} == {held.tokens}
    assert {r.usage.input_tokens for r in results} == {10 + held.tokens}


def test_twenty_asyncio_tasks_create_one_cache(alloy_emulator: Scenario, gemini: Path) -> None:
    alloy_emulator.set_default(OK)

    async def main() -> list[str]:
        return await asyncio.gather(*(clause.async_(f"question {i}") for i in range(20)))

    assert asyncio.run(main()) == ["ninety days"] * 20
    assert len(_creates(alloy_emulator)) == 1
    for request in _generates(alloy_emulator):
        _assert_cached(request)


def test_the_cache_ttl_setting_is_the_caches_ttl(alloy_emulator: Scenario, gemini: Path) -> None:
    alloy_emulator.enqueue(OK)
    assert clause.with_config(cache_ttl="5m")("q") == "ninety days"
    (create,) = _creates(alloy_emulator)
    assert create.json["ttl"] == "300s"


SECOND_PROCESS = textwrap.dedent(
    """
    import sys
    from alloy import Context, command, use_config

    CONTRACT = Context(
        system="You are a contracts analyst.",
        documents=["The notice period is ninety days. " * 20],
    )

    @command(context=CONTRACT, cache=True)
    def clause(question: str) -> str:
        \"\"\"Answer from the contract: {question}\"\"\"

    options = {"gemini": {"api_key": sys.argv[3]}}
    with use_config(model=sys.argv[1], store=sys.argv[2], provider_options=options):
        print(clause("q"))
    """
)


def test_a_second_process_reuses_the_cache(alloy_emulator: Scenario, gemini: Path) -> None:
    alloy_emulator.enqueue(OK, OK, OK)
    assert clause("q") == "ninety days"
    env = {**os.environ, **alloy_emulator.env()}
    args = [sys.executable, "-c", SECOND_PROCESS, "gemini:gemini-2.5-flash", str(gemini), SECRET]
    for _ in range(2):
        done = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr[-2000:]
        assert done.stdout.strip() == "ninety days"
    assert len(_creates(alloy_emulator)) == 1
    (held,) = alloy_emulator.cached_contents()
    for request in _generates(alloy_emulator):
        _assert_cached(request, held.name)


def test_an_expired_cache_is_created_again_once(alloy_emulator: Scenario, gemini: Path) -> None:
    alloy_emulator.set_default(OK)
    assert clause("q") == "ninety days"
    alloy_emulator.advance_cache_clock(3601)
    assert [clause(f"q{i}") for i in range(3)] == ["ninety days"] * 3
    assert len(_creates(alloy_emulator)) == 2
    first, second = alloy_emulator.cached_contents()
    names = [r.json["cachedContent"] for r in _generates(alloy_emulator)]
    # The call after expiry was refused once (404) with the old cache, then used the new one.
    assert names == [first.name, first.name, second.name, second.name, second.name]
    with open_store(gemini) as store:
        (row,) = context_caches(store, CONTRACT.key)
    assert row.name == second.name


def test_a_cache_gone_mid_call_is_created_again_and_the_call_goes_on(
    alloy_emulator: Scenario, gemini: Path
) -> None:
    def expire_then_lookup(term: str) -> str:
        """Look a term up in the glossary."""
        alloy_emulator.expire_cached_contents()
        return lookup(term)

    tool_call = Reply(tool_calls=[ToolCall("expire_then_lookup", {"term": "notice"})])
    alloy_emulator.enqueue(tool_call, Reply(text="90"))
    answer = command(context=CONTRACT, cache=True, tools=[expire_then_lookup])(_ask)
    assert answer("How long is the notice?") == "90"
    assert len(_creates(alloy_emulator)) == 2
    assert [r.status for r in _generates(alloy_emulator)] == [200, 404, 200]


def _ask(question: str) -> str:
    """Answer from the contract: {question}"""


def test_a_second_404_is_the_calls_error(alloy_emulator: Scenario, gemini: Path) -> None:
    gone = Fault(status=404, message="CachedContent not found")
    alloy_emulator.enqueue(gone, gone, OK)
    with pytest.raises(ProviderError) as failed:
        clause("q")
    assert failed.value.status_code == 404
    assert len(_creates(alloy_emulator)) == 2  # created, then created again once
    assert alloy_emulator.pending == 1


def test_a_cache_too_small_falls_back_to_the_context_inline(
    alloy_emulator: Scenario, gemini: Path, caplog: pytest.LogCaptureFixture
) -> None:
    alloy_emulator.set_cache_minimum(1_000_000)
    alloy_emulator.enqueue(OK, OK)
    with caplog.at_level("DEBUG", logger="alloy"):
        assert clause("q") == "ninety days"
        assert clause("q") == "ninety days"
    assert len(_creates(alloy_emulator)) == 1  # refused once, not asked again
    assert "too small" in caplog.text
    for request in _generates(alloy_emulator):
        assert "cachedContent" not in request.json
        assert request.json["systemInstruction"]["parts"][0]["text"].startswith("You are")
        assert request.json["contents"][0]["parts"][0]["text"] == TEXT


def test_the_finalize_turn_gets_a_cache_without_tools(
    alloy_emulator: Scenario, gemini: Path
) -> None:
    alloy_emulator.enqueue(
        Reply(tool_calls=[ToolCall("lookup", {"term": "notice"})]),
        Reply(text="ninety days"),
        Reply(text='{"days": 90}'),
    )
    assert notice("How long is the notice?") == Notice(days=90)
    with_tools, without = (c.json for c in _creates(alloy_emulator))
    assert with_tools["tools"][0]["functionDeclarations"][0]["name"] == "lookup"
    assert "tools" not in without
    names = [r.json["cachedContent"] for r in _generates(alloy_emulator)]
    first, second = alloy_emulator.cached_contents()
    assert names == [first.name, first.name, second.name]
    for request in _generates(alloy_emulator):
        _assert_cached(request)


def test_close_deletes_the_cache_and_forgets_it(alloy_emulator: Scenario, gemini: Path) -> None:
    alloy_emulator.enqueue(OK, OK)
    assert clause("q") == "ninety days"
    assert close_context(CONTRACT) == 1
    (held,) = alloy_emulator.cached_contents()
    assert held.deleted
    with open_store(gemini) as store:
        assert context_caches(store, CONTRACT.key) == []
    assert close_context(CONTRACT) == 0
    assert clause("q") == "ninety days"
    assert len(_creates(alloy_emulator)) == 2


def test_the_store_keeps_no_key(alloy_emulator: Scenario, gemini: Path) -> None:
    alloy_emulator.enqueue(OK)
    assert clause("q") == "ninety days"
    files = [gemini, *gemini.parent.glob("alloy.db-*")]
    data = b"".join(path.read_bytes() for path in files if path.exists())
    assert b"cachedContents/" in data
    assert SECRET.encode() not in data


def test_streams_use_the_cache_and_renew_it_once(alloy_emulator: Scenario, gemini: Path) -> None:
    alloy_emulator.set_default(Reply(text="ninety days", chunk_chars=4))
    stream = clause.stream("q")
    assert "".join(stream) == "ninety days"
    alloy_emulator.expire_cached_contents()

    async def streamed() -> str:
        pieces = clause.stream_async("q")
        return "".join([piece async for piece in pieces])

    assert asyncio.run(streamed()) == "ninety days"
    assert stream.result().usage.cached_input_tokens == alloy_emulator.cached_contents()[0].tokens
    first, second = alloy_emulator.cached_contents()
    names = [r.json["cachedContent"] for r in _generates(alloy_emulator)]
    assert names == [first.name, first.name, second.name]
    assert [r.stream for r in _generates(alloy_emulator)] == [True, True, True]


def test_an_async_call_renews_a_gone_cache_once(alloy_emulator: Scenario, gemini: Path) -> None:
    alloy_emulator.set_default(OK)
    assert clause("q") == "ninety days"
    alloy_emulator.expire_cached_contents()
    assert asyncio.run(clause.async_("q")) == "ninety days"
    assert len(_creates(alloy_emulator)) == 2
    assert [r.status for r in _generates(alloy_emulator)] == [200, 404, 200]
