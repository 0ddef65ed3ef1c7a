"""Gemini ``cachedContents`` through the real google-genai SDK: create, get, list, update,
delete, expiry on the scenario's cache clock, and what ``generateContent`` may send with a
cache."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from google import genai
from google.genai import errors
from google.genai import types

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import RemoteEmulator
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

MODEL = "gemini-2.5-flash"


@pytest.fixture(params=["v1beta", "v1"])
def gemini(scenario: Scenario, request: pytest.FixtureRequest) -> Iterator[genai.Client]:
    options = types.HttpOptions(
        base_url=scenario.base_url("gemini"), api_version=request.param, timeout=10_000
    )
    sdk = genai.Client(api_key="test-key", http_options=options)
    yield sdk
    sdk.close()


def _create(sdk: genai.Client, ttl: str = "300s") -> types.CachedContent:
    return sdk.caches.create(
        model=MODEL,
        config=types.CreateCachedContentConfig(
            contents=[types.Content(role="user", parts=[types.Part(text="the contract " * 40)])],
            system_instruction="You are a contracts analyst.",
            display_name="alloy test",
            ttl=ttl,
        ),
    )


def test_create_get_list_update_delete(gemini: genai.Client, scenario: Scenario) -> None:
    made = _create(gemini)
    assert made.name is not None and made.name.startswith("cachedContents/")
    assert (made.model, made.display_name) == (f"models/{MODEL}", "alloy test")
    assert made.create_time is not None and made.expire_time is not None
    assert made.update_time == made.create_time
    assert round((made.expire_time - made.create_time).total_seconds()) == 300
    assert made.usage_metadata is not None and (made.usage_metadata.total_token_count or 0) > 100

    assert gemini.caches.get(name=made.name) == made
    assert [c.name for c in gemini.caches.list()] == [made.name]
    longer = gemini.caches.update(
        name=made.name, config=types.UpdateCachedContentConfig(ttl="7200s")
    )
    assert longer.expire_time is not None and longer.update_time is not None
    assert round((longer.expire_time - longer.update_time).total_seconds()) == 7200

    gemini.caches.delete(name=made.name)
    with pytest.raises(errors.ClientError) as missing:
        gemini.caches.get(name=made.name)
    assert (missing.value.code, missing.value.status) == (404, "NOT_FOUND")
    assert list(gemini.caches.list()) == []

    (held,) = scenario.cached_contents()
    assert held.deleted and held.name == made.name
    assert held.system_instruction == {
        "parts": [{"text": "You are a contracts analyst."}],
        "role": "user",
    }
    first = scenario.requests[0]
    version = gemini._api_client._http_options.api_version  # pyright: ignore[reportPrivateUsage]
    assert (first.method, first.path.endswith(f"/{version}/cachedContents")) == ("POST", True)
    assert [r.method for r in scenario.requests[1:]] == [
        "GET",
        "GET",
        "PATCH",
        "DELETE",
        "GET",
        "GET",
    ]


def test_a_cache_expires_on_the_scenario_clock(gemini: genai.Client, scenario: Scenario) -> None:
    made = _create(gemini, ttl="60s")
    assert made.name is not None
    scenario.advance_cache_clock(30)
    assert gemini.caches.get(name=made.name).name == made.name
    scenario.advance_cache_clock(31)
    with pytest.raises(errors.ClientError) as gone:
        gemini.caches.get(name=made.name)
    assert gone.value.code == 404

    again = _create(gemini)
    assert again.name is not None
    scenario.expire_cached_contents()
    with pytest.raises(errors.ClientError):
        gemini.caches.get(name=again.name)


def test_generate_content_with_a_cache_reports_its_tokens(
    gemini: genai.Client, scenario: Scenario
) -> None:
    made = _create(gemini)
    assert made.name is not None and made.usage_metadata is not None
    tokens = made.usage_metadata.total_token_count or 0
    scenario.enqueue(Reply(text="ninety days", input_tokens=12, output_tokens=3))
    reply = gemini.models.generate_content(
        model=MODEL,
        contents="What is the notice period?",
        config=types.GenerateContentConfig(cached_content=made.name),
    )
    assert reply.text == "ninety days"
    assert reply.usage_metadata is not None
    assert reply.usage_metadata.cached_content_token_count == tokens
    assert reply.usage_metadata.prompt_token_count == 12 + tokens
    assert scenario.requests[-1].json["cachedContent"] == made.name


@pytest.mark.parametrize(
    "config",
    [
        {"system_instruction": "again"},
        {"tools": [{"function_declarations": [{"name": "f"}]}]},
        {"tool_config": {"function_calling_config": {"mode": "NONE"}}},
    ],
)
def test_a_cache_with_system_tools_or_tool_config_in_the_request_is_refused(
    gemini: genai.Client, scenario: Scenario, config: dict[str, object]
) -> None:
    made = _create(gemini)
    with pytest.raises(errors.ClientError) as refused:
        gemini.models.generate_content(
            model=MODEL, contents="hi", config={"cached_content": made.name, **config}
        )
    assert (refused.value.code, refused.value.status) == (400, "INVALID_ARGUMENT")
    assert "should not be set in the request when using cached content" in str(refused.value)
    assert scenario.pending == 0


def test_an_unknown_or_expired_cache_in_generate_content_is_404(
    gemini: genai.Client, scenario: Scenario
) -> None:
    scenario.enqueue(Reply(text="unused"))
    with pytest.raises(errors.ClientError) as unknown:
        gemini.models.generate_content(
            model=MODEL, contents="hi", config={"cached_content": "cachedContents/nope"}
        )
    assert unknown.value.code == 404
    made = _create(gemini)
    scenario.expire_cached_contents()
    with pytest.raises(errors.ClientError) as expired:
        gemini.models.generate_content(
            model=MODEL, contents="hi", config={"cached_content": made.name}
        )
    assert expired.value.code == 404
    assert scenario.pending == 1  # refusals take no scripted item


def test_another_model_cannot_use_the_cache(gemini: genai.Client) -> None:
    made = _create(gemini)
    with pytest.raises(errors.ClientError, match="has to be the same"):
        gemini.models.generate_content(
            model="gemini-2.5-pro", contents="hi", config={"cached_content": made.name}
        )


def test_a_cache_under_the_minimum_is_refused(gemini: genai.Client, scenario: Scenario) -> None:
    scenario.set_cache_minimum(100_000)
    with pytest.raises(errors.ClientError) as small:
        _create(gemini)
    assert small.value.code == 400
    assert "Cached content is too small. total_token_count=" in str(small.value)
    assert "min_total_token_count=100000" in str(small.value)
    assert scenario.cached_contents() == []
    scenario.reset()
    assert _create(gemini).name is not None


def test_remote_emulator_cached_contents(emulator: Emulator) -> None:
    remote = RemoteEmulator(emulator.url).scenario()
    options = types.HttpOptions(base_url=remote.base_url("gemini"), timeout=10_000)
    with genai.Client(api_key="k", http_options=options) as sdk:
        remote.set_cache_minimum(1_000_000)
        with pytest.raises(errors.ClientError, match="too small"):
            _create(sdk)
        remote.set_cache_minimum(0)
        made = _create(sdk, ttl="60s")
        (held,) = remote.cached_contents()
        assert (held.name, held.deleted, held.model) == (made.name, False, f"models/{MODEL}")
        assert held.contents == [{"parts": [{"text": "the contract " * 40}], "role": "user"}]
        remote.advance_cache_clock(61)
        with pytest.raises(errors.ClientError):
            sdk.caches.get(name=held.name)
        again = _create(sdk)
        assert again.name is not None
        remote.expire_cached_contents()
        with pytest.raises(errors.ClientError):
            sdk.caches.get(name=again.name)
    remote.reset()
    assert remote.cached_contents() == []


def test_list_pages(gemini: genai.Client) -> None:
    names = {_create(gemini).name for _ in range(3)}
    pager = gemini.caches.list(config={"page_size": 2})
    assert pager.page_size == 2 and len(pager.page) == 2
    assert {c.name for c in pager} == names
