"""``Scenario.set_limits(max_request_bytes=…)``: model calls over the size answer each
provider's own error, raised by each real SDK as its own status error."""

# The ollama SDK's chat() is partly untyped.
# pyright: reportUnknownMemberType=false, reportUnknownVariableType=false

from __future__ import annotations

import io
from collections.abc import Callable

import anthropic
import ollama
import openai
import pytest
from google import genai
from google.genai import errors
from google.genai import types
from openai import OpenAI

from alloy.testing.emulator import Emulator
from alloy.testing.emulator import RemoteEmulator
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

MakeClient = Callable[..., OpenAI]

LIMIT = 2000
SMALL = "hi"
LARGE = "x" * (LIMIT + 1)


def _chat(client: OpenAI, text: str) -> str | None:
    completion = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": text}]
    )
    return completion.choices[0].message.content


@pytest.fixture(autouse=True)
def _limited(scenario: Scenario) -> None:
    scenario.set_limits(max_request_bytes=LIMIT)
    scenario.enqueue(Reply(text="small enough"))


def test_openai_chat_and_responses(make_client: MakeClient, scenario: Scenario) -> None:
    client = make_client(max_retries=2)
    assert _chat(client, SMALL) == "small enough"
    scenario.enqueue(Reply(text="never sent"))
    with pytest.raises(openai.APIStatusError) as chat:
        _chat(client, LARGE)
    assert chat.value.status_code == 413
    assert "413 Request Entity Too Large" in str(chat.value.body)  # Cloudflare's HTML page
    with pytest.raises(openai.APIStatusError) as responses:
        client.responses.create(model="m", input=LARGE)
    assert responses.value.status_code == 413
    # Not retried, and no scripted reply taken.
    assert [r.status for r in scenario.requests] == [200, 413, 413]
    assert [r.item for r in scenario.requests[1:]] == [None, None]
    assert scenario.pending == 1


def test_anthropic_messages(scenario: Scenario) -> None:
    with anthropic.Anthropic(
        base_url=scenario.base_url("anthropic"),
        api_key="k",
        max_retries=2,
        _strict_response_validation=True,
    ) as client:

        def ask(text: str) -> anthropic.types.Message:
            return client.messages.create(
                model="claude-sonnet-4-6",
                max_tokens=10,
                messages=[{"role": "user", "content": text}],
            )

        assert ask(SMALL).content
        with pytest.raises(anthropic.ContentTooLargeError) as caught:
            ask(LARGE)
    assert anthropic.RequestTooLargeError is anthropic.ContentTooLargeError
    assert caught.value.status_code == 413
    assert caught.value.type == "request_too_large"
    assert caught.value.api_message == "Request exceeds the maximum size"
    assert len(scenario.requests) == 2


def test_gemini_generate_and_stream(scenario: Scenario) -> None:
    options = types.HttpOptions(base_url=scenario.base_url("gemini"), timeout=10_000)
    with genai.Client(api_key="k", http_options=options) as client:
        assert client.models.generate_content(model="gemini-2.5-flash", contents=SMALL).text
        with pytest.raises(errors.ClientError) as caught:
            client.models.generate_content(model="gemini-2.5-flash", contents=LARGE)
        assert (caught.value.code, caught.value.status) == (400, "INVALID_ARGUMENT")
        assert caught.value.message == f"Request payload size exceeds the limit: {LIMIT} bytes."
        with pytest.raises(errors.ClientError) as streamed:
            for _ in client.models.generate_content_stream(
                model="gemini-2.5-flash", contents=LARGE
            ):
                pass
        assert streamed.value.code == 400
        # Uploads are not model calls: a file over the limit goes through.
        uploaded = client.files.upload(
            file=io.BytesIO(LARGE.encode()), config={"mime_type": "text/plain"}
        )
        assert uploaded.size_bytes == len(LARGE)


def test_ollama_native_and_openai_compatible(scenario: Scenario) -> None:
    with ollama.Client(host=scenario.base_url("ollama"), timeout=10.0) as client:
        messages = [{"role": "user", "content": LARGE}]
        with pytest.raises(ollama.ResponseError) as native:
            client.chat(model="llama3.1", messages=messages, stream=False)
    assert native.value.status_code == 413
    assert native.value.error == "http: request body too large"
    with (
        OpenAI(base_url=scenario.base_url("ollama") + "/v1", api_key="k", max_retries=0) as compat,
        pytest.raises(openai.APIStatusError) as caught,
    ):
        _chat(compat, LARGE)
    assert caught.value.status_code == 413
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["message"] == "http: request body too large"
    assert scenario.pending == 1


def test_the_limit_is_exclusive_and_can_be_lifted(
    make_client: MakeClient, scenario: Scenario
) -> None:
    client = make_client()
    scenario.set_limits(max_request_bytes=None)
    assert _chat(client, LARGE) == "small enough"
    scenario.set_limits(max_request_bytes=len(scenario.requests[0].body))
    scenario.enqueue(Reply(text="exactly at the limit"))
    assert _chat(client, LARGE) == "exactly at the limit"
    scenario.set_limits(max_request_bytes=0)
    with pytest.raises(openai.APIStatusError):
        _chat(client, "")
    scenario.reset()  # lifts the limit
    assert _chat(client, LARGE) == "ok"
    for bad in (-1, 1.5, "10", True):
        with pytest.raises(ValueError, match="max_request_bytes"):
            scenario.set_limits(max_request_bytes=bad)  # type: ignore[arg-type]


def test_remote_emulator_sets_limits(emulator: Emulator) -> None:
    remote = RemoteEmulator(emulator.url).scenario()
    remote.set_limits(max_request_bytes=100)
    with OpenAI(base_url=remote.base_url("openai"), api_key="k", max_retries=0) as client:
        with pytest.raises(openai.APIStatusError) as caught:
            _chat(client, LARGE)
        assert caught.value.status_code == 413
        remote.set_limits(max_request_bytes=None)
        assert _chat(client, LARGE) == "ok"
    with pytest.raises(RuntimeError, match="max_request_bytes"):
        remote.set_limits(max_request_bytes=-5)
