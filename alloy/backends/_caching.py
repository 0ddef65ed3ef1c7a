"""What a provider does with the prompt-caching settings, as data, and the checks made
before a call.

Styles, and what each encoder sends when ``cache=True``:

- ``breakpoints`` (Anthropic): a top-level ``cache_control`` (the provider marks the last
  cacheable block), and a ``cache_control`` on the last block of each context layer.
- ``key`` (OpenAI): caching is automatic; alloy adds a ``prompt_cache_key`` stable per
  command and context, so that calls sharing a prefix reach the same cache.
- ``explicit`` (Gemini): a cached content is created once per context and named in each
  request, which then leaves out what the cache holds.
- ``none``: the provider has no cache alloy can ask for; ``cache=True`` is refused.

``cache_ttl`` is mapped through ``ttls`` to the shortest lifetime the provider offers that
is not shorter than the one asked for; a lifetime longer than any it offers is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import Literal

from .._errors import CapabilityError
from .._errors import ConfigurationError

if TYPE_CHECKING:
    from .._context import Context

__all__ = [
    "CACHE_TTLS",
    "NO_CACHE",
    "CacheStyle",
    "PromptCacheSupport",
    "check_cache",
    "context_breakpoints",
    "ttl_seconds",
]

CacheStyle = Literal["breakpoints", "key", "explicit", "none"]
CACHE_TTLS = ("5m", "30m", "1h", "12h", "24h")
"""Every value of the ``cache_ttl`` setting, shortest first."""
_SECONDS = {"5m": 300, "30m": 1800, "1h": 3600, "12h": 43200, "24h": 86400}


def ttl_seconds(ttl: str) -> int:
    """``ttl`` in seconds (``"1h"`` → 3600)."""
    return _SECONDS[ttl]


@dataclass(frozen=True, slots=True)
class PromptCacheSupport:
    """How a model's provider caches prompts, and which settings it honours.

    Attributes:
        style: how the encoder asks for caching (see the module docstring).
        ttls: ``(asked, sent)`` pairs: the provider's value for each ``cache_ttl`` it can
            honour (missing: refused).
        max_breakpoints: cache breakpoints one request may carry (0: no limit alloy knows).
    """

    style: CacheStyle = "none"
    ttls: tuple[tuple[str, str], ...] = ()
    max_breakpoints: int = 0

    def ttl(self, asked: str) -> str | None:
        """The provider's value for ``asked``, or None if it has none."""
        return dict(self.ttls).get(asked)


NO_CACHE = PromptCacheSupport()
"""No prompt cache alloy can ask for."""


def check_cache(
    support: PromptCacheSupport,
    *,
    provider: str,
    model: str,
    cache: bool | None,
    ttl: str | None,
    breakpoints: int,
) -> None:
    """Refuse, before any call, caching settings the provider cannot honour.

    ``breakpoints`` is the number of breakpoints the request's context needs where the
    provider takes them (see ``context_breakpoints``).
    """
    if not cache:
        if ttl is not None and cache is None and support.style == "none":
            raise CapabilityError(
                f"cache_ttl={ttl!r}", provider, model, hint="It has no prompt cache to keep."
            )
        return
    if support.style == "none":
        raise CapabilityError(
            "cache=True",
            provider,
            model,
            hint="It has no prompt cache alloy can ask for; leave cache unset (None) to "
            "use the provider's default.",
        )
    if ttl is not None and support.ttl(ttl) is None:
        offered = ", ".join(repr(asked) for asked, _ in support.ttls) or "none"
        raise CapabilityError(
            f"cache_ttl={ttl!r}", provider, model, hint=f"Cache lifetimes offered: {offered}."
        )
    if support.style == "breakpoints" and support.max_breakpoints:
        wanted = breakpoints + 1  # the context's, and the automatic one at the end
        if wanted > support.max_breakpoints:
            raise ConfigurationError(
                f"{provider}:{model} takes at most {support.max_breakpoints} cache "
                f"breakpoints in a request; this one needs {wanted} (one after the context's "
                "system text, one after each context layer's documents, one after the "
                "prompt). Use fewer context layers."
            )


def context_breakpoints(context: Context | None) -> int:
    """The breakpoints a context takes: one after its system texts (all layers'), one
    after each layer's documents."""
    if context is None:
        return 0
    layers = context.layers
    return int(any(layer.system for layer in layers)) + sum(
        1 for layer in layers if layer.documents
    )
