import asyncio
import threading

import pytest

from alloy import Config
from alloy import ConfigurationError
from alloy import OutputValidationError
from alloy import command
from alloy import configure
from alloy import use_config
from alloy._config import effective
from alloy.testing import FakeBackend
from alloy.testing import use_backend


def test_defaults() -> None:
    cfg = effective()
    assert cfg.model == "openai:gpt-5-mini"
    assert cfg.max_tool_turns == 10
    assert cfg.parallel_tools_max == 8
    assert cfg.auto_finalize_missing_output is True
    assert cfg.tool_mode == "auto"
    assert cfg.max_retries == 2
    assert cfg.retry_on == (OutputValidationError,)


def test_precedence_each_layer_hides_only_what_it_sets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOY_MODEL", "fake:env")
    monkeypatch.setenv("ALLOY_TEMPERATURE", "0.1")
    monkeypatch.setenv("ALLOY_MAX_TOOL_TURNS", "3")
    assert effective().model == "fake:env"
    assert effective().max_tool_turns == 3  # an env value is not hidden by unset layers

    configure(model="fake:configure")
    assert effective().model == "fake:configure"
    assert effective().temperature == 0.1

    with use_config(model="fake:scoped", max_tokens=50):
        assert effective().model == "fake:scoped"
        decorator = Config(model="fake:decorator")
        assert effective(decorator).model == "fake:decorator"
        per_call = Config(temperature=0.9)
        top = effective(decorator, per_call)
        assert (top.model, top.temperature, top.max_tokens) == ("fake:decorator", 0.9, 50)
    assert effective().max_tokens is None
    assert effective().max_tool_turns == 3


def test_provider_options_merge_per_provider() -> None:
    configure(provider_options={"openai": {"base_url": "http://a", "reasoning": {"effort": "low"}}})
    with use_config(provider_options={"openai": {"base_url": "http://b"}, "fake": {"x": 1}}):
        opts = effective().provider_options
        assert opts is not None
        assert opts["openai"] == {"base_url": "http://b", "reasoning": {"effort": "low"}}
        assert opts["fake"] == {"x": 1}


@pytest.mark.parametrize(
    ("var", "value"),
    [
        ("ALLOY_TEMPERATURE", "warm"),
        ("ALLOY_MAX_TOKENS", "lots"),
        ("ALLOY_RETRY", "1.5"),
        ("ALLOY_AUTO_FINALIZE_MISSING_OUTPUT", "perhaps"),
        ("ALLOY_TOOL_MODE", "telepathy"),
        ("ALLOY_MAX_TOKENS", "-4"),
        ("ALLOY_PROVIDER_OPTIONS", "{not json"),
    ],
)
def test_bad_env_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, var: str, value: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ConfigurationError, match=var):
        effective()


def test_env_bools(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOY_AUTO_FINALIZE_MISSING_OUTPUT", "off")
    assert effective().auto_finalize_missing_output is False


def test_unknown_names_are_rejected_everywhere() -> None:
    with pytest.raises(ConfigurationError, match="temprature"):
        configure(temprature=0.3)
    with pytest.raises(ConfigurationError, match="temprature"), use_config(temprature=0.3):
        pass
    with pytest.raises(ConfigurationError, match="modle"):

        @command(modle="x")
        def f() -> str:
            return "hi"

    @command
    def g() -> str:
        return "hi"

    with pytest.raises(ConfigurationError, match="nope"):
        g.with_config(nope=1)


@pytest.mark.parametrize(
    "bad",
    [
        {"temperature": "hot"},
        {"max_tokens": 0},
        {"retry": -1},
        {"tool_mode": "sideways"},
        {"timeout": 0},
        {"retry_on": "ValueError"},
        {"provider_options": {"openai": 3}},
        {"parallel_tools_max": True},
    ],
)
def test_bad_values_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ConfigurationError):
        configure(**bad)


def test_secrets_are_redacted_in_repr() -> None:
    cfg = Config(
        provider_options={"openai": {"api_key": "sk-secret-123456", "base_url": "http://x"}}
    )
    assert "sk-secret-123456" not in repr(cfg)
    assert "http://x" in repr(cfg)


def test_use_config_is_isolated_between_threads_and_tasks() -> None:
    seen: dict[str, str | None] = {}
    barrier = threading.Barrier(2)

    def worker(name: str) -> None:
        with use_config(model=f"fake:{name}"):
            barrier.wait()
            seen[name] = effective().model

    threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert seen == {"a": "fake:a", "b": "fake:b"}

    async def task(name: str) -> str | None:
        with use_config(model=f"fake:{name}"):
            await asyncio.sleep(0)
            return effective().model

    async def both() -> list[str | None]:
        return list(await asyncio.gather(task("x"), task("y")))

    assert asyncio.run(both()) == ["fake:x", "fake:y"]


def test_alloy_backend_env_routes_to_fake(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALLOY_BACKEND", "fake")

    @command
    def greet(name: str) -> str:
        """Say hello to {name}."""

    result = greet.run("Ada")
    assert result.provider == "fake"
    assert result.model == "gpt-5-mini"
    assert isinstance(result.value, str) and result.value


def test_precedence_reaches_the_request() -> None:
    fake = FakeBackend()
    configure(temperature=0.2, system="from configure")

    @command(system="from decorator")
    def f() -> str:
        return "hi"

    with use_backend(fake), use_config(max_tokens=77):
        f()
        f.with_config(temperature=0.7)()
    first, second = fake.requests
    assert (first.temperature, first.system, first.max_tokens) == (0.2, "from decorator", 77)
    assert second.temperature == 0.7


def test_every_setting_is_an_ask_option_and_has_a_variable_unless_it_holds_objects() -> None:
    from alloy._ask import AskOptions
    from alloy._config import FIELD_NAMES
    from alloy._env import VARIABLES

    options = set(AskOptions.__optional_keys__) - {"tools"}
    assert options == set(FIELD_NAMES)
    from_env = {name for name, _ in VARIABLES.values()}
    assert from_env == set(FIELD_NAMES) - {"retry_on", "wrappers", "context", "response_cache"}
    assert all(var == f"ALLOY_{name.upper()}" for var, (name, _) in VARIABLES.items())


def test_the_environment_is_read_once_and_again_by_configure(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ALLOY_TEMPERATURE", "0.25")
    assert effective().temperature == 0.25
    monkeypatch.setenv("ALLOY_TEMPERATURE", "0.5")
    assert effective().temperature == 0.25  # read once
    configure()
    assert effective().temperature == 0.5
