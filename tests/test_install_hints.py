"""Install hints name the project's own distribution and the right SDK package; a
misspelled provider in provider_options is an error listing the known ones."""

from __future__ import annotations

import builtins
from typing import Any

import pytest

from alloy import ConfigurationError
from alloy import command
from alloy import use_config
from alloy.backends import _registry


@command
def hello(name: str) -> str:
    """Say hello to {name}."""
    ...


@pytest.mark.parametrize(
    ("backend", "module", "package"),
    [
        ("openai", "openai", "openai"),
        ("anthropic", "anthropic", "anthropic"),
        ("gemini", "google.genai", "google-genai"),
        ("ollama", "ollama", "ollama"),
    ],
)
def test_a_missing_sdk_names_its_package_and_the_install_command(
    monkeypatch: pytest.MonkeyPatch, backend: str, module: str, package: str
) -> None:
    real_import = builtins.__import__

    def without_sdk(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == module or name.startswith(f"{module}."):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return real_import(name, *args, **kwargs)

    info = _registry.info(backend)
    factory_module = str(info.factory).partition(":")[0]
    import sys

    for loaded in [m for m in sys.modules if m.startswith(factory_module)]:
        monkeypatch.delitem(sys.modules, loaded)
    monkeypatch.setattr(builtins, "__import__", without_sdk)
    with pytest.raises(ConfigurationError) as caught:
        _registry._load(info)
    message = str(caught.value)
    assert f"needs the {package} package" in message
    assert f"pip install 'alloy-llm[{info.extra}]'" in message


def test_an_unknown_provider_in_provider_options_is_named(alloy_fake: Any) -> None:
    with (
        use_config(provider_options={"opneai": {"base_url": "http://x"}}),
        pytest.raises(ConfigurationError, match=r"'opneai'.*Known: anthropic, fake, gemini"),
    ):
        hello("Ada")


def test_the_extras_hints_name_are_the_projects_own() -> None:
    from pathlib import Path

    from alloy._install import EXTRAS
    from alloy._install import not_installed

    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    declared = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    extras = declared["optional-dependencies"]
    for extra, package in EXTRAS.items():
        assert any(dep.startswith(package) for dep in extras[extra]), (extra, extras[extra])
    for info in map(_registry.info, _registry.registered()):
        assert info.extra is None or info.extra in EXTRAS, info
    assert not_installed("pricing", "cost") == (
        "pricing needs the genai-prices package, which is not installed: "
        "pip install 'alloy-llm[cost]'"
    )
