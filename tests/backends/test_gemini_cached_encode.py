"""The Gemini encoder with a cached content: what the cache holds (``cache_config``) and what
a request naming it leaves out (pure functions, no I/O)."""

from __future__ import annotations

from dataclasses import replace

from alloy import Context
from alloy._messages import Message
from alloy._messages import Request
from alloy._messages import TextPart
from alloy._messages import ToolSpec
from alloy.backends.gemini._encode import cache_config
from alloy.backends.gemini._encode import encode_request

CONTEXT = Context(system="Shared rules.", documents=["doc one", "doc two"])
TOOL = ToolSpec("lookup", "Look a term up.", {"type": "object", "properties": {}})


def _request(**changes: object) -> Request:
    first = Message("user", (TextPart("doc one"), TextPart("doc two"), TextPart("the question")))
    base = Request(
        model="gemini-2.5-flash",
        messages=(first,),
        system="Be brief.",
        tools=(TOOL,),
        cache=True,
        context=CONTEXT,
        options={"tool_config": {"function_calling_config": {"mode": "AUTO"}}},
    )
    return replace(base, **changes)  # pyright: ignore[reportArgumentType]


def test_the_cache_holds_the_context_the_system_text_and_the_tools() -> None:
    config = cache_config(_request())
    assert config["contents"] == [
        {"role": "user", "parts": [{"text": "doc one"}, {"text": "doc two"}]}
    ]
    assert config["system_instruction"] == "Shared rules.\n\nBe brief."
    declarations = config["tools"][0]["function_declarations"]
    assert [d["name"] for d in declarations] == ["lookup"]
    assert config["tool_config"] == {"function_calling_config": {"mode": "AUTO"}}


def test_a_request_naming_the_cache_leaves_out_what_it_holds() -> None:
    inline = encode_request(_request(), config_dict=True)
    assert inline["config"]["system_instruction"] == "Shared rules.\n\nBe brief."
    assert len(inline["contents"][0]["parts"]) == 3
    cached = encode_request(_request(cached_content="cachedContents/abc"), config_dict=True)
    config = cached["config"]
    assert config["cached_content"] == "cachedContents/abc"
    assert not {"system_instruction", "tools", "tool_config"} & set(config)
    assert cached["contents"] == [{"role": "user", "parts": [{"text": "the question"}]}]


def test_later_turns_are_kept_whole() -> None:
    later = (
        Message("user", (TextPart("doc one"), TextPart("doc two"), TextPart("q"))),
        Message("assistant", (TextPart("a"),)),
        Message("user", (TextPart("doc one"),)),
    )
    cached = encode_request(_request(messages=later, cached_content="cachedContents/abc"))
    texts = [[p["text"] for p in c["parts"]] for c in cached["contents"]]
    assert texts == [["q"], ["a"], ["doc one"]]
