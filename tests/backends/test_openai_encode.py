"""Request → ``responses.create`` arguments for the ``openai`` backend (pure, no network)."""

from __future__ import annotations

import base64
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
from alloy._messages import ToolSpec
from alloy.backends._parts import as_text
from alloy.backends._parts import text_document
from alloy.backends.openai._models import RESPONSES_MEDIA
from alloy.backends.openai.responses import encode_request
from tests.backends._fixtures import LOOSE_SCHEMA
from tests.backends._fixtures import STRICT_SCHEMA
from tests.backends._fixtures import WEATHER
from tests.backends._fixtures import WEATHER_CALLS
from tests.backends._fixtures import WEATHER_RESULTS
from tests.backends._fixtures import request_builder

request = request_builder("gpt-5-mini")


def test_minimal_request_is_model_and_one_user_item() -> None:
    assert encode_request(request()) == {
        "model": "gpt-5-mini",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "hi"}]}],
    }


def test_system_temperature_max_tokens_and_timeout() -> None:
    params = encode_request(
        request(system="Be brief.", temperature=0.2, max_tokens=50, timeout=7.5)
    )
    assert params["instructions"] == "Be brief."
    assert params["temperature"] == 0.2
    assert params["max_output_tokens"] == 50
    assert params["timeout"] == 7.5
    assert "store" not in params
    assert "previous_response_id" not in params


def test_unset_settings_are_not_sent() -> None:
    params = encode_request(request())
    for key in ("instructions", "temperature", "max_output_tokens", "text", "tools", "timeout"):
        assert key not in params


def test_strict_output_schema() -> None:
    output = OutputSchema("Invoice", STRICT_SCHEMA, wrapped=False)
    fmt = encode_request(request(output=output))["text"]["format"]
    assert fmt == {
        "type": "json_schema",
        "name": "Invoice",
        "schema": STRICT_SCHEMA,
        "strict": True,
    }


def test_output_schema_strict_mode_cannot_enforce_is_sent_non_strict() -> None:
    output = OutputSchema("Note", LOOSE_SCHEMA, wrapped=False)
    fmt = encode_request(request(output=output))["text"]["format"]
    assert fmt["strict"] is False
    assert fmt["schema"]["properties"]["note"] == {"type": "string", "default": ""}


def test_tools_are_flat_function_tools() -> None:
    params = encode_request(request(tools=(WEATHER,)))
    assert params["tools"] == [
        {
            "type": "function",
            "name": "get_weather",
            "description": "Current weather for a city.",
            "parameters": WEATHER.parameters,
            "strict": True,
        }
    ]


def test_tool_with_optional_argument_is_not_strict() -> None:
    tool = ToolSpec("note", "", LOOSE_SCHEMA)
    (encoded,) = encode_request(request(tools=(tool,)))["tools"]
    assert encoded["strict"] is False
    assert "description" not in encoded


def test_assistant_turn_without_provider_data_is_rebuilt_from_parts() -> None:
    assistant = Message("assistant", (TextPart("Checking."), *WEATHER_CALLS))
    params = encode_request(request(Message.user("Weather?"), assistant, WEATHER_RESULTS))
    assert params["input"][1:] == [
        {"role": "assistant", "content": [{"type": "output_text", "text": "Checking."}]},
        {
            "type": "function_call",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": '{"city":"Oslo"}',
        },
        {
            "type": "function_call",
            "call_id": "call_2",
            "name": "get_weather",
            "arguments": '{"city":"Rome"}',
        },
        {"type": "function_call_output", "call_id": "call_1", "output": "rain"},
        {"type": "function_call_output", "call_id": "call_2", "output": "sun"},
    ]


def test_assistant_turn_echoes_stored_output_items() -> None:
    items = [
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_1",
            "name": "get_weather",
            "arguments": "{}",
            "status": "completed",
        },
    ]
    call = ToolCall("call_1", "get_weather", "{}")
    assistant = Message("assistant", (call,), ProviderData("openai", items))
    params = encode_request(request(Message.user("Weather?"), assistant))
    assert params["input"][1:] == items


def test_a_turn_tagged_for_another_backend_is_encoded_from_its_parts() -> None:
    foreign = [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}]
    call = ToolCall("call_1", "get_weather", "{}", ProviderData("anthropic", foreign[0]))
    assistant = Message(
        "assistant", (TextPart("Checking."), call), ProviderData("anthropic", foreign)
    )
    chat = ProviderData("openai-chat", [{"type": "function_call", "call_id": "x"}])
    for turn in (assistant, Message("assistant", assistant.parts, chat)):
        assert encode_request(request(Message.user("Weather?"), turn))["input"][1:] == [
            {"role": "assistant", "content": [{"type": "output_text", "text": "Checking."}]},
            {
                "type": "function_call",
                "call_id": "call_1",
                "name": "get_weather",
                "arguments": "{}",
            },
        ]


def test_tool_call_keeps_its_item_when_the_turn_has_no_provider_data() -> None:
    item = {
        "type": "function_call",
        "id": "fc_9",
        "call_id": "call_9",
        "name": "get_weather",
        "arguments": "{}",
        "status": "completed",
    }
    tagged = ProviderData("openai", item)
    assistant = Message("assistant", (ToolCall("call_9", "get_weather", "{}", tagged),))
    assert encode_request(request(Message.user("x"), assistant))["input"][1] == item


def test_tool_results_come_before_user_text_of_the_same_turn() -> None:
    turn = Message("user", (TextPart("Now summarise."), ToolResult("call_1", "t", "42")))
    assert encode_request(request(turn))["input"] == [
        {"type": "function_call_output", "call_id": "call_1", "output": "42"},
        {"role": "user", "content": [{"type": "input_text", "text": "Now summarise."}]},
    ]


def test_options_pass_through_and_merge_into_nested_settings() -> None:
    output = OutputSchema("Invoice", STRICT_SCHEMA, wrapped=False)
    options = {"reasoning": {"effort": "low"}, "text": {"verbosity": "low"}, "top_p": 0.5}
    params = encode_request(request(output=output, options=options))
    assert params["reasoning"] == {"effort": "low"}
    assert params["top_p"] == 0.5
    assert params["text"]["verbosity"] == "low"
    assert params["text"]["format"]["name"] == "Invoice"


def test_encoding_does_not_mutate_the_request_schema() -> None:
    output = OutputSchema("Note", LOOSE_SCHEMA, wrapped=False)
    encode_request(request(output=output, options={"text": {"verbosity": "low"}}))
    assert output.schema == LOOSE_SCHEMA
    assert "verbosity" not in encode_request(request(output=output))["text"]


def test_tool_call_mode_forces_the_output_tool() -> None:
    output = OutputSchema("Invoice", STRICT_SCHEMA, wrapped=False)
    params = encode_request(request(output=output, output_mode="tool_call"))
    assert "text" not in params
    assert params["tools"] == [
        {
            "type": "function",
            "name": "alloy_output",
            "description": "Give your final answer (Invoice) by calling this tool with it.",
            "parameters": STRICT_SCHEMA,
            "strict": True,
        }
    ]
    assert params["tool_choice"] == {"type": "function", "name": "alloy_output"}


def test_tool_call_mode_with_tools_lets_the_model_call_them_first() -> None:
    output = OutputSchema("Invoice", STRICT_SCHEMA, wrapped=False)
    params = encode_request(request(output=output, output_mode="tool_call", tools=(WEATHER,)))
    assert [tool["name"] for tool in params["tools"]] == ["get_weather", "alloy_output"]
    assert params["tool_choice"] == "required"


def test_a_rejected_output_tool_call_is_answered_before_the_re_ask() -> None:
    items = [
        {
            "type": "function_call",
            "id": "fc_1",
            "call_id": "call_out",
            "name": "alloy_output",
            "arguments": "{}",
            "status": "completed",
        }
    ]
    assistant = Message("assistant", (TextPart("{}"),), ProviderData("openai", items))
    params = encode_request(request(Message.user("Invoice?"), assistant, Message.user("Fix it.")))
    assert params["input"][1:] == [
        *items,
        {
            "type": "function_call_output",
            "call_id": "call_out",
            "output": "This output was not accepted; see the next message.",
        },
        {"role": "user", "content": [{"type": "input_text", "text": "Fix it."}]},
    ]


def test_prompt_mode_sends_nothing_about_the_schema() -> None:
    output = OutputSchema("Invoice", STRICT_SCHEMA, wrapped=False)
    params = encode_request(request(output=output, output_mode="prompt"))
    for key in ("text", "tools", "tool_choice"):
        assert key not in params


def test_tool_result_parts_are_sent_as_their_text() -> None:
    result = ToolResult("call_1", "t", (TextPart("4"), TextPart("2")))
    assert encode_request(request(Message("user", (result,))))["input"] == [
        {"type": "function_call_output", "call_id": "call_1", "output": "42"}
    ]


# --- media -------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)
PDF = b"%PDF-1.7\n" + bytes(24)
PNG_URL = "data:image/png;base64," + base64.b64encode(PNG).decode()
PDF_URL = "data:application/pdf;base64," + base64.b64encode(PDF).decode()


def content(*parts: TextPart | MediaPart) -> list[dict[str, Any]]:
    """The content list of the one user item ``parts`` make."""
    [item] = encode_request(request(Message("user", parts)))["input"]
    assert item["role"] == "user"
    items: list[dict[str, Any]] = item["content"]
    return items


def media(value: Media) -> dict[str, Any]:
    [item] = content(MediaPart(value))
    return item


def test_text_and_media_keep_the_order_of_the_parts() -> None:
    parts = (
        TextPart("Compare "),
        MediaPart(Image.from_bytes(PNG), "a"),
        TextPart(" with "),
        MediaPart(Image.from_url("https://x.test/b.jpg"), "b"),
        TextPart(" as in "),
        MediaPart(Document.from_bytes(PDF, filename="spec.pdf")),
    )
    assert [item["type"] for item in content(*parts)] == [
        "input_text",
        "input_image",
        "input_text",
        "input_image",
        "input_text",
        "input_file",
    ]


def test_a_prompt_of_media_alone_is_one_user_item() -> None:
    assert [item["type"] for item in content(MediaPart(Image.from_bytes(PNG)))] == ["input_image"]


def test_image_bytes_and_paths_go_as_data_urls(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(PNG)
    expected = {"type": "input_image", "image_url": PNG_URL, "detail": "auto"}
    assert media(Image.from_bytes(PNG)) == expected
    assert media(Image.from_path(tmp_path / "a.png")) == expected
    assert media(Image.from_url(PNG_URL)) == expected  # a data: URL is bytes already


def test_image_url_and_file_id() -> None:
    assert media(Image.from_url("https://x.test/b.jpg")) == {
        "type": "input_image",
        "image_url": "https://x.test/b.jpg",
        "detail": "auto",
    }
    assert media(Image.from_file_id("openai", "file-abc")) == {
        "type": "input_image",
        "file_id": "file-abc",
        "detail": "auto",
    }


def test_image_detail_is_sent_as_given() -> None:
    assert media(Image.from_bytes(PNG, detail="low"))["detail"] == "low"
    assert media(Image.from_url("https://x.test/b.jpg", detail="high"))["detail"] == "high"


def test_pdf_bytes_go_as_file_data_with_a_filename(tmp_path: Path) -> None:
    assert media(Document.from_bytes(PDF, filename="q3.pdf")) == {
        "type": "input_file",
        "file_data": PDF_URL,
        "filename": "q3.pdf",
    }
    (tmp_path / "report.pdf").write_bytes(PDF)
    assert media(Document.from_path(tmp_path / "report.pdf"))["filename"] == "report.pdf"
    # OpenAI refuses file_data without a filename.
    assert media(Document.from_bytes(PDF))["filename"] == "document.pdf"


def test_pdf_url_and_file_id() -> None:
    assert media(Document.from_url("https://x.test/q3.pdf")) == {
        "type": "input_file",
        "file_url": "https://x.test/q3.pdf",
    }
    assert media(Document.from_file_id("openai", "file-pdf")) == {
        "type": "input_file",
        "file_id": "file-pdf",
    }


def test_a_document_detail_is_sent_only_when_given() -> None:
    assert media(Document.from_bytes(PDF, detail="low"))["detail"] == "low"
    assert "detail" not in media(Document.from_url("https://x.test/q3.pdf"))


def test_text_documents_go_as_text(tmp_path: Path) -> None:
    (tmp_path / "notes.md").write_text("# Notes\n\nShip it.", encoding="utf-8")
    doc = Document.from_path(tmp_path / "notes.md")
    assert media(doc) == {"type": "input_text", "text": as_text(doc, RESPONSES_MEDIA)}
    assert "Ship it." in media(doc)["text"]
    csv = Document.from_bytes(b"a,b\n1,2\n", "text/csv")
    assert media(csv)["text"] == text_document(csv)


def test_audio_is_refused_before_sending() -> None:
    with pytest.raises(CapabilityError, match="Audio input inline") as caught:
        content(MediaPart(Audio.from_bytes(b"ID3" + bytes(24))))
    assert caught.value.backend == "openai"


def test_tool_results_with_media_are_output_items_in_order() -> None:
    result = ToolResult(
        "call_1",
        "render",
        (TextPart("Here:"), MediaPart(Image.from_bytes(PNG)), MediaPart(Document.from_bytes(PDF))),
    )
    [item] = encode_request(request(Message("user", (result,))))["input"]
    assert item == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": [
            {"type": "input_text", "text": "Here:"},
            {"type": "input_image", "image_url": PNG_URL, "detail": "auto"},
            {"type": "input_file", "file_data": PDF_URL, "filename": "document.pdf"},
        ],
    }
