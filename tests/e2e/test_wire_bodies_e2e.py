"""The body a batch line would carry is the body the same call sends in real time: built by
the SDK from the same encoder's arguments (``alloy.backends._wire``), compared with what the
emulator received from the realtime call, for plain, typed, tool-using, reasoning and media
requests on each backend with a batch API."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from alloy import ConfigurationError
from alloy import Image
from alloy import tool
from alloy._config import effective
from alloy._config import make_config
from alloy._messages import MediaPart
from alloy._messages import Request
from alloy._messages import TextPart
from alloy._output import output_spec
from alloy._plan import plan
from alloy._tools import ToolBox
from alloy.backends._wire import wire_request
from alloy.backends.anthropic._encode import encode_request as anthropic_params
from alloy.backends.gemini._encode import encode_request as gemini_params
from alloy.backends.openai.chat import encode_request as chat_params
from alloy.backends.openai.responses import encode_request as responses_params
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

PARAMS: dict[str, Callable[[Request], dict[str, Any]]] = {
    "openai": responses_params,
    "openai-chat": chat_params,
    "anthropic": anthropic_params,
    "gemini": gemini_params,
}
MODELS = {
    "openai": "gpt-5-mini",
    "openai-chat": "gpt-4o",
    "anthropic": "claude-sonnet-4-6",
    "gemini": "gemini-3-flash-preview",
}
PNG = b"\x89PNG\r\n\x1a\n" + b"alloy-wire-pixels" * 4


@dataclass
class Invoice:
    vendor: str
    total: float


@tool
def lookup(key: str) -> str:
    """Look a key up."""
    return key


CASES: dict[str, tuple[Any, dict[str, Any], bool]] = {
    "text": (str, {"system": "Be brief.", "temperature": 0.3, "max_tokens": 300}, False),
    "typed": (Invoice, {"max_tokens": 500}, False),
    "tools": (str, {"max_tokens": 500}, True),
    "reasoning": (Invoice, {"reasoning_effort": "high", "max_tokens": 20000}, False),
    "image": (str, {"max_tokens": 200}, False),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("backend", list(PARAMS))
def test_the_batch_body_is_the_realtime_body(
    backend: str, case: str, alloy_emulator: Scenario
) -> None:
    if case == "reasoning" and backend == "openai-chat":
        case = "typed"  # gpt-4o does not reason; the typed case covers its body
    output, settings, with_tools = CASES[case]
    alloy_emulator.set_default(
        Reply(json={"vendor": "ACME", "total": 1.0}) if output is Invoice else Reply(text="ok")
    )
    cfg = effective(make_config("test", {"model": f"{backend}:{MODELS[backend]}", **settings}))
    prompt: Any = "Extract the invoice: ACME, $1."
    if case == "image":
        prompt = (TextPart("What is this?"), MediaPart(Image.from_bytes(PNG, "image/png")))
    p = plan(prompt, output_spec(output, "test"), cfg, ToolBox([lookup]) if with_tools else None)
    p.backend.complete(p.request)
    (sent,) = alloy_emulator.requests
    wire = wire_request(backend, PARAMS[backend](p.request))
    assert wire.method == "POST"
    assert wire.body == sent.json
    assert wire.path.endswith(sent.path.rsplit("/", 1)[-1])


def test_what_cannot_travel_in_a_batch_line_is_refused() -> None:
    request_params = {"model": "gpt-5-mini", "input": "hi", "extra_headers": {"x-a": "b"}}
    with pytest.raises(ConfigurationError, match="extra_headers"):
        wire_request("openai", request_params)
    with pytest.raises(ConfigurationError, match="no batch API"):
        wire_request("ollama", {"model": "llama3.2"})
