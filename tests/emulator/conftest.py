"""Fixtures for the emulator tests: one server per session, one scenario per test.

Clients are the real openai SDK in strict validation mode, so any drift between the
emulator's wire shapes and what the SDK requires fails loudly.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from collections.abc import Callable
from collections.abc import Iterator
from pathlib import Path

import pytest
from anthropic import Anthropic
from google import genai
from google.genai import types
from openai import AsyncOpenAI
from openai import OpenAI

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import Scenario

RECORDED = Path(__file__).resolve().parents[2] / ".." / "shared" / "recorded"


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with Emulator() as server:
        yield server


@pytest.fixture
def scenario(emulator: Emulator) -> Iterator[Scenario]:
    isolated = emulator.scenario()
    yield isolated
    isolated.reset()


@pytest.fixture
def claude(scenario: Scenario) -> Iterator[Anthropic]:
    """The real anthropic SDK, strict, pointed at the scenario."""
    with Anthropic(
        base_url=scenario.base_url("anthropic"),
        api_key="test-key",
        max_retries=0,
        timeout=10.0,
        _strict_response_validation=True,
    ) as sdk:
        yield sdk


@pytest.fixture
def gemini(scenario: Scenario) -> Iterator[genai.Client]:
    """The real google-genai SDK pointed at the scenario (the v1beta API)."""
    options = types.HttpOptions(base_url=scenario.base_url("gemini"), timeout=10_000)
    sdk = genai.Client(api_key="test-key", http_options=options)
    yield sdk
    sdk.close()


MakeClient = Callable[..., OpenAI]


@pytest.fixture
def make_client(scenario: Scenario) -> Iterator[MakeClient]:
    """Build strict sync clients for the test's scenario; all are closed afterwards."""
    made: list[OpenAI] = []

    def build(
        *, max_retries: int = 0, timeout: float = 10.0, strict: bool = True, base_url: str = ""
    ) -> OpenAI:
        sdk = OpenAI(
            base_url=base_url or scenario.base_url("openai"),
            api_key="test",
            max_retries=max_retries,
            timeout=timeout,
            _strict_response_validation=strict,
        )
        made.append(sdk)
        return sdk

    yield build
    for sdk in made:
        sdk.close()


@pytest.fixture
def client(make_client: MakeClient) -> OpenAI:
    return make_client()


@pytest.fixture
async def aclient(scenario: Scenario) -> AsyncIterator[AsyncOpenAI]:
    sdk = AsyncOpenAI(
        base_url=scenario.base_url("openai"),
        api_key="test",
        max_retries=0,
        timeout=10.0,
        _strict_response_validation=True,
    )
    async with sdk:
        yield sdk
