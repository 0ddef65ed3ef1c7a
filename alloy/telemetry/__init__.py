"""OpenTelemetry spans for alloy's commands, in the GenAI semantic conventions.

``instrument()`` watches every command call of the process (``alloy._observe``): one
``invoke_workflow {command}`` span per call, one ``chat {model}`` span per model call (tool
turns, re-asks and the finalize turn included; ``generate_content {model}`` on Gemini) with
that call's own usage, and one ``execute_tool {name}`` span per tool call. Only
``opentelemetry-api`` is needed (``pip install 'alloy-llm[otel]'``); the spans go to the
tracer provider given, or to the global one. ``import alloy`` never imports this package.

While alloy traces, the Anthropic clients it builds keep the SDK's own spans off (they would
count each call's usage a second time), unless ``provider_options["anthropic"]`` gives an
``open_telemetry`` option of its own.
"""

from __future__ import annotations

import os
from typing import Any

from .._errors import ConfigurationError
from .._install import not_installed
from .._observe import register
from .._observe import unregister
from ._semconv import CONTENT_ENV
from ._semconv import SEMCONV_VERSION

__all__ = ["SEMCONV_VERSION", "instrument", "instrumented", "uninstrument"]

_current: Any = None
"""The registered tracing observer, if any."""


def instrument(tracer_provider: Any = None, *, capture_content: bool | None = None) -> None:
    """Trace every command call of the process.

    Args:
        tracer_provider: where the spans go; ``None`` for OpenTelemetry's global provider.
        capture_content: put prompts, replies, system instructions, tool definitions, tool
            arguments and results on the spans (media as placeholders, never their bytes);
            ``None`` reads ``OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`` (``true``
            turns it on). Off by default: prompts often hold personal data.

    Calling it again replaces the previous instrumentation. SDK clients alloy built before
    are dropped (``alloy.backends.clear_instances``), so the next ones leave the Anthropic
    SDK's own spans off.

    Raises:
        ConfigurationError: ``opentelemetry-api`` is not installed.
    """
    global _current
    try:
        from ._spans import Tracing
    except ImportError as exc:
        if not (exc.name or "").startswith("opentelemetry"):
            raise
        raise ConfigurationError(not_installed("alloy.telemetry", "otel")) from None
    if capture_content is None:
        capture_content = os.environ.get(CONTENT_ENV, "").strip().lower() == "true"
    tracing = Tracing(tracer_provider, capture_content=capture_content)
    if _current is not None:
        unregister(_current)
    register(tracing)
    _current = tracing
    _rebuild_clients()


def uninstrument() -> None:
    """Stop tracing; SDK clients are rebuilt with their own defaults again."""
    global _current
    if _current is None:
        return
    unregister(_current)
    _current = None
    _rebuild_clients()


def instrumented() -> bool:
    """Whether ``instrument()`` is in effect."""
    return _current is not None


def _rebuild_clients() -> None:
    from ..backends import clear_instances

    clear_instances()
