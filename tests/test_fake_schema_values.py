"""The fake backend's schema-driven values satisfy the schema's constraints, so a typed
command run on the fake without a script returns a valid value."""

from __future__ import annotations

from typing import Annotated
from typing import Any

import pytest
from pydantic import Field
from pydantic import TypeAdapter

from alloy.backends.fake import schema_value

CASES: list[Any] = [
    Annotated[str, Field(pattern=r"^[A-Z]{3}-\d{2}$")],
    Annotated[str, Field(pattern=r"^(cat|dog)s?$")],
    Annotated[str, Field(pattern=r"^[^aeiou]+x$")],
    Annotated[str, Field(min_length=12, max_length=14)],
    Annotated[str, Field(pattern=r"^\w+@\w+\.com$", max_length=40)],
    Annotated[int, Field(gt=10)],
    Annotated[int, Field(ge=-3, le=-1)],
    Annotated[int, Field(lt=0, multiple_of=5)],
    Annotated[float, Field(gt=0, lt=1)],
    Annotated[float, Field(ge=2.5)],
    Annotated[float, Field(lt=-7)],
    dict[int, str],
    dict[str, Annotated[int, Field(gt=0)]],
    Annotated[list[int], Field(min_length=3, max_length=3)],
    Annotated[list[str], Field(max_length=0)],
]


@pytest.mark.parametrize("tp", CASES, ids=[str(i) for i in range(len(CASES))])
def test_a_schema_value_validates(tp: Any) -> None:
    adapter: TypeAdapter[Any] = TypeAdapter(tp)
    value = schema_value(adapter.json_schema())
    adapter.validate_json(TypeAdapter(Any).dump_json(value), strict=True)
