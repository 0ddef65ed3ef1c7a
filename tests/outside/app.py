"""A user's own project, type-checked from outside the repository against the installed
alloy (``make typecheck-outside``): the checkers must see alloy's types, not ``Any``."""

from __future__ import annotations

from dataclasses import dataclass

from typing_extensions import assert_type

from alloy import MapResult
from alloy import Outcome
from alloy import Result
from alloy import command


@dataclass
class Invoice:
    vendor: str
    total: float


@command(output=Invoice)
def extract(text: str) -> str:
    return f"Extract the invoice from: {text}"


@command
def summary(text: str) -> str:
    """Summarise: {text}"""
    ...


def check() -> None:
    assert_type(extract("x"), Invoice)
    assert_type(extract.run("x"), Result[Invoice])
    assert_type(summary("x"), str)
    extract(3)  # type: ignore[arg-type]
    mapped = extract.map(["a", "b"], concurrency=4)
    assert_type(mapped, MapResult[Invoice])
    assert_type(mapped.values(), list[Invoice])
    assert_type(mapped[0], Outcome[Invoice])
