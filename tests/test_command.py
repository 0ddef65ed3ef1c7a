import asyncio
from dataclasses import dataclass

import pytest

from alloy import ConfigurationError
from alloy import OutputValidationError
from alloy import ProviderError
from alloy import RateLimitError
from alloy import Result
from alloy import Usage
from alloy import ask
from alloy import command
from alloy.testing import FakeBackend
from alloy.testing import use_backend


@dataclass
class Invoice:
    vendor: str
    total: float


@command(output=Invoice)
def extract(text: str) -> str:
    return f"Extract the invoice from: {text}"


@command
async def extract_async(text: str) -> Invoice:
    """Extract the invoice from: {text}"""


@pytest.fixture
def fake() -> FakeBackend:
    backend = FakeBackend()
    with use_backend(backend):
        yield backend


def test_call_run_and_result(fake: FakeBackend) -> None:
    fake.add_reply(json={"vendor": "ACME", "total": 49.99}, usage=Usage.of(12, 7))
    result = extract.run("ACME ... $49.99")
    assert isinstance(result, Result)
    assert result.value == Invoice("ACME", 49.99)
    assert result.text == '{"vendor": "ACME", "total": 49.99}'
    assert result.usage == Usage(12, 7, None, None, 19)
    assert (result.provider, result.model, result.finish_reason, result.attempts) == (
        "fake",
        "gpt-5-mini",
        "stop",
        1,
    )
    assert result.duration_s >= 0
    request = fake.requests[0]
    assert request.messages[0].text == "Extract the invoice from: ACME ... $49.99"
    assert request.output is not None and request.output.name == "Invoice"


def test_sync_command_async_methods(fake: FakeBackend) -> None:
    fake.add_reply(json={"vendor": "A", "total": 1.0})
    fake.add_reply(json={"vendor": "B", "total": 2.0})

    async def main() -> tuple[Invoice, Result[Invoice]]:
        return await extract.async_("x"), await extract.run_async("y")

    value, result = asyncio.run(main())
    assert value == Invoice("A", 1.0)
    assert result.value == Invoice("B", 2.0)


def test_async_command_every_method_awaits(fake: FakeBackend) -> None:
    fake.add_reply(json={"vendor": "A", "total": 1.0})
    fake.add_reply(json={"vendor": "B", "total": 2.0})
    fake.add_reply(json={"vendor": "C", "total": 3.0})

    async def main() -> list[object]:
        return [
            await extract_async("1"),
            (await extract_async.run("2")).value,
            await extract_async.async_("3"),
        ]

    assert asyncio.run(main()) == [Invoice("A", 1.0), Invoice("B", 2.0), Invoice("C", 3.0)]


def test_text_and_side_effect_commands(fake: FakeBackend) -> None:
    @command
    def poem(topic: str) -> str:
        """A haiku about {topic}."""

    @command(output=None)
    def notify(who: str) -> str:
        return f"Notify {who}"

    fake.add_reply("An old silent pond")
    fake.add_reply("done")
    assert poem("frogs") == "An old silent pond"
    assert notify("ops") is None
    assert fake.requests[0].output is None and fake.requests[1].output is None


def test_validation_reask_sends_the_error_back(fake: FakeBackend) -> None:
    fake.add_reply(json={"vendor": "ACME", "total": "lots"}, usage=Usage.of(10, 5))
    fake.add_reply(json={"vendor": "ACME", "total": 3.5}, usage=Usage.of(30, 5))
    result = extract.run("x")
    assert result.value == Invoice("ACME", 3.5)
    assert result.attempts == 2
    assert result.usage.input_tokens == 40 and result.usage.total_tokens == 50
    followup = fake.requests[1].messages
    assert [m.role for m in followup] == ["user", "assistant", "user"]
    assert followup[1].text == '{"vendor": "ACME", "total": "lots"}'
    assert "total" in followup[2].text and "valid number" in followup[2].text


def test_validation_error_after_retries(fake: FakeBackend) -> None:
    for _ in range(3):
        fake.add_reply(json={"vendor": "ACME"})
    with pytest.raises(OutputValidationError) as info:
        extract.with_config(retry=2).run("x")
    assert info.value.attempts == 3
    assert info.value.expected == "Invoice"
    assert len(fake.requests) == 3


def test_retry_zero_raises_at_once(fake: FakeBackend) -> None:
    fake.add_reply("not json")
    with pytest.raises(OutputValidationError):
        extract.with_config(retry=0)("x")
    assert len(fake.requests) == 1


def test_retry_on_other_errors_resends(fake: FakeBackend) -> None:
    fake.add_reply("not json")
    with pytest.raises(OutputValidationError):
        extract.with_config(retry=3, retry_on=(ValueError,))("x")  # not a ValueError subclass
    assert len(fake.requests) == 1


def test_transport_retries_honour_retry_after(fake: FakeBackend) -> None:
    fake.add_error(RateLimitError("slow down", provider="fake", status_code=429, retry_after=0.001))
    fake.add_error(
        ProviderError("boom", provider="fake", status_code=503, retryable=True, retry_after=0.001)
    )
    fake.add_reply(json={"vendor": "ACME", "total": 1.0})
    assert extract("x") == Invoice("ACME", 1.0)
    assert len(fake.requests) == 3


def test_transport_retries_give_up(fake: FakeBackend) -> None:
    for _ in range(3):
        fake.add_error(
            RateLimitError("slow down", provider="fake", status_code=429, retry_after=0.001)
        )
    with pytest.raises(RateLimitError):
        extract.with_config(max_retries=1)("x")
    assert len(fake.requests) == 2


def test_non_retryable_errors_are_not_retried(fake: FakeBackend) -> None:
    fake.add_error(ProviderError("bad request", provider="fake", status_code=400))
    fake.add_reply(json={"vendor": "ACME", "total": 1.0})
    with pytest.raises(ProviderError, match="bad request"):
        extract("x")
    assert len(fake.requests) == 1


def test_retry_after_beyond_max_wait_raises_rate_limit(fake: FakeBackend) -> None:
    fake.add_error(
        ProviderError("busy", provider="fake", status_code=503, retryable=True, retry_after=120)
    )
    with pytest.raises(RateLimitError) as info:
        extract.with_config(max_retry_wait=5)("x")
    assert info.value.retry_after == 120
    assert len(fake.requests) == 1


def test_with_config_leaves_the_original_unchanged(fake: FakeBackend) -> None:
    cold = extract.with_config(temperature=0.0, model="fake:cold")
    fake.add_reply(json={"vendor": "A", "total": 1.0})
    fake.add_reply(json={"vendor": "A", "total": 1.0})
    cold("x")
    extract("x")
    assert fake.requests[0].temperature == 0.0 and fake.requests[0].model == "cold"
    assert fake.requests[1].temperature is None and fake.requests[1].model == "gpt-5-mini"
    assert cold.__name__ == "extract"


def test_function_mode() -> None:
    seen: list[str] = []

    def respond(request: object) -> dict[str, object]:
        seen.append(type(request).__name__)
        return {"vendor": "FN", "total": 2.0}

    with use_backend(FakeBackend(respond)):
        assert extract("x") == Invoice("FN", 2.0)
    assert seen == ["Request"]


def test_ask(fake: FakeBackend) -> None:
    fake.add_reply("Paris")
    fake.add_reply(json=7)
    assert ask("Capital of France?") == "Paris"
    assert ask("A prime", output=int, temperature=0.1, system="Be brief") == 7
    second = fake.requests[1]
    assert (second.temperature, second.system) == (0.1, "Be brief")


def test_ask_context_is_json(fake: FakeBackend) -> None:
    fake.add_reply("ok")
    ask("Summarise", context={"user": {"name": "Ada", "langs": ("py",)}, "flag": True})
    text = fake.requests[0].messages[0].text
    assert '"name": "Ada"' in text and '"flag": true' in text and "True" not in text


def test_ask_async(fake: FakeBackend) -> None:
    fake.add_reply(json=[1, 2])
    assert asyncio.run(ask.async_("numbers", output=list[int])) == [1, 2]


def test_ask_rejects_unknown_overrides_and_empty_prompts(fake: FakeBackend) -> None:
    with pytest.raises(ConfigurationError, match="tempreature"):
        ask("hi", tempreature=1)
    with pytest.raises(ConfigurationError):
        ask("   ")


def test_unknown_model_prefix_lists_known_ones() -> None:
    @command(model="mystery:model-x")
    def f() -> str:
        return "hi"

    with pytest.raises(ConfigurationError, match=r"Unknown model prefix 'mystery'.*openai:"):
        f()


def test_bare_model_names_are_inferred() -> None:
    from alloy.backends import resolve

    assert resolve("gpt-5-mini") == ("openai", "gpt-5-mini")
    assert resolve("o3-mini") == ("openai", "o3-mini")
    assert resolve("claude-sonnet-4-5") == ("anthropic", "claude-sonnet-4-5")
    assert resolve("gemini-2.5-flash") == ("gemini", "gemini-2.5-flash")
    with pytest.raises(ConfigurationError, match="provider:model"):
        resolve("llama3.2")
