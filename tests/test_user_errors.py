"""Mistakes on the user's side end in the alloy error that names the cause, never a raw
exception (beyond Python's own TypeError for a call that does not match the signature)."""

from __future__ import annotations

from typing import Any

import pytest

from alloy import ConfigurationError
from alloy import ask
from alloy import command


def test_a_return_annotation_naming_an_undefined_type_is_named(alloy_fake: Any) -> None:
    @command
    def extract(text: str) -> NotDefinedAnywhere:  # type: ignore[name-defined]  # noqa: F821
        """Extract from {text}."""
        ...

    with pytest.raises(ConfigurationError, match=r"NotDefinedAnywhere.*not defined"):
        extract("x")


@pytest.mark.parametrize(
    ("template", "value", "cause"),
    [("First: {x[0]}", None, "TypeError"), ("Price: {x:.2f}", "cheap", "ValueError")],
)
def test_a_placeholder_the_argument_cannot_fill_is_named(
    alloy_fake: Any, template: str, value: Any, cause: str
) -> None:
    def fn(x: Any) -> str: ...

    fn.__doc__ = template
    cmd = command(fn)
    with pytest.raises(ConfigurationError, match=rf"could not fill.*{cause}"):
        cmd(value)


def test_a_lone_surrogate_in_the_prompt_is_named(alloy_fake: Any) -> None:
    @command
    def echo(text: str) -> str:
        """Repeat: {text}"""
        ...

    broken = b"caf\xe9".decode("utf-8", errors="surrogateescape")
    with pytest.raises(ConfigurationError, match=r"lone surrogate.*position 11"):
        echo(broken)
    with pytest.raises(ConfigurationError, match="lone surrogate"):
        ask(f"Say {broken}")
    assert alloy_fake.requests == []
    assert isinstance(echo("café"), str)  # real non-ASCII text is fine
    assert "café" in alloy_fake.requests[0].messages[0].text
