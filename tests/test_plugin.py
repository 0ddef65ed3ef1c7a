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


def test_an_unscripted_call_says_the_queue_is_empty(alloy_emulator: Any) -> None:
    import pytest

    from alloy import ProviderError

    with pytest.raises(ProviderError, match=r"no scripted reply left.*queue of scenario") as caught:
        rate.with_config(model="openai:gpt-test", max_retries=2)("tea")
    assert caught.value.status_code == 400
    assert len(alloy_emulator.requests) == 1  # not retried: nothing a retry could fix


def test_the_emulator_fixture_wins_over_an_exported_fake_backend(
    pytester: Any, monkeypatch: Any
) -> None:
    pytester.makepyfile(
        """
        from alloy import command
        from alloy.testing.emulator import Reply

        @command(model="openai:gpt-test")
        def rate(product: str) -> int:
            '''Rate {product} from 1 to 5.'''

        def test_uses_the_emulator(alloy_emulator):
            alloy_emulator.enqueue(Reply(json={"value": 4}), Reply(json={"value": 1}))
            assert rate("tea") == 4
            assert len(alloy_emulator.requests) == 1
        """
    )
    monkeypatch.setenv("ALLOY_BACKEND", "fake")  # exported, as the quick start suggests
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(
        ["*alloy_emulator: scripted items never used*", "*test_uses_the_emulator: 1 item(s)*"]
    )


def test_the_fixtures_leave_a_configured_response_cache_off(
    alloy_emulator: Any, tmp_path: Any
) -> None:
    from alloy import ResponseCache
    from alloy import configure
    from alloy import use_config
    from alloy.testing.emulator import Reply

    configure(response_cache=ResponseCache(tmp_path / "alloy.db"))
    alloy_emulator.set_default(Reply(json={"value": 3}))
    tea = rate.with_config(model="openai:gpt-test")
    tea("tea")
    assert not tea.run("tea").cached
    assert len(alloy_emulator.requests) == 2
    with use_config(response_cache=ResponseCache(tmp_path / "alloy.db")):
        assert not tea.run("tea").cached  # turned on in the test: nothing was kept before
        assert tea.run("tea").cached
    assert len(alloy_emulator.requests) == 3
