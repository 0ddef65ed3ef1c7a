"""What a call's tokens cost at the provider's list prices, from genai-prices' price table.

``price`` maps alloy's portable ``Usage`` onto genai-prices' counts (the same meaning: input
includes cache reads and writes, output includes reasoning) and prices it for a provider and
model, or says why it cannot. The table is a snapshot shipped with the genai-prices package
(the ``cost`` extra), so a ``Cost`` names the data it came from, and it is an estimate at
list prices, never an invoice. genai-prices takes a quarter of a second to import, so it is
imported on the first price asked for, never by ``import alloy``.

What is not priced gets a reason instead: local models (Ollama), the fake backend, a server
that is not the provider's own API (an OpenAI-compatible server behind ``openai-chat``),
models the table does not know, and usage without both input and output counts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from datetime import timezone
from decimal import Decimal
from typing import TYPE_CHECKING

from ._install import not_installed
from ._usage import Usage

if TYPE_CHECKING:
    from genai_prices import Usage as Counts
    from genai_prices.types import ModelInfo
    from genai_prices.types import PriceCalculation

__all__ = ["Cost", "free", "price"]

PRICE_LISTS: Mapping[str, str] = {
    "openai": "openai",
    "openai-chat": "openai",
    "anthropic": "anthropic",
    "gemini": "google",
}
"""alloy's provider names → genai-prices' provider ids."""

_NO_LIST_PRICE = {
    "ollama": "Ollama runs models on your own machine: they have no list price",
    "fake": "the fake backend makes no provider call: it has no price",
}

_STANDARD_TIERS = frozenset({"default", "standard"})
"""The service tiers providers report for standard prices (OpenAI ``default``, Anthropic
``standard``): no price variant to select."""


@dataclass(frozen=True, slots=True)
class Cost:
    """What a call's tokens cost at the provider's list prices, in US dollars.

    An estimate from the price table of the installed genai-prices package (``priced_at``
    names it), at today's prices: it is not an invoice, and prices change after a package
    release. ``input`` includes cache reads and writes, each at its own rate; ``usd`` is
    everything, which may include per-request fees beyond ``input + output``.

    Attributes:
        usd: the total.
        input: the input tokens' part, cache reads and writes included.
        output: the output tokens' part, reasoning included.
        model: the price table's name for the model (a dated snapshot is priced as its
            model: ``claude-sonnet-4-20250514`` as ``claude-sonnet-4-0``).
        priced_at: the price data: the genai-prices version, and when its prices were
            fetched if they were updated at run time (``genai_prices.UpdatePrices``).
        batch: priced at the provider's batch rates.
        service_tier: the service tier priced (``None``: the standard one).
    """

    usd: Decimal
    input: Decimal
    output: Decimal
    model: str
    priced_at: str
    batch: bool = False
    service_tier: str | None = None


def free(model: str) -> Cost:
    """The cost of a call answered from a response cache or a cassette: nothing."""
    zero = Decimal(0)
    return Cost(zero, zero, zero, model, "not charged: answered from stored replies")


def price(
    usage: Usage,
    provider: str | None,
    model: str,
    *,
    batch: bool = False,
    service_tier: str | None = None,
) -> Cost | str:
    """``usage`` on ``provider``'s ``model`` at list prices, or the reason it has no price.

    ``provider`` is alloy's backend name; ``None`` means the call went to a server that is
    not the provider's own API. ``batch`` asks for batch rates and ``service_tier`` for a
    tier's (``"flex"``, ``"priority"``...); a model the table has no such rates for is not
    priced rather than priced at the standard rate.

    >>> price(Usage.of(input_tokens=10, output_tokens=5), "ollama", "llama3.2")
    'Ollama runs models on your own machine: they have no list price'
    """
    if provider is None:
        return (
            "the call went to a server that is not the provider's own API (an "
            "OpenAI-compatible server): it has no list price"
        )
    reason = _NO_LIST_PRICE.get(provider)
    if reason is not None:
        return reason
    provider_id = PRICE_LISTS.get(provider)
    if provider_id is None:
        known = ", ".join(sorted(PRICE_LISTS))
        return f"no price list for the {provider!r} backend (alloy prices {known})"
    if usage.input_tokens is None or usage.output_tokens is None:
        return f"{provider} did not report both input and output token counts"
    try:
        import genai_prices
    except ImportError:
        return not_installed("pricing", "cost")
    context: dict[str, str] = {}
    if batch:
        context["processing"] = "batch"
    if service_tier is not None and service_tier not in _STANDARD_TIERS:
        context["service_tier"] = service_tier
    ref = _model_ref(model)
    source = f"genai-prices {genai_prices.__version__}"
    now = datetime.now(timezone.utc)
    try:
        calc = genai_prices.calc_price(
            _counts(usage),
            ref,
            provider_id=provider_id,
            genai_request_timestamp=now,
            price_context=context or None,
        )
    except LookupError:
        return f"{source} has no price for the {provider} model {model!r}"
    except ValueError as exc:
        return f"{source} cannot price these token counts: {exc}"
    missing = _missing_rates(calc, context, now)
    if missing is not None:
        return f"{source} has no {missing} price for the {provider} model {model!r}"
    return Cost(
        usd=calc.total_price,
        input=calc.input_price,
        output=calc.output_price,
        model=calc.model.id,
        priced_at=_priced_at(source, calc.auto_update_timestamp),
        batch=batch,
        service_tier=context.get("service_tier"),
    )


def _model_ref(model: str) -> str:
    """The model's own name: Gemini's ``models/gemini-2.5-flash`` (or a Vertex path) is
    ``gemini-2.5-flash`` in the table."""
    return model.rpartition("/")[2]


def _counts(usage: Usage) -> Counts:
    """alloy's counts under genai-prices' names: both take cache reads and writes as parts
    of the input and reasoning as part of the output (a model with its own reasoning rate
    prices those at it; the others at the output rate). Audio is not counted apart, so it
    is priced as text."""
    import genai_prices

    return genai_prices.Usage(
        input_tokens=usage.input_tokens,
        cache_read_tokens=usage.cached_input_tokens,
        cache_write_tokens=usage.cache_write_tokens,
        output_tokens=usage.output_tokens,
        output_reasoning_tokens=usage.reasoning_tokens,
    )


def _missing_rates(calc: PriceCalculation, context: Mapping[str, str], at: datetime) -> str | None:
    """The asked-for rate (``batch``, a tier) the model has no price variant for, if any:
    genai-prices then prices at the standard rate, which would be a wrong figure."""
    own = any(m is calc.model for m in calc.provider.models)
    for key, value in context.items():
        if not own or not _has_variant(calc.model, key, value, context, at):
            return "batch" if key == "processing" else f"{value!r} service tier"
    return None


def _has_variant(
    model: ModelInfo, key: str, value: str, context: Mapping[str, str], at: datetime
) -> bool:
    for variant in model.price_variants or ():
        if variant.when.get(key) != value:
            continue
        if not all(context.get(k) == v for k, v in variant.when.items()):
            continue
        if variant.constraint is None or variant.constraint.active(at):
            return True
    return False


def _priced_at(source: str, fetched: datetime | None) -> str:
    if fetched is None:
        return f"{source}, bundled prices"
    return f"{source}, prices fetched {fetched.isoformat(timespec='minutes')}"
