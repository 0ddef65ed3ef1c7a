"""Secrets stay out of reprs and messages: header values and URL credentials in a Config's
repr, and a key pasted into the model setting."""

from __future__ import annotations

import pytest

from alloy import Config
from alloy import ConfigurationError
from alloy import command
from alloy import use_config

KEY = "sk-proj-Zq8v2XyW7LmN4pQrT6sU1oE3"


@command
def hello(name: str) -> str:
    """Say hello to {name}."""
    ...


def test_a_config_repr_hides_header_values_and_url_credentials() -> None:
    config = Config(
        provider_options={
            "openai": {
                "base_url": f"https://user:{KEY}@proxy.example/v1?key={KEY}&x=1",
                "default_headers": {"Authorization": f"Bearer {KEY}", "User-Agent": "me"},
                "extra_headers": {"X-Api-Key": KEY, "Cookie": KEY},
            },
            "ollama": {"host": f"http://{KEY}@gpu:11434", "headers": {"Authorization": KEY}},
        }
    )
    shown = repr(config)
    assert KEY not in shown
    assert "User-Agent': 'me'" in shown and "x=1" in shown and "proxy.example" in shown


@pytest.mark.parametrize(
    "setting", [KEY, "AIzaSyD-5xV9qWp3LmN8rT2uY6oE1sK4jH7gF0", f"openai-chat-{KEY}"]
)
def test_a_key_in_the_model_setting_is_never_echoed(setting: str) -> None:
    with use_config(model=setting), pytest.raises(ConfigurationError) as caught:
        hello("x")
    assert setting not in str(caught.value)
    assert KEY not in repr(caught.value)


def test_sdk_log_text_loses_known_keys_url_credentials_and_credential_headers() -> None:
    from alloy.backends._boundary import Secrets
    from alloy.backends._logs import guard_sdk_logs
    from alloy.backends._logs import scrub_text

    known = Secrets(["sk-known-key-4242"])
    guard_sdk_logs(known)
    text = (
        "GET https://user:hunter2@proxy.example/v1?key=AIzaQuery123 "
        "[(b'authorization', b'Bearer tok-abc'), (b'x-goog-api-key', b'AIzaHeader')] "
        "{'x-api-key': 'sk-ant-dict', 'content-type': 'application/json'} echo sk-known-key-4242"
    )
    clean = scrub_text(text)
    for secret in ("hunter2", "AIzaQuery123", "tok-abc", "AIzaHeader", "sk-ant-dict", "4242"):
        assert secret not in clean
    assert "application/json" in clean and "proxy.example/v1" in clean
    media = "data:image/png;base64," + "iVBORw0KGgo" * 40
    assert scrub_text(media) == "data:image/png;base64,<440 base64 characters>"
