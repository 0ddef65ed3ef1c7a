"""Helpers for the proxy tests: each real SDK driven through a base URL, with a log of the
body chunks its HTTP client received.

``ChunkLog`` is an ordinary httpx (or httpx2) transport handed to the SDK through its public
client options; it passes every request to the real transport and notes each chunk of the
response body as it is read, which is where chunk boundaries can be seen from the SDK side.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field
from typing import Any

import httpx
import httpx2
import ollama
from anthropic import Anthropic
from google import genai
from google.genai import types
from openai import OpenAI

APIS = ("openai", "anthropic", "gemini", "ollama")
KEY = "sk-alloy-proxy-" + uuid.uuid4().hex
"""A distinctive key: it must reach the upstream and never the recording."""
QUESTION = "Say something long enough to stream in several chunks."


class _Tee2(httpx2.SyncByteStream):
    def __init__(self, stream: httpx2.SyncByteStream, seen: list[bytes]) -> None:
        self._stream = stream
        self._seen = seen

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            self._seen.append(bytes(chunk))
            yield chunk

    def close(self) -> None:
        self._stream.close()


class _Tee(httpx.SyncByteStream):
    def __init__(self, stream: httpx.SyncByteStream, seen: list[bytes]) -> None:
        self._stream = stream
        self._seen = seen

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._stream:
            self._seen.append(bytes(chunk))
            yield chunk

    def close(self) -> None:
        self._stream.close()


class _Httpx2Log(httpx2.BaseTransport):
    def __init__(self, log: ChunkLog) -> None:
        self._inner = httpx2.HTTPTransport()
        self._log = log

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        response = self._inner.handle_request(request)
        assert isinstance(response.stream, httpx2.SyncByteStream)
        response.stream = _Tee2(response.stream, self._log.new())
        return response

    def close(self) -> None:
        self._inner.close()


class _HttpxLog(httpx.BaseTransport):
    def __init__(self, log: ChunkLog) -> None:
        self._inner = httpx.HTTPTransport()
        self._log = log

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self._inner.handle_request(request)
        assert isinstance(response.stream, httpx.SyncByteStream)
        response.stream = _Tee(response.stream, self._log.new())
        return response

    def close(self) -> None:
        self._inner.close()


@dataclass
class ChunkLog:
    """The body chunks of each response, in order of the requests."""

    responses: list[list[bytes]] = field(default_factory=list[list[bytes]])

    def new(self) -> list[bytes]:
        self.responses.append([])
        return self.responses[-1]

    @property
    def last(self) -> list[bytes]:
        return self.responses[-1]


@dataclass(frozen=True)
class Answer:
    """What an SDK call gave back, in terms every SDK shares."""

    text: str
    finish: str | None
    chunks: tuple[bytes, ...]


def ask(api: str, base_url: str, *, stream: bool, key: str = KEY) -> Answer:
    """One model call with ``api``'s real SDK against ``base_url`` (sync client)."""
    log = ChunkLog()
    text, finish = _CALLS[api](base_url, key, log, stream)
    return Answer(text, finish, tuple(log.last))


def _openai(base_url: str, key: str, log: ChunkLog, stream: bool) -> tuple[str, str | None]:
    http = httpx2.Client(transport=_Httpx2Log(log))
    with OpenAI(
        base_url=base_url,
        api_key=key,
        max_retries=0,
        timeout=10.0,
        http_client=http,
        _strict_response_validation=True,
    ) as client:
        messages: Any = [{"role": "user", "content": QUESTION}]
        if not stream:
            completion = client.chat.completions.create(model="gpt-5-mini", messages=messages)
            choice = completion.choices[0]
            return choice.message.content or "", choice.finish_reason
        parts: list[str] = []
        finish: str | None = None
        for chunk in client.chat.completions.create(
            model="gpt-5-mini", messages=messages, stream=True
        ):
            for delta in chunk.choices:
                parts.append(delta.delta.content or "")
                finish = delta.finish_reason or finish
        return "".join(parts), finish


def _anthropic(base_url: str, key: str, log: ChunkLog, stream: bool) -> tuple[str, str | None]:
    http = httpx2.Client(transport=_Httpx2Log(log))
    with Anthropic(
        base_url=base_url,
        api_key=key,
        max_retries=0,
        timeout=10.0,
        http_client=http,
        _strict_response_validation=True,
    ) as client:
        ask: Any = {
            "model": "claude-sonnet-4-6",
            "max_tokens": 256,
            "messages": [{"role": "user", "content": QUESTION}],
        }
        if stream:
            with client.messages.stream(**ask) as events:
                message = events.get_final_message()
        else:
            message = client.messages.create(**ask)
    text = "".join(block.text for block in message.content if block.type == "text")
    return text, message.stop_reason


def _gemini(base_url: str, key: str, log: ChunkLog, stream: bool) -> tuple[str, str | None]:
    options = types.HttpOptions(
        base_url=base_url, timeout=10_000, client_args={"transport": _Httpx2Log(log)}
    )
    client = genai.Client(api_key=key, http_options=options)
    try:
        if stream:
            chunks = list(
                client.models.generate_content_stream(model="gemini-2.5-flash", contents=QUESTION)
            )
        else:
            chunks = [client.models.generate_content(model="gemini-2.5-flash", contents=QUESTION)]
    finally:
        client.close()
    reasons = [c.candidates[0].finish_reason for c in chunks if c.candidates]
    finish = next((r.value for r in reversed(reasons) if r is not None), None)
    return "".join(c.text or "" for c in chunks), finish


def _ollama(base_url: str, key: str, log: ChunkLog, stream: bool) -> tuple[str, str | None]:
    headers = {"authorization": f"Bearer {key}"}
    with ollama.Client(
        host=base_url, headers=headers, timeout=10.0, transport=_HttpxLog(log)
    ) as client:
        messages = [{"role": "user", "content": QUESTION}]
        if stream:
            parts = list(client.chat(model="llama3.1", messages=messages, stream=True))
        else:
            parts = [client.chat(model="llama3.1", messages=messages, stream=False)]
    return "".join(p.message.content or "" for p in parts), parts[-1].done_reason


_CALLS = {"openai": _openai, "anthropic": _anthropic, "gemini": _gemini, "ollama": _ollama}


def events_of(api: str, body: bytes) -> list[bytes]:
    """``body`` cut after each event of its stream framing (SSE; NDJSON for ollama)."""
    end = b"\n" if api == "ollama" else (b"\r\n\r\n" if api == "gemini" else b"\n\n")
    pieces = body.split(end)
    assert pieces[-1] == b"", "a stream ends with a complete event"
    return [piece + end for piece in pieces[:-1]]
