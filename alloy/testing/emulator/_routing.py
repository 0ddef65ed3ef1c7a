"""URL layout: scenario prefixes, API prefixes, and which wire format a path speaks."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "APIS",
    "BATCH_APIS",
    "DEFAULT_SCENARIO",
    "FILE_APIS",
    "Route",
    "api_base_url",
    "parse_route",
    "same_endpoint",
    "sdk_env",
    "split_scenario",
    "valid_scenario_name",
]

DEFAULT_SCENARIO = "default"
"""Name of the scenario served without a prefix (also reachable as ``/_s/default/…``)."""

APIS = ("openai", "anthropic", "gemini", "ollama")

_SCENARIO_NAME = re.compile(r"[A-Za-z0-9._~-]{1,128}")
_SCENARIO_PREFIX = re.compile(r"/_s/([^/]+)(/.*)?")
_GEMINI = re.compile(r"/v[^/]*/models/([^/:]+):(generateContent|streamGenerateContent)")
_GEMINI_CACHES = re.compile(r"/v\d+[A-Za-z0-9]*/cachedContents(?:/[^/]+)?")
_VERSION = re.compile(r"^/v\d+[A-Za-z0-9]*(?=/)")
_ENDPOINTS = {
    "/v1/chat/completions": "openai-chat",
    "/v1/responses": "openai-responses",
    "/v1/messages": "anthropic",
    "/api/chat": "ollama",
}
FILE_APIS = {"openai": "openai-files", "anthropic": "anthropic-files", "gemini": "gemini-files"}
"""The Files API behind each API prefix, by its ``Route.provider`` name."""
# Files APIs are reached only through their API prefix: unprefixed, ``/v1/files`` would be
# both OpenAI's and Anthropic's. Gemini uploads go to ``/upload/{version}/files``.
_FILE_PATHS = {
    "openai": re.compile(r"/v1/files(?:/[^/]+(?:/content)?)?"),
    "anthropic": re.compile(r"/v1/files(?:/[^/]+(?:/content)?)?"),
    "gemini": re.compile(r"(?:/upload)?/v\d+[A-Za-z0-9]*/files(?:/[^/]+)?"),
}
BATCH_APIS = {
    "openai": "openai-batches",
    "anthropic": "anthropic-batches",
    "gemini": "gemini-batches",
}
"""The batch API behind each API prefix, by its ``Route.provider`` name."""
_BATCH_PATHS = {
    "openai": re.compile(r"/v1/batches(?:/[^/]+(?:/cancel)?)?"),
    "anthropic": re.compile(r"/v1/messages/batches(?:/[^/]+(?:/cancel|/results)?)?"),
    "gemini": re.compile(
        r"/v\d+[A-Za-z0-9]*/(?:batches(?:/[^/]+)?|models/[^/:]+:batchGenerateContent)"
    ),
}
# Which providers each API prefix may reach; ollama also serves OpenAI-compatible chat.
_ALLOWED = {
    "openai": frozenset({"openai-chat", "openai-responses", "openai-files", "openai-batches"}),
    "anthropic": frozenset({"anthropic", "anthropic-files", "anthropic-batches"}),
    "gemini": frozenset({"gemini", "gemini-files", "gemini-caches", "gemini-batches"}),
    "ollama": frozenset({"ollama", "openai-chat"}),
}
_GENERATE = frozenset({"openai-chat", "openai-responses", "anthropic", "gemini", "ollama"})
_ENVELOPE_FOR_API = {
    "openai": "openai-chat",
    "anthropic": "anthropic",
    "gemini": "gemini",
    "ollama": "ollama",
    "": "openai-chat",
}


def valid_scenario_name(name: str) -> bool:
    """Scenario names must be a single URL path segment."""
    return _SCENARIO_NAME.fullmatch(name) is not None


def split_scenario(path: str) -> tuple[str, str]:
    """``/_s/x/openai/v1/…`` -> ``("x", "/openai/v1/…")``; unprefixed paths are the default."""
    match = _SCENARIO_PREFIX.fullmatch(path)
    if match is None:
        return DEFAULT_SCENARIO, path
    return match.group(1), match.group(2) or "/"


@dataclass(frozen=True)
class Route:
    """Where a request (below its scenario prefix) is going."""

    provider: str
    """A wire format name (``openai-chat``…), or ``unknown``."""
    api: str
    """The API prefix (``openai``…), or ``""`` for an unprefixed provider path."""
    api_path: str
    """The path as the provider would see it, e.g. ``/v1/chat/completions``."""
    envelope: str
    """Wire format whose error envelope answers errors on this path."""
    model: str | None = None
    path_streams: bool | None = None

    @property
    def generates(self) -> bool:
        """Whether this is a model call (the endpoints ``Reply`` and ``Fault`` answer)."""
        return self.provider in _GENERATE

    @property
    def files_api(self) -> str | None:
        """The API (``openai``, ``anthropic``, ``gemini``) whose Files API this path is in."""
        return self.api if FILE_APIS.get(self.api) == self.provider else None

    @property
    def batch_api(self) -> str | None:
        """The API (``openai``, ``anthropic``, ``gemini``) whose batch API this path is in."""
        return self.api if BATCH_APIS.get(self.api) == self.provider else None

    def wants_stream(self, body: Mapping[str, Any]) -> bool:
        """Whether to stream: from the body flag, not from ``Accept`` (the SDKs always send
        ``application/json``), except for Gemini (the path) and Ollama (streams by default)."""
        if self.path_streams is not None:
            return self.path_streams
        if self.provider == "ollama":
            return body.get("stream") is not False
        if self.provider == "unknown":
            return False
        return body.get("stream") is True


def parse_route(path: str) -> Route:
    """Route a path that has had its scenario prefix removed."""
    api, rest = "", path
    for candidate in APIS:
        prefix = "/" + candidate
        if path == prefix or path.startswith(prefix + "/"):
            api, rest = candidate, path[len(prefix) :] or "/"
            break
    envelope = _ENVELOPE_FOR_API[api]
    provider, model, streams = _ENDPOINTS.get(rest, "unknown"), None, None
    gemini = _GEMINI.fullmatch(rest)
    if gemini is not None:
        provider, model = "gemini", gemini.group(1)
        streams = gemini.group(2) == "streamGenerateContent"
    if api == "gemini" and _GEMINI_CACHES.fullmatch(rest):
        provider = "gemini-caches"
    files = _FILE_PATHS.get(api)
    if files is not None and files.fullmatch(rest):
        provider = FILE_APIS[api]
    batches = _BATCH_PATHS.get(api)
    if batches is not None and batches.fullmatch(rest):
        provider = BATCH_APIS[api]
    if api and provider not in _ALLOWED[api]:
        provider = "unknown"
    if provider in _GENERATE:
        envelope = provider
    return Route(provider, api, rest, envelope, model, streams)


def _normalise(path: str) -> str:
    return _VERSION.sub("/v*", path.split("?", 1)[0])


def same_endpoint(recorded: str, api_path: str) -> bool:
    """Compare a recorded path with a request's, ignoring query and API version."""
    return _normalise(recorded) == _normalise(api_path)


def api_base_url(root: str, api: str) -> str:
    """What each official SDK wants as its base URL to reach ``root``; ``api`` is an SDK or
    a backend name (``openai-chat`` is the openai SDK's)."""
    if api in ("openai", "openai-chat"):
        return f"{root}/openai/v1"
    if api in APIS:
        return f"{root}/{api}"
    raise ValueError(f"unknown api {api!r}; expected one of {', '.join(APIS)}")


def sdk_env(root: str) -> dict[str, str]:
    """Environment variables pointing every official SDK at ``root`` with dummy keys."""
    return {
        "OPENAI_BASE_URL": api_base_url(root, "openai"),
        "OPENAI_API_KEY": "test",
        "ANTHROPIC_BASE_URL": api_base_url(root, "anthropic"),
        "ANTHROPIC_API_KEY": "test",
        "GOOGLE_GEMINI_BASE_URL": api_base_url(root, "gemini"),
        "GEMINI_API_KEY": "test",
        "OLLAMA_HOST": api_base_url(root, "ollama"),
    }
