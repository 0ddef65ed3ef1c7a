"""The SDK's Responses-API reply → alloy ``Response``, checked against real recorded bodies.

Each recorded file's last response body is parsed by the SDK's own model class and decoded;
the result must match the file's ``expect`` (see shared/recorded/README.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pydantic
import pytest
from openai.types.responses import Response as SDKResponse

from alloy._messages import Message
from alloy._messages import ProviderData
from alloy._messages import Request
from alloy.backends.openai.responses import decode_response
from alloy.backends.openai.responses import encode_request
from tests.recorded import check_reply
from tests.recorded import last_body
from tests.recorded import load
from tests.recorded import successes


def parse(body: str) -> SDKResponse:
    """The body as the SDK parses it.

    Validated when it validates; otherwise built the way the SDK client builds every reply
    by default (``construct``, no validation): the recordings predate
    ``input_tokens_details.cache_write_tokens``, which the 3.52 models require.
    """
    data = json.loads(body)
    try:
        return SDKResponse.model_validate(data)
    except pydantic.ValidationError:
        return SDKResponse.construct(**data)


SUCCESSES = successes("openai-responses__*__sync.json")


@pytest.mark.parametrize("path", SUCCESSES, ids=lambda p: p.name.split("__")[1])
def test_decode_matches_recorded_expectation(path: Path) -> None:
    response = decode_response(parse(last_body(path)))
    check_reply(response, load(path)["expect"])


def test_a_recording_of_each_kind_is_covered(corpus: Path) -> None:
    names = {p.name.split("__")[1] for p in SUCCESSES}
    assert {"text", "parallel-tool-calls", "thinking", "max-tokens", "refusal"} <= names


def test_usage_total_model_and_provider_data(corpus: Path) -> None:
    raw = parse(last_body(corpus / "openai-responses__text__sync.json"))
    response = decode_response(raw)
    assert raw.usage is not None
    assert response.usage.total_tokens == raw.usage.total_tokens
    assert response.model == "gpt-4o-2024-08-06"
    assert response.provider_data == ProviderData(
        "openai", [item.to_dict(mode="json") for item in raw.output]
    )
    assert all(type(item) is dict for item in response.provider_data.data)


def test_tool_calls_keep_call_id_arguments_verbatim_and_their_item(corpus: Path) -> None:
    raw = parse(last_body(corpus / "openai-responses__parallel-tool-calls__sync.json"))
    first = decode_response(raw).tool_calls[0]
    assert first.id == "call_ZuiErmwO3jdjHdDKTX2LH96R"
    assert first.arguments == '{"password":"mellon"}'
    assert first.provider_data is not None
    assert first.provider_data.backend == "openai"
    assert isinstance(first.provider_data.data, dict)
    item_id = first.provider_data.data["id"]
    assert item_id == "fc_0467adec912138780069689b104a108193a87161e6e768199d"


def test_request_id_comes_from_the_sdk_object(corpus: Path) -> None:
    raw = parse(last_body(corpus / "openai-responses__text__sync.json"))
    assert decode_response(raw).request_id is None
    raw._request_id = "req_abc"
    assert decode_response(raw).request_id == "req_abc"


def test_follow_up_turn_echoes_the_recorded_function_call_items(corpus: Path) -> None:
    """Decode turn 1, send it back as history: the items match what the recording sent."""
    case = load(corpus / "openai-responses__parallel-tool-calls-followup__sync.json")
    first, second = case["interactions"]
    reply = decode_response(parse(first["response"]["body"]))
    params = encode_request(Request("gpt-4o", (Message.user("secrets?"), reply.message())))
    sent_calls = [i for i in params["input"] if i.get("type") == "function_call"]
    recorded_calls = [
        i for i in second["request"]["body"]["input"] if i.get("type") == "function_call"
    ]
    assert sent_calls == recorded_calls


def test_reasoning_items_are_kept_for_the_next_turn_but_not_in_text(corpus: Path) -> None:
    reply = decode_response(parse(last_body(corpus / "openai-responses__thinking__sync.json")))
    assert reply.text == "3"
    assert reply.provider_data is not None
    assert [item["type"] for item in reply.provider_data.data] == ["reasoning", "message"]
    echoed = encode_request(Request("gpt-5", (Message.user("q"), reply.message())))["input"]
    assert echoed[1:] == reply.provider_data.data


def test_the_first_output_tool_call_is_the_reply_text() -> None:
    def call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
        return {
            "type": "function_call",
            "id": f"fc_{call_id}",
            "call_id": call_id,
            "name": name,
            "arguments": arguments,
            "status": "completed",
        }

    output = [
        call("a", "alloy_output", '{"value": 4}'),
        call("b", "get_weather", "{}"),
        call("c", "alloy_output", '{"value": 5}'),
    ]
    raw = SDKResponse.construct(
        id="resp_1", object="response", status="completed", model="gpt-test", output=output
    )
    response = decode_response(raw)
    assert response.text == '{"value": 4}'
    assert [(c.id, c.name) for c in response.tool_calls] == [
        ("b", "get_weather"),
        ("c", "alloy_output"),
    ]
    assert response.provider_data == ProviderData("openai", output)
