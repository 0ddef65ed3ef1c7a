"""A pydantic model with a validator: a reply that breaks the rule is sent back to be fixed.

Prints, offline on the fake backend (with OPENAI_API_KEY set, OpenAI's own answers):

    (no OPENAI_API_KEY: running offline on alloy's fake backend, with scripted replies)
    {'name': 'Grace Hopper', 'email': 'grace.hopper@navy.example', 'phone': '15550102030'}
    attempts: 2 (re-asks send pydantic's errors back to the model)
"""

from __future__ import annotations

from typing import Any

from _demo import provider
from pydantic import BaseModel
from pydantic import Field
from pydantic import field_validator

from alloy import command


class Contact(BaseModel):
    name: str
    email: str = Field(description="a valid e-mail address, lower case")
    phone: str = Field(description="digits only, with country code")

    @field_validator("email")
    @classmethod
    def email_is_lower_case(cls, value: str) -> str:
        if "@" not in value or value != value.lower():
            raise ValueError("must be a lower-case e-mail address")
        return value

    @field_validator("phone")
    @classmethod
    def phone_is_digits(cls, value: str) -> str:
        if not value.isdigit():
            raise ValueError("must contain digits only")
        return value


@command(retry=2)
def parse_contact(signature: str) -> Contact:
    """Extract the contact details from this e-mail signature:

    {signature}"""
    ...


SIGNATURE = """--
Grace Hopper
Rear Admiral, Navy
Grace.Hopper@Navy.example | +1 (555) 010-2030"""

_replies = iter(
    [
        # A first answer that breaks both validators, as models sometimes do...
        {
            "name": "Grace Hopper",
            "email": "Grace.Hopper@Navy.example",
            "phone": "+1 (555) 010-2030",
        },
        # ...and the corrected one, after alloy sent the validation errors back.
        {"name": "Grace Hopper", "email": "grace.hopper@navy.example", "phone": "15550102030"},
    ]
)


def offline(_request: Any) -> dict[str, str]:
    return next(_replies)


def main() -> None:
    with provider(offline):
        result = parse_contact.run(SIGNATURE)
    contact = result.value
    assert isinstance(contact, Contact)
    print(contact.model_dump())
    print(f"attempts: {result.attempts} (re-asks send pydantic's errors back to the model)")


if __name__ == "__main__":
    main()
