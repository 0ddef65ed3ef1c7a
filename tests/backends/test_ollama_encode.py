"""Request → ``ollama.Client.chat`` arguments (pure, no network).

Every encoded request is also validated by the SDK's own ``ChatRequest`` model, the step the
SDK runs before sending, to prove that nothing alloy sends is dropped or refused there.
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import ollama
import pytest
from ollama._types import ChatRequest

import alloy
from alloy import Document
from alloy import Image
from alloy._messages import MediaPart
from alloy._messages import Message
from alloy._messages import OutputMode
from alloy._messages import OutputSchema
from alloy._messages import ProviderData
from alloy._messages import TextPart
from alloy._messages import ToolCall
from alloy._messages import ToolResult
from alloy._messages import ToolSpec
from alloy.backends.ollama._encode import encode_request
from alloy.backends.ollama._encode import merge_options
from alloy.backends.ollama._encode import tool_parameters
from tests.backends._fixtures import STRICT_SCHEMA
from tests.backends._fixtures import WEATHER_CALLS
from tests.backends._fixtures import WEATHER_RESULTS
from tests.backends._fixtures import request_builder

WEATHER = ToolSpec(
    "get_weather",
    "Current weather for a city.",
    {
        "type": "object",
        "properties": {
            "city": {"type": "string", "description": "City name", "title": "City"},
            "unit": {"enum": ["c", "f"], "type": "string", "default": "c"},
        },
        "required": ["city"],
    },
)


request = request_builder("llama3.2")


def sent(params: dict[str, Any]) -> dict[str, Any]:
    """What the SDK puts on the wire for these ``chat()`` arguments."""
    body: dict[str, Any] = ChatRequest(**params).model_dump(exclude_none=True)
    return body


def test_minimal_request() -> None:
    params = encode_request(request())
    assert params == {
        "model": "llama3.2",
        "messages": [{"role": "user", "content": "hi"}],
        "stream": False,
    }
    assert sent(params) == params


def test_system_message_comes_first() -> None:
    params = encode_request(request(system="Be brief."))
    assert params["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "hi"},
    ]


def test_temperature_and_max_tokens_are_model_options() -> None:
    params = encode_request(request(temperature=0.0, max_tokens=64, timeout=3.0))
    assert params["options"] == {"temperature": 0.0, "num_predict": 64}
    assert "timeout" not in params  # applied by the client, not sent
    assert sent(params)["options"] == {"temperature": 0.0, "num_predict": 64}


def test_unset_settings_are_not_sent() -> None:
    params = encode_request(request())
    for key in ("options", "format", "tools", "think", "keep_alive"):
        assert key not in params


def test_provider_options_merge_with_model_options() -> None:
    options = {"options": {"num_ctx": 8192, "seed": 7}, "keep_alive": "5m", "think": True}
    params = encode_request(request(temperature=0.5, options=options))
    assert params["options"] == {"num_ctx": 8192, "seed": 7, "temperature": 0.5}
    assert params["keep_alive"] == "5m"
    assert params["think"] is True
    body = sent(params)
    assert body["options"] == {"num_ctx": 8192, "seed": 7, "temperature": 0.5}
    assert body["keep_alive"] == "5m" and body["think"] is True


def test_request_options_are_not_mutated() -> None:
    options = {"options": {"num_ctx": 8192}}
    encode_request(request(max_tokens=3, options=options))
    assert options == {"options": {"num_ctx": 8192}}


@pytest.mark.parametrize(
    ("key", "setting"), [("temperature", "temperature"), ("num_predict", "max_tokens")]
)
def test_model_options_that_clash_with_typed_settings(key: str, setting: str) -> None:
    with pytest.raises(alloy.ConfigurationError, match=f"{key} \\(use `{setting}`\\)"):
        encode_request(request(options={"options": {key: 1}}))


def test_model_options_must_be_a_mapping() -> None:
    with pytest.raises(alloy.ConfigurationError, match="num_ctx"):
        encode_request(request(options={"options": [("num_ctx", 1)]}))


def test_output_schema_goes_in_format() -> None:
    params = encode_request(request(output=OutputSchema("Invoice", STRICT_SCHEMA, wrapped=False)))
    assert params["format"] == STRICT_SCHEMA
    assert sent(params)["format"] == STRICT_SCHEMA


@pytest.mark.parametrize(
    ("mode", "grammar"), [("json_schema", True), ("tool_call", True), ("prompt", False)]
)
def test_the_output_mode_decides_the_format(mode: OutputMode, grammar: bool) -> None:
    # Ollama cannot force a tool call, so every mode that enforces the schema is the grammar;
    # with "prompt" the schema is only in the system prompt (written there by planning).
    output = OutputSchema("Invoice", STRICT_SCHEMA, wrapped=False)
    params = encode_request(request(output=output, output_mode=mode))
    assert ("format" in params) is grammar
    assert "tools" not in params


def test_merge_options_keeps_other_chat_arguments() -> None:
    merged = merge_options(request(max_tokens=4, options={"keep_alive": "1m"}))
    assert merged == {"options": {"num_predict": 4}, "keep_alive": "1m"}
    assert merge_options(request(options={"think": True})) == {"think": True}


def test_tools_keep_what_the_sdk_keeps_and_describe_the_rest() -> None:
    params = encode_request(request(tools=(WEATHER,)))
    assert params["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city.",
                "parameters": {
                    "type": "object",
                    "properties": {
                        "city": {"type": "string", "description": "City name"},
                        "unit": {
                            "type": "string",
                            "enum": ["c", "f"],
                            "description": 'JSON schema: {"default":"c"}',
                        },
                    },
                    "required": ["city"],
                },
            },
        }
    ]
    assert sent(params)["tools"] == params["tools"]


def test_rich_tool_parameters_survive_the_sdk_as_text() -> None:
    schema = {
        "type": "object",
        "properties": {
            "when": {"type": "string", "format": "date", "description": "Day"},
            "maybe": {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None},
            "pick": {"anyOf": [{"type": "integer"}, {"type": "string", "enum": ["x"]}]},
            "kind": {"const": "dog", "type": "string"},
            "where": {
                "$ref": "#/$defs/Place",
                "description": "The place",
            },
            "ids": {"type": "array", "items": {"$ref": "#/$defs/Place"}},
        },
        "required": ["when", "where"],
        "$defs": {
            "Place": {
                "type": "object",
                "properties": {"lat": {"type": "number"}},
                "required": ["lat"],
            }
        },
    }
    tool = ToolSpec("plan", "", schema)
    params = encode_request(request(tools=(tool,)))
    function = params["tools"][0]["function"]
    assert "description" not in function
    props = function["parameters"]["properties"]
    assert props["when"] == {
        "type": "string",
        "description": 'Day (JSON schema: {"format":"date"})',
    }
    assert props["maybe"] == {
        "type": ["integer", "null"],
        "description": 'JSON schema: {"default":null}',
    }
    assert props["pick"]["description"].startswith('JSON schema: {"anyOf":')
    assert "type" not in props["pick"]
    assert props["kind"] == {"type": "string", "enum": ["dog"]}
    # $refs are inlined by the dialect, so the nested object is described in full.
    assert props["where"]["type"] == "object"
    assert props["where"]["description"].startswith("The place (JSON schema: {")
    assert '"lat":{"type":"number"}' in props["where"]["description"]
    assert props["ids"]["items"]["properties"] == {"lat": {"type": "number"}}
    assert "$defs" not in function["parameters"]
    assert sent(params)["tools"] == params["tools"]


def test_tool_parameters_of_a_tool_without_arguments() -> None:
    assert tool_parameters({"type": "object", "properties": {}}) == {
        "type": "object",
        "properties": {},
    }


def test_recursive_tool_parameters_keep_their_defs() -> None:
    node = {
        "type": "object",
        "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/Node"}}},
    }
    schema = {
        "type": "object",
        "properties": {"root": {"$ref": "#/$defs/Node"}},
        "$defs": {"Node": node},
    }
    params = encode_request(request(tools=(ToolSpec("walk", "Walk a tree.", schema),)))
    parameters = params["tools"][0]["function"]["parameters"]
    assert parameters["$defs"]["Node"]["properties"]["kids"]["items"] == {"$ref": "#/$defs/Node"}
    assert sent(params)["tools"] == params["tools"]


def test_assistant_tool_calls_and_tool_results() -> None:
    assistant = Message("assistant", WEATHER_CALLS)
    params = encode_request(request(Message.user("Weather?"), assistant, WEATHER_RESULTS))
    assert params["messages"][1:] == [
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"function": {"name": "get_weather", "arguments": {"city": "Oslo"}}},
                {"function": {"name": "get_weather", "arguments": {"city": "Rome"}}},
            ],
        },
        {"role": "tool", "content": "rain", "tool_name": "get_weather"},
        {"role": "tool", "content": "sun", "tool_name": "get_weather"},
    ]
    body = sent(params)
    assert body["messages"][1]["tool_calls"] == params["messages"][1]["tool_calls"]
    assert body["messages"][2] == {"role": "tool", "content": "rain", "tool_name": "get_weather"}


def test_thinking_is_sent_back_with_the_assistant_turn() -> None:
    data = ProviderData("ollama", {"thinking": "6 times 7"})
    turn = Message("assistant", (TextPart("42"),), provider_data=data)
    params = encode_request(request(Message.user("x"), turn))
    assert params["messages"][1] == {"role": "assistant", "content": "42", "thinking": "6 times 7"}
    assert sent(params)["messages"][1]["thinking"] == "6 times 7"


def test_foreign_provider_data_is_ignored() -> None:
    data = ProviderData("openai", [{"type": "reasoning"}])
    turn = Message("assistant", (TextPart("ok"),), provider_data=data)
    assert encode_request(request(turn))["messages"] == [{"role": "assistant", "content": "ok"}]


def test_a_history_made_on_another_backend_is_sent_from_its_neutral_parts() -> None:
    # Shaped like this backend's own data, but tagged for another backend: never echoed.
    foreign = ProviderData("anthropic", {"thinking": "their reasoning"})
    call = ToolCall("toolu_1", "get_weather", '{"city":"Oslo"}', provider_data=foreign)
    turn = Message("assistant", (TextPart("Checking."), call), provider_data=foreign)
    results = Message("user", (ToolResult("toolu_1", "get_weather", "rain"),))
    params = encode_request(request(Message.user("Weather?"), turn, results))
    assert params["messages"][1:] == [
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Oslo"}}}],
        },
        {"role": "tool", "content": "rain", "tool_name": "get_weather"},
    ]
    assert "thinking" not in sent(params)["messages"][1]


def test_a_tool_result_of_parts_is_sent_as_its_text() -> None:
    parts = (TextPart("rain, "), TextPart("4 °C"))
    turn = Message("user", (ToolResult("c", "get_weather", parts),))
    assert encode_request(request(turn))["messages"] == [
        {"role": "tool", "content": "rain, 4 °C", "tool_name": "get_weather"}
    ]


@pytest.mark.parametrize("arguments", ["", "not json", "[1, 2]"])
def test_arguments_that_are_not_an_object_are_sent_empty(arguments: str) -> None:
    turn = Message("assistant", (ToolCall("c", "f", arguments),))
    call = encode_request(request(turn))["messages"][0]["tool_calls"][0]
    assert call == {"function": {"name": "f", "arguments": {}}}


def test_tool_results_come_before_user_text_of_the_same_turn() -> None:
    turn = Message("user", (TextPart("Now summarise."), ToolResult("call_1", "t", "42")))
    assert encode_request(request(turn))["messages"] == [
        {"role": "tool", "content": "42", "tool_name": "t"},
        {"role": "user", "content": "Now summarise."},
    ]


def test_error_results_are_sent_as_plain_tool_messages() -> None:
    turn = Message("user", (ToolResult("c", "t", "ValueError: bad city", is_error=True),))
    assert encode_request(request(turn))["messages"] == [
        {"role": "tool", "content": "ValueError: bad city", "tool_name": "t"}
    ]


# --- media ----------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)
JPEG = b"\xff\xd8\xff\xe0" + bytes(24)


def test_images_attach_to_the_message_after_its_text() -> None:
    turn = Message(
        "user",
        (
            TextPart("Compare "),
            MediaPart(Image.from_bytes(PNG), "before"),
            TextPart(" with "),
            MediaPart(Image.from_bytes(JPEG), "after"),
        ),
    )
    params = encode_request(request(turn))
    # Ollama has no interleaving: the text is the content, the images a list, in order.
    assert params["messages"] == [
        {"role": "user", "content": "Compare  with ", "images": [PNG, JPEG]}
    ]
    # The SDK writes each as base64 (``ollama.Image``); the e2e suite reads it on the wire.
    assert ollama.Image(value=PNG).model_dump() == base64.b64encode(PNG).decode()


def test_an_image_from_a_path_is_sent_as_its_bytes(tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    turn = Message("user", (MediaPart(Image.from_path(path)),))
    [message] = encode_request(request(turn))["messages"]
    # Bytes, never the path as a string: the SDK would read a string naming a file itself.
    assert message == {"role": "user", "content": "", "images": [PNG]}


def test_text_documents_go_into_the_content() -> None:
    doc = Document.from_bytes(b"line one", "text/plain", filename="a.txt")
    turn = Message("user", (TextPart("Summarise: "), MediaPart(doc, "notes")))
    [message] = encode_request(request(turn))["messages"]
    assert message == {
        "role": "user",
        "content": 'Summarise: <document name="a.txt" type="text/plain">\nline one\n</document>',
    }


def test_images_of_a_tool_result_attach_to_its_tool_message() -> None:
    content = (TextPart("the chart"), MediaPart(Image.from_bytes(PNG)))
    turn = Message("user", (ToolResult("c", "chart", content), TextPart("Now describe it.")))
    assert encode_request(request(turn))["messages"] == [
        {"role": "tool", "content": "the chart", "tool_name": "chart", "images": [PNG]},
        {"role": "user", "content": "Now describe it."},
    ]
