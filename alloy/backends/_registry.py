"""The backend registry: provider names, model-name inference and lazy construction.

Each entry is data: the backend's factory (imported on first use, so ``import alloy``
imports no SDK) and the pip extra that installs its SDK. Which ``provider_options`` keys
configure the client and which clash with alloy's typed fields is the backend's own
knowledge, kept next to its encoder: the factory's ``client_options`` and
``reserved_options`` attributes (a ``BackendInfo`` may add to them). Backend instances, and
so their SDK clients, are cached per client configuration.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from collections.abc import Generator
from collections.abc import Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from .._errors import ConfigurationError
from .base import Backend

__all__ = [
    "BackendInfo",
    "clear_instances",
    "generation",
    "get_backend",
    "info",
    "override",
    "overridden",
    "register_backend",
    "registered",
    "resolve",
    "split_options",
]

Factory = Callable[[Mapping[str, Any]], Backend]


@dataclass(frozen=True, slots=True)
class BackendInfo:
    """A registered backend.

    Attributes:
        name: the model prefix (``"openai"`` in ``"openai:gpt-5-mini"``).
        factory: ``"module:callable"`` imported on first use, or a callable; it receives the
            client options from ``provider_options`` and returns a backend.
        extra: the extra that installs the SDK (``pip install 'alloy-llm[extra]'``), for
            the install hint.
        package: the SDK's name on the package index, for the same hint (``google-genai``
            installs the module ``google.genai``).
        client_options: ``provider_options`` keys that configure the SDK client
            (``base_url``, ``api_key``...), on top of the factory's own
            ``client_options``; the rest are sent with each request.
        reserved_options: keys that alloy sets from typed settings, on top of the
            factory's own ``reserved_options``; passing them in ``provider_options`` is an
            error.
    """

    name: str
    factory: str | Factory
    extra: str | None = None
    client_options: frozenset[str] = frozenset()
    reserved_options: frozenset[str] = frozenset()
    package: str | None = None


_REGISTRY: dict[str, BackendInfo] = {}
_instances: dict[tuple[str, str], Backend] = {}
_lock = threading.Lock()
_generation = 0  # bumped whenever a name may resolve to another backend instance
_override: ContextVar[Backend | None] = ContextVar("alloy_backend_override", default=None)

# Bare model names that identify their provider without a prefix.
_INFERRED: tuple[tuple[tuple[str, ...], str], ...] = (
    (("gpt-", "o1", "o3", "o4", "chatgpt-"), "openai"),
    (("claude-",), "anthropic"),
    (("gemini-",), "gemini"),
)


def register_backend(info: BackendInfo) -> None:
    """Add (or replace) a backend under ``info.name``."""
    global _generation
    with _lock:
        _REGISTRY[info.name] = info
        for key in [k for k in _instances if k[0] == info.name]:
            del _instances[key]
        _generation += 1


def generation() -> int:
    """A number that changes whenever ``register_backend`` or ``clear_instances`` runs, so
    that what was resolved from the registry can be cached until then."""
    return _generation


def info(name: str) -> BackendInfo:
    """The registry entry for backend ``name``."""
    try:
        return _REGISTRY[name]
    except KeyError:
        known = ", ".join(registered())
        raise ConfigurationError(f"Unknown backend {name!r}. Known: {known}") from None


def registered() -> tuple[str, ...]:
    """Names of the registered backends."""
    return tuple(sorted(_REGISTRY))


def resolve(model: str) -> tuple[str, str]:
    """Split ``"provider:model"`` into its parts, inferring the provider of bare names.

    >>> resolve("openai:gpt-5-mini")
    ('openai', 'gpt-5-mini')
    >>> resolve("claude-sonnet-4-5")
    ('anthropic', 'claude-sonnet-4-5')
    """
    prefix, sep, rest = model.partition(":")
    if sep and prefix in _REGISTRY:
        if not rest:
            raise ConfigurationError(f"Model {model!r} names no model after {prefix + ':'!r}.")
        return prefix, rest
    for starts, provider in _INFERRED:
        if model.startswith(starts):
            return provider, model
    known = ", ".join(f"{name}:" for name in registered())
    if _looks_like_a_key(model):
        # Never echoed: a key pasted where the model belongs must not land in a log.
        raise ConfigurationError(
            "The model setting holds what looks like an API key (not shown). Set the key in "
            "the provider's environment variable (OPENAI_API_KEY, ANTHROPIC_API_KEY, "
            "GEMINI_API_KEY) or provider_options, and the model as 'provider:model'."
        )
    if sep:
        raise ConfigurationError(f"Unknown model prefix {prefix!r} in {model!r}. Known: {known}")
    raise ConfigurationError(
        f"Cannot tell which provider serves model {model!r}: write it as 'provider:model'. "
        f"Known prefixes: {known}"
    )


_KEY_PREFIXES = ("sk-", "sk_", "AIza", "xai-", "gsk_", "key-", "Bearer ")


def _looks_like_a_key(text: str) -> bool:
    """Provider key shapes, or a long run of token characters no model name has."""
    if text.startswith(_KEY_PREFIXES):
        return True
    token = text.replace("-", "").replace("_", "")
    return len(text) >= 32 and token.isalnum() and any(c.isdigit() for c in text)


def split_options(
    info: BackendInfo, options: Mapping[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split one provider's options into (client options, request options)."""
    if not options:
        return {}, {}
    factory = _load(info)
    reserved = info.reserved_options | getattr(factory, "reserved_options", frozenset[str]())
    client_keys = info.client_options | getattr(factory, "client_options", frozenset[str]())
    clash = sorted(set(options) & reserved)
    if clash:
        from ._params import clash_error

        raise clash_error(info.name, clash)
    client = {k: v for k, v in options.items() if k in client_keys}
    request = {k: v for k, v in options.items() if k not in client_keys}
    return client, request


def get_backend(name: str, client_options: Mapping[str, Any] | None = None) -> Backend:
    """The backend instance for ``name`` and these client options (created once, then reused)."""
    entry = info(name)
    key = (name, repr(sorted((client_options or {}).items())))
    backend = _instances.get(key)
    if backend is not None:
        return backend
    with _lock:
        backend = _instances.get(key)
        if backend is None:
            backend = _instances[key] = _load(entry)(dict(client_options or {}))
    return backend


def clear_instances() -> None:
    """Drop every cached backend (closing its SDK clients), so new ones read fresh settings."""
    global _generation
    with _lock:
        dropped = list(_instances.values())
        _instances.clear()
        _generation += 1
    for backend in dropped:
        close = getattr(backend, "close", None)
        if callable(close):
            close()


def _load(info: BackendInfo) -> Factory:
    if callable(info.factory):
        return info.factory
    module_name, _, attr = info.factory.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        if info.extra is None or exc.name is None or exc.name.startswith("alloy"):
            raise
        from .._install import install_hint

        package = info.package or exc.name.split(".")[0]
        raise ConfigurationError(
            f"The {info.name!r} backend needs the {package} package, which is not installed: "
            f"{install_hint(info.extra)}"
        ) from None
    factory: Factory = getattr(module, attr)
    return factory


def overridden() -> Backend | None:
    """The backend forced by ``alloy.testing.use_backend``, if any."""
    return _override.get()


@contextmanager
def override(backend: Backend) -> Generator[Backend, None, None]:
    """Route every call in this context (thread or task) to ``backend``."""
    token = _override.set(backend)
    try:
        yield backend
    finally:
        _override.reset(token)


for _info in (
    BackendInfo("openai", "alloy.backends.openai:OpenAIBackend", extra="openai", package="openai"),
    BackendInfo(
        "openai-chat", "alloy.backends.openai:OpenAIChatBackend", extra="openai", package="openai"
    ),
    BackendInfo(
        "anthropic",
        "alloy.backends.anthropic:AnthropicBackend",
        extra="anthropic",
        package="anthropic",
    ),
    BackendInfo(
        "gemini", "alloy.backends.gemini:GeminiBackend", extra="gemini", package="google-genai"
    ),
    BackendInfo("ollama", "alloy.backends.ollama:OllamaBackend", extra="ollama", package="ollama"),
    BackendInfo("fake", "alloy.backends.fake:create"),
):
    register_backend(_info)
