"""Typing tests: checked by pyright strict and mypy strict in `make test`, never run.

`assert_type` states what the checkers must infer; a line with an expected error carries an
ignore comment, which fails the check (unused-ignore reporting is on) if the error vanishes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from typing_extensions import assert_type

from alloy import AsyncCommand, Command, Result, ask, command


@dataclass
class Invoice:
    vendor: str
    total: float


@command(output=Invoice)
def extract_invoice(text: str) -> str:
    return f"Extract: {text}"


@command
def classify(text: str) -> Literal["spam", "ham"]:
    """Classify {text}."""
    ...


@command(temperature=0)
def count(text: str, limit: int = 10) -> int:
    """Count the words in {text}, up to {limit}."""
    ...


@command
async def summarize(text: str) -> str:
    """Summarize {text}."""
    ...


@command(output=None)
def notify(who: str) -> str:
    return f"Notify {who}"


def check_sync_commands() -> None:
    as_command: Command[..., Invoice] = extract_invoice
    assert_type(extract_invoice("x"), Invoice)
    assert_type(extract_invoice.run("x"), Result[Invoice])
    assert_type(extract_invoice.prompt("x"), str)
    assert_type(extract_invoice.with_config(temperature=0)("x"), Invoice)
    del as_command
    assert_type(classify("x"), Literal["spam", "ham"])
    assert_type(count("x", limit=3), int)
    assert_type(notify("ops"), None)


async def check_async_methods() -> None:
    assert_type(await extract_invoice.async_("x"), Invoice)
    assert_type(await extract_invoice.run_async("x"), Result[Invoice])
    as_async: AsyncCommand[..., str] = summarize
    del as_async
    assert_type(await summarize("x"), str)
    assert_type(await summarize.run("x"), Result[str])


def check_ask() -> None:
    assert_type(ask("hi"), str)
    assert_type(ask("hi", output=int), int)
    assert_type(ask("hi", output=Invoice), Invoice)


def check_misuse() -> None:
    extract_invoice(3)  # type: ignore[arg-type]
    count("x", limt=3)  # type: ignore[call-arg]
