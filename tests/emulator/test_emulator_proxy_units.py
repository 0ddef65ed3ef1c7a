"""The pure parts of proxy recording: credentials, paths, upstream URLs, the recording
format's additions (``chunk_sizes``, ``body_base64``) and how recorded answers replay."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from alloy.testing.emulator import Interaction
from alloy.testing.emulator import Verbatim
from alloy.testing.emulator import load_recording
from alloy.testing.emulator._items import item_from_json
from alloy.testing.emulator._items import item_to_json
from alloy.testing.emulator._proxy import target_path
from alloy.testing.emulator._recorder import Captured
from alloy.testing.emulator._recorder import interaction_json
from alloy.testing.emulator._scrub import Secrets
from alloy.testing.emulator._scrub import credential_name
from alloy.testing.emulator._scrub import mask_pieces
from alloy.testing.emulator._scrub import scrub_headers
from alloy.testing.emulator._scrub import scrub_query
from alloy.testing.emulator._upstream import Upstream

SECRET = "sk-unit-0123456789abcdef"


@pytest.mark.parametrize(
    "name",
    [
        "authorization",
        "Proxy-Authorization",
        "x-api-key",
        "x-goog-api-key",
        "api-key",
        "api_key",
        "apikey",
        "key",
        "cookie",
        "set-cookie",
        "access_token",
        "x-auth-token",
        "x-amz-security-token",
        "client_secret",
        "password",
        "x-session-id",
        "sig",
    ],
)
def test_credential_names(name: str) -> None:
    assert credential_name(name)


@pytest.mark.parametrize(
    "name",
    [
        "content-type",
        "anthropic-version",
        "anthropic-beta",
        "user-agent",
        "x-ratelimit-remaining-tokens",
        "anthropic-ratelimit-input-tokens-limit",
        "x-stainless-retry-count",
        "alt",
        "upload_id",
        "monkey",
    ],
)
def test_names_that_are_not_credentials(name: str) -> None:
    assert not credential_name(name)


def test_scrub_query_keeps_the_rest_as_sent() -> None:
    secrets = Secrets()
    query = scrub_query(f"alt=sse&key={SECRET}&x=a%20b&api_key={SECRET}x&access_token=t", secrets)
    assert query == "alt=sse&x=a%20b"
    assert secrets.mask(f"<{SECRET}>".encode()) == b"<" + b"*" * len(SECRET) + b">"
    assert scrub_query("", secrets) == ""


def test_headers_that_look_like_credentials_go_whatever_their_name() -> None:
    secrets = Secrets()
    kept = scrub_headers(
        [
            ("X-Forwarded", f"Bearer {SECRET}"),
            ("x-note", "an sk-0123456789abcdefghij key"),
            ("x-google", "AIza" + "x" * 35),
            ("Accept", "a"),
            ("accept", "b"),
            ("Host", "example.com"),
        ],
        secrets,
        drop=frozenset({"host"}),
    )
    assert kept == {"accept": "a, b"}
    assert secrets.mask(SECRET.encode()) == b"*" * len(SECRET), "the token after Bearer"


def test_short_values_are_dropped_but_not_masked_everywhere() -> None:
    secrets = Secrets()
    assert scrub_query("key=test", secrets) == ""
    assert secrets.mask(b"a test body") == b"a test body"


def test_a_credential_across_two_pieces_is_masked_and_the_cut_kept() -> None:
    secrets = Secrets()
    secrets.add(SECRET)
    pieces = [b'{"k": "' + SECRET[:5].encode(), SECRET[5:].encode() + b'"}']
    masked = mask_pieces(pieces, secrets)
    assert [len(p) for p in masked] == [len(p) for p in pieces]
    assert b"".join(masked) == b'{"k": "' + b"*" * len(SECRET) + b'"}'


@pytest.mark.parametrize(
    ("raw", "path", "api_path", "expected"),
    [
        (
            "/openai/v1/chat/completions",
            "/openai/v1/chat/completions",
            "/v1/chat/completions",
            "/v1/chat/completions",
        ),
        (
            "/_s/x/gemini/v1/models/a%3Ab:generateContent",
            "/_s/x/gemini/v1/models/a:b:generateContent",
            "/v1/models/a:b:generateContent",
            "/v1/models/a%3Ab:generateContent",
        ),
        ("/v1/files/a%2Fb", "/v1/files/a/b", "/v1/files/a/b", "/v1/files/a%2Fb"),
        ("/openai", "/openai", "/", "/"),
        ("/_s/x", "/_s/x", "/", "/"),
        ("/odd", "/anthropic/v1/a b", "/v1/a b", "/v1/a%20b"),
    ],
)
def test_target_path(raw: str, path: str, api_path: str, expected: str) -> None:
    assert target_path(raw, path, api_path) == expected


def test_upstream_urls() -> None:
    openai = Upstream.parse("https://api.openai.com/")
    assert (openai.host, openai.port, openai.base_path, openai.netloc) == (
        "api.openai.com",
        443,
        "",
        "api.openai.com",
    )
    local = Upstream.parse("http://[::1]:8080/_s/x/openai")
    assert (local.netloc, local.url) == ("[::1]:8080", "http://[::1]:8080/_s/x/openai")
    refusals = {
        "ftp://a": "http:// or https://",
        "api.openai.com": "http:// or https://",
        "https://k@a.com": "credentials",
        "https://a.com/?key=k": "query",
        "http://a:x": "[Pp]ort",
    }
    for bad, match in refusals.items():
        with pytest.raises(ValueError, match=match):
            Upstream.parse(bad)


def test_verbatim_chunk_sizes_must_add_up() -> None:
    assert Verbatim(body="abcdef", chunk_sizes=[1, 5]).chunks() == [b"a", b"bcdef"]
    assert Verbatim(body="abc").chunks() == [b"abc"]
    assert Verbatim(body="", chunk_sizes=[]).chunks() == []
    for sizes in ([1, 4], [0, 6], [True, 5], [-1, 7]):
        with pytest.raises(ValueError, match="chunk_sizes"):
            Verbatim(body="abcdef", chunk_sizes=sizes)


def test_verbatim_travels_the_control_plane_intact() -> None:
    item = Verbatim(body=b"\xff\x00 raw", chunk_sizes=[2, 4], method="GET", path="/v1/x")
    data = json.loads(json.dumps(item_to_json(item)))
    assert "body" not in data
    assert item_from_json(data) == item
    text = Verbatim(body="héllo", chunk_sizes=[6])
    assert item_from_json(json.loads(json.dumps(item_to_json(text)))).body == "héllo"


def _file(tmp_path: Path, response: dict[str, object]) -> Path:
    file = tmp_path / "r.json"
    request = {"method": "post", "path": "/v1/messages", "headers": {}, "body": None}
    document = {"provider": "anthropic", "scenario": "s", "mode": "stream"}
    document["interactions"] = [{"request": request, "response": response}]  # type: ignore[assignment]
    file.write_text(json.dumps(document), encoding="utf-8")
    return file


def test_load_recording_reads_chunk_sizes_and_base64_bodies(tmp_path: Path) -> None:
    headers = {"Content-Type": "application/octet-stream", "Content-Length": "3", "Date": "x"}
    response = {"status": 200, "headers": headers, "body_base64": "/wAB", "chunk_sizes": [1, 2]}
    [interaction] = load_recording(_file(tmp_path, response)).interactions
    assert (interaction.method, interaction.body_bytes) == ("POST", b"\xff\x00\x01")
    assert interaction.chunk_sizes == (1, 2)
    item = interaction.item()
    assert item.chunks() == [b"\xff", b"\x00\x01"]
    assert dict(item.headers) == {"content-type": "application/octet-stream"}


@pytest.mark.parametrize(
    ("response", "match"),
    [
        ({"status": 200, "headers": {}, "body": "abc", "chunk_sizes": [1, 1]}, "adding up"),
        ({"status": 200, "headers": {}, "body": "abc", "chunk_sizes": "abc"}, "int"),
        ({"status": 200, "headers": {}, "body_base64": "not base64!"}, "not base64"),
    ],
)
def test_load_recording_refuses_what_does_not_fit(
    tmp_path: Path, response: dict[str, object], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        load_recording(_file(tmp_path, response))


def test_a_recorded_answer_replays_its_headers_but_not_its_framing() -> None:
    interaction = Interaction(
        method="POST",
        path="/v1/messages",
        request_headers={},
        request_body=None,
        status=529,
        headers={"retry-after": "3", "transfer-encoding": "chunked", "request-id": "req_1"},
        body="{}",
    )
    item = interaction.item()
    assert dict(item.headers) == {
        "retry-after": "3",
        "request-id": "req_1",
        "content-type": "application/json",
    }
    assert (item.status, item.chunk_sizes, item.method) == (529, None, "POST")


def test_interaction_json_keeps_the_message_not_the_connection() -> None:
    captured = Captured(
        method="POST",
        path="/v1/files",
        query="purpose=x",
        request_headers=[
            ("host", "127.0.0.1:1"),
            ("content-length", "5"),
            ("connection", "keep-alive"),
            ("content-type", "multipart/form-data; boundary=b"),
        ],
        request_body=b"\x00\x01upload",
        provider="",
        stream=False,
        status=200,
        response_headers=[("content-length", "2"), ("x-request-id", "r1")],
        pieces=[b"{", b"}"],
        chunked=False,
    )
    entry = interaction_json(captured)
    request, response = entry["request"], entry["response"]
    assert request["path"] == "/v1/files?purpose=x"
    assert request["headers"] == {"content-type": "multipart/form-data; boundary=b"}
    assert request["body"] is None and request["body_summary"].startswith("<8 bytes sha256=")
    assert response == {"status": 200, "headers": {"x-request-id": "r1"}, "body": "{}"}
