"""Request → ``models.generate_content`` arguments for ``gemini`` (pure, no network).

The last tests hand the encoded arguments to a real client over an in-memory transport and
read the JSON the SDK puts on the wire.
"""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any
from typing import cast

import httpx2
import pytest
from google import genai
from google.genai import types

import alloy
from alloy import Audio
from alloy import Document
from alloy import Image
from alloy._messages import ContentPart
from alloy._messages import MediaPart
from alloy._messages import Message
from alloy._messages import OutputSchema
from alloy._messages import ProviderData
from alloy._messages import Request
from alloy._messages import TextPart
from alloy._messages import ToolCall
from alloy._messages import ToolResult
from alloy.backends.gemini import PROFILES
from alloy.backends.gemini import GeminiBackend
from alloy.backends.gemini._encode import FILES_URI
from alloy.backends.gemini._encode import encode_request
from alloy.backends.gemini._models import profile
from tests.backends._fixtures import OPEN_SCHEMA
from tests.backends._fixtures import OPEN_WEATHER
from tests.backends._fixtures import request_builder

OUTPUT = OutputSchema("Invoice", OPEN_SCHEMA, wrapped=False)
request = request_builder("gemini-2.5-flash")


def config(req: Request) -> dict[str, Any]:
    """The encoded config as the fields it sets (the SDK model, dumped)."""
    encoded: types.GenerateContentConfig = encode_request(req)["config"]
    dumped: dict[str, Any] = encoded.model_dump(exclude_none=True)
    return dumped


def test_minimal_request() -> None:
    params = encode_request(request())
    assert params["model"] == "gemini-2.5-flash"
    assert params["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]
    assert isinstance(params["config"], types.GenerateContentConfig)
    # Automatic function calling is always off: alloy runs the tools.
    assert config(request()).keys() == {"automatic_function_calling"}
    assert params["config"].automatic_function_calling.disable is True


def test_system_temperature_and_max_tokens() -> None:
    got = config(request(system="Be brief.", temperature=0.25, max_tokens=64))
    assert got["system_instruction"] == "Be brief."
    assert got["temperature"] == 0.25
    assert got["max_output_tokens"] == 64


def test_timeout_is_sent_per_request_in_milliseconds() -> None:
    assert config(request(timeout=2.5))["http_options"] == {"timeout": 2500}
    # Never 0, which the SDK reads as "no timeout".
    assert config(request(timeout=0.0001))["http_options"] == {"timeout": 1}
    assert "http_options" not in config(request())


def test_output_schema_is_enforced_natively() -> None:
    got = config(request(output=OUTPUT))
    assert got["response_mime_type"] == "application/json"
    schema = got["response_json_schema"]
    assert schema["properties"] == OPEN_SCHEMA["properties"]
    assert schema["propertyOrdering"] == ["vendor", "total"]  # the gemini dialect


def test_tools_are_function_declarations_with_json_schema() -> None:
    got = config(request(tools=(OPEN_WEATHER,)))
    (declaration,) = got["tools"][0]["function_declarations"]
    assert declaration["name"] == "get_weather"
    assert declaration["description"] == "Current weather for a city."
    assert declaration["parameters_json_schema"]["required"] == ["city"]
    assert "parameters" not in declaration


def test_gemini_2_takes_no_schema_on_a_tool_turn() -> None:
    got = config(request(output=OUTPUT, tools=(OPEN_WEATHER,)))
    assert "tools" in got
    assert "response_json_schema" not in got and "response_mime_type" not in got


def test_gemini_3_takes_schema_and_tools_together() -> None:
    got = config(request(model="gemini-3-pro-preview", output=OUTPUT, tools=(OPEN_WEATHER,)))
    assert "tools" in got and "response_json_schema" in got


def test_prompt_mode_puts_nothing_about_the_schema_on_the_wire() -> None:
    # Planning wrote the schema into the system prompt; the config stays as without output.
    got = config(request(output=OUTPUT, output_mode="prompt", system="Reply as JSON."))
    assert got.keys() == {"automatic_function_calling", "system_instruction"}


def test_tool_call_mode_is_refused_before_any_call() -> None:
    with pytest.raises(alloy.CapabilityError, match="forced tool call"):
        encode_request(request(output=OUTPUT, output_mode="tool_call"))


def test_gemma_gets_system_text_in_the_first_turn_and_no_native_schema() -> None:
    # Gemma's capabilities say "prompt", so planning sends it this output mode.
    assert profile("gemma-3-27b-it").capabilities.structured_output == "prompt"
    params = encode_request(
        request(model="gemma-3-27b-it", system="Be brief.", output=OUTPUT, output_mode="prompt")
    )
    assert params["contents"] == [
        {"role": "user", "parts": [{"text": "Be brief."}, {"text": "hi"}]}
    ]
    got = params["config"].model_dump(exclude_none=True)
    assert "system_instruction" not in got and "response_json_schema" not in got


def test_gemma_cannot_call_tools_natively() -> None:
    # Planning refuses native tools for a model without them, before any backend call.
    @alloy.tool
    def get_weather(city: str) -> str:
        """Current weather for a city."""
        return "rain"

    @alloy.command(
        model="gemini:gemma-3-27b-it",
        tools=[get_weather],
        tool_mode="native",
        provider_options={"gemini": {"api_key": "k", "base_url": "http://127.0.0.1:9"}},
    )
    def ask(question: str) -> str:
        """{question}"""
        ...

    with pytest.raises(alloy.CapabilityError, match="gemma-3-27b-it") as info:
        ask("Weather in Oslo?")
    assert "tool_mode='react'" in str(info.value)


def test_capabilities_per_model() -> None:
    backend = GeminiBackend({"api_key": "k"})
    gemini = backend.capabilities("gemini-2.5-flash")
    assert gemini.structured_output == "json_schema" and gemini.schema_dialect == "gemini"
    assert gemini.tools and gemini.parallel_tools and gemini.tool_error_flag
    gemma = backend.capabilities("models/gemma-3-4b-it")
    assert gemma.structured_output == "prompt" and not gemma.tools
    assert profile("models/gemini-3-flash").schema_with_tools
    assert not profile("gemini-2.5-flash").schema_with_tools
    assert not profile("gemma-3-4b-it").system_prompt


def test_profiles_end_with_a_row_for_every_other_model() -> None:
    assert PROFILES[-1].prefixes == ()
    assert all(row.prefixes for row in PROFILES[:-1])
    assert profile("some-future-model") is PROFILES[-1]


def test_tool_results_answer_by_name_before_any_text() -> None:
    calls = (ToolCall("c1", "get_weather", '{"city": "Oslo"}'), ToolCall("c2", "boom", "{}"))
    results = Message(
        "user",
        (
            TextPart("and then?"),
            ToolResult("c1", "get_weather", "rain"),
            ToolResult("c2", "boom", "it failed", is_error=True),
        ),
    )
    params = encode_request(request(Message.user("hi"), Message("assistant", calls), results))
    model_turn, user_turn = params["contents"][1:]
    assert model_turn == {
        "role": "model",
        "parts": [
            {"function_call": {"name": "get_weather", "args": {"city": "Oslo"}}},
            {"function_call": {"name": "boom", "args": {}}},
        ],
    }
    assert user_turn["parts"] == [
        {"function_response": {"name": "get_weather", "response": {"output": "rain"}}},
        {"function_response": {"name": "boom", "response": {"error": "it failed"}}},
        {"text": "and then?"},
    ]


def test_a_call_with_a_wire_id_is_answered_with_that_id() -> None:
    part = {"function_call": {"id": "fc-1", "name": "get_weather", "args": {"city": "Oslo"}}}
    call = ToolCall("fc-1", "get_weather", '{"city": "Oslo"}', ProviderData("gemini", part))
    result = Message("user", (ToolResult("fc-1", "get_weather", "sun"),))
    contents = encode_request(request(Message.user("hi"), Message("assistant", (call,)), result))[
        "contents"
    ]
    assert contents[1]["parts"] == [part]
    assert contents[2]["parts"][0]["function_response"]["id"] == "fc-1"


def test_a_hand_built_call_keeps_its_signature() -> None:
    part = {
        "function_call": {"name": "get_weather", "args": {"city": "Oslo"}},
        "thought_signature": b"sig",
    }
    call = ToolCall("x", "get_weather", "{}", ProviderData("gemini", part))
    message = Message("assistant", (TextPart("Checking."), call))
    contents = encode_request(request(Message.user("hi"), message))["contents"]
    assert contents[1]["parts"] == [{"text": "Checking."}, part]


def test_a_history_from_another_backend_is_sent_from_its_neutral_parts() -> None:
    # A Gemini-shaped turn made by another backend, and an OpenAI item on its call: neither
    # may reach the wire as native Gemini content.
    foreign_turn = {"role": "model", "parts": [{"text": "secret", "thought": True}]}
    foreign_call: dict[str, Any] = {
        "function_call": {"id": "fc-x", "name": "get_weather", "args": {}}
    }
    call = ToolCall("c1", "get_weather", '{"city": "Oslo"}', ProviderData("openai", foreign_call))
    assistant = Message(
        "assistant", (TextPart("Checking."), call), ProviderData("anthropic", foreign_turn)
    )
    result = Message("user", (ToolResult("c1", "get_weather", "rain"),))
    contents = encode_request(request(Message.user("hi"), assistant, result))["contents"]
    assert contents[1] == {
        "role": "model",
        "parts": [
            {"text": "Checking."},
            {"function_call": {"name": "get_weather", "args": {"city": "Oslo"}}},
        ],
    }
    # The foreign wire id is not used to answer the call either.
    assert contents[2]["parts"] == [
        {"function_response": {"name": "get_weather", "response": {"output": "rain"}}}
    ]


def test_untagged_provider_data_is_not_echoed() -> None:
    turn = {"role": "model", "parts": [{"text": "native"}]}
    assistant = Message("assistant", (TextPart("neutral"),), cast(Any, {"gemini": turn}))
    contents = encode_request(request(Message.user("hi"), assistant))["contents"]
    assert contents[1] == {"role": "model", "parts": [{"text": "neutral"}]}


def test_a_tool_result_of_parts_is_sent_as_its_text() -> None:
    parts = (TextPart("rain, "), TextPart("9 °C"))
    calls = Message("assistant", (ToolCall("c1", "get_weather", "{}"),))
    result = Message("user", (ToolResult("c1", "get_weather", parts),))
    contents = encode_request(request(Message.user("hi"), calls, result))["contents"]
    assert contents[2]["parts"] == [
        {"function_response": {"name": "get_weather", "response": {"output": "rain, 9 °C"}}}
    ]


def test_unreadable_arguments_are_sent_empty() -> None:
    call = ToolCall("x", "get_weather", "{not json")
    contents = encode_request(request(Message.user("hi"), Message("assistant", (call,))))[
        "contents"
    ]
    assert contents[1]["parts"] == [{"function_call": {"name": "get_weather", "args": {}}}]


def test_provider_options_merge_into_the_config() -> None:
    options = {
        "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "OFF"}],
        "top_k": 3,
    }
    got = config(request(options=options))
    assert got["safety_settings"][0]["threshold"] == types.HarmBlockThreshold.OFF
    assert got["top_k"] == 3
    assert got["automatic_function_calling"]["disable"] is True


def test_a_reserved_field_in_camel_case_is_refused() -> None:
    with pytest.raises(alloy.ConfigurationError, match="max_output_tokens"):
        encode_request(request(options={"maxOutputTokens": 5}))
    with pytest.raises(alloy.ConfigurationError, match="automatic_function_calling"):
        encode_request(request(options={"automaticFunctionCalling": {"disable": False}}))


def test_an_unknown_option_is_a_configuration_error() -> None:
    with pytest.raises(alloy.ConfigurationError, match="no_such_option") as info:
        encode_request(request(options={"no_such_option": 1}))
    assert "GenerateContentConfig" in str(info.value)


def test_encoding_never_changes_the_request() -> None:
    turn = {"role": "model", "parts": [{"text": "earlier"}]}
    assistant = Message("assistant", (TextPart("earlier"),), ProviderData("gemini", turn))
    req = request(Message.user("hi"), assistant, system="s", options={"top_k": 2})
    before = repr(req)
    encode_request(req)
    encode_request(req)
    assert repr(req) == before


# --- what the SDK sends for these arguments ------------------------------------------------


def sent_body(req: Request) -> dict[str, Any]:
    bodies: list[dict[str, Any]] = []

    def answer(http_request: httpx2.Request) -> httpx2.Response:
        bodies.append(json.loads(http_request.content))
        return httpx2.Response(200, json={"candidates": []})

    with httpx2.Client(transport=httpx2.MockTransport(answer)) as http:
        options = types.HttpOptions(base_url="http://gemini.test", httpx_client=http)
        client = genai.Client(api_key="test-key", http_options=options)
        client.models.generate_content(**encode_request(req))
    return bodies[0]


def test_wire_shape_of_a_structured_request() -> None:
    body = sent_body(
        request(system="Be brief.", temperature=0.5, max_tokens=10, output=OUTPUT, timeout=2.0)
    )
    assert body["systemInstruction"]["parts"] == [{"text": "Be brief."}]
    generation = body["generationConfig"]
    assert generation["temperature"] == 0.5
    assert generation["maxOutputTokens"] == 10
    assert generation["responseMimeType"] == "application/json"
    assert generation["responseJsonSchema"]["required"] == ["vendor", "total"]
    assert "automaticFunctionCalling" not in json.dumps(body)


def test_wire_shape_of_a_tool_follow_up() -> None:
    part = {
        "function_call": {"name": "get_weather", "args": {"city": "Oslo"}},
        "thought_signature": b"sig",
    }
    turn = {"role": "model", "parts": [part]}
    call = ToolCall("c1", "get_weather", '{"city": "Oslo"}', ProviderData("gemini", part))
    messages = (
        Message.user("hi"),
        Message("assistant", (call,), ProviderData("gemini", turn)),
        Message("user", (ToolResult("c1", "get_weather", "rain"),)),
    )
    body = sent_body(request(*messages, tools=(OPEN_WEATHER,)))
    declaration = body["tools"][0]["functionDeclarations"][0]
    # google-genai 3.4 sends this one field in snake_case; the API's JSON parser takes both.
    assert declaration["parameters_json_schema"]["required"] == ["city"]
    model_part = body["contents"][1]["parts"][0]
    assert model_part["functionCall"] == {"name": "get_weather", "args": {"city": "Oslo"}}
    assert model_part["thoughtSignature"] == "c2ln"  # base64 of b"sig"
    assert body["contents"][2]["parts"] == [
        {"functionResponse": {"name": "get_weather", "response": {"output": "rain"}}}
    ]


# --- media ----------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(24)


def user_parts(*parts: ContentPart, model: str = "gemini-2.5-flash") -> Any:
    contents = encode_request(request(Message("user", parts), model=model))["contents"]
    return contents[-1]["parts"]


def test_media_parts_follow_the_order_of_the_parts(tmp_path: Path) -> None:
    path = tmp_path / "clip.wav"
    path.write_bytes(WAV)
    parts = user_parts(
        TextPart("Compare "),
        MediaPart(Image.from_bytes(PNG)),
        TextPart(" with "),
        MediaPart(Audio.from_path(path)),
        MediaPart(Document.from_url("gs://bucket/q3.pdf")),
        TextPart("."),
    )
    assert parts == [
        {"text": "Compare "},
        # Raw bytes: the SDK writes them as base64 itself.
        {"inline_data": {"mime_type": "image/png", "data": PNG}},
        {"text": " with "},
        {"inline_data": {"mime_type": "audio/wav", "data": WAV}},
        {"file_data": {"file_uri": "gs://bucket/q3.pdf", "mime_type": "application/pdf"}},
        {"text": "."},
    ]


@pytest.mark.parametrize(
    "file_id", ["files/abc123", "abc123", f"{FILES_URI}abc123"], ids=["name", "id", "uri"]
)
def test_a_file_id_is_sent_as_the_files_uri(file_id: str) -> None:
    [part] = user_parts(MediaPart(Image.from_file_id("gemini", file_id, "image/jpeg")))
    uri = "https://generativelanguage.googleapis.com/v1beta/files/abc123"
    assert part == {"file_data": {"file_uri": uri, "mime_type": "image/jpeg"}}


def test_text_documents_gemini_reads_go_inline_and_others_as_text() -> None:
    markdown = Document.from_bytes(b"# Notes", "text/markdown", filename="n.md")
    data = Document.from_bytes(b'{"a": 1}', "application/json", filename="d.json")
    assert user_parts(MediaPart(markdown), MediaPart(data)) == [
        {"inline_data": {"mime_type": "text/markdown", "data": b"# Notes"}},
        {"text": '<document name="d.json" type="application/json">\n{"a": 1}\n</document>'},
    ]


def test_gemma_gets_the_system_text_before_the_image() -> None:
    req = request(Message("user", (MediaPart(Image.from_bytes(PNG)),)), model="gemma-3-27b-it")
    contents = encode_request(replace(req, system="Be brief."))["contents"]
    assert contents[0]["parts"] == [
        {"text": "Be brief."},
        {"inline_data": {"mime_type": "image/png", "data": PNG}},
    ]


def tool_turns(content: tuple[ContentPart, ...]) -> tuple[Message, ...]:
    call = ToolCall("c1", "snapshot", "{}")
    return (
        Message.user("hi"),
        Message("assistant", (call,)),
        Message("user", (ToolResult("c1", "snapshot", content),)),
    )


def test_tool_result_media_go_in_the_function_response_parts() -> None:
    content = (
        TextPart("Here: "),
        MediaPart(Image.from_bytes(PNG)),
        MediaPart(Document.from_bytes(b"[1]", "application/json")),
        MediaPart(Document.from_url("https://example.com/a.pdf")),
    )
    [part] = encode_request(request(*tool_turns(content)))["contents"][2]["parts"]
    assert part == {
        "function_response": {
            "name": "snapshot",
            "response": {"output": 'Here: <document type="application/json">\n[1]\n</document>'},
            "parts": [
                {"inline_data": {"mime_type": "image/png", "data": PNG}},
                {
                    "file_data": {
                        "file_uri": "https://example.com/a.pdf",
                        "mime_type": "application/pdf",
                    }
                },
            ],
        }
    }
    # The SDK models them (``FunctionResponsePart``): nothing is dropped on validation.
    validated = types.FunctionResponse.model_validate(part["function_response"])
    assert validated.parts is not None and validated.parts[0].inline_data is not None
    assert validated.parts[0].inline_data.data == PNG


def test_the_wire_carries_base64_of_the_bytes_and_file_uris() -> None:
    prompt = Message(
        "user",
        (
            TextPart("Describe "),
            MediaPart(Image.from_bytes(PNG)),
            MediaPart(Audio.from_file_id("gemini", "files/abc", "audio/mpeg")),
        ),
    )
    text, inline, by_file = sent_body(request(prompt))["contents"][0]["parts"]
    assert text == {"text": "Describe "}
    # google-genai 3.4 writes the nested keys in snake_case (``mime_type``) and base64 in the
    # URL-safe alphabet; the API's JSON parser takes both.
    assert inline == {
        "inlineData": {"mime_type": "image/png", "data": base64.urlsafe_b64encode(PNG).decode()}
    }
    assert by_file == {"fileData": {"file_uri": f"{FILES_URI}abc", "mime_type": "audio/mpeg"}}


def test_a_text_only_user_turn_is_unchanged() -> None:
    assert user_parts(TextPart("hi")) == [{"text": "hi"}]
