"""``Usage``: one meaning on every provider, sums, and the provider's own counts kept."""

from __future__ import annotations

from alloy import Usage


def test_the_total_is_input_plus_output_whatever_the_provider_said() -> None:
    usage = Usage.of(10, 5, total_tokens=99, details={"totalTokenCount": 99, "absent": None})
    assert usage.total_tokens == 15
    assert dict(usage.details) == {"totalTokenCount": 99}
    assert Usage.of(None, 5, total_tokens=7).total_tokens == 7  # no input count: kept


def test_sums_add_every_count_and_every_detail() -> None:
    a = Usage.of(10, 5, 4, 1, cache_write_tokens=2, details={"input_tokens": 4})
    b = Usage.of(20, 7, None, 3, details={"input_tokens": 20, "eval_count": 7})
    total = a + b
    assert (total.input_tokens, total.output_tokens, total.total_tokens) == (30, 12, 42)
    assert (total.cached_input_tokens, total.cache_write_tokens, total.reasoning_tokens) == (
        4,
        2,
        4,
    )
    assert dict(total.details) == {"input_tokens": 24, "eval_count": 7}


def test_equal_counts_are_equal_usage_whatever_the_details() -> None:
    assert Usage.of(1, 2, details={"x": 1}) == Usage.of(1, 2)
    assert Usage.of(1, 2) != Usage.of(1, 3)
    assert hash(Usage.of(1, 2, details={"x": 1})) == hash(Usage.of(1, 2))
