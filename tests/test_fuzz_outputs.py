"""Arbitrary reply text, for every output type: a valid value or OutputValidationError, never
another exception."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from alloy import OutputValidationError
from alloy._output import output_spec
from tests.output_types import JSON_CASES
from tests.output_types import Case

_JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**20), 10**20)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["value", "name", "age", "title", "year", "kind", "x"]),
            children,
            max_size=4,
        )
    ),
    max_leaves=10,
)


_SPECS: dict[str, Any] = {}


def _as_reply(value: Any, wrap: bool) -> str:
    return json.dumps({"value": value} if wrap else value, allow_nan=True)


_TEXTS = st.one_of(
    st.text(max_size=60),  # anything at all
    st.builds(_as_reply, _JSON_VALUES, st.booleans()),  # JSON of the wrong shape
    st.builds(
        lambda v, w, cut: _as_reply(v, w)[:cut], _JSON_VALUES, st.booleans(), st.integers(0, 40)
    ),  # cut short
    st.builds(lambda v: f"```json\n{json.dumps(v)}\n```", _JSON_VALUES),  # fenced
)


@pytest.mark.parametrize("case", JSON_CASES, ids=lambda c: c.id)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=_TEXTS)
def test_any_reply_gives_a_value_or_a_validation_error(case: Case, text: str) -> None:
    spec = _SPECS.get(case.id) or _SPECS.setdefault(case.id, output_spec(case.type, case.id))
    error: OutputValidationError | None = None
    try:
        spec.parse(text)
    except OutputValidationError as exc:
        error = exc
    if error is not None:
        assert error.expected and error.raw_text == text
