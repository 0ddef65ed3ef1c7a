"""Classification: the annotation is the output type, the docstring is the prompt.

Prints, offline on the fake backend (with OPENAI_API_KEY set, OpenAI's own answers):

    (no OPENAI_API_KEY: running offline on alloy's fake backend, with scripted replies)
      billing / normal <- I was charged twice for my subscription this month.
    technical / urgent <- The app crashes every time I open the settings page!
        sales / normal <- Do you offer discounts for teams of 50 people?
"""

from __future__ import annotations

import enum
from typing import Any
from typing import Literal

from _demo import provider

from alloy import command


class Team(enum.Enum):
    BILLING = "billing"
    TECHNICAL = "technical"
    SALES = "sales"


@command
def route(ticket: str) -> Team:
    """Which team should handle this support ticket?

    Ticket: {ticket}"""
    ...


@command
def urgency(ticket: str) -> Literal["low", "normal", "urgent"]:
    """How urgent is this support ticket? {ticket}"""
    ...


TICKETS = [
    "I was charged twice for my subscription this month.",
    "The app crashes every time I open the settings page!",
    "Do you offer discounts for teams of 50 people?",
]


def offline(request: Any) -> str:
    text = request.messages[0].text.lower()
    if "which team" in text:
        team = "billing" if "charged" in text else "technical" if "crash" in text else "sales"
        return team
    return "urgent" if "crash" in text else "normal"


def main() -> None:
    with provider(offline):
        for ticket in TICKETS:
            team, level = route(ticket), urgency(ticket)
            assert isinstance(team, Team)
            print(f"{team.value:>9} / {level:<6} <- {ticket}")


if __name__ == "__main__":
    main()
