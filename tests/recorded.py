"""The recorded provider corpus, and the checks every suite makes of a reply decoded from it.

The corpus is test data read from beside the repository (``../shared/recorded``; see its
README). Each file's ``expect`` says what a correct client extracts from the last
interaction. Tests skip when the folder is absent.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from alloy import AuthenticationError
from alloy import ProviderError
from alloy import _codec
from alloy._messages import Response
from alloy._usage import Usage

RECORDED = Path(__file__).resolve().parents[1].parent / "shared" / "recorded"


def corpus_missing() -> str | None:
    """Why the recorded tests cannot run (``None`` when the corpus is there)."""
    return None if RECORDED.is_dir() else f"recorded corpus not found at {RECORDED}"


def require_corpus(*, module: bool = False) -> Path:
    """The corpus folder; the test (or, with ``module``, the whole module) skips without it."""
    reason = corpus_missing()
    if reason is not None:  # pragma: no cover - depends on the checkout
        pytest.skip(reason, allow_module_level=module)
    return RECORDED


def recorded(*patterns: str) -> list[Path]:
    """The files matching each pattern in turn, each pattern's sorted (none without a corpus)."""
    if not RECORDED.is_dir():
        return []
    return [p for pattern in patterns for p in sorted(RECORDED.glob(pattern))]


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def last_response(path: Path) -> dict[str, Any]:
    """The recorded response of the file's last interaction (``status``, ``headers``,
    ``body``)."""
    response: dict[str, Any] = load(path)["interactions"][-1]["response"]
    return response


def last_body(path: Path) -> str:
    body: str = last_response(path)["body"]
    return body


def successes(*patterns: str) -> list[Path]:
    """``recorded(*patterns)`` whose last response was a 200."""
    return [p for p in recorded(*patterns) if last_response(p)["status"] == 200]


def sse_data(body: str) -> list[bytes]:
    """The ``data:`` payload of each event of an SSE body (a reference parser for tests)."""
    events: list[bytes] = []
    for block in body.replace("\r\n", "\n").split("\n\n"):
        lines = [line[5:].lstrip(" ") for line in block.split("\n") if line.startswith("data:")]
        if lines:
            events.append("\n".join(lines).encode())
    return events


def check_reply(response: Response, expect: Mapping[str, Any]) -> None:
    """``response`` is what ``expect`` says, field for field, and survives alloy's codec
    (``_codec.dumps`` then ``loads``) unchanged, provider data included."""
    assert (response.text or None) == expect["text"]
    calls = [{"name": c.name, "arguments": json.loads(c.arguments)} for c in response.tool_calls]
    assert calls == expect["tool_calls"]
    assert response.finish_reason == expect["finish"]
    assert response.finish == normal_finish(expect)
    check_usage(response.usage, expect["usage"])
    assert response.refusal == expect.get("refusal")
    assert response.reasoning == expect.get("thinking")
    assert _codec.loads(_codec.dumps(response)) == response


# Every provider's word for a reply the token limit cut.
_CUT = frozenset({"length", "max_tokens", "MAX_TOKENS", "max_output_tokens"})


def normal_finish(expect: Mapping[str, Any]) -> str:
    """The normalised finish of a recorded reply, from its ``expect`` (apart from the
    backends' tables): cut, refused, a turn of tool calls, or complete."""
    if expect["finish"] in _CUT:
        return "length"
    if expect.get("refusal"):
        return "refusal"
    return "tool_calls" if expect["tool_calls"] else "stop"


# Where each provider's own counts sit in ``Usage.details``: (input, output, cached, reasoning).
_RAW_KEYS = (
    (
        "prompt_tokens",
        "completion_tokens",
        "prompt_tokens_details.cached_tokens",
        "completion_tokens_details.reasoning_tokens",
    ),
    (
        "input_tokens",
        "output_tokens",
        "input_tokens_details.cached_tokens",
        "output_tokens_details.reasoning_tokens",
    ),
    (
        "input_tokens",
        "output_tokens",
        "cache_read_input_tokens",
        "output_tokens_details.thinking_tokens",
    ),
    ("promptTokenCount", "candidatesTokenCount", "cachedContentTokenCount", "thoughtsTokenCount"),
    ("prompt_eval_count", "eval_count", "", ""),
)


def check_usage(usage: Usage, raw: Mapping[str, Any]) -> None:
    """``usage`` keeps the recording's raw counts in ``details`` (under one provider's names)
    and its portable counts hold alloy's invariants."""
    wanted = [
        raw["input_tokens"],
        raw["output_tokens"],
        raw["cached_tokens"],
        raw["reasoning_tokens"],
    ]
    found = [[usage.details.get(key) if key else None for key in keys] for keys in _RAW_KEYS]

    # A count the wire reports as 0 may be absent from a provider's object: None and 0 agree.
    def same(a: list[Any], b: list[Any]) -> bool:
        return all((x or 0) == (y or 0) for x, y in zip(a, b, strict=True))

    assert any(same(counts, wanted) for counts in found), (usage.details, raw)
    check_invariants(usage)


def check_invariants(usage: Usage) -> None:
    """alloy's meaning of the counts: cache reads and writes are part of the input,
    reasoning part of the output, and the total their sum."""
    if usage.input_tokens is not None:
        assert (usage.cached_input_tokens or 0) + (
            usage.cache_write_tokens or 0
        ) <= usage.input_tokens
    if usage.output_tokens is not None:
        assert (usage.reasoning_tokens or 0) <= usage.output_tokens
    if usage.input_tokens is not None and usage.output_tokens is not None:
        assert usage.total_tokens == usage.input_tokens + usage.output_tokens


def check_error(err: ProviderError, expect: Mapping[str, Any]) -> None:
    """``err`` has the recorded status and message; a 401 is an ``AuthenticationError``."""
    assert err.status_code == expect["error"]["status"]
    if err.status_code == 401:
        assert isinstance(err, AuthenticationError)
    assert expect["error"]["message"][:40] in str(err)
