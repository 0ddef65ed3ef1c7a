"""Request → ``chat.completions.create`` arguments for ``openai-chat`` (pure, no network)."""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Any

import pytest

from alloy import Audio
from alloy import CapabilityError
from alloy import Document
from alloy import Image
from alloy._media import Media
from alloy._messages import MediaPart
from alloy._messages import Message
from alloy._messages import OutputSchema
from alloy._messages import ProviderData
from alloy._messages import TextPart
from alloy._messages import ToolCall
from alloy._messages import ToolResult
from alloy.backends._parts import text_document
from alloy.backends.openai.chat import encode_request
from tests.backends._fixtures import LOOSE_SCHEMA
from tests.backends._fixtures import STRICT_SCHEMA
from tests.backends._fixtures import WEATHER
from tests.backends._fixtures import WEATHER_CALLS
from tests.backends._fixtures import WEATHER_RESULTS
from tests.backends._fixtures import request_builder

request = request_builder("llama3.2")


def test_minimal_request() -> None:
    assert encode_request(request()) == {
        "model": "llama3.2",
        "messages": [{"role": "user", "content": "hi"}],
    }


def test_system_message_comes_first() -> None:
    params = encode_request(request(system="Be brief."))
    assert params["messages"][0] == {"role": "system", "content": "Be brief."}
    assert params["messages"][1] == {"role": "user", "content": "hi"}


def test_temperature_max_tokens_and_timeout() -> None:
    params = encode_request(request(temperature=0.0, max_tokens=64, timeout=3.0))
    assert params["temperature"] == 0.0
    assert params["max_completion_tokens"] == 64
    assert "max_tokens" not in params
    assert params["timeout"] == 3.0


def test_unset_settings_are_not_sent() -> None:
    params = encode_request(request())
    for key in ("temperature", "max_completion_tokens", "response_format", "tools", "timeout"):
        assert key not in params


def test_strict_response_format() -> None:
    params = encode_request(request(output=OutputSchema("Invoice", STRICT_SCHEMA, wrapped=False)))
    assert params["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Invoice", "schema": STRICT_SCHEMA, "strict": True},
    }


def test_non_strict_response_format() -> None:
    params = encode_request(request(output=OutputSchema("Note", LOOSE_SCHEMA, wrapped=False)))
    assert params["response_format"]["json_schema"]["strict"] is False


def test_tools_are_nested_function_tools() -> None:
    params = encode_request(request(tools=(WEATHER,)))
    assert params["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Current weather for a city.",
                "parameters": WEATHER.parameters,
                "strict": True,
            },
        }
    ]


def test_assistant_tool_calls_and_tool_results() -> None:
    assistant = Message("assistant", WEATHER_CALLS)
    params = encode_request(request(Message.user("Weather?"), assistant, WEATHER_RESULTS))
    assert params["messages"][1:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "rain"},
        {"role": "tool", "tool_call_id": "call_2", "content": "sun"},
    ]


def test_assistant_text_turns() -> None:
    with_text = Message("assistant", (TextPart("Let me check."), ToolCall("c", "t", "{}")))
    empty = Message("assistant", ())
    params = encode_request(request(Message.user("x"), with_text, Message.user("y"), empty))
    assert params["messages"][1]["content"] == "Let me check."
    assert params["messages"][3] == {"role": "assistant", "content": ""}


def test_tool_results_come_before_user_text_of_the_same_turn() -> None:
    turn = Message("user", (TextPart("Now summarise."), ToolResult("call_1", "t", "42")))
    assert encode_request(request(turn))["messages"] == [
        {"role": "tool", "tool_call_id": "call_1", "content": "42"},
        {"role": "user", "content": "Now summarise."},
    ]


def test_options_pass_through() -> None:
    options = {"extra_body": {"max_tokens": 10, "top_k": 5}, "seed": 7}
    params = encode_request(request(max_tokens=10, options=options))
    assert params["extra_body"] == {"max_tokens": 10, "top_k": 5}
    assert params["seed"] == 7
    assert params["max_completion_tokens"] == 10


def test_tool_call_mode_forces_the_output_tool() -> None:
    output = OutputSchema("Invoice", STRICT_SCHEMA, wrapped=False)
    params = encode_request(request(output=output, output_mode="tool_call"))
    assert "response_format" not in params
    assert params["tools"] == [
        {
            "type": "function",
            "function": {
                "name": "alloy_output",
                "description": "Give your final answer (Invoice) by calling this tool with it.",
                "parameters": STRICT_SCHEMA,
                "strict": True,
            },
        }
    ]
    assert params["tool_choice"] == {"type": "function", "function": {"name": "alloy_output"}}
    with_tools = encode_request(request(output=output, output_mode="tool_call", tools=(WEATHER,)))
    assert [t["function"]["name"] for t in with_tools["tools"]] == ["get_weather", "alloy_output"]
    assert with_tools["tool_choice"] == "required"


def test_prompt_mode_sends_nothing_about_the_schema() -> None:
    output = OutputSchema("Invoice", STRICT_SCHEMA, wrapped=False)
    params = encode_request(request(output=output, output_mode="prompt"))
    for key in ("response_format", "tools", "tool_choice"):
        assert key not in params


def test_a_turn_tagged_for_another_backend_is_encoded_from_its_parts() -> None:
    items = [{"type": "function_call", "call_id": "call_1", "name": "get_weather"}]
    call = ToolCall("call_1", "get_weather", "{}", ProviderData("openai", items[0]))
    assistant = Message("assistant", (TextPart("Checking."), call), ProviderData("openai", items))
    assert encode_request(request(Message.user("x"), assistant))["messages"][1] == {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_weather", "arguments": "{}"},
            }
        ],
    }


def test_tool_result_parts_are_sent_as_their_text() -> None:
    result = ToolResult("call_1", "t", (TextPart("4"), TextPart("2")))
    assert encode_request(request(Message("user", (result,))))["messages"] == [
        {"role": "tool", "tool_call_id": "call_1", "content": "42"}
    ]


# --- media -------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)
PDF = b"%PDF-1.7\n" + bytes(24)
WAV = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(24)
MP3 = b"ID3\x04\x00" + bytes(24)
PNG_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()
PDF_URL = "data:application/pdf;base64," + base64.b64encode(PDF).decode()


def content(*parts: TextPart | MediaPart) -> list[dict[str, Any]]:
    """The content list of the one user message ``parts`` make."""
    [message] = encode_request(request(Message("user", parts)))["messages"]
    assert message["role"] == "user"
    items: list[dict[str, Any]] = message["content"]
    return items


def media(value: Media) -> dict[str, Any]:
    [part] = content(MediaPart(value))
    return part


def test_a_text_only_turn_stays_one_string() -> None:
    turn = Message("user", (TextPart("Describe "), TextPart("this.")))
    assert encode_request(request(turn))["messages"] == [
        {"role": "user", "content": "Describe this."}
    ]


def test_text_and_media_keep_the_order_of_the_parts() -> None:
    parts = (
        TextPart("Listen to "),
        MediaPart(Audio.from_bytes(WAV), "clip"),
        TextPart(", look at "),
        MediaPart(Image.from_url("https://x.test/b.jpg"), "photo"),
        TextPart(" and read "),
        MediaPart(Document.from_bytes(PDF)),
    )
    assert [part["type"] for part in content(*parts)] == [
        "text",
        "input_audio",
        "text",
        "image_url",
        "text",
        "file",
    ]
    assert content(*parts)[0] == {"type": "text", "text": "Listen to "}


def test_images_go_as_data_urls_or_urls_with_a_detail(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(PNG)
    inline = {"type": "image_url", "image_url": {"url": PNG_URL, "detail": "auto"}}
    assert media(Image.from_bytes(PNG)) == inline
    assert media(Image.from_path(tmp_path / "a.png")) == inline
    assert media(Image.from_url("https://x.test/b.jpg", detail="low")) == {
        "type": "image_url",
        "image_url": {"url": "https://x.test/b.jpg", "detail": "low"},
    }


def test_audio_goes_as_base64_with_its_format(tmp_path: Path) -> None:
    assert media(Audio.from_bytes(WAV)) == {
        "type": "input_audio",
        "input_audio": {"data": base64.b64encode(WAV).decode(), "format": "wav"},
    }
    (tmp_path / "clip.mp3").write_bytes(MP3)
    sent = media(Audio.from_path(tmp_path / "clip.mp3"))["input_audio"]
    assert sent == {"data": base64.b64encode(MP3).decode(), "format": "mp3"}


def test_pdfs_go_as_file_data_or_file_ids(tmp_path: Path) -> None:
    assert media(Document.from_bytes(PDF, filename="q3.pdf")) == {
        "type": "file",
        "file": {"file_data": PDF_URL, "filename": "q3.pdf"},
    }
    (tmp_path / "report.pdf").write_bytes(PDF)
    assert media(Document.from_path(tmp_path / "report.pdf"))["file"]["filename"] == "report.pdf"
    assert media(Document.from_bytes(PDF))["file"]["filename"] == "document.pdf"
    assert media(Document.from_file_id("openai", "file-pdf")) == {
        "type": "file",
        "file": {"file_id": "file-pdf"},
    }


def test_text_documents_go_as_text() -> None:
    doc = Document.from_bytes(b"# Notes\n\nShip it.", "text/markdown", filename="notes.md")
    assert media(doc) == {"type": "text", "text": text_document(doc)}
    assert 'name="notes.md"' in media(doc)["text"]


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (Image.from_file_id("openai", "file-img"), "Image input by file id"),
        (Audio.from_url("https://x.test/a.wav"), "Audio input by URL"),
        (Audio.from_bytes(b"fLaC" + bytes(24)), "Audio input inline (audio/flac)"),
        (Document.from_url("https://x.test/q3.pdf"), "Document input by URL"),
    ],
)
def test_what_chat_has_no_part_for_is_refused_before_sending(value: Media, said: str) -> None:
    with pytest.raises(CapabilityError, match=re.escape(said)) as caught:
        media(value)
    assert caught.value.backend == "openai-chat"


def test_a_tool_result_with_media_is_refused_not_sent_without_it() -> None:
    result = ToolResult("call_1", "render", (TextPart("Here:"), MediaPart(Image.from_bytes(PNG))))
    with pytest.raises(CapabilityError, match="Image in a tool result \\('render'\\)"):
        encode_request(request(Message("user", (result,))))
