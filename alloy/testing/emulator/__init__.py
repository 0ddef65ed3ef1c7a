"""A loopback emulator of LLM provider HTTP APIs, for testing against the real SDKs.

The official SDKs are pointed at it by base URL (``Emulator.base_url`` / ``Emulator.env``)
and talk real HTTP to a uvicorn server on 127.0.0.1. Tests script answers in provider-neutral
form, ``Reply`` (text, JSON, tool calls, refusals, usage, streaming cuts) or ``Fault`` (HTTP
errors, resets, malformed bodies, hangs), or replay recorded provider traffic verbatim, and
then inspect every ``RecordedRequest``::

    with Emulator() as emu:
        emu.enqueue(Reply(text="hi"), Fault(status=429, headers={"retry-after-ms": "1"}))
        client = OpenAI(base_url=emu.base_url("openai"), api_key="test")
        ...
        assert emu.requests[0].json["model"] == "gpt-4o"

Wire formats: OpenAI Chat Completions and Responses (JSON and SSE), Anthropic Messages (JSON
and SSE with ``event:`` lines), Gemini ``generateContent`` / ``streamGenerateContent`` (JSON
and SSE) and Ollama ``/api/chat`` (JSON and NDJSON). The OpenAI, Anthropic and Gemini Files
APIs (Gemini's resumable uploads included) keep uploads in memory per scenario
(``Scenario.files``), Gemini ``cachedContents`` expire on a clock tests move
(``Scenario.advance_cache_clock``), and ``Scenario.set_limits(max_request_bytes=…)`` makes
model calls over a size answer each provider's own "too large" error. The OpenAI, Anthropic
and Gemini batch APIs run batches on the scenario clock (``Scenario.advance``), answering
each line with a scripted item rendered as a realtime call would be (``Scenario.batches``
records what was submitted).

A ``Reply`` also scripts reasoning (Anthropic thinking blocks with signatures, Responses
reasoning items, Gemini thought parts and signatures, ``reasoning_content``, Ollama
``thinking``) and cache usage; ``Scenario.set_strict_reasoning`` checks that later requests
echo the signed reasoning as the real APIs require, and ``Scenario.set_prompt_cache`` reports
repeated prompt prefixes as cached.

Run ``python -m alloy.testing.emulator`` to serve out of process, and script that server with
``RemoteEmulator``. ``Emulator(proxy_to=URL, record=FILE)`` (``--proxy-to URL --record FILE``)
forwards every request to a real provider instead, relaying its answers as they arrive, and
writes each exchange to a recording, credentials left out and chunk boundaries kept, which
``replay`` (``--replay FILE``) serves back to the SDKs chunk for chunk.
"""

from __future__ import annotations

from ._items import Fault
from ._items import Reply
from ._items import ToolCall
from ._items import Verbatim
from ._multipart import FormPart
from ._record import Interaction
from ._record import RecordedRequest
from ._record import Recording
from ._record import load_recording
from ._remote import RemoteEmulator
from ._scenario import Scenario
from ._server import Emulator
from .batches import BatchLine
from .batches import SubmittedBatch
from .files import StoredFile

__all__ = [
    "BatchLine",
    "Emulator",
    "Fault",
    "FormPart",
    "Interaction",
    "RecordedRequest",
    "Recording",
    "RemoteEmulator",
    "Reply",
    "Scenario",
    "StoredFile",
    "SubmittedBatch",
    "ToolCall",
    "Verbatim",
    "load_recording",
]
