"""Replaying recorded real provider traffic verbatim through the real SDKs.

Every ``openai-chat__*`` and ``openai-responses__*`` recording is driven through the openai
SDK and checked against the file's ``expect``. Chat clients validate strictly; Responses
clients cannot, because the recorded bodies predate the ``cache_write_tokens`` usage field
that openai 3.52's models require.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest
from openai import OpenAI

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import Recording
from alloy.testing.emulator import Scenario
from alloy.testing.emulator import load_recording

RECORDED = Path(__file__).resolve().parents[2] / ".." / "shared" / "recorded"
FILES = (
    sorted(RECORDED.glob("openai-chat__*.json")) + sorted(RECORDED.glob("openai-responses__*.json"))
    if RECORDED.is_dir()
    else []
)


def _recording(name: str) -> Recording:
    if not RECORDED.is_dir():
        pytest.skip(f"no recordings at {RECORDED}")
    return load_recording(RECORDED / name)


def _drive_chat(client: OpenAI, body: dict[str, Any]) -> dict[str, Any]:
    if body.pop("stream", False):
        with client.chat.completions.stream(**body) as stream:
            completion = stream.get_final_completion()
    else:
        completion = client.chat.completions.create(**body)
    choice = completion.choices[0]
    usage = completion.usage
    calls = [
        {"name": c.function.name, "arguments": json.loads(c.function.arguments)}
        for c in choice.message.tool_calls or []
        if c.type == "function"
    ]
    return {
        "text": choice.message.content or None,
        "tool_calls": calls,
        "finish": choice.finish_reason,
        "refusal": choice.message.refusal,
        "input_tokens": usage and usage.prompt_tokens,
        "output_tokens": usage and usage.completion_tokens,
    }


def _drive_responses(client: OpenAI, body: dict[str, Any]) -> dict[str, Any]:
    if body.pop("stream", False):
        with client.responses.stream(**body) as stream:
            response = stream.get_final_response()
    else:
        response = client.responses.create(**body)
    calls: list[dict[str, Any]] = []
    refusals: list[str] = []
    thinking: list[str] = []
    for item in response.output:
        if item.type == "function_call":
            calls.append({"name": item.name, "arguments": json.loads(item.arguments)})
        elif item.type == "message":
            refusals += [part.refusal for part in item.content if part.type == "refusal"]
        elif item.type == "reasoning":
            thinking += [summary.text for summary in item.summary]
    finish: str | None = response.status
    if response.status == "incomplete" and response.incomplete_details is not None:
        finish = response.incomplete_details.reason
    usage = response.usage
    return {
        "text": response.output_text or None,
        "tool_calls": calls,
        "finish": finish,
        "refusal": "".join(refusals) or None,
        "thinking": "\n\n".join(thinking) or None,
        "input_tokens": usage and usage.input_tokens,
        "output_tokens": usage and usage.output_tokens,
    }


@pytest.mark.parametrize("name", [f.name for f in FILES] or ["openai-recordings-missing"])
def test_replay_openai_recording(name: str, scenario: Scenario) -> None:
    recording = _recording(name)
    scenario.replay(recording)
    chat = recording.provider == "openai-chat"
    drive = _drive_chat if chat else _drive_responses
    client = OpenAI(
        base_url=scenario.base_url("openai"),
        api_key="test",
        max_retries=0,
        _strict_response_validation=chat,
    )
    expect = recording.expect
    with client:
        for interaction in recording.interactions[:-1]:
            drive(client, dict(interaction.request_body))
        body = dict(recording.last_request.request_body)
        if expect.get("error"):
            with pytest.raises(openai.APIStatusError) as caught:
                drive(client, body)
            assert caught.value.status_code == expect["error"]["status"]
            assert isinstance(caught.value.body, dict)
            assert caught.value.body.get("type") == expect["error"]["type"]
            assert caught.value.message.endswith(expect["error"]["message"])
            return
        got = drive(client, body)
    assert got["text"] == expect["text"]
    assert got["tool_calls"] == expect["tool_calls"]
    assert got["finish"] == expect["finish"]
    assert got["refusal"] == expect.get("refusal")
    if "thinking" in got:
        assert got["thinking"] == expect.get("thinking")
    usage = expect["usage"]
    assert (got["input_tokens"], got["output_tokens"]) == (
        usage["input_tokens"],
        usage["output_tokens"],
    )
    assert scenario.pending == 0
    assert [r.path.split("/openai", 1)[1] for r in scenario.requests] == [
        i.path for i in recording.interactions
    ]


def test_replay_anthropic_recording(scenario: Scenario) -> None:
    anthropic = pytest.importorskip("anthropic")
    recording = _recording("anthropic__text__sync.json")
    scenario.replay(recording)
    with anthropic.Anthropic(
        base_url=scenario.base_url("anthropic"), api_key="test", max_retries=0
    ) as client:
        # The recorded model name is deprecated, and the SDK warns about it.
        body = {**recording.last_request.request_body, "model": "emulated-claude"}
        message = client.messages.create(**body)
    assert message.content[0].text == recording.expect["text"]
    assert message.stop_reason == recording.expect["finish"]


def test_replay_gemini_recording_on_the_sdks_default_version(scenario: Scenario) -> None:
    """The recordings are /v1beta; google-genai 3.x sends /v1 by default."""
    genai = pytest.importorskip("google.genai")
    recording = _recording("gemini__text__stream.json")
    scenario.replay(recording)
    client = genai.Client(
        api_key="test", http_options=genai.types.HttpOptions(base_url=scenario.base_url("gemini"))
    )
    with client:
        chunks = list(
            client.models.generate_content_stream(
                model="gemini-2.5-flash", contents="What is 4200 + 42?"
            )
        )
    assert "".join(c.text or "" for c in chunks) == recording.expect["text"]
    [request] = scenario.requests
    assert request.path.endswith("/gemini/v1/models/gemini-2.5-flash:streamGenerateContent")
    assert request.provider == "gemini"
    assert request.stream is True


def test_replay_ollama_recording(scenario: Scenario) -> None:
    ollama = pytest.importorskip("ollama")
    recording = _recording("ollama__native-chat-text__stream.json")
    scenario.replay(recording)
    with ollama.Client(host=scenario.base_url("ollama")) as client:
        messages = [{"role": "user", "content": "Say hello!"}]
        parts = list(client.chat(model="llama3.1", messages=messages, stream=True))
    assert "".join(p.message.content or "" for p in parts) == recording.expect["text"]
    assert parts[-1].done_reason == recording.expect["finish"]


def test_replay_on_unprefixed_paths(emulator: Emulator) -> None:
    """Pointing the SDK at ``{url}/v1`` (the README's set-up) also works."""
    recording = _recording("openai-chat__text__sync.json")
    scenario = emulator.scenario()
    scenario.replay(recording)
    with OpenAI(base_url=scenario.url + "/v1", api_key="t", max_retries=0) as client:
        completion = client.chat.completions.create(**recording.last_request.request_body)
    assert completion.choices[0].message.content == recording.expect["text"]
