"""The emulator as a recording proxy, through the four real SDKs.

The upstream is the session emulator (a scenario per test, scripted with replies); the proxy
is a second emulator forwarding to that scenario's provider prefix, as it would to
``https://api.openai.com``. Each case checks that the SDK gets the upstream's answer, chunk
for chunk; that the recording loads, holds the exchange and not the key; and that replaying
it through a fresh emulator gives the SDK the same answer in the same chunks.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path

import openai
import pytest
from openai import OpenAI

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import Recording
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import Verbatim
from alloy.testing.emulator import load_recording
from tests.emulator.proxying import APIS
from tests.emulator.proxying import KEY
from tests.emulator.proxying import Answer
from tests.emulator.proxying import ask
from tests.emulator.proxying import events_of

LONG = "The proxy relays every event as it arrives, and the recording keeps each chunk."
PATHS = {
    "openai": "/v1/chat/completions",
    "anthropic": "/v1/messages",
    "gemini": "/v1/models/gemini-2.5-flash:",
    "ollama": "/api/chat",
}


def _through_proxy(
    scenario: Scenario, api: str, file: Path, *, stream: bool
) -> tuple[Answer, Emulator]:
    with Emulator(proxy_to=f"{scenario.url}/{api}", record=file) as proxy:
        answer = ask(api, proxy.base_url(api), stream=stream)
    return answer, proxy


def _replayed(recording: Recording, api: str, *, stream: bool) -> Answer:
    with Emulator(strict=True) as fresh:
        replaying = fresh.scenario()
        replaying.replay(recording)
        answer = ask(api, replaying.base_url(api), stream=stream, key="replay-key")
        assert replaying.pending == 0
    return answer


@pytest.mark.parametrize("api", APIS)
@pytest.mark.parametrize("stream", [False, True], ids=["sync", "stream"])
def test_record_and_replay_through_each_sdk(
    api: str, stream: bool, scenario: Scenario, tmp_path: Path
) -> None:
    scenario.enqueue(Reply(text=LONG, chunk_chars=7, input_tokens=12, output_tokens=9))
    file = tmp_path / f"{api}.json"
    answer, proxy = _through_proxy(scenario, api, file, stream=stream)

    assert answer.text == LONG
    [upstream] = scenario.requests
    assert upstream.carries_key(KEY), "the key reaches the upstream"
    assert upstream.path == f"/_s/{scenario.name}/{api}{PATHS[api]}" + (
        ("streamGenerateContent" if stream else "generateContent") if api == "gemini" else ""
    )
    assert upstream.stream is stream
    [seen] = proxy.requests
    assert seen.status == 200 and seen.carries_key(KEY) and KEY not in repr(seen)

    text = file.read_text(encoding="utf-8")
    assert KEY not in text
    recording = load_recording(file)
    [interaction] = recording.interactions
    assert interaction.path.startswith(PATHS[api])
    assert interaction.status == 200
    assert interaction.body_bytes == b"".join(answer.chunks)
    assert recording.mode == ("stream" if stream else "sync")
    assert recording.provider == {"openai": "openai-chat"}.get(api, api)
    assert "authorization" not in interaction.request_headers
    assert "x-goog-api-key" not in interaction.request_headers
    assert isinstance(interaction.request_body, dict)
    if stream:
        # The upstream emulator sends one event per chunk: the SDK saw exactly those.
        assert len(answer.chunks) > 3
        assert list(answer.chunks) == events_of(api, interaction.body_bytes)
        assert interaction.chunk_sizes == tuple(len(chunk) for chunk in answer.chunks)
    else:
        assert interaction.chunk_sizes is None
        assert json.loads(interaction.body)

    assert _replayed(recording, api, stream=stream) == answer


@pytest.mark.parametrize("api", ["openai", "anthropic"])
def test_chunk_boundaries_are_the_upstreams_even_mid_event(
    api: str, scenario: Scenario, tmp_path: Path
) -> None:
    """An upstream that cuts its stream anywhere (here, inside events): the SDK gets those
    very chunks through the proxy, and again from the replay."""
    with Emulator() as source:
        scripted = source.scenario()
        scripted.enqueue(Reply(text=LONG, chunk_chars=5))
        body = b"".join(ask(api, scripted.base_url(api), stream=True).chunks)
    sizes = [3, 40, 1, 97]
    sizes.append(len(body) - sum(sizes))
    content_type = "text/event-stream; charset=utf-8"
    scenario.enqueue(Verbatim(headers={"content-type": content_type}, body=body, chunk_sizes=sizes))

    file = tmp_path / "cut.json"
    answer, _ = _through_proxy(scenario, api, file, stream=True)
    assert answer.text == LONG
    assert [len(chunk) for chunk in answer.chunks] == sizes
    recording = load_recording(file)
    assert recording.interactions[0].chunk_sizes == tuple(sizes)
    assert recording.interactions[0].headers["content-type"] == content_type
    assert _replayed(recording, api, stream=True) == answer


def test_credentials_never_reach_the_file(scenario: Scenario, tmp_path: Path) -> None:
    """Query keys, cookies, every credential header and a Set-Cookie are left out, and the
    credentials are masked wherever else they appear (a body the upstream echoes them in,
    another header); the client and the upstream still get all of it."""
    query_key = "q" + uuid.uuid4().hex
    cookie = "session=" + KEY[::-1]
    echo = f'{{"echo": "{KEY}", "ok": true}}'
    upstream_headers = {"content-type": "application/json", "set-cookie": cookie}
    scenario.enqueue(Verbatim(headers=upstream_headers, body=echo))
    file = tmp_path / "secrets.json"
    credentials = {
        "cookie": cookie,
        "api-key": KEY,
        "x-api-key": KEY,
        "x-goog-api-key": KEY,
        "authorization": f"Bearer {KEY}",
        "x-custom-auth-token": "not-a-known-header-but-a-credential",
    }
    with Emulator(proxy_to=f"{scenario.url}/gemini", record=file) as proxy:
        request = urllib.request.Request(
            proxy.base_url("gemini") + f"/v1beta/models/m:generateContent?alt=json&key={query_key}",
            data=json.dumps({"contents": [{"parts": [{"text": KEY}]}]}).encode(),
            headers={"content-type": "application/json", "x-trace": f"opaque {query_key}"}
            | credentials,
        )
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        with opener.open(request, timeout=10) as response:
            assert response.headers["set-cookie"] == cookie
            assert json.loads(response.read())["echo"] == KEY

    [upstream] = scenario.requests
    assert upstream.carries_key(KEY) and upstream.carries_key(query_key)
    assert upstream.query == "alt=json&key=***"
    assert upstream.headers["cookie"] == cookie
    assert upstream.json == {"contents": [{"parts": [{"text": KEY}]}]}
    text = file.read_text(encoding="utf-8")
    for secret in (KEY, KEY[::-1], query_key, "not-a-known-header-but-a-credential"):
        assert secret not in text
    [interaction] = load_recording(file).interactions
    assert interaction.path == "/v1beta/models/m:generateContent?alt=json"
    assert not set(credentials) & set(interaction.request_headers)
    assert interaction.request_headers["x-trace"] == "opaque " + "*" * len(query_key)
    assert "set-cookie" not in interaction.headers
    assert json.loads(interaction.body) == {"echo": "*" * len(KEY), "ok": True}
    assert interaction.request_body == {"contents": [{"parts": [{"text": "*" * len(KEY)}]}]}


def test_exchanges_are_recorded_in_arrival_order(scenario: Scenario, tmp_path: Path) -> None:
    """A slow first call and a fast second one: the file lists them as they arrived, which
    is the order a replay serves them in."""
    scenario.enqueue(Reply(text="slow", delay=0.5), Reply(text="fast"))
    file = tmp_path / "order.json"
    with Emulator(proxy_to=f"{scenario.url}/openai", record=file) as proxy:
        slow: list[Answer] = []
        first = threading.Thread(
            target=lambda: slow.append(ask("openai", proxy.base_url("openai"), stream=False))
        )
        first.start()
        _wait_until(lambda: len(scenario.requests) == 1)
        fast = ask("openai", proxy.base_url("openai"), stream=False)
        assert len(load_recording(file).interactions) == 1, "written as soon as it is done"
        first.join(10)
    assert (slow[0].text, fast.text) == ("slow", "fast")
    bodies = [json.loads(i.body) for i in load_recording(file).interactions]
    assert [b["choices"][0]["message"]["content"] for b in bodies] == ["slow", "fast"]


def test_a_stream_the_client_leaves_is_recorded_as_far_as_it_came(
    scenario: Scenario, tmp_path: Path
) -> None:
    scenario.enqueue(Reply(text=LONG, chunk_chars=4, chunk_delay=0.05))
    file = tmp_path / "left.json"
    with Emulator(proxy_to=f"{scenario.url}/openai", record=file) as proxy:
        client = OpenAI(base_url=proxy.base_url("openai"), api_key=KEY, max_retries=0)
        with client:
            stream = client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            events = iter(stream)
            seen = [next(events) for _ in range(3)]
            stream.close()
        _wait_until(lambda: len(load_recording(file).interactions) == 1)
    assert seen[1].choices[0].delta.content == LONG[:4]
    _wait_until(lambda: scenario.requests[0].disconnected)
    [interaction] = load_recording(file).interactions
    events = events_of("openai", interaction.body_bytes)
    assert 3 <= len(events) < len(LONG) // 4
    assert b"[DONE]" not in interaction.body_bytes


def test_stopping_the_proxy_mid_stream_keeps_what_came(scenario: Scenario, tmp_path: Path) -> None:
    """As on SIGTERM: the stream in flight is cut, and recorded as far as it came."""
    scenario.enqueue(Reply(text=LONG, chunk_chars=4, chunk_delay=0.1))
    file = tmp_path / "stopped.json"
    proxy = Emulator(proxy_to=f"{scenario.url}/openai", record=file).start()
    try:
        with OpenAI(base_url=proxy.base_url("openai"), api_key=KEY, max_retries=0) as client:
            stream = client.chat.completions.create(
                model="m", messages=[{"role": "user", "content": "hi"}], stream=True
            )
            events = iter(stream)
            first = [next(events) for _ in range(2)]
            proxy.stop()
            with pytest.raises(openai.APIConnectionError):
                list(events)
    finally:
        proxy.stop()
    assert first[1].choices[0].delta.content == LONG[:4]
    [interaction] = load_recording(file).interactions
    assert 2 <= len(events_of("openai", interaction.body_bytes)) < len(LONG) // 4
    assert KEY not in file.read_text(encoding="utf-8")


def _wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting"
        time.sleep(0.01)
