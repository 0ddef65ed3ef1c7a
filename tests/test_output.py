import json
from typing import Any

import pytest

from alloy import ConfigurationError
from alloy import OutputValidationError
from alloy._output import output_spec
from alloy._output import strip_fence
from alloy.backends.fake import schema_value
from tests.output_types import JSON_CASES
from tests.output_types import Case
from tests.output_types import Invoice
from tests.output_types import Person


def _reply(case: Case, wrapped: bool) -> str:
    return json.dumps({"value": case.reply} if wrapped else case.reply)


@pytest.mark.parametrize("case", JSON_CASES, ids=lambda c: c.id)
def test_every_type_round_trips(case: Case) -> None:
    spec = output_spec(case.type, "test")
    assert spec.schema is not None
    schema = spec.schema.schema
    assert schema["type"] == "object"  # wrapped when not an object at the root
    value = spec.parse(_reply(case, spec.schema.wrapped))
    assert value == case.value
    assert type(value) is type(case.value)


@pytest.mark.parametrize(
    # Custom validators (Invoice's upper-case vendor) cannot be satisfied from the schema.
    "case",
    [c for c in JSON_CASES if c.id != "basemodel"],
    ids=lambda c: c.id,
)
def test_schema_driven_fake_values_validate(case: Case) -> None:
    spec = output_spec(case.type, "test")
    assert spec.schema is not None
    text = json.dumps(schema_value(spec.schema.schema))
    spec.parse(text)  # must not raise


def test_object_types_are_not_wrapped_and_others_are() -> None:
    person = output_spec(Person, "t")
    assert person.schema is not None and not person.schema.wrapped
    assert set(person.schema.schema["required"]) == {"name", "age", "address"}
    number = output_spec(int, "t")
    assert number.schema is not None and number.schema.wrapped
    assert number.schema.schema["properties"]["value"] == {"type": "integer"}


def test_bare_value_is_accepted_when_wrapping_was_expected() -> None:
    assert output_spec(list[int], "t").parse("[1, 2]") == [1, 2]


def test_descriptions_are_carried() -> None:
    person = output_spec(Person, "t").schema
    assert person is not None
    assert person.schema["properties"]["name"]["description"] == "full name"
    invoice = output_spec(Invoice, "t").schema
    assert invoice is not None
    assert invoice.schema["properties"]["vendor"]["description"] == "who issued the invoice"
    from tests.output_types import CASES

    annotated = next(c for c in CASES if c.id == "annotated")
    scored = output_spec(annotated.type, "t").schema
    assert scored is not None
    assert scored.schema["properties"]["value"]["description"] == "a score from 1 to 5"


@pytest.mark.parametrize(
    ("tp", "text"),
    [
        (int, '{"value": "3"}'),
        (int, '{"value": 3.7}'),
        (bool, '{"value": "false"}'),
        (bool, '{"value": "maybe"}'),
        (float, '{"value": "2.5"}'),
        (list[int], '{"value": ["1"]}'),
    ],
)
def test_validation_is_strict(tp: Any, text: str) -> None:
    with pytest.raises(OutputValidationError):
        output_spec(tp, "t").parse(text)


def test_validation_error_carries_type_text_and_errors() -> None:
    with pytest.raises(OutputValidationError) as info:
        output_spec(Invoice, "t").parse('{"vendor": "acme", "total": 3}')
    err = info.value
    assert err.expected == "Invoice"
    assert err.raw_text == '{"vendor": "acme", "total": 3}'
    assert err.errors and "upper case" in str(err.errors[0]["msg"])
    assert "acme" in str(err)


@pytest.mark.parametrize("text", ["", "   ", "not json at all", "{"])
def test_unreadable_replies_fail_cleanly(text: str) -> None:
    with pytest.raises(OutputValidationError):
        output_spec(Person, "t").parse(text)


def test_a_refusal_is_a_refusal_error_with_its_text() -> None:
    from alloy import RefusalError

    with pytest.raises(RefusalError) as caught:
        output_spec(Person, "t").parse("", refusal="I can't help with that.")
    assert caught.value.refusal == "I can't help with that."
    message = str(caught.value)
    assert message.endswith("I can't help with that.") and ".." not in message
    assert "retry" not in message and "loosen" not in message
    with pytest.raises(RefusalError, match=r"no\.$"):
        output_spec(str, "t").parse("", refusal="no")


def test_code_fences_are_tolerated() -> None:
    assert strip_fence('```json\n{"a": 1}\n```') == '{"a": 1}'
    assert output_spec(dict[str, int], "t").parse('```\n{"a": 1}\n```') == {"a": 1}


def test_text_and_none_outputs_need_no_schema() -> None:
    text = output_spec(str, "t")
    assert text.schema is None and text.parse("hello") == "hello"
    none = output_spec(None, "t")
    assert none.schema is None and none.parse("whatever") is None


class _Opaque:
    """A plain class: pydantic cannot describe it as JSON."""


@pytest.mark.parametrize("tp", [Any, object, type, _Opaque, list[_Opaque]])
def test_inexpressible_types_fail_at_build_time_with_a_hint(tp: Any) -> None:
    with pytest.raises(ConfigurationError, match=r"test:"):
        output_spec(tp, "test")
