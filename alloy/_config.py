"""Settings and where they come from.

Precedence, highest first: per call / ``cmd.with_config`` → decorator options →
``use_config`` scope → ``configure`` → ``ALLOY_*`` environment → built-in defaults.

Each layer is a ``Config`` in which ``None`` means "not set here", so a lower layer shows
through until someone sets a value above it. ``provider_options`` merge per provider, key
by key.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from collections.abc import Generator
from collections.abc import Iterator
from collections.abc import Mapping
from collections.abc import Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from dataclasses import fields
from dataclasses import replace
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal
from typing import cast
from typing import get_args

from . import _env
from ._errors import ConfigurationError
from ._errors import OutputValidationError
from ._redact import mask_urls

if TYPE_CHECKING:
    from ._context import Context
    from ._replay import ReplySource
    from .backends.base import Backend

__all__ = ["Config", "Wrapper", "configure", "use_config"]

ToolMode = Literal["auto", "native", "react"]
_TOOL_MODES: tuple[str, ...] = get_args(ToolMode)
MediaUpload = Literal["auto", "never", "always"]
_MEDIA_UPLOADS: tuple[str, ...] = get_args(MediaUpload)
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
_EFFORTS: tuple[str, ...] = get_args(ReasoningEffort)
CacheTTL = Literal["5m", "30m", "1h", "12h", "24h"]
_CACHE_TTLS: tuple[str, ...] = get_args(CacheTTL)
# Settings of which only the one set at the highest layer counts: setting one clears the
# others from the layers below (a per-call budget replaces a configured effort).
_EXCLUSIVE = ("reasoning_effort", "reasoning_budget")
_POSITIVE = ("max_tokens", "parallel_tools_max", "map_concurrency")  # integers of 1 or more
Wrapper = Callable[["Backend"], "Backend"]
"""A wrapper factory: given the backend it wraps, the backend to call instead."""
# Keys whose values are secrets: shown as '***' in every repr.
_SECRET_KEYS = frozenset(
    {"api_key", "auth_token", "token", "password", "secret", "credentials", "authorization"}
)
_SECRET_WORDS = ("key", "token", "secret", "password", "cookie", "authorization", "signature")
_HIDDEN = "***"


@dataclass(frozen=True, slots=True, kw_only=True, repr=False)
class Config:
    """Alloy settings. Every field is optional: ``None`` means "not set at this layer".

    Attributes:
        model: ``provider:model``, e.g. ``"openai:gpt-5-mini"``; bare ``gpt-*``, ``claude-*``,
            ``gemini-*`` names are inferred.
        backend: route every call to this backend whatever the model says (``"fake"``).
        temperature: sampling temperature.
        max_tokens: cap on output tokens.
        system: system prompt.
        retry: how many times a failed command may try again (validation re-asks).
        retry_on: exception types that trigger a retry (default: ``OutputValidationError``).
        max_tool_turns: model turns with tool calls before ``ToolLoopLimitExceeded``.
        parallel_tools_max: tool calls of one turn run at once.
        auto_finalize_missing_output: ask once more, without tools, when a typed command's
            last turn has no structured output.
        tool_mode: ``"auto"``, ``"native"`` or ``"react"``.
        timeout: seconds allowed for each model call.
        max_retries: transport retries on 408/409/429/5xx, timeouts and connection errors.
        max_retry_wait: longest ``Retry-After`` alloy will honour, in seconds.
        provider_options: per-provider options passed through to the SDK, e.g.
            ``{"openai": {"base_url": ..., "reasoning": {"effort": "low"}}}``.
        wrappers: backend wrappers around every model call, as factories taking the backend
            they wrap (``alloy.backends.WrapperBackend`` subclasses are such factories); the
            first one is outermost. See "Wrapping a backend" in docs/writing-a-backend.md.
        store: the SQLite file alloy keeps its records in (uploaded file ids, and later
            batch jobs and cached responses); unset, a per-user data file. See docs/store.md.
        media_upload: ``"auto"`` uploads media through the provider's Files API when they do
            not fit inline, ``"never"`` refuses them instead, ``"always"`` uploads every
            medium the provider takes by file. See docs/media.md.
        media_inline_limit: bytes of base64 the inline media of one request may take,
            instead of the provider's limit.
        reasoning_effort: how hard a reasoning model thinks: ``"none"``, ``"minimal"``,
            ``"low"``, ``"medium"``, ``"high"``, ``"xhigh"`` or ``"max"``, mapped to each
            provider's own control; a value the model cannot honour is a
            ``CapabilityError``. See docs/reasoning.md.
        reasoning_budget: tokens the model may spend thinking, where the model takes a
            budget (exclusive with ``reasoning_effort``: the one set at the higher layer wins).
        show_reasoning: ask for the reasoning text (summaries or thoughts), returned in
            ``Result.reasoning``.
        cache: ``True`` makes provider prompt caching happen (Anthropic cache breakpoints,
            OpenAI's cache key, a Gemini cached context); ``False`` adds nothing; unset, the
            provider's default. See docs/caching.md.
        cache_ttl: how long a cached prefix should live: ``"5m"``, ``"30m"``, ``"1h"``,
            ``"12h"`` or ``"24h"``, mapped to what the provider offers.
        context: an ``alloy.Context``: system text and documents shared by many calls,
            sent ahead of the prompt as one cacheable prefix.
        map_concurrency: calls ``map`` and its family run at once (default 8).
        max_cost_usd: a ceiling on what one command call may spend at list prices: a model
            call whose worst case would pass it is not made (``BudgetExceeded``).
        max_total_tokens: a ceiling on the tokens (input and output, every model call of
            it) one command call may use, kept the same way as ``max_cost_usd``.
        rate_limit: requests (and tokens) per minute for every model call to one account's
            model, shared process-wide: a number of requests per minute, or
            ``{"requests_per_minute": N, "tokens_per_minute": M}``. See docs/fan-out.md.
        response_cache: an ``alloy.ResponseCache`` that answers requests it has seen before
            from their stored replies, or ``False`` to send every request (per command or
            call: ``cmd.with_config(response_cache=False)``). See docs/response-cache.md.
    """

    model: str | None = None
    backend: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    system: str | None = None
    retry: int | None = None
    retry_on: tuple[type[BaseException], ...] | None = None
    max_tool_turns: int | None = None
    parallel_tools_max: int | None = None
    auto_finalize_missing_output: bool | None = None
    tool_mode: ToolMode | None = None
    timeout: float | None = None
    max_retries: int | None = None
    max_retry_wait: float | None = None
    provider_options: Mapping[str, Mapping[str, Any]] | None = None
    wrappers: tuple[Wrapper, ...] | None = None
    store: str | os.PathLike[str] | None = None
    media_upload: MediaUpload | None = None
    media_inline_limit: int | None = None
    reasoning_effort: ReasoningEffort | None = None
    reasoning_budget: int | None = None
    show_reasoning: bool | None = None
    cache: bool | None = None
    cache_ttl: CacheTTL | None = None
    context: Context | None = None
    map_concurrency: int | None = None
    max_cost_usd: float | None = None
    max_total_tokens: int | None = None
    rate_limit: float | Mapping[str, float] | None = None
    response_cache: ReplySource | Literal[False] | None = None

    def __post_init__(self) -> None:
        _check(self)

    def merged(self, over: Config) -> Config:
        """This config with every field that ``over`` sets on top."""
        changes: dict[str, Any] = {}
        for name in FIELD_NAMES:
            value = getattr(over, name)
            if value is None:
                continue
            if name == "provider_options" and self.provider_options:
                value = _merge_options(self.provider_options, value)
            changes[name] = value
        if not changes:
            return self
        for name in _EXCLUSIVE:
            if name in changes:
                changes.update({other: None for other in _EXCLUSIVE if other not in changes})
        return replace(self, **changes)

    def set_fields(self) -> dict[str, Any]:
        """The fields set at this layer."""
        return {n: v for n in FIELD_NAMES if (v := getattr(self, n)) is not None}

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={_redact(k, v)!r}" for k, v in self.set_fields().items())
        return f"Config({shown})"

    def __reduce__(self) -> tuple[Any, ...]:
        refuse_secrets(self, "A Config")
        return (_unpickled, (self.set_fields(),))

    # Copies do not leave the process: they keep keys, unlike pickles (``copy`` would
    # otherwise go through ``__reduce__``).
    def __copy__(self) -> Config:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, Any]) -> Config:
        import copy

        return _unpickled(copy.deepcopy(self.set_fields(), memo))


FIELD_NAMES: tuple[str, ...] = tuple(f.name for f in fields(Config))


def make_config(where: str, fields_: Mapping[str, Any]) -> Config:
    """``Config(**fields_)`` with unknown names reported as a ``ConfigurationError``."""
    unknown = sorted(set(fields_) - set(FIELD_NAMES))
    if unknown:
        raise ConfigurationError(
            f"{where}: unknown setting(s) {', '.join(unknown)}. "
            f"Known settings: {', '.join(FIELD_NAMES)}."
        )
    values = dict(fields_)
    retry_on = values.get("retry_on")
    if isinstance(retry_on, type):
        values["retry_on"] = (retry_on,)
    wrappers = values.get("wrappers")
    if isinstance(wrappers, list | Sequence) and not isinstance(wrappers, tuple | str):
        values["wrappers"] = tuple(wrappers)  # pyright: ignore[reportUnknownArgumentType]
    return Config(**values)


def _redact(key: str, value: Any) -> Any:
    """``value`` as a repr may show it: secret-looking entries as ``'***'``, credentials in
    URLs masked. Header mappings (``headers``, ``default_headers``, ``extra_headers``) keep
    their names and hide the values of credential headers."""
    lowered = key.lower()
    if lowered in _SECRET_KEYS or any(word in lowered for word in _SECRET_WORDS):
        return _HIDDEN
    if isinstance(value, Mapping):
        return {str(k): _redact(str(k), v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]
    if isinstance(value, str):
        return mask_urls(value)
    return value


def has_secret(settings: Mapping[str, Any]) -> bool:
    """Whether ``settings`` hold what a repr would hide (a key in ``provider_options``...)."""
    return next(_secrets(settings, "settings"), None) is not None


def refuse_secrets(cfg: Config, what: str) -> None:
    """Refuse to pickle ``cfg`` when it holds a key: a pickle goes to other processes and
    machines, and into files."""
    secret = next(_secrets(cfg.provider_options or {}, "provider_options"), None)
    if secret is not None:
        import pickle

        raise pickle.PicklingError(
            f"{what} holds a secret ({secret}) and cannot be pickled: it would be in the "
            "pickled bytes. Set the key in the environment of the process that makes the "
            "call (OPENAI_API_KEY, ANTHROPIC_API_KEY, GEMINI_API_KEY...) instead."
        )


def _secrets(values: Mapping[str, Any], where: str) -> Iterator[str]:
    """Where ``values`` hold what a repr would hide: secret-named entries, URLs with
    credentials (``provider_options['openai']['api_key']``)."""
    for key, value in values.items():
        at = f"{where}[{str(key)!r}]"
        if _redact(str(key), value) is _HIDDEN:
            yield at
        elif isinstance(value, Mapping):
            yield from _secrets(cast("Mapping[str, Any]", value), at)
        elif isinstance(value, str) and mask_urls(value) != value:
            yield at


def _unpickled(values: dict[str, Any]) -> Config:
    """A pickled ``Config``, read back."""
    return Config(**values)


def _merge_options(
    low: Mapping[str, Mapping[str, Any]], high: Mapping[str, Mapping[str, Any]]
) -> dict[str, Mapping[str, Any]]:
    out: dict[str, Mapping[str, Any]] = dict(low)
    for provider, opts in high.items():
        out[provider] = {**low.get(provider, {}), **opts}
    return out


def _check(cfg: Config) -> None:
    def bad(name: str, expected: str) -> ConfigurationError:
        return ConfigurationError(
            f"Setting {name}={_redact(name, getattr(cfg, name))!r} is invalid: expected {expected}."
        )

    for name in ("model", "backend", "system"):
        if getattr(cfg, name) is not None and not isinstance(getattr(cfg, name), str):
            raise bad(name, "a string")
    for name in (
        "max_tokens",
        "retry",
        "max_tool_turns",
        "parallel_tools_max",
        "max_retries",
        "map_concurrency",
        "max_total_tokens",
    ):
        value = getattr(cfg, name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise bad(name, "an integer")
        if value is not None and value < (1 if name in _POSITIVE else 0):
            raise bad(name, "a positive integer" if name in _POSITIVE else "a non-negative one")
    for name in ("temperature", "timeout", "max_retry_wait", "max_cost_usd"):
        value = getattr(cfg, name)
        if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)):
            raise bad(name, "a number")
        if value is not None and value < 0:
            raise bad(name, "a non-negative number")
    if cfg.timeout is not None and cfg.timeout == 0:
        raise bad("timeout", "a number of seconds above 0")
    if cfg.auto_finalize_missing_output is not None and not isinstance(  # pyright: ignore[reportUnnecessaryIsInstance]
        cfg.auto_finalize_missing_output, bool
    ):
        raise bad("auto_finalize_missing_output", "True or False")
    if cfg.tool_mode is not None and cfg.tool_mode not in _TOOL_MODES:
        raise bad("tool_mode", " or ".join(repr(m) for m in _TOOL_MODES))
    if cfg.retry_on is not None and not (
        isinstance(cfg.retry_on, tuple)  # pyright: ignore[reportUnnecessaryIsInstance]
        and all(isinstance(t, type) and issubclass(t, BaseException) for t in cfg.retry_on)  # pyright: ignore[reportUnnecessaryIsInstance]
    ):
        raise bad("retry_on", "an exception class or a tuple of them")
    opts = cfg.provider_options
    if opts is not None and not (
        isinstance(opts, Mapping)  # pyright: ignore[reportUnnecessaryIsInstance]
        and all(isinstance(v, Mapping) for v in opts.values())  # pyright: ignore[reportUnnecessaryIsInstance]
    ):
        raise bad("provider_options", 'a mapping of provider name to options, {"openai": {...}}')
    if cfg.wrappers is not None and not (
        isinstance(cfg.wrappers, tuple)  # pyright: ignore[reportUnnecessaryIsInstance]
        and all(callable(w) for w in cfg.wrappers)
    ):
        raise bad("wrappers", "a tuple of callables that each take a backend and return one")
    if cfg.store is not None and not isinstance(cfg.store, str | os.PathLike):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise bad("store", "a file path")
    if cfg.media_upload is not None and cfg.media_upload not in _MEDIA_UPLOADS:
        raise bad("media_upload", " or ".join(repr(m) for m in _MEDIA_UPLOADS))
    limit = cfg.media_inline_limit
    if limit is not None and (not isinstance(limit, int) or isinstance(limit, bool) or limit < 0):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise bad("media_inline_limit", "a number of bytes (an integer, 0 or more)")
    _check_generation(cfg, bad)


def _check_generation(cfg: Config, bad: Callable[[str, str], ConfigurationError]) -> None:
    """The reasoning and caching settings (what a model accepts is checked when planning)."""
    if cfg.reasoning_effort is not None and cfg.reasoning_effort not in _EFFORTS:
        raise bad("reasoning_effort", " or ".join(repr(e) for e in _EFFORTS))
    budget = cfg.reasoning_budget
    if budget is not None and (
        not isinstance(budget, int) or isinstance(budget, bool) or budget < 1  # pyright: ignore[reportUnnecessaryIsInstance]
    ):
        raise bad("reasoning_budget", "a number of tokens (an integer, 1 or more)")
    if cfg.reasoning_effort is not None and budget is not None:
        raise ConfigurationError(
            "reasoning_effort and reasoning_budget were both set; set one of them "
            "(reasoning_effort='none' turns thinking off)."
        )
    for name in ("show_reasoning", "cache"):
        if getattr(cfg, name) is not None and not isinstance(getattr(cfg, name), bool):
            raise bad(name, "True or False")
    if cfg.cache_ttl is not None and cfg.cache_ttl not in _CACHE_TTLS:
        raise bad("cache_ttl", " or ".join(repr(t) for t in _CACHE_TTLS))
    if cfg.rate_limit is not None:
        from ._rate import limits_of

        limits_of(cfg.rate_limit)
    if cfg.context is not None:
        from ._context import Context

        if not isinstance(cfg.context, Context):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise bad("context", "an alloy.Context(system=..., documents=[...])")
    if cfg.response_cache is not None and cfg.response_cache is not False:
        from ._replay import ReplySource

        if not isinstance(cfg.response_cache, ReplySource):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise bad("response_cache", "an alloy.ResponseCache(...), or False to turn it off")


DEFAULTS = Config(
    model="openai:gpt-5-mini",
    retry=1,
    retry_on=(OutputValidationError,),
    max_tool_turns=10,
    parallel_tools_max=8,
    auto_finalize_missing_output=True,
    tool_mode="auto",
    timeout=600.0,
    max_retries=2,
    max_retry_wait=60.0,
    provider_options={},
    media_upload="auto",
    map_concurrency=8,
)

# --- environment -------------------------------------------------------------------------

_env_cache: tuple[object, Config] | None = None


def env_config() -> Config:
    """The ``ALLOY_*`` environment as a config layer (see ``alloy._env``: read once, and
    again after ``configure()``)."""
    global _env_cache
    read = _env.settings()
    cached = _env_cache
    if cached is not None and cached[0] is read:
        return cached[1]
    names, values = read
    try:
        cfg = Config(**values)
    except ConfigurationError as exc:
        raise ConfigurationError(
            f"Bad value in the environment ({', '.join(names)}): {exc}"
        ) from None
    _env_cache = (read, cfg)
    return cfg


# --- global and scoped layers ---------------------------------------------------------------

_global = Config()
_scoped: ContextVar[Config | None] = ContextVar("alloy_config", default=None)
# (env, configure, use_config, all merged): the last merge, reused while no layer changes.
_base_cache: tuple[Config, Config, Config | None, Config] | None = None


def configure(config: Config | None = None, /, **settings: Any) -> None:
    """Set process-wide defaults: ``alloy.configure(model="anthropic:claude-sonnet-4-5")``.

    Values merge into what earlier ``configure`` calls set. Unknown names raise
    ``ConfigurationError``. The ``ALLOY_*`` environment is read again too, so
    ``alloy.configure()`` alone picks up variables changed since alloy first read them.
    """
    global _global
    layer = make_config("configure()", settings)
    _env.reload()
    _global = _global.merged(config or Config()).merged(layer)


def reset_configuration() -> None:
    """Forget everything ``configure`` set and read the environment again (used by the
    test fixtures)."""
    global _global
    _global = Config()
    _env.reload()


@contextmanager
def use_config(config: Config | None = None, /, **settings: Any) -> Generator[Config, None, None]:
    """Apply settings inside a ``with`` block, for this thread or asyncio task only.

    >>> with use_config(model="fake:demo", temperature=0):
    ...     pass
    """
    layer = make_config("use_config()", settings)
    current = _scoped.get() or Config()
    scoped = current.merged(config or Config()).merged(layer)
    token = _scoped.set(scoped)
    try:
        yield scoped
    finally:
        _scoped.reset(token)


def base_config() -> Config:
    """Defaults, env, ``configure`` and ``use_config`` merged.

    The same object for as long as none of those layers changes, so callers can memoise
    what they derive from it by identity (configs are immutable).
    """
    global _base_cache
    env, scoped = env_config(), _scoped.get()
    cached = _base_cache
    if cached is not None and cached[0] is env and cached[1] is _global and cached[2] is scoped:
        return cached[3]
    cfg = DEFAULTS.merged(env).merged(_global)
    if scoped is not None:
        cfg = cfg.merged(scoped)
    _base_cache = (env, _global, scoped, cfg)
    return cfg


def effective(*top: Config) -> Config:
    """All layers merged: defaults, env, ``configure``, ``use_config``, then ``top`` in order."""
    cfg = base_config()
    for layer in top:
        cfg = cfg.merged(layer)
    return cfg
