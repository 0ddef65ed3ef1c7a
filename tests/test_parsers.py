"""Parser hooks: ``register_type`` and ``Annotated`` validators, on the fake backend and the
pure schema and validation paths (the end-to-end suites run the same types on every backend)."""

from __future__ import annotations

import json
import pickle
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Annotated
from typing import Any
from typing import TypedDict

import pytest
from pydantic import PlainValidator
from pydantic import WithJsonSchema

from alloy import ConfigurationError
from alloy import OutputValidationError
from alloy import command
from alloy import register_type
from alloy._output import output_spec
from alloy._schema import dialect
from alloy._tool_results import serialize
from alloy._tools import Tool
from alloy.backends._schema_values import schema_value
from alloy.testing import FakeBackend
from alloy.testing import use_backend
from tests.output_types import MONEY_SCHEMA
from tests.output_types import Money
from tests.output_types import Priced


@pytest.fixture
def fake() -> Any:
    backend = FakeBackend()
    with use_backend(backend):
        yield backend


@dataclass
class Order:
    ref: str
    total: Money


class Ledger(TypedDict):
    balance: Money


@command
def price(text: str) -> Money:
    """The price in: {text}"""
    ...


@pytest.mark.parametrize(
    ("tp", "reply", "value"),
    [
        (list[Money], {"value": ["EUR 1.00", "USD 2.50"]}, [Money("EUR", 100), Money("USD", 250)]),
        (dict[str, Money], {"a": "JPY 3.00"}, {"a": Money("JPY", 300)}),  # an object: not wrapped
        (Money | None, {"value": None}, None),
        (Order, {"ref": "A1", "total": "EUR 9.99"}, Order("A1", Money("EUR", 999))),
        (Ledger, {"balance": "CHF 0.05"}, {"balance": Money("CHF", 5)}),
        (Priced, {"item": "x", "prices": []}, Priced(item="x", prices=[])),
    ],
)
def test_a_registered_type_works_inside_any_container(tp: Any, reply: Any, value: Any) -> None:
    spec = output_spec(tp, "t")
    assert spec.parse(json.dumps(reply)) == value
    assert "^[A-Z]{3} [0-9]+[.][0-9]{2}$" in json.dumps(spec.schema.schema if spec.schema else {})


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        ('{"value": 5}', "TypeError: expected text like 'EUR 12.50', not int"),
        ('{"value": "eur 1.00"}', "'eur' is not a three-letter currency code"),
        ('{"value": "EUR lots"}', "Money could not be read: InvalidOperation"),
    ],
)
def test_any_exception_from_parse_is_a_validation_error(reply: str, message: str) -> None:
    spec = output_spec(Money, "t")
    with pytest.raises(OutputValidationError) as caught:
        spec.parse(reply)
    assert message in caught.value.errors[0]["msg"]
    assert caught.value.errors[0]["loc"] == ("value",)
    assert pickle.loads(pickle.dumps(caught.value)).errors == caught.value.errors


def test_a_failing_parse_is_re_asked_with_its_message(fake: FakeBackend) -> None:
    fake.add_reply(json=7)
    fake.add_reply(json="EUR 4.20")
    result = price.run("four twenty")
    assert result.value == Money("EUR", 420)
    assert result.attempts == 2
    followup = str(fake.requests[1].messages[-1])
    assert "expected text like 'EUR 12.50', not int" in followup


def test_the_fake_makes_values_the_parse_accepts(fake: FakeBackend) -> None:
    assert isinstance(price("anything"), Money)  # from the schema's pattern
    assert schema_value(MONEY_SCHEMA) == "AAA 0.00"

    class Stamp:
        def __init__(self, text: str) -> None:
            if not text.startswith("#"):
                raise ValueError("a stamp starts with #")
            self.text = text

    register_type(Stamp, schema={"type": "string", "examples": ["#42"]}, parse=Stamp)

    @command(output=Stamp)
    def stamp(text: str) -> str:
        return f"A stamp for {text}"

    assert stamp("x").text == "#42"


def test_a_user_annotated_validator_that_raises_is_a_validation_error() -> None:
    def boom(value: Any) -> int:
        raise KeyError(value)

    tp = Annotated[int, PlainValidator(boom), WithJsonSchema({"type": "integer"})]
    with pytest.raises(OutputValidationError, match="KeyError"):
        output_spec(tp, "t").parse('{"value": 1}')


EuroCents = Annotated[
    Money,
    PlainValidator(lambda v: Money("EUR", int(v))),
    WithJsonSchema({"type": "integer", "description": "euro cents"}),
]


def test_annotated_overrides_the_registry_for_one_command(fake: FakeBackend) -> None:
    @command
    def in_cents(text: str) -> EuroCents:
        """Euro cents in: {text}"""
        ...

    fake.add_reply(json=250)
    assert in_cents("x") == Money("EUR", 250)
    sent = fake.requests[0].output
    assert sent is not None and sent.schema["properties"]["value"]["type"] == "integer"


def pay(amount: Money, to: str) -> str:
    """Pay an amount to someone."""
    return f"paid {amount.dump()} to {to}"


def test_a_registered_type_as_a_tool_argument() -> None:
    t = Tool(pay)
    assert t.spec().parameters["properties"]["amount"]["pattern"] == MONEY_SCHEMA["pattern"]
    assert t.parse('{"amount": "EUR 3.10", "to": "Ann"}') == {
        "amount": Money("EUR", 310),
        "to": "Ann",
    }
    with pytest.raises(Exception, match="expected text like") as caught:
        t.parse('{"amount": 3, "to": "Ann"}')
    assert type(caught.value).__name__ == "ToolError"


def test_an_invalid_tool_argument_goes_back_to_the_model(fake: FakeBackend) -> None:
    @command(tools=[pay])
    def settle(text: str) -> str:
        """Settle: {text}"""
        ...

    fake.add_reply(tool_calls=[("pay", {"amount": "EUR three", "to": "Ann"})])
    fake.add_reply(tool_calls=[("pay", {"amount": "EUR 3.00", "to": "Ann"})])
    fake.add_reply("done")
    result = settle.run("pay Ann")
    first, second = result.tool_calls
    assert first.error is not None and "could not be read" in first.error
    assert second.result == "paid EUR 3.00 to Ann"


def test_a_tool_returning_a_registered_type_is_dumped() -> None:
    assert serialize(Money("EUR", 5)) == '"EUR 0.05"'
    assert serialize([Money("USD", 100)]) == '["USD 1.00"]'
    assert Priced(item="x", prices=[Money("EUR", 1)]).model_dump_json() == (
        '{"item":"x","prices":["EUR 0.01"]}'
    )


@pytest.mark.parametrize(
    ("schema", "strict"),
    [
        (MONEY_SCHEMA, True),
        (  # an object schema is closed by the dialect, so strict mode still applies
            {
                "type": "object",
                "properties": {"currency": {"type": "string"}, "cents": {"type": "integer"}},
                "required": ["currency", "cents"],
            },
            True,
        ),
        ({"type": "object", "additionalProperties": {"type": "integer"}}, False),
    ],
)
def test_the_openai_dialect_takes_a_registered_schema(schema: Any, strict: bool) -> None:
    class Thing:
        pass

    register_type(Thing, schema=schema, parse=lambda v: Thing())
    spec = output_spec(list[Thing], "t")
    assert spec.schema is not None
    result = dialect("openai")(spec.schema.schema)
    assert result.strict is strict
    for name in ("anthropic", "gemini", "ollama"):
        assert dialect(name)(spec.schema.schema).schema["properties"]["value"]["type"] == "array"


def test_registering_again_is_checked() -> None:
    class Code:
        def __init__(self, text: str) -> None:
            self.text = text

    schema = {"type": "string"}
    register_type(Code, schema=schema, parse=Code)
    register_type(Code, schema=dict(schema), parse=Code)  # the same definition: no change
    with pytest.raises(ConfigurationError, match="replace=True"):
        register_type(Code, schema={"type": "integer"}, parse=Code)
    register_type(Code, schema={"type": "integer"}, parse=lambda v: Code(str(v)), replace=True)
    assert output_spec(Code, "t").parse('{"value": 3}').text == "3"


@pytest.mark.parametrize(
    ("tp", "kwargs", "message"),
    [
        (int, {}, "does not accept new attributes"),
        (Priced, {}, "already describes itself to pydantic"),
        ("Money", {}, "give a class"),
        (type("A", (), {}), {"schema": {"x": {1, 2}}}, "not plain JSON"),
        (type("B", (), {}), {"schema": ["string"]}, "must be a dict"),
        (type("C", (), {}), {"parse": "Money.parse"}, "must be callables"),
    ],
)
def test_registration_errors_say_what_to_do(tp: Any, kwargs: Any, message: str) -> None:
    arguments: dict[str, Any] = {"schema": {"type": "string"}, "parse": str, **kwargs}
    with pytest.raises(ConfigurationError, match=message):
        register_type(tp, **arguments)


def test_concurrent_registrations_agree() -> None:
    class Tag:
        def __init__(self, text: str) -> None:
            self.text = text

    def register(_: int) -> None:
        register_type(Tag, schema={"type": "string"}, parse=Tag)

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(register, range(8)))  # re-raises what any of them raised
    assert output_spec(Tag, "t").parse('{"value": "x"}').text == "x"


def test_a_command_with_a_registered_output_pickles_by_reference() -> None:
    assert pickle.loads(pickle.dumps(price)) is price
    assert pickle.loads(pickle.dumps(Money("EUR", 1))) == Money("EUR", 1)
