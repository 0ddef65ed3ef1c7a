"""Shared by the examples: use OpenAI when a key is set, else the offline fake backend."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from collections.abc import Iterator
from typing import Any

from alloy.backends import Request
from alloy.testing import FakeBackend
from alloy.testing import use_backend


@contextlib.contextmanager
def provider(offline_reply: Callable[[Any], Any]) -> Iterator[None]:
    """Run the block against OpenAI if ``OPENAI_API_KEY`` is set, else on the fake backend.

    ``offline_reply`` receives each request and returns the value a model might have
    answered (a ``str`` for text commands, any JSON-able value for typed ones).
    """
    if os.environ.get("OPENAI_API_KEY"):
        print("(using OpenAI: OPENAI_API_KEY is set)")
        yield
        return
    print("(no OPENAI_API_KEY: running offline on alloy's fake backend, with scripted replies)")

    def respond(request: Request) -> Any:
        value = offline_reply(request)
        if request.output is None:
            return value
        # Typed commands: send the value as JSON, shaped as the output schema asks.
        return {"value": value} if request.output.wrapped else value

    with use_backend(FakeBackend(respond)):
        yield
