"""Rate limits through the real SDKs: a 429 with ``retry-after-ms`` seen by one call of a map
pauses every other call on the same limiter, so no request reaches the emulator in that
window."""

from __future__ import annotations

from alloy import command
from alloy import use_config
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario


@command(max_tokens=10)
def echo(text: str) -> str:
    """{text}"""


def test_a_429_pauses_the_whole_map(provider: str, alloy_emulator: Scenario) -> None:
    alloy_emulator.enqueue(
        Fault(status=429, headers={"retry-after-ms": "300"}),
        # The other first calls answer a little later, after the 429 has been seen.
        *[Reply(text="ok", delay=0.1) for _ in range(3)],
    )
    alloy_emulator.set_default(Reply(text="ok"))
    with use_config(rate_limit=100_000):
        result = echo.map([f"item {n}" for n in range(12)], concurrency=4)
    assert result.status == "ok"
    requests = sorted(alloy_emulator.requests, key=lambda r: r.arrived_at)
    refused = next(r for r in requests if r.status == 429)
    assert refused.finished_at is not None
    # The first four were sent together, before the 429 came back; every later one waits.
    later = requests[4:]
    assert later, "the map went on after the pause"
    assert min(r.arrived_at for r in later) >= refused.finished_at + 0.27


KEYS = {"openai": "api_key", "openai-chat": "api_key", "anthropic": "api_key", "gemini": "api_key"}


def test_each_key_has_its_own_limiter(provider: str, alloy_emulator: Scenario) -> None:
    """Providers count requests per key: once one key's bucket is empty (60 a minute holds
    six at once, then one a second), another key's call goes at once, while the first key's
    next call waits."""
    alloy_emulator.set_default(Reply(text="ok"))
    option = KEYS.get(provider)
    first, second = ({provider: {option: f"sk-{name}"}} if option else {} for name in "ab")
    with use_config(rate_limit=60):
        for n in range(6):
            echo.with_config(provider_options=first)(f"a{n}")
        echo.with_config(provider_options=second)("b")
        echo.with_config(provider_options=first)("a6")
    times = [r.arrived_at for r in sorted(alloy_emulator.requests, key=lambda r: r.arrived_at)]
    if option is None:  # Ollama has no key: one limiter for its host and the model
        assert times[6] - times[0] >= 0.9
        return
    assert times[6] - times[0] < 0.5
    assert times[7] - times[0] >= 0.9
