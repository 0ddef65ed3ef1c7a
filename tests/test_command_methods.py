"""A command defined in a class binds ``self`` like a method, and composes with
``staticmethod`` and ``classmethod``."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from alloy import command


@dataclass
class Shop:
    name: str

    @command
    def greet(self, customer: str) -> str:
        """Greet {customer} on behalf of {self.name}."""
        ...

    @command
    def slogan(self) -> str:
        return f"Write a slogan for {self.name}."

    @command
    async def welcome(self, customer: str) -> str:
        """Welcome {customer} to {self.name}."""
        ...

    @staticmethod
    @command
    def motto(topic: str) -> str:
        """A motto about {topic}."""
        ...

    @classmethod
    @command
    def kind(cls, item: str) -> str:
        """What kind of {cls.__name__} sells {item}?"""
        ...


def test_self_is_bound_in_templates_and_bodies(alloy_fake: Any) -> None:
    shop = Shop("Tea & Co")
    alloy_fake.add_reply("hello").add_reply("brewed daily")
    assert shop.greet("Ada") == "hello"
    assert shop.slogan() == "brewed daily"
    first, second = (r.messages[0].text for r in alloy_fake.requests)
    assert first == "Greet Ada on behalf of Tea & Co."
    assert second == "Write a slogan for Tea & Co."
    assert shop.greet.prompt("Bo") == "Greet Bo on behalf of Tea & Co."
    assert Shop("Other").greet.prompt("Bo") == "Greet Bo on behalf of Other."


def test_bound_commands_keep_the_instance_through_every_form(alloy_fake: Any) -> None:
    shop = Shop("Kiosk")
    assert shop.greet.with_config(temperature=0).prompt("Cy") == "Greet Cy on behalf of Kiosk."
    assert isinstance(shop.greet.run("Cy").value, str)
    assert alloy_fake.requests[-1].messages[0].text == "Greet Cy on behalf of Kiosk."
    with shop.greet.stream("Di") as stream:
        stream.result()
    assert alloy_fake.requests[-1].messages[0].text == "Greet Di on behalf of Kiosk."
    asyncio.run(shop.welcome("Ed"))
    assert alloy_fake.requests[-1].messages[0].text == "Welcome Ed to Kiosk."


def test_the_class_attribute_is_the_unbound_command(alloy_fake: Any) -> None:
    assert Shop.greet.prompt(Shop("Direct"), "Al") == "Greet Al on behalf of Direct."


def test_staticmethod_and_classmethod_compose(alloy_fake: Any) -> None:
    assert Shop.motto.prompt("tea") == "A motto about tea."
    assert Shop("x").motto.prompt("tea") == "A motto about tea."
    assert Shop.kind.prompt("tea") == "What kind of Shop sells tea?"
    assert Shop("x").kind.prompt("tea") == "What kind of Shop sells tea?"
