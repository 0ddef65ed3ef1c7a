"""The ``ALLOY_*`` environment variables: the only module that knows how they are read.

They are read once, when alloy first needs a setting, and again by ``reload()``, which
``alloy.configure()`` and the pytest plugin call (before and after every test). Reading them
on every call would cost more than the rest of alloy's own work per call.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from ._errors import ConfigurationError

__all__ = ["ENV_VARS", "VARIABLES", "reload", "settings"]

VARIABLES: dict[str, tuple[str, str]] = {
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
    "ALLOY_STORE": ("store", "str"),
    "ALLOY_MEDIA_UPLOAD": ("media_upload", "str"),
    "ALLOY_MEDIA_INLINE_LIMIT": ("media_inline_limit", "int"),
    "ALLOY_REASONING_EFFORT": ("reasoning_effort", "str"),
    "ALLOY_REASONING_BUDGET": ("reasoning_budget", "int"),
    "ALLOY_SHOW_REASONING": ("show_reasoning", "bool"),
    "ALLOY_CACHE": ("cache", "bool"),
    "ALLOY_CACHE_TTL": ("cache_ttl", "str"),
    "ALLOY_MAP_CONCURRENCY": ("map_concurrency", "int"),
    "ALLOY_MAX_COST_USD": ("max_cost_usd", "float"),
    "ALLOY_MAX_TOTAL_TOKENS": ("max_total_tokens", "int"),
    "ALLOY_RATE_LIMIT": ("rate_limit", "json"),
}
"""Variable → (setting, kind). Settings that hold Python objects (``retry_on``,
``wrappers``, ``context``, ``response_cache``) have no variable."""
ENV_VARS: tuple[str, ...] = tuple(VARIABLES)
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_EXPECTED = {"int": "an integer", "float": "a number", "bool": "true or false"}

_read: tuple[tuple[str, ...], dict[str, Any]] | None = None


def settings() -> tuple[tuple[str, ...], Mapping[str, Any]]:
    """``(variables set, {setting: value})`` from the environment as last read."""
    global _read
    if _read is None:
        _read = _parse()
    return _read


def reload() -> None:
    """Read the environment again on next use."""
    global _read
    _read = None


def _parse() -> tuple[tuple[str, ...], dict[str, Any]]:
    found: dict[str, Any] = {}
    names: list[str] = []
    for var, (name, kind) in VARIABLES.items():
        raw = os.environ.get(var)
        if raw:
            found[name] = _value(var, kind, raw)
            names.append(var)
    return tuple(names), found


def _value(var: str, kind: str, raw: str) -> Any:
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
        shown = "<hidden>" if kind == "json" else repr(raw)
        expected = _EXPECTED.get(kind, "a JSON object")
        raise ConfigurationError(f"Environment variable {var}={shown} is not {expected}.") from None
    return raw
