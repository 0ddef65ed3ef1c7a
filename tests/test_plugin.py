"""The pytest plugin's fixtures, as a user of alloy sees them."""

from typing import Any

from alloy import command
from alloy.testing import FakeBackend


@command
def rate(product: str) -> int:
    """Rate {product} from 1 to 5."""


def test_alloy_fake_routes_commands(alloy_fake: FakeBackend) -> None:
    alloy_fake.add_reply(json=5)
    assert rate("cake") == 5
    assert alloy_fake.requests[0].messages[0].text == "Rate cake from 1 to 5."


def test_alloy_fake_defaults_to_schema_values(alloy_fake: FakeBackend) -> None:
    assert isinstance(rate("tea"), int)


def test_alloy_emulator_points_the_sdk_at_it(alloy_emulator: Any) -> None:
    import os

    from alloy.testing.emulator import Reply

    assert os.environ["OPENAI_BASE_URL"] == alloy_emulator.base_url("openai")
    alloy_emulator.enqueue(Reply(json={"value": 3}))
    assert rate.with_config(model="openai:gpt-test")("tea") == 3
    assert alloy_emulator.requests[0].json["model"] == "gpt-test"
