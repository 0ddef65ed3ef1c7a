"""Request → ``chat.completions.create`` arguments for ``openai-chat`` (pure, no network)."""

from __future__ import annotations

from alloy._messages import Message
from alloy._messages import OutputSchema
from alloy._messages import ProviderData
from alloy._messages import TextPart
from alloy._messages import ToolCall
from alloy._messages import ToolResult
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
