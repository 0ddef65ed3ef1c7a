"""The response cache on the fake backend, and its key as a pure function: what the key
holds, expiry, what is never kept, what a cached call costs and charges, the setting."""

from __future__ import annotations

import asyncio
import copy
import dataclasses
import json
import logging
import pickle
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

import alloy
from alloy import ConfigurationError
from alloy import Image
from alloy import ResponseCache
from alloy import command
from alloy import tool
from alloy import use_config
from alloy._codec import fingerprint
from alloy._messages import MediaPart
from alloy._messages import Message
from alloy._messages import OutputSchema
from alloy._messages import ProviderData
from alloy._messages import Request
from alloy._messages import TextPart
from alloy._messages import ToolSpec
from alloy._observe import ModelCall
from alloy._observe import Observer
from alloy._observe import observe
from alloy._replay import ReplyKey
from alloy._replay import summary
from alloy.backends import Response
from alloy.testing import FakeBackend
from alloy.testing import use_backend

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@command
def shout(text: str) -> str:
    """Shout {text}."""
    ...


@pytest.fixture
def fake() -> Any:
    backend = FakeBackend(lambda request: request.messages[-1].text.upper())
    with use_backend(backend):
        yield backend


@pytest.fixture
def cache(tmp_path: Path) -> ResponseCache:
    return ResponseCache(tmp_path / "alloy.db")


# --- the key ----------------------------------------------------------------------------------


def _request(**changes: Any) -> Request:
    base = Request(
        model="gpt-test",
        messages=(Message.user("Extract the invoice."),),
        system="Be exact.",
        output=OutputSchema("Invoice", {"type": "object", "properties": {}}, wrapped=False),
        tools=(ToolSpec("lookup", "Look up.", {"type": "object"}),),
        temperature=0.2,
        max_tokens=100,
        timeout=30.0,
        options={"user": "u-1"},
        reasoning_effort="low",
        show_reasoning=True,
        cache=True,
        cache_ttl="1h",
    )
    return dataclasses.replace(base, **changes)


INGREDIENTS: dict[str, dict[str, Any]] = {
    "model": {"model": "gpt-test-2"},
    "messages": {"messages": (Message.user("Extract the receipt."),)},
    "system": {"system": "Be brief."},
    "schema": {"output": OutputSchema("Invoice", {"type": "object", "required": ["x"]}, False)},
    "tools": {"tools": (ToolSpec("lookup", "Look it up.", {"type": "object"}),)},
    "no tools": {"tools": ()},
    "temperature": {"temperature": 0.3},
    "max_tokens": {"max_tokens": 101},
    "options": {"options": {"user": "u-2"}},
    "output mode": {"output_mode": "tool_call"},
    "reasoning effort": {"reasoning_effort": "high"},
    "reasoning budget": {"reasoning_effort": None, "reasoning_budget": 2048},
    "show reasoning": {"show_reasoning": False},
    "prompt cache": {"cache": False},
    "prompt cache ttl": {"cache_ttl": "5m"},
}


@pytest.mark.parametrize("ingredient", INGREDIENTS)
def test_every_ingredient_of_a_request_changes_its_key(ingredient: str) -> None:
    base = ReplyKey.of("openai", _request(), ("https://api.test/v1", "acct"))
    changed = ReplyKey.of("openai", _request(**INGREDIENTS[ingredient]), (base.base_url, "acct"))
    assert changed.fingerprint != base.fingerprint
    assert changed.digest != base.digest


def test_the_provider_base_url_and_account_change_the_key_but_not_the_fingerprint() -> None:
    request = _request()
    base = ReplyKey.of("openai", request, ("https://api.test/v1", "acct"))
    for other in (
        ReplyKey.of("openai-chat", request, ("https://api.test/v1", "acct")),
        ReplyKey.of("openai", request, ("https://other.test/v1", "acct")),
        ReplyKey.of("openai", request, ("https://api.test/v1", "acct-2")),
    ):
        assert other.fingerprint == base.fingerprint
        assert other.digest != base.digest


def test_the_timeout_and_key_order_do_not_change_the_key() -> None:
    base = ReplyKey.of("openai", _request())
    assert ReplyKey.of("openai", _request(timeout=5.0)).digest == base.digest
    reordered = _request(options={"b": 1, "a": 2})
    assert fingerprint(reordered) == fingerprint(_request(options={"a": 2, "b": 1}))


def test_media_count_by_their_content(tmp_path: Path) -> None:
    file = tmp_path / "pixel.png"
    file.write_bytes(PNG)

    def with_media(media: Image, name: str | None = None) -> Request:
        return _request(messages=(Message.user((TextPart("Describe"), MediaPart(media, name))),))

    from_bytes = fingerprint(with_media(Image.from_bytes(PNG, filename="pixel.png")))
    assert fingerprint(with_media(Image.from_path(file))) == from_bytes  # the same content
    assert fingerprint(with_media(Image.from_bytes(PNG, filename="pixel.png"), "p")) == from_bytes
    assert fingerprint(with_media(Image.from_bytes(PNG + b"\x01", filename="pixel.png"))) != (
        from_bytes
    )
    assert fingerprint(with_media(Image.from_bytes(PNG))) != from_bytes  # no file name sent
    assert fingerprint(with_media(Image.from_bytes(PNG, detail="low"))) != from_bytes
    big = Image.from_bytes(PNG + b"\x00" * 100_000)
    # The digest stands for the bytes: the canonical form holds no base64 of them.
    from alloy._codec import _dump_request  # pyright: ignore[reportPrivateUsage]
    from alloy._codec import _media_digest  # pyright: ignore[reportPrivateUsage]

    dumped = json.dumps(_dump_request(with_media(big), _media_digest))
    assert len(dumped) < 2_000 and big.sha256 in dumped


def test_the_key_is_the_same_in_another_process() -> None:
    code = (
        "import json, sys\n"
        "from alloy._messages import Message, Request\n"
        "from alloy._replay import ReplyKey\n"
        "r = Request('m', (Message.user('hi'),), options={'z': 1, 'a': {'y': 2, 'b': 3}})\n"
        "print(ReplyKey.of('openai', r, ('u', 'a')).digest)\n"
    )
    digests = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**__import__("os").environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    here = Request("m", (Message.user("hi"),), options={"a": {"b": 3, "y": 2}, "z": 1})
    assert digests == {ReplyKey.of("openai", here, ("u", "a")).digest}


def test_the_summary_shows_the_last_user_text_and_the_tools() -> None:
    long = "x" * 100
    request = _request(messages=(Message.user("first"), Message.user(long)))
    assert summary(ReplyKey.of("anthropic", request)) == {
        "provider": "anthropic",
        "model": "gpt-test",
        "prompt": "x" * 80 + "…",
        "tools": ["lookup"],
    }


# --- hits, misses, expiry ---------------------------------------------------------------------


def test_an_identical_call_is_answered_from_the_cache(
    fake: FakeBackend, cache: ResponseCache
) -> None:
    with use_config(response_cache=cache):
        first = shout.run("hi")
        second = shout.run("hi")
        other = shout.run("ho")
    assert len(fake.requests) == 2
    assert (first.cached, second.cached, other.cached) == (False, True, False)
    assert second.value == first.value == "SHOUT HI."
    assert second.usage == first.usage == second.cached_usage
    assert first.cached_usage is None


def test_a_reply_older_than_the_ttl_is_a_miss_and_is_replaced(
    fake: FakeBackend, tmp_path: Path
) -> None:
    cache = ResponseCache(tmp_path / "alloy.db", ttl=0.3)
    with use_config(response_cache=cache):
        shout("hi")
        assert shout.run("hi").cached
        time.sleep(0.4)
        assert not shout.run("hi").cached
        assert shout.run("hi").cached
    assert len(fake.requests) == 2


def test_a_reader_with_a_shorter_ttl_than_the_writer_sees_a_miss(
    fake: FakeBackend, tmp_path: Path
) -> None:
    path = tmp_path / "alloy.db"
    with use_config(response_cache=ResponseCache(path)):
        shout("hi")
    time.sleep(0.15)
    with use_config(response_cache=ResponseCache(path, ttl=0.1)):
        assert not shout.run("hi").cached
    assert len(fake.requests) == 2


def test_the_cache_can_be_turned_off_per_command_and_per_call(
    fake: FakeBackend, cache: ResponseCache
) -> None:
    with use_config(response_cache=cache):
        shout("hi")
        assert shout.run("hi").cached
        assert not shout.with_config(response_cache=False).run("hi").cached
        assert alloy.ask("Shout hi.", response_cache=False) == "SHOUT HI."
    assert len(fake.requests) == 3


def test_a_cache_without_a_path_uses_the_store_setting(fake: FakeBackend, tmp_path: Path) -> None:
    path = tmp_path / "configured.db"
    with use_config(store=str(path), response_cache=ResponseCache()):
        shout("hi")
        assert shout.run("hi").cached
    assert path.exists()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT provider, model FROM responses").fetchall() == [
            ("fake", "gpt-5-mini")
        ]


def test_clear_deletes_every_reply(fake: FakeBackend, cache: ResponseCache) -> None:
    with use_config(response_cache=cache):
        shout("a")
        shout("b")
        assert cache.clear() == 2
        assert not shout.run("a").cached
    assert len(fake.requests) == 3


def test_errors_are_not_kept(cache: ResponseCache) -> None:
    fake = FakeBackend()
    fake.add_error(alloy.ProviderError("down", provider="fake", status_code=500, retryable=True))
    fake.add_reply(text="up")
    with use_backend(fake), use_config(response_cache=cache, max_retries=0):
        with pytest.raises(alloy.ProviderError):
            shout("x")
        assert shout("x") == "up"
        assert shout.run("x").cached
    assert len(fake.requests) == 2


def test_a_stream_closed_early_is_not_kept(cache: ResponseCache) -> None:
    fake = FakeBackend(lambda request: "A LONG REPLY " * 10, chunk_chars=4)
    with use_backend(fake), use_config(response_cache=cache):
        with shout.stream("x") as stream:
            next(iter(stream))
        assert not shout.run("x").cached
        assert shout.run("x").cached
    assert len(fake.requests) == 2


def test_a_reply_that_cannot_be_kept_is_returned_and_logged(
    cache: ResponseCache, caplog: pytest.LogCaptureFixture
) -> None:
    odd = Response("odd", provider_data=ProviderData("fake", object()))
    fake = FakeBackend(lambda request: odd)
    with use_backend(fake), use_config(response_cache=cache), caplog.at_level(logging.WARNING):
        assert shout("x") == "odd"
        assert shout("x") == "odd"
    assert len(fake.requests) == 2
    assert "reply not kept" in caplog.text


def test_a_row_that_cannot_be_read_is_a_miss_and_is_replaced(
    fake: FakeBackend, cache: ResponseCache, tmp_path: Path
) -> None:
    with use_config(response_cache=cache):
        shout("x")
        with sqlite3.connect(tmp_path / "alloy.db") as conn:
            conn.execute('UPDATE responses SET body = \'{"v": 999, "kind": "response"}\'')
        assert not shout.run("x").cached
        assert shout.run("x").cached


# --- cost and charges -------------------------------------------------------------------------


def test_a_cached_call_costs_nothing_and_a_map_of_them_too(
    fake: FakeBackend, cache: ResponseCache
) -> None:
    with use_config(response_cache=cache):
        live = shout.run("x")
        hit = shout.run("x")
        shout.map(["a", "b"])
        again = shout.map(["a", "b"])
    assert live.cost is None and live.cost_unknown_reason  # the fake has no price
    assert hit.cost is not None and hit.cost.usd == 0 and hit.cost_unknown_reason is None
    assert again.cost == 0
    assert len(fake.requests) == 3


def test_a_partly_cached_call_costs_what_its_requests_took() -> None:
    from alloy._result import Result

    part = alloy.Usage.of(input_tokens=1_000, output_tokens=100)
    whole = part + alloy.Usage.of(input_tokens=10, output_tokens=5)
    result = Result("v", "v", whole, "gpt-4o", "openai", "stop", (), 1, 0.1, pricing="openai")
    mixed = dataclasses.replace(result, cached_usage=part)
    live = dataclasses.replace(result, usage=alloy.Usage.of(input_tokens=10, output_tokens=5))
    assert mixed.cost == live.cost


def test_a_cached_call_is_not_charged_to_a_budget(fake: FakeBackend, cache: ResponseCache) -> None:
    with use_config(response_cache=cache):
        shout("x")
        with alloy.budget(tokens=1) as spent:  # the worst case of any call is over 1 token
            assert shout.run("x").cached
            with pytest.raises(alloy.BudgetExceeded):
                shout("y")
    assert spent.spent_tokens == 0


def test_a_cached_call_does_not_wait_for_the_rate_limit(
    fake: FakeBackend, cache: ResponseCache
) -> None:
    done = threading.Event()

    def second() -> None:
        assert shout.run("x").cached
        done.set()

    with use_config(response_cache=cache, rate_limit=1):  # one request a minute
        shout("x")
        import contextvars

        threading.Thread(target=contextvars.copy_context().run, args=(second,)).start()
        assert done.wait(10), "the cached call waited for the rate limit"


def test_observers_are_told_a_call_is_cached(fake: FakeBackend, cache: ResponseCache) -> None:
    seen: list[tuple[bool, bool]] = []

    class Watching(Observer):
        def model_finished(self, call: ModelCall, response: Response) -> None:
            seen.append((call.cached, response.cached))

    with use_config(response_cache=cache), observe(Watching()):
        shout("x")
        shout("x")
        with shout.stream("x") as stream:
            list(stream)
        asyncio.run(shout.async_("x"))
    assert seen == [(False, False), (True, True), (True, True), (True, True)]


def test_a_tool_loop_partly_cached_says_so(cache: ResponseCache) -> None:
    clock = iter(range(100))

    @tool
    def now() -> int:
        """The time."""
        return next(clock)

    @command(tools=[now])
    def when() -> str:
        """What time is it?"""
        ...

    def reply(request: Request) -> Any:
        if len(request.messages) == 1:
            from alloy.backends import ToolCall

            call = ToolCall("c1", "now", "{}")
            return Response("", (call,), "tool_calls", usage=alloy.Usage.of(7, 3))
        return "later"

    fake = FakeBackend(reply)
    with use_backend(fake), use_config(response_cache=cache):
        first = when.run()
        second = when.run()  # the tool's answer differs: only the first turn is stored
    assert len(fake.requests) == 3
    assert not second.cached
    assert not first.cached and first.cached_usage is None
    assert second.cached_usage == alloy.Usage.of(7, 3)  # the tool turn's, as recorded


# --- single flight ----------------------------------------------------------------------------


def test_an_identical_call_made_while_reading_a_stream_does_not_wait_for_itself(
    cache: ResponseCache,
) -> None:
    fake = FakeBackend(lambda request: "A LONG REPLY " * 10, chunk_chars=4)
    out: list[str] = []

    def body() -> None:
        with use_backend(fake), use_config(response_cache=cache), shout.stream("x") as stream:
            for _ in stream:
                out.append(shout("x"))  # a stream leads no flight: this call is not held
                break

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    thread.join(10)
    assert not thread.is_alive(), "the call waited for the stream it was made in"
    assert out == ["A LONG REPLY " * 10]


async def test_an_identical_call_made_while_reading_an_async_stream_does_not_wait(
    cache: ResponseCache,
) -> None:
    fake = FakeBackend(lambda request: "A LONG REPLY " * 10, chunk_chars=4)
    with use_backend(fake), use_config(response_cache=cache):
        async with shout.stream_async("x") as stream:
            async for _ in stream:
                assert await asyncio.wait_for(shout.async_("x"), 10) == "A LONG REPLY " * 10
                break


# --- the setting ------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["yes", True, 1, object()])
def test_the_setting_takes_a_cache_or_false(bad: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"response_cache=.*alloy\.ResponseCache"):
        alloy.configure(response_cache=bad)


@pytest.mark.parametrize("ttl", [0, -1, "7d", True])
def test_a_ttl_is_a_positive_number_of_seconds(ttl: Any) -> None:
    with pytest.raises(ConfigurationError, match="ttl"):
        ResponseCache(ttl=ttl)


def test_a_cache_pickles_copies_as_itself_and_shows_its_settings(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "a.db", ttl=60)
    assert repr(cache) == f"ResponseCache(path={str(tmp_path / 'a.db')!r}, ttl=60.0)"
    back = pickle.loads(pickle.dumps(cache))
    assert (back.path, back.ttl) == (cache.path, 60.0)
    assert copy.deepcopy(cache) is cache
    cfg = alloy.Config(response_cache=cache)
    assert pickle.loads(pickle.dumps(cfg)).response_cache.ttl == 60.0


def test_the_summary_leaves_a_context_s_documents_out() -> None:
    from alloy import Context

    context = Context(system="s", documents=["A long contract. " * 20])
    request = _request(
        context=context,
        messages=(Message.user((TextPart("A long contract. " * 20), TextPart("Notice?"))),),
    )
    assert summary(ReplyKey.of("gemini", request))["prompt"] == "Notice?"
