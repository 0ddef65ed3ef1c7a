"""Settings and where they come from.

Precedence, highest first: per call / ``cmd.with_config`` → decorator options →
``use_config`` scope → ``configure`` → ``ALLOY_*`` environment → built-in defaults.

Each layer is a ``Config`` in which ``None`` means "not set here", so a lower layer shows
through until someone sets a value above it. ``provider_options`` merge per provider, key
by key.
"""

from __future__ import annotations

import os
from collections.abc import Generator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, fields, replace
from typing import Any, Literal, cast

from ._errors import ConfigurationError, OutputValidationError

__all__ = ["Config", "configure", "use_config"]

ToolMode = Literal["auto", "native", "react"]
_TOOL_MODES = ("auto", "native", "react")
# Keys whose values are secrets: shown as '***' in every repr.
_SECRET_KEYS = frozenset({"api_key", "auth_token", "token", "password", "secret", "headers"})


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
        return replace(self, **changes) if changes else self

    def set_fields(self) -> dict[str, Any]:
        """The fields set at this layer."""
        return {n: v for n in FIELD_NAMES if (v := getattr(self, n)) is not None}

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={_redact(k, v)!r}" for k, v in self.set_fields().items())
        return f"Config({shown})"


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
    return Config(**values)


def _redact(key: str, value: Any) -> Any:
    if key.lower() in _SECRET_KEYS or "key" in key.lower():
        return "***"
    if isinstance(value, Mapping):
        return {str(k): _redact(str(k), v) for k, v in value.items()}  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]
    return value


def redact(value: Any) -> Any:
    """``value`` with every secret-looking mapping entry replaced by ``'***'``."""
    return _redact("", value)


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
    for name in ("max_tokens", "retry", "max_tool_turns", "parallel_tools_max", "max_retries"):
        value = getattr(cfg, name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise bad(name, "an integer")
        if value is not None and value < (1 if name in ("max_tokens", "parallel_tools_max") else 0):
            raise bad(name, "a positive integer" if name == "max_tokens" else "a non-negative one")
    for name in ("temperature", "timeout", "max_retry_wait"):
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
)

# --- environment -------------------------------------------------------------------------

_ENV: dict[str, tuple[str, str]] = {
    "ALLOY_MODEL": ("model", "str"),
    "ALLOY_BACKEND": ("backend", "str"),
    "ALLOY_TEMPERATURE": ("temperature", "float"),
    "ALLOY_MAX_TOKENS": ("max_tokens", "int"),
    "ALLOY_SYSTEM": ("system", "str"),
    "ALLOY_RETRY": ("retry", "int"),
    "ALLOY_MAX_TOOL_TURNS": ("max_tool_turns", "int"),
    "ALLOY_PARALLEL_TOOLS_MAX": ("parallel_tools_max", "int"),
    "ALLOY_AUTO_FINALIZE_MISSING_OUTPUT": ("auto_finalize_missing_output", "bool"),
    "ALLOY_TOOL_MODE": ("tool_mode", "str"),
    "ALLOY_TIMEOUT": ("timeout", "float"),
    "ALLOY_MAX_RETRIES": ("max_retries", "int"),
    "ALLOY_MAX_RETRY_WAIT": ("max_retry_wait", "float"),
    "ALLOY_PROVIDER_OPTIONS": ("provider_options", "json"),
}
ENV_VARS: tuple[str, ...] = tuple(_ENV)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}

_env_cache: tuple[tuple[str | None, ...], Config] | None = None
# (the dict behind os.environ, its keys for ENV_VARS, their values there)
_EnvSnapshot = tuple[dict[object, object], tuple[object, ...], tuple[object, ...]]
_env_fast: tuple[_EnvSnapshot, Config] | None = None


def _parse_env(var: str, kind: str, raw: str) -> Any:
    try:
        if kind == "int":
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "bool":
            lowered = raw.strip().lower()
            if lowered in _TRUE | _FALSE:
                return lowered in _TRUE
            raise ValueError(raw)
        if kind == "json":
            import json

            return json.loads(raw)
    except ValueError:
        expected = {"int": "an integer", "float": "a number", "bool": "true or false"}.get(
            kind, "a JSON object"
        )
        shown = "<hidden>" if kind == "json" else repr(raw)
        raise ConfigurationError(f"Environment variable {var}={shown} is not {expected}.") from None
    return raw


def _env_snapshot() -> _EnvSnapshot | None:
    """``(store, keys, values)`` of the ``ALLOY_*`` variables, read straight from the dict
    behind ``os.environ`` (CPython's ``_data``, which every change made through
    ``os.environ`` updates); None where there is no such dict."""
    store: object = getattr(os.environ, "_data", None)
    encode: object = getattr(os.environ, "encodekey", None)
    if not isinstance(store, dict) or not callable(encode):
        return None
    data = cast("dict[object, object]", store)
    keys = tuple(encode(var) for var in ENV_VARS)
    return data, keys, tuple(map(data.get, keys))


def env_config() -> Config:
    """The ``ALLOY_*`` environment as a config layer (re-read when the environment changes)."""
    global _env_cache
    # Run on every call: ``os.environ.get`` costs about 1 µs per variable (it encodes the
    # name and raises KeyError when it is absent), so the raw values are first compared
    # where ``os.environ`` keeps them, in one C-level pass.
    fast = _env_fast
    if fast is not None:
        (store, keys, seen), known = fast
        if getattr(os.environ, "_data", None) is store and tuple(map(store.get, keys)) == seen:
            return known
    # Taken before the public read: a change in between only makes the next call miss.
    snapshot = _env_snapshot()
    raw = tuple(os.environ.get(var) or None for var in ENV_VARS)
    cached = _env_cache
    if cached is not None and cached[0] == raw:
        _remember_env(snapshot, cached[1])
        return cached[1]
    values: dict[str, Any] = {}
    for var, value in zip(ENV_VARS, raw, strict=True):
        if value is not None:
            name, kind = _ENV[var]
            values[name] = _parse_env(var, kind, value)
    try:
        cfg = Config(**values)
    except ConfigurationError as exc:
        names = ", ".join(v for v, r in zip(ENV_VARS, raw, strict=True) if r is not None)
        raise ConfigurationError(f"Bad value in the environment ({names}): {exc}") from None
    _env_cache = (raw, cfg)
    _remember_env(snapshot, cfg)
    return cfg


def _remember_env(snapshot: _EnvSnapshot | None, cfg: Config) -> None:
    global _env_fast
    if snapshot is not None:
        _env_fast = (snapshot, cfg)


# --- global and scoped layers ---------------------------------------------------------------

_global = Config()
_scoped: ContextVar[Config | None] = ContextVar("alloy_config", default=None)
_base_cache: tuple[Config, Config, Config] | None = None
_scoped_cache: tuple[Config, Config, Config] | None = None


def configure(config: Config | None = None, /, **settings: Any) -> None:
    """Set process-wide defaults: ``alloy.configure(model="anthropic:claude-sonnet-4-5")``.

    Values merge into what earlier ``configure`` calls set. Unknown names raise
    ``ConfigurationError``.
    """
    global _global
    layer = make_config("configure()", settings)
    _global = _global.merged(config or Config()).merged(layer)


def reset_configuration() -> None:
    """Forget everything ``configure`` set (used by the test fixtures)."""
    global _global
    _global = Config()


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
    global _base_cache, _scoped_cache
    env = env_config()
    cached = _base_cache
    if cached is not None and cached[0] is env and cached[1] is _global:
        cfg = cached[2]
    else:
        cfg = DEFAULTS.merged(env).merged(_global)
        _base_cache = (env, _global, cfg)
    scoped = _scoped.get()
    if scoped is None:
        return cfg
    hit = _scoped_cache
    if hit is not None and hit[0] is cfg and hit[1] is scoped:
        return hit[2]
    merged = cfg.merged(scoped)
    _scoped_cache = (cfg, scoped, merged)
    return merged


def effective(*top: Config) -> Config:
    """All layers merged: defaults, env, ``configure``, ``use_config``, then ``top`` in order."""
    cfg = base_config()
    for layer in top:
        cfg = cfg.merged(layer)
    return cfg
