"""alloy ``Request`` → ``messages.create`` arguments, with no network and no keys."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from alloy import Document
from alloy import Image
from alloy._config import Config
from alloy._messages import ContentPart
from alloy._messages import MediaPart
from alloy._messages import Message
from alloy._messages import OutputSchema
from alloy._messages import ProviderData
from alloy._messages import Request
from alloy._messages import Response
from alloy._messages import TextPart
from alloy._messages import ToolCall
from alloy._messages import ToolResult
from alloy._messages import ToolSpec
from alloy._output import output_spec
from alloy._plan import plan
from alloy.backends.anthropic import AnthropicBackend
from alloy.backends.anthropic._encode import DEFAULT_MAX_TOKENS
from alloy.backends.anthropic._encode import OUTPUT_TOOL
from alloy.backends.anthropic._encode import encode_messages
from alloy.backends.anthropic._encode import encode_request

HELLO = (Message.user("hello"),)
TOOL = ToolSpec(
    "lookup",
    "Look a city up.",
    {"type": "object", "properties": {"city": {"type": "string", "maxLength": 40}}},
)


def output(tp: Any) -> OutputSchema:
    spec = output_spec(tp, "test")
    assert spec.schema is not None
    return spec.schema


def planned(model: str, tp: Any) -> Request:
    """The request planning builds for a command returning ``tp`` on ``model``."""
    options = {"anthropic": {"api_key": "sk-ant-test"}}
    return plan(
        "hello", output_spec(tp, "test"), Config(model=model, provider_options=options)
    ).request


def test_minimal_request_has_the_default_max_tokens() -> None:
    params = encode_request(Request(model="claude-sonnet-4-6", messages=HELLO))
    assert params == {
        "model": "claude-sonnet-4-6",
        "max_tokens": DEFAULT_MAX_TOKENS,
        "messages": [{"role": "user", "content": "hello"}],
    }


def test_typed_settings() -> None:
    request = Request(
        model="m", messages=HELLO, system="Be brief.", temperature=0.2, max_tokens=64, timeout=3.0
    )
    params = encode_request(request)
    assert params["system"] == "Be brief."
    assert params["max_tokens"] == 64
    assert params["extra_body"] == {"temperature": 0.2}
    assert params["timeout"] == 3.0


def test_thinking_budget_is_added_to_the_default_max_tokens() -> None:
    request = Request(model="claude-sonnet-4-5", messages=HELLO, reasoning_budget=8000)
    params = encode_request(request)
    assert params["max_tokens"] == DEFAULT_MAX_TOKENS + 8000
    assert params["thinking"] == {"type": "enabled", "budget_tokens": 8000}


def test_options_merge_into_what_alloy_sets() -> None:
    options = {"extra_body": {"top_k": 5}, "metadata": {"user_id": "u1"}}
    request = Request(model="m", messages=HELLO, temperature=0.5, options=options)
    params = encode_request(request)
    assert params["extra_body"] == {"temperature": 0.5, "top_k": 5}
    assert params["metadata"] == {"user_id": "u1"}


def test_native_structured_output() -> None:
    schema = output(int)
    params = encode_request(Request(model="m", messages=HELLO, output=schema))
    assert params["output_config"] == {
        "format": {
            "type": "json_schema",
            "schema": {
                "type": "object",
                "properties": {"value": {"type": "integer"}},
                "required": ["value"],
                "additionalProperties": False,
            },
        }
    }
    assert "tools" not in params and "tool_choice" not in params


def test_forced_tool_when_the_output_mode_is_a_tool_call() -> None:
    schema = output(int)
    request = Request(model="m", messages=HELLO, output=schema, output_mode="tool_call")
    params = encode_request(request)
    assert "output_config" not in params
    [tool] = params["tools"]
    assert tool["name"] == OUTPUT_TOOL
    assert tool["input_schema"]["properties"] == {"value": {"type": "integer"}}
    assert params["tool_choice"] == {"type": "tool", "name": OUTPUT_TOOL}


def test_prompt_mode_sends_nothing_about_the_schema() -> None:
    request = Request(model="m", messages=HELLO, output=output(int), output_mode="prompt")
    params = encode_request(request)
    assert "output_config" not in params
    assert "tools" not in params and "tool_choice" not in params


def test_open_maps_go_through_the_tool_even_on_native_models() -> None:
    request = planned("claude-sonnet-4-6", dict[str, float])
    assert request.output_mode == "tool_call"
    params = encode_request(request)
    assert "output_config" not in params
    assert params["tools"][0]["input_schema"] == {
        "type": "object",
        "additionalProperties": {"type": "number"},
    }


def test_output_tool_with_user_tools_or_thinking() -> None:
    schema = output(int)
    forced = Request(model="m", messages=HELLO, output=schema, output_mode="tool_call")
    with_tools = replace(forced, tools=(TOOL,))
    params = encode_request(with_tools)
    assert [t["name"] for t in params["tools"]] == ["lookup", OUTPUT_TOOL]
    assert params["tool_choice"] == {"type": "any"}
    thinks = replace(forced, model="claude-opus-4-7", reasoning_effort="high")
    params = encode_request(thinks)
    assert params["thinking"] == {"type": "adaptive"}
    assert params["tool_choice"] == {"type": "auto"}
    off = encode_request(replace(thinks, reasoning_effort="none"))
    assert off["thinking"] == {"type": "disabled"}
    assert off["tool_choice"] == {"type": "tool", "name": OUTPUT_TOOL}


def test_tools_use_the_anthropic_dialect() -> None:
    params = encode_request(Request(model="m", messages=HELLO, tools=(TOOL,)))
    assert params["tools"] == [
        {
            "name": "lookup",
            "description": "Look a city up.",
            "input_schema": {
                "type": "object",
                "properties": {"city": {"type": "string", "description": "{maxLength: 40}"}},
                "additionalProperties": False,
            },
        }
    ]


def test_tool_loop_messages() -> None:
    calls = (ToolCall("t1", "lookup", '{"city": "Paris"}'), ToolCall("t2", "lookup", "{bad"))
    assistant = Message("assistant", (TextPart("Looking."), *calls))
    results = Message(
        "user",
        (ToolResult("t1", "lookup", "sunny"), ToolResult("t2", "lookup", "bad JSON", True)),
    )
    assert encode_messages((*HELLO, assistant, results)) == [
        {"role": "user", "content": "hello"},
        {
            "role": "assistant",
            "content": [
                {"type": "text", "text": "Looking."},
                {"type": "tool_use", "id": "t1", "name": "lookup", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "t2", "name": "lookup", "input": {}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "sunny"},
                {
                    "type": "tool_result",
                    "tool_use_id": "t2",
                    "content": "bad JSON",
                    "is_error": True,
                },
            ],
        },
    ]


def test_provider_data_is_echoed_and_an_unanswered_output_call_is_closed() -> None:
    blocks = [
        {"type": "thinking", "thinking": "hmm", "signature": "sig=="},
        {"type": "text", "text": ""},
        {"type": "tool_use", "id": "toolu_1", "name": OUTPUT_TOOL, "input": {"value": "x"}},
    ]
    reply = Response(text='{"value": "x"}', provider_data=ProviderData("anthropic", blocks))
    encoded = encode_messages((*HELLO, reply.message(), Message.user("Not an int; again.")))
    assert encoded[1] == {"role": "assistant", "content": [blocks[0], blocks[2]]}
    first, second = encoded[2]["content"]
    assert first["type"] == "tool_result" and first["tool_use_id"] == "toolu_1"
    assert first["is_error"] is True
    assert second == {"type": "text", "text": "Not an int; again."}


def test_an_empty_assistant_turn_is_left_out() -> None:
    empty = Response(
        text="", provider_data=ProviderData("anthropic", [{"type": "text", "text": ""}])
    )
    encoded = encode_messages((*HELLO, empty.message(), Message.user("Say something.")))
    assert [m["role"] for m in encoded] == ["user", "user"]


def test_capabilities_by_model() -> None:
    backend = AnthropicBackend({"api_key": "sk-ant-test"})
    for model in ("claude-sonnet-4-6", "claude-opus-4-5", "claude-haiku-4-5", "claude-next-9"):
        assert backend.capabilities(model).structured_output == "json_schema", model
    for model in ("claude-3-5-haiku-latest", "claude-sonnet-4-0", "claude-opus-4-1"):
        assert backend.capabilities(model).structured_output == "tool_call", model
    caps = backend.capabilities("claude-sonnet-4-6")
    assert caps.tool_error_flag and caps.parallel_tools and caps.schema_dialect == "anthropic"


def test_forced_tool_model_encodes_the_tool() -> None:
    request = planned("claude-3-5-haiku-latest", bool)
    assert request.output_mode == "tool_call"
    params = encode_request(request)
    assert params["tool_choice"]["name"] == OUTPUT_TOOL
    json.dumps(params)  # plain JSON, ready for the SDK


def test_a_turn_made_by_another_backend_is_encoded_from_its_neutral_parts() -> None:
    # OpenAI output items have a "type" too: echoed here they would be refused (HTTP 400).
    items: list[dict[str, Any]] = [
        {"type": "reasoning", "id": "rs_1", "summary": []},
        {"type": "message", "id": "m"},
    ]
    call = ToolCall("t1", "lookup", '{"city": "Paris"}', ProviderData("openai", items[0]))
    reply = Response(
        text="Looking.", tool_calls=(call,), provider_data=ProviderData("openai", items)
    )
    [_, assistant] = encode_messages((*HELLO, reply.message()))
    assert assistant == {
        "role": "assistant",
        "content": [
            {"type": "text", "text": "Looking."},
            {"type": "tool_use", "id": "t1", "name": "lookup", "input": {"city": "Paris"}},
        ],
    }


def test_anthropic_shaped_blocks_tagged_for_another_backend_are_not_echoed() -> None:
    blocks = [{"type": "thinking", "thinking": "hmm", "signature": "sig=="}]
    turn = Message("assistant", (TextPart("Hi."),), ProviderData("gemini", blocks))
    [_, assistant] = encode_messages((*HELLO, turn))
    assert assistant["content"] == [{"type": "text", "text": "Hi."}]


def test_tool_results_made_of_parts_go_as_their_text() -> None:
    call = ToolCall("t1", "lookup", "{}")
    parts = (TextPart("sun"), TextPart("ny"))
    results = Message("user", (ToolResult("t1", "lookup", parts),))
    [_, _, user] = encode_messages((*HELLO, Message("assistant", (call,)), results))
    assert user["content"] == [{"type": "tool_result", "tool_use_id": "t1", "content": "sunny"}]


# --- media ----------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)
PDF = b"%PDF-1.7\n" + bytes(24)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def user_blocks(*parts: ContentPart) -> Any:
    [user] = encode_messages((Message("user", parts),))
    return user["content"]


def test_media_blocks_follow_the_order_of_the_parts(tmp_path: Path) -> None:
    path = tmp_path / "report.pdf"
    path.write_bytes(PDF)
    blocks = user_blocks(
        TextPart("Compare "),
        MediaPart(Image.from_bytes(PNG)),
        TextPart(" with "),
        MediaPart(Image.from_url("https://example.com/b.jpg")),
        MediaPart(Image.from_file_id("anthropic", "file_011img", "image/png")),
        TextPart(" and read "),
        MediaPart(Document.from_bytes(PDF)),
        MediaPart(Document.from_path(path)),
        MediaPart(Document.from_url("https://example.com/q3.pdf")),
        MediaPart(Document.from_file_id("anthropic", "file_011doc")),
    )
    assert blocks == [
        {"type": "text", "text": "Compare "},
        {
            "type": "image",
            "source": {"type": "base64", "media_type": "image/png", "data": b64(PNG)},
        },
        {"type": "text", "text": " with "},
        {"type": "image", "source": {"type": "url", "url": "https://example.com/b.jpg"}},
        {"type": "image", "source": {"type": "file", "file_id": "file_011img"}},
        {"type": "text", "text": " and read "},
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": b64(PDF)},
        },
        {
            "type": "document",
            "source": {"type": "base64", "media_type": "application/pdf", "data": b64(PDF)},
            "title": "report.pdf",
        },
        {
            "type": "document",
            "source": {"type": "url", "url": "https://example.com/q3.pdf"},
            "title": "q3.pdf",
        },
        {"type": "document", "source": {"type": "file", "file_id": "file_011doc"}},
    ]


def test_a_plain_text_document_is_a_text_source_with_its_title() -> None:
    text = "Minutes: ship it. Ünïcode stays text."
    doc = Document.from_bytes(text.encode(), "text/plain", filename="minutes.txt")
    assert user_blocks(MediaPart(doc)) == [
        {
            "type": "document",
            "source": {"type": "text", "media_type": "text/plain", "data": text},
            "title": "minutes.txt",
        }
    ]


def test_other_text_documents_go_as_text_between_markers() -> None:
    doc = Document.from_bytes(b"a,b\n1,2", "text/csv", filename="t.csv")
    [block] = user_blocks(MediaPart(doc))
    assert block == {
        "type": "text",
        "text": '<document name="t.csv" type="text/csv">\na,b\n1,2\n</document>',
    }


def test_blank_text_between_media_is_left_out() -> None:
    # The API refuses text blocks of whitespace; "{a}\n{b}" leaves one between two images.
    image = MediaPart(Image.from_bytes(PNG))
    assert [b["type"] for b in user_blocks(image, TextPart("\n"), image)] == ["image", "image"]


def test_a_text_only_prompt_of_parts_is_still_a_plain_string() -> None:
    assert encode_messages((Message.user((TextPart("hello"),)),)) == [
        {"role": "user", "content": "hello"}
    ]


def test_a_planned_media_prompt_is_sent_as_blocks() -> None:
    options = {"anthropic": {"api_key": "sk-ant-test"}}
    prompt = (TextPart("Describe "), MediaPart(Image.from_bytes(PNG), "photo"))
    planned = plan(
        prompt, output_spec(str, "t"), Config(model="claude-sonnet-4-6", provider_options=options)
    )
    [user] = encode_request(planned.request)["messages"]
    assert [b["type"] for b in user["content"]] == ["text", "image"]


def test_tool_results_carry_images_and_documents() -> None:
    call = ToolCall("t1", "snapshot", "{}")
    content = (
        TextPart("Here it is:"),
        MediaPart(Image.from_bytes(PNG)),
        MediaPart(Document.from_file_id("anthropic", "file_9")),
    )
    results = Message("user", (ToolResult("t1", "snapshot", content),))
    [_, _, user] = encode_messages((*HELLO, Message("assistant", (call,)), results))
    assert user["content"] == [
        {
            "type": "tool_result",
            "tool_use_id": "t1",
            "content": [
                {"type": "text", "text": "Here it is:"},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": b64(PNG)},
                },
                {"type": "document", "source": {"type": "file", "file_id": "file_9"}},
            ],
        }
    ]


def test_encoding_reads_a_path_once_and_keeps_no_bytes_in_reprs(tmp_path: Path) -> None:
    path = tmp_path / "cat.png"
    path.write_bytes(PNG)
    image = Image.from_path(path)
    request = Request("claude-sonnet-4-6", (Message("user", (MediaPart(image, "cat"),)),))
    first = encode_request(request)
    path.write_bytes(b"changed")  # read when first needed, then kept
    assert encode_request(request) == first
    assert b64(PNG) not in repr(request) and b64(PNG) not in repr(image)
