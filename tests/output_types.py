"""The output types of SPEC §3, with a valid JSON reply and the value it must give.

Shared by the unit tests and the end-to-end suites, so every backend sees the same cases.
"""

from __future__ import annotations

import datetime
import enum
import uuid
from dataclasses import dataclass
from dataclasses import field
from datetime import timezone
from decimal import Decimal
from typing import Annotated
from typing import Any
from typing import Literal
from typing import Optional
from typing import TypedDict
from typing import Union

from pydantic import BaseModel
from pydantic import Field
from pydantic import field_validator
from typing_extensions import NotRequired

from alloy import register_type

UTC = timezone.utc


@dataclass
class Address:
    street: str
    city: str


@dataclass
class Person:
    name: Annotated[str, "full name"]
    age: int
    address: Address
    tags: list[str] = field(default_factory=list)


class Movie(TypedDict):
    title: str
    year: int


class PartialMovie(TypedDict, total=False):
    title: str
    year: int


class Review(TypedDict):
    stars: int
    note: NotRequired[str]


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"


class Invoice(BaseModel):
    vendor: str = Field(description="who issued the invoice")
    total: float

    @field_validator("vendor")
    @classmethod
    def vendor_is_upper(cls, value: str) -> str:
        if value != value.upper():
            raise ValueError("vendor must be upper case")
        return value


class Cat(BaseModel):
    kind: Literal["cat"]
    lives: int


class Dog(BaseModel):
    kind: Literal["dog"]
    good: bool


class Money:
    """An amount in a currency, written ``"EUR 12.50"`` on the wire: a class pydantic cannot
    describe or validate by itself, taught to it with ``register_type``."""

    __slots__ = ("cents", "currency")

    def __init__(self, currency: str, cents: int) -> None:
        self.currency = currency
        self.cents = cents

    @classmethod
    def parse(cls, value: object) -> Money:
        # Deliberately not only ValueError: a TypeError and decimal's InvalidOperation (an
        # ArithmeticError) must become validation errors too.
        if not isinstance(value, str):
            raise TypeError(f"expected text like 'EUR 12.50', not {type(value).__name__}")
        currency, _, amount = value.partition(" ")
        if len(currency) != 3 or not currency.isupper():
            raise ValueError(f"{currency!r} is not a three-letter currency code")
        return cls(currency, int(Decimal(amount) * 100))

    def dump(self) -> str:
        return f"{self.currency} {self.cents // 100}.{self.cents % 100:02d}"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and (other.currency, other.cents) == (
            self.currency,
            self.cents,
        )

    def __hash__(self) -> int:
        return hash((self.currency, self.cents))

    def __repr__(self) -> str:
        return f"Money({self.dump()!r})"


MONEY_SCHEMA = {
    "type": "string",
    "pattern": "^[A-Z]{3} [0-9]+[.][0-9]{2}$",
    "description": "an amount and its currency, like 'EUR 12.50'",
}
register_type(Money, schema=MONEY_SCHEMA, parse=Money.parse, dump=Money.dump)


class Priced(BaseModel):
    item: str
    prices: list[Money]


@dataclass(frozen=True)
class Case:
    id: str
    type: Any
    reply: Any  # the JSON value a model sends (before any {"value": ...} wrapping)
    value: Any  # what the command must return


CASES: list[Case] = [
    Case("str", str, None, None),  # text output: handled separately (no JSON)
    Case("int", int, 42, 42),
    Case("float", float, 2.5, 2.5),
    Case("bool", bool, False, False),
    Case("list", list[int], [1, 2, 3], [1, 2, 3]),
    Case("tuple", tuple[int, str], [1, "a"], (1, "a")),
    Case("set", set[str], ["a", "b"], {"a", "b"}),
    Case("dict", dict[str, float], {"a": 1.5}, {"a": 1.5}),
    Case(
        "dataclass",
        Person,
        {"name": "Ada", "age": 36, "address": {"street": "1 Way", "city": "London"}, "tags": []},
        Person("Ada", 36, Address("1 Way", "London"), []),
    ),
    Case("typeddict", Movie, {"title": "Heat", "year": 1995}, {"title": "Heat", "year": 1995}),
    Case("typeddict-partial", PartialMovie, {"title": "Heat"}, {"title": "Heat"}),
    Case("typeddict-notrequired", Review, {"stars": 4}, {"stars": 4}),
    Case("basemodel", Invoice, {"vendor": "ACME", "total": 9.5}, Invoice(vendor="ACME", total=9.5)),
    Case("enum", Color, "green", Color.GREEN),
    Case("literal", Literal["spam", "ham"], "ham", "ham"),
    Case("optional-some", Optional[int], 5, 5),  # noqa: UP045 - the spelling under test
    Case("optional-none", int | None, None, None),
    Case("union", Union[int, str], "x", "x"),  # noqa: UP007 - the spelling under test
    Case(
        "discriminated",
        Annotated[Cat | Dog, Field(discriminator="kind")],
        {"kind": "dog", "good": True},
        Dog(kind="dog", good=True),
    ),
    Case("nested", dict[str, list[Movie]], {"a": [{"title": "X", "year": 1}]}, {"a": [{"title": "X", "year": 1}]}),  # noqa: E501
    Case("datetime", datetime.datetime, "2024-05-01T10:00:00Z", datetime.datetime(2024, 5, 1, 10, tzinfo=UTC)),  # noqa: E501
    Case("date", datetime.date, "2024-05-01", datetime.date(2024, 5, 1)),
    Case("uuid", uuid.UUID, "12345678-1234-5678-1234-567812345678", uuid.UUID(int=0x12345678123456781234567812345678)),  # noqa: E501
    Case("decimal", Decimal, "12.50", Decimal("12.50")),
    Case("annotated", Annotated[int, "a score from 1 to 5"], 3, 3),
    Case("registered", Money, "EUR 12.50", Money("EUR", 1250)),
    Case("registered-in-model", Priced, {"item": "tea", "prices": ["GBP 2.05"]}, Priced(item="tea", prices=[Money("GBP", 205)])),  # noqa: E501
]  # fmt: skip

JSON_CASES = [c for c in CASES if c.id != "str"]
