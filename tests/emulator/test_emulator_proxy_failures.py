"""The proxy when the upstream fails or answers unusually: 502s that say what happened (and
are not recorded), a stream broken off, error answers recorded and replayed, non-UTF-8
bodies, interim answers, and bodies that are read to the end of the connection.

Unusual upstreams are a plain socket server on 127.0.0.1 sending exactly the bytes a test
gives it, one part at a time.
"""

from __future__ import annotations

import json
import socket
import threading
import urllib.request
from pathlib import Path
from typing import Any

import httpx2
import openai
import pytest
from openai import OpenAI

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import Fault
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import Verbatim
from alloy.testing.emulator import load_recording
from tests.emulator.proxying import KEY

MESSAGES: Any = [{"role": "user", "content": "hi"}]
# Loopback requests go straight to the server, whatever proxy the environment names.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _client(base_url: str, *, timeout: float = 10.0) -> OpenAI:
    return OpenAI(base_url=base_url, api_key=KEY, max_retries=0, timeout=timeout)


def _failed_call(proxy_to: str, file: Path, *, upstream_timeout: float = 10.0) -> str:
    """The message of the 502 an openai call through the proxy gets; nothing recorded."""
    proxy = Emulator(proxy_to=proxy_to, record=file, upstream_timeout=upstream_timeout)
    with proxy, _client(proxy.base_url("openai")) as client:
        with pytest.raises(openai.InternalServerError) as caught:
            client.chat.completions.create(model="m", messages=MESSAGES)
        assert [r.status for r in proxy.requests] == [502]
    error = caught.value
    assert error.status_code == 502
    assert isinstance(error.body, dict) and KEY not in json.dumps(error.body)
    assert load_recording(file).interactions == ()
    return error.message


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_an_upstream_that_refuses_connections(tmp_path: Path) -> None:
    port = _free_port()
    message = _failed_call(f"http://127.0.0.1:{port}", tmp_path / "r.json")
    assert f"emulator proxy: cannot connect to 127.0.0.1:{port}: connection refused" in message


def test_an_upstream_that_cannot_be_resolved(tmp_path: Path) -> None:
    # The suite's guard refuses to resolve any name but loopback, as a DNS failure would.
    message = _failed_call("https://upstream.invalid", tmp_path / "r.json")
    assert "cannot resolve upstream.invalid" in message


def test_an_upstream_that_does_not_answer_in_time(scenario: Scenario, tmp_path: Path) -> None:
    scenario.enqueue(Fault(hang=True))
    message = _failed_call(f"{scenario.url}/openai", tmp_path / "r.json", upstream_timeout=0.3)
    assert "did not answer within 0.3 s" in message
    assert scenario.requests[0].disconnected


def test_an_upstream_whose_tls_fails(scenario: Scenario, tmp_path: Path) -> None:
    plain = scenario.url.replace("http://", "https://", 1)
    message = _failed_call(f"{plain}/openai", tmp_path / "r.json")
    assert "the TLS handshake with 127.0.0.1:" in message and "failed" in message


def test_an_upstream_that_does_not_speak_http(tmp_path: Path) -> None:
    with _RawUpstream([b"SSH-2.0-OpenSSH_9.6\r\n"]) as upstream:
        message = _failed_call(upstream.url, tmp_path / "r.json")
    assert "did not answer in HTTP/1.x: b'SSH-2.0-OpenSSH_9.6\\r\\n'" in message


def test_a_stream_broken_off_upstream_breaks_the_clients_and_is_not_recorded(
    scenario: Scenario, tmp_path: Path
) -> None:
    scenario.enqueue(Reply(text="x" * 80, chunk_chars=4, abort_after=5))
    file = tmp_path / "broken.json"
    proxy = Emulator(proxy_to=f"{scenario.url}/openai", record=file)
    with proxy, _client(proxy.base_url("openai")) as client:
        stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
        with pytest.raises(openai.APIConnectionError) as caught:
            list(stream)
    assert isinstance(caught.value.__cause__, (httpx2.RemoteProtocolError, httpx2.ReadError))
    assert load_recording(file).interactions == ()


def test_an_error_answer_is_relayed_recorded_and_replayed(
    scenario: Scenario, tmp_path: Path
) -> None:
    scenario.enqueue(Fault(status=429, headers={"retry-after": "7"}, message="slow down"))
    file = tmp_path / "429.json"
    proxy = Emulator(proxy_to=f"{scenario.url}/openai", record=file)
    with (
        proxy,
        _client(proxy.base_url("openai")) as client,
        pytest.raises(openai.RateLimitError) as proxied,
    ):
        client.chat.completions.create(model="m", messages=MESSAGES)
    recording = load_recording(file)
    [interaction] = recording.interactions
    assert (interaction.status, interaction.headers["retry-after"]) == (429, "7")
    fresh = Emulator(strict=True)
    fresh.replay(recording)
    with (
        fresh,
        _client(fresh.base_url("openai")) as client,
        pytest.raises(openai.RateLimitError) as replayed,
    ):
        client.chat.completions.create(model="m", messages=MESSAGES)
    for caught in (proxied.value, replayed.value):
        assert caught.message.endswith("slow down")
        assert caught.response.headers["retry-after"] == "7"


def test_a_recording_that_cannot_be_written_does_not_break_the_exchange(
    scenario: Scenario, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    scenario.enqueue(Reply(text="still answered"))
    folder = tmp_path / "gone"
    folder.mkdir()
    file = folder / "r.json"
    with Emulator(proxy_to=f"{scenario.url}/openai", record=file) as proxy:
        assert load_recording(file).interactions == ()
        file.unlink()
        folder.rmdir()
        with _client(proxy.base_url("openai")) as client:
            completion = client.chat.completions.create(model="m", messages=MESSAGES)
        assert completion.choices[0].message.content == "still answered"
        assert [r.status for r in proxy.requests] == [200]
        with pytest.raises(FileNotFoundError):
            proxy.stop()
    assert f"emulator proxy: cannot record to {file}" in caplog.text


def test_a_body_that_is_not_utf8_round_trips(scenario: Scenario, tmp_path: Path) -> None:
    data = bytes(range(256)) * 3
    headers = {"content-type": "application/octet-stream"}
    scenario.enqueue(Verbatim(headers=headers, body=data, chunk_sizes=[1, 255, 512]))
    file = tmp_path / "bytes.json"
    with Emulator(proxy_to=f"{scenario.url}/openai", record=file) as proxy:
        assert _get(proxy.base_url("openai") + "/chat/completions") == data
    raw = json.loads(file.read_text(encoding="utf-8"))["interactions"][0]["response"]
    assert "body" not in raw and raw["chunk_sizes"] == [1, 255, 512]
    recording = load_recording(file)
    assert recording.interactions[0].body_bytes == data
    assert recording.interactions[0].path == "/v1/chat/completions"
    with Emulator(strict=True) as fresh:
        fresh.replay(recording)
        assert _get(fresh.base_url("openai") + "/chat/completions") == data


def test_a_request_nested_too_deep_is_relayed_and_recorded_by_digest(
    scenario: Scenario, tmp_path: Path
) -> None:
    scenario.enqueue(Reply(text="flat"))
    deep = b"[" * 100_000 + b"]" * 100_000
    file = tmp_path / "deep.json"
    with Emulator(proxy_to=f"{scenario.url}/openai", record=file) as proxy:
        request = urllib.request.Request(
            proxy.base_url("openai") + "/chat/completions",
            data=deep,
            headers={"content-type": "application/json"},
        )
        with _OPENER.open(request, timeout=10) as response:
            assert json.loads(response.read())["choices"][0]["message"]["content"] == "flat"
    assert scenario.requests[0].body == deep
    [interaction] = load_recording(file).interactions
    assert interaction.request_body is None
    raw = json.loads(file.read_text(encoding="utf-8"))["interactions"][0]["request"]
    assert raw["body_summary"].startswith("<200000 bytes sha256=")


@pytest.mark.parametrize("framing", ["chunked", "to-the-end"])
def test_each_piece_reaches_the_client_before_the_next_is_sent(
    framing: str, tmp_path: Path
) -> None:
    """The upstream sends the next event only once the SDK has yielded the previous one: so
    the proxy relays as it goes (an interim 100 answer first is skipped), and records the
    pieces as they came."""
    events = [
        f"data: {json.dumps(_chunk(text))}\n\n".encode() for text in ("Hel", "lo", " there")
    ] + [b"data: [DONE]\n\n"]
    chunked = framing == "chunked"
    head = (
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n"
        + (b"transfer-encoding: chunked\r\n" if chunked else b"")
        + b"\r\n"
    )
    parts = [b"%x\r\n%s\r\n" % (len(e), e) if chunked else e for e in events]
    parts[-1] += b"0\r\n\r\n" if chunked else b""
    file = tmp_path / "live.json"
    texts: list[str] = []
    with _RawUpstream([head + parts[0], *parts[1:]], paced=True) as upstream:
        proxy = Emulator(proxy_to=upstream.url, record=file)
        with proxy, _client(proxy.base_url("openai")) as client:
            stream = client.chat.completions.create(model="m", messages=MESSAGES, stream=True)
            for chunk in stream:
                texts.append(chunk.choices[0].delta.content or "")
                upstream.next_part.set()
    assert texts == ["Hel", "lo", " there"]
    [interaction] = load_recording(file).interactions
    assert interaction.chunk_sizes == tuple(len(e) for e in events)
    assert interaction.body_bytes == b"".join(events)


def _chunk(text: str) -> dict[str, object]:
    delta = {"index": 0, "delta": {"content": text}, "finish_reason": None}
    return {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "m"} | {
        "choices": [delta]
    }


def _get(url: str) -> bytes:
    with _OPENER.open(url, timeout=10) as response:
        data: bytes = response.read()
    return data


class _RawUpstream:
    """A one-connection server that reads a request and sends ``parts`` in order, then
    closes; when ``paced``, each part after the first waits for ``next_part``."""

    def __init__(self, parts: list[bytes], *, paced: bool = False) -> None:
        self._parts = parts
        self._paced = paced
        self.next_part = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self._listener.getsockname()[1]}"
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> _RawUpstream:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.next_part.set()
        self._listener.close()
        self._thread.join(10)

    def _serve(self) -> None:
        try:
            connection, _ = self._listener.accept()
        except OSError:
            return
        with connection:
            _read_request(connection)
            for index, part in enumerate(self._parts):
                if index and self._paced:
                    assert self.next_part.wait(10)
                    self.next_part.clear()
                connection.sendall(part)


def _read_request(connection: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":")[1])
            for line in head.lower().split(b"\r\n")
            if line.startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        body += connection.recv(65536)
