"""Typing tests: checked by pyright strict and mypy strict in `make test`, never run.

`assert_type` states what the checkers must infer. A line that must NOT type-check carries an
ignore comment naming the error; with unused-ignore reporting on in both checkers, the check
fails if that error ever disappears.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from typing import Literal

from typing_extensions import assert_type

import alloy
import alloy.batches
from alloy import AsyncCommand
from alloy import AsyncStream
from alloy import BatchJob
from alloy import BatchStatus
from alloy import Command
from alloy import Conversation
from alloy import Cost
from alloy import MapResult
from alloy import Outcome
from alloy import Result
from alloy import Stream
from alloy import Tool
from alloy import ask
from alloy import command
from alloy import tool
from alloy.backends import Message


@dataclass
class Invoice:
    vendor: str
    total: float


class Team(enum.Enum):
    BILLING = "billing"
    SALES = "sales"


# Style 1: the body returns the prompt, output= names the type.
@command(output=Invoice)
def extract_invoice(text: str) -> str:
    return f"Extract: {text}"


@command(output=list[Invoice])
def extract_all(text: str, limit: int = 10) -> str:
    return f"Extract up to {limit} invoices: {text}"


@command(output=Team)
def route(ticket: str) -> str:
    return f"Route: {ticket}"


# Style 2: the annotation is the output type; the docstring (with `...`) is the prompt.
@command
def classify(text: str) -> Literal["spam", "ham"]:
    """Classify {text}."""
    ...


@command(temperature=0, max_tokens=50)
def count(text: str, limit: int = 10) -> int:
    """Count the words in {text}, up to {limit}."""
    ...


@command
def summarize(text: str) -> str:
    """Summarize {text}."""
    ...


@command
async def summarize_async(text: str) -> str:
    """Summarize {text}."""
    ...


@command
async def extract_async(text: str) -> Invoice:
    """Extract an invoice from {text}."""
    ...


@command(output=Literal["low", "high"])
def urgency(ticket: str) -> str:
    return f"How urgent: {ticket}"


@command(output=int | None)
def maybe_count(text: str) -> str:
    return f"Count, if you can: {text}"


@command(output=None)
def notify(who: str) -> str:
    return f"Notify {who}"


@tool
def add(a: int, b: int = 1) -> int:
    """Add two numbers."""
    return a + b


@command(tools=[add])
def calculate(question: str) -> float:
    """Answer {question} with the tools."""
    ...


def check_sync_command() -> None:
    assert_type(extract_invoice("x"), Invoice)
    assert_type(extract_invoice.run("x"), Result[Invoice])
    assert_type(extract_invoice.run("x").value, Invoice)
    assert_type(
        extract_invoice.run("x").finish,
        Literal["stop", "length", "refusal", "content_filter", "tool_calls"] | None,
    )
    assert_type(extract_invoice.run("x").cost, Cost | None)
    assert_type(extract_invoice.run("x").cost_unknown_reason, str | None)
    cost = extract_invoice.run("x").cost
    if cost is not None:
        assert_type(cost.usd, Decimal)
    assert_type(extract_invoice.prompt("x"), str)
    assert_type(extract_invoice.with_config(temperature=0)("x"), Invoice)
    assert_type(extract_invoice.stream("x"), Stream[Invoice])
    assert_type(extract_invoice.stream("x").result(), Result[Invoice])
    assert_type(extract_invoice.stream_async("x"), AsyncStream[Invoice])
    assert_type(extract_all("x", limit=3), list[Invoice])
    assert_type(route("x"), Team)
    assert_type(classify("x"), Literal["spam", "ham"])
    assert_type(count("x", limit=3), int)
    assert_type(summarize("x"), str)
    assert_type(notify("ops"), None)
    # Type forms that are not classes (Literal, unions) cannot be named by type[T] yet:
    # the value is Any, never wrongly the annotation's str, and the arguments are still checked.
    assert_type(urgency("x"), Any)
    assert_type(maybe_count("x"), Any)
    urgency(1)  # type: ignore[arg-type]
    assert_type(calculate("1+1"), float)
    as_command: Command[..., Invoice] = extract_invoice
    del as_command


async def check_async_methods() -> None:
    assert_type(await extract_invoice.async_("x"), Invoice)
    assert_type(await extract_invoice.run_async("x"), Result[Invoice])
    assert_type(await extract_invoice.stream_async("x").result(), Result[Invoice])


async def check_async_command() -> None:
    assert_type(await summarize_async("x"), str)
    assert_type(await summarize_async.async_("x"), str)
    assert_type(await summarize_async.run("x"), Result[str])
    assert_type(await summarize_async.run_async("x"), Result[str])
    assert_type(await summarize_async.prompt("x"), str)
    assert_type(summarize_async.stream("x"), AsyncStream[str])
    assert_type(await extract_async("x"), Invoice)
    assert_type(await extract_async.with_config(model="fake:x")("x"), Invoice)
    as_async: AsyncCommand[..., Invoice] = extract_async
    del as_async


def check_ask() -> None:
    assert_type(ask("hi"), str)
    assert_type(ask("hi", output=int), int)
    assert_type(ask("hi", output=Invoice, temperature=0), Invoice)
    assert_type(ask.stream("hi"), Stream[str])
    assert_type(ask.stream("hi", output=Invoice), Stream[Invoice])
    assert_type(ask.stream_async("hi"), AsyncStream[str])


async def check_ask_async() -> None:
    assert_type(await ask.async_("hi"), str)
    assert_type(await ask.async_("hi", output=list[int]), list[int])


def check_tool() -> None:
    as_tool: Tool[..., int] = add
    del as_tool
    assert_type(add(1, 2), int)
    assert_type(add(1), int)


def check_misuse() -> None:
    extract_invoice(3)  # type: ignore[arg-type]
    count("x", limt=3)  # type: ignore[call-arg]
    add("one")  # type: ignore[arg-type]
    text: str = extract_invoice("x")  # type: ignore[assignment]
    del text


def check_ask_options() -> None:
    assert_type(ask("hi", tools=[add], context={"k": 1}, system="s", temperature=0.2), str)
    ask("hi", temprature=0.2)  # type: ignore[call-overload]


# A command in a class binds self like a method.
class Shop:
    name = "Tea & Co"

    @command
    def greet(self, customer: str) -> str:
        """Greet {customer} on behalf of {self.name}."""
        ...

    @command
    async def count(self, item: str) -> int:
        """How many {item} does {self.name} sell?"""
        ...


async def bound_commands(shop: Shop) -> None:
    assert_type(shop.greet("Ada"), str)
    assert_type(shop.greet.run("Ada"), Result[str])
    assert_type(Shop.greet(shop, "Ada"), str)
    assert_type(await shop.count.run_async("tea"), Result[int])
    shop.greet(1)  # type: ignore[arg-type]


@command
def names(text: str) -> list[str]:
    """The names in {text}."""
    ...


async def stream_pieces() -> None:
    for piece in summary_stream():
        assert_type(piece, str)
    for name in names.stream("x").items():
        assert_type(name, str)
    async for apiece in ask.stream_async("hi"):
        assert_type(apiece, str)
    async for aname in names.stream_async("x").items():
        assert_type(aname, str)
    extract_invoice.stream("x").items()  # type: ignore[misc]


def summary_stream() -> Stream[str]:
    return ask.stream("hi")


def check_map() -> None:
    mapped = extract_invoice.map(["a", "b"], concurrency=4)
    assert_type(mapped, MapResult[Invoice])
    assert_type(mapped[0], Outcome[Invoice])
    assert_type(mapped.values(), list[Invoice])
    assert_type(mapped[0].value, Invoice)
    assert_type(mapped[0].result, Result[Invoice] | None)
    for outcome in extract_invoice.imap(iter(["a"])):
        assert_type(outcome, Outcome[Invoice])
    assert_type(extract_invoice.starmap([("a",)]), MapResult[Invoice])
    assert_type(extract_async.map(["a"]), MapResult[Invoice])
    for outcome in extract_async.imap(["a"]):
        assert_type(outcome, Outcome[Invoice])
    assert_type(extract_async.starmap([("a",)]), MapResult[Invoice])


async def check_amap() -> None:
    assert_type(await extract_invoice.amap(["a"]), MapResult[Invoice])
    assert_type(await extract_invoice.astarmap([("a",)]), MapResult[Invoice])
    assert_type(await extract_async.astarmap([{"text": "a"}]), MapResult[Invoice])
    assert_type(await extract_async.amap(["a"]), MapResult[Invoice])
    async for outcome in extract_invoice.aimap(["a"]):
        assert_type(outcome, Outcome[Invoice])
    async for outcome in extract_async.aimap(["a"]):
        assert_type(outcome, Outcome[Invoice])


def check_ask_map() -> None:
    assert_type(ask.map(["a"]), MapResult[str])
    assert_type(ask.map(["a"], output=Invoice), MapResult[Invoice])


def check_conversation() -> None:
    chat = Conversation(model="fake:demo", system="Be brief.", temperature=0)
    assert_type(chat.say("hi"), str)
    assert_type(chat.ask("n?", output=int), int)
    assert_type(chat.run(extract_invoice, "x"), Result[Invoice])
    assert_type(chat.stream("hi"), Stream[str])
    assert_type(chat.stream(extract_invoice, "x"), Stream[Invoice])
    assert_type(chat.history, tuple[Message, ...])
    assert_type(chat.fork(), Conversation)
    assert_type(Conversation.from_json(chat.to_json()), Conversation)


async def check_conversation_async() -> None:
    chat = Conversation()
    assert_type(await chat.say_async("hi"), str)
    assert_type(await chat.ask_async("n?", output=Invoice), Invoice)
    assert_type(await chat.run_async(extract_async, "x"), Result[Invoice])
    assert_type(await chat.run_async(extract_invoice, "x"), Result[Invoice])
    assert_type(chat.stream_async("hi"), AsyncStream[str])
    assert_type(chat.stream_async(extract_async, "x"), AsyncStream[Invoice])


def check_batch() -> None:
    job = extract_invoice.batch(["a", "b"], name="december")
    assert_type(job, BatchJob[Invoice])
    assert_type(job.wait(poll=1.0).results(), MapResult[Invoice])
    assert_type(job.status(), BatchStatus)
    assert_type(extract_invoice.batch_job(job.id), BatchJob[Invoice])
    assert_type(extract_async.batch(["a"]), BatchJob[Invoice])
    assert_type(alloy.batches.list(), list[alloy.batches.BatchInfo])


def check_response_cache() -> None:
    from pathlib import Path

    from alloy import ConfigurationError
    from alloy import ResponseCache
    from alloy import Usage
    from alloy import configure
    from alloy import use_config
    from alloy.testing import Cassette
    from alloy.testing import CassetteMiss

    cache = ResponseCache("replies.db", ttl=3600)
    configure(response_cache=cache)
    configure(response_cache=False)
    with use_config(response_cache=ResponseCache()):
        result = extract_invoice.run("x")
    assert_type(result.cached, bool)
    assert_type(result.cached_usage, Usage | None)
    assert_type(cache.clear(), int)
    assert_type(extract_invoice.with_config(response_cache=False)("x"), Invoice)
    ask("hi", response_cache=False)
    with Cassette("c.json", mode="none") as cassette:
        assert_type(cassette.unused, int)
    miss: ConfigurationError = CassetteMiss(Path("c.json"), "none", {}, "holds no reply")
    del miss
    Cassette("c.json", mode="sometimes")  # type: ignore[arg-type]


class Money:
    def __init__(self, text: str) -> None:
        self.text = text

    def dump(self) -> str:
        return self.text


def parse_money(value: object) -> Money:
    return Money(str(value))


def dump_number(value: int) -> str:
    return str(value)


def check_register_type() -> None:
    from alloy import register_type

    schema = {"type": "string", "examples": ["EUR 1.00"]}
    assert_type(register_type(Money, schema=schema, parse=parse_money, dump=Money.dump), None)
    register_type(Money, schema=schema, parse=parse_money, dump=lambda m: m.text, replace=True)
    register_type(Money("x"), schema=schema, parse=parse_money)  # type: ignore[arg-type]
    register_type(Money, schema=schema, parse=parse_money, dump=dump_number)  # type: ignore[arg-type]

    @command
    def price(text: str) -> list[Money]:
        """Prices in {text}"""
        ...

    assert_type(price("x"), list[Money])
