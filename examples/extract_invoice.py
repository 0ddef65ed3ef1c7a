"""Typed extraction: the reply becomes a real dataclass, validated field by field.

Prints, offline on the fake backend (with OPENAI_API_KEY set, OpenAI's own answers):

    (no OPENAI_API_KEY: running offline on alloy's fake backend, with scripted replies)
    vendor: ACME Corp, total: 49.99
      - 2 x widgets: 30.00
      - shipping: 19.99
    model: gpt-5-mini via fake, tokens: 38
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from typing import Any

from _demo import provider

from alloy import command


@dataclass
class LineItem:
    description: str
    amount: float


@dataclass
class Invoice:
    vendor: Annotated[str, "the company that issued the invoice"]
    total: float
    items: list[LineItem]


@command(output=Invoice)
def extract_invoice(text: str) -> str:
    return f"Extract the invoice from this text:\n{text}"


TEXT = """ACME Corp - invoice 1042
2 x widgets ........ 30.00
shipping ........... 19.99
TOTAL DUE: $49.99"""


def offline(_request: Any) -> dict[str, Any]:
    return {
        "vendor": "ACME Corp",
        "total": 49.99,
        "items": [
            {"description": "2 x widgets", "amount": 30.0},
            {"description": "shipping", "amount": 19.99},
        ],
    }


def main() -> None:
    with provider(offline):
        result = extract_invoice.run(TEXT)
    invoice = result.value
    assert isinstance(invoice, Invoice)
    print(f"vendor: {invoice.vendor}, total: {invoice.total:.2f}")
    for item in invoice.items:
        print(f"  - {item.description}: {item.amount:.2f}")
    print(f"model: {result.model} via {result.provider}, tokens: {result.usage.total_tokens}")


if __name__ == "__main__":
    main()
