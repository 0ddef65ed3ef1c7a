"""Alloy's exceptions: one root, a few branches, raised at the boundary.

```
AlloyError
├── ConfigurationError          bad settings, unknown model prefix, missing SDK extra, bad types
│   └── CapabilityError         the backend/model cannot do what was asked
├── CommandError                a command could not produce its value
│   ├── OutputValidationError   reply did not validate (expected type, raw text, errors)
│   ├── RefusalError            the model refused (refusal text); never re-asked
│   └── ToolLoopLimitExceeded   (max_turns, turns_taken, partial_text)
├── ToolError                   raised by contracts inside tools (reported to the model)
└── ProviderError               anything from the provider or the transport
    ├── AuthenticationError     401/403: names the env var to set
    ├── RateLimitError          429 (retry_after)
    ├── ProviderTimeout         connect/read timeout, hung stream
    ├── ProviderConnectionError reset, refused, DNS
    └── StreamError             malformed chunk, in-stream error event, missing terminal event
```

Every SDK and transport exception is translated into one of these by the backend that
called the SDK; the original is kept as ``__cause__``. Messages say what to do next and never
contain a secret.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import cast

__all__ = [
    "AlloyError",
    "AuthenticationError",
    "CapabilityError",
    "CommandError",
    "ConfigurationError",
    "OutputValidationError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeout",
    "RateLimitError",
    "StreamError",
    "ToolError",
    "ToolLoopLimitExceeded",
]

_SNIPPET = 200


def snippet(text: str, limit: int = _SNIPPET) -> str:
    """Shorten ``text`` for an error message, marking the cut."""
    return text if len(text) <= limit else text[:limit] + "…"


class AlloyError(Exception):
    """Root of every error alloy raises."""


class ConfigurationError(AlloyError, ValueError):
    """Settings, types or installation are wrong; fix the code or the environment."""


class CapabilityError(ConfigurationError):
    """The chosen backend or model cannot do what the command asks.

    Raised before any network call.
    """

    def __init__(self, feature: str, backend: str, model: str | None = None, hint: str = ""):
        self.feature = feature
        self.backend = backend
        self.model = model
        where = f"{backend}:{model}" if model else backend
        message = f"{where} does not support {feature}."
        super().__init__(f"{message} {hint}".strip())


class CommandError(AlloyError):
    """A command ran but could not produce its value."""


class OutputValidationError(CommandError):
    """The model's reply did not validate against the command's output type."""

    def __init__(self, expected: str, raw_text: str, errors: Sequence[Any], attempts: int = 1):
        self.expected = expected
        self.raw_text = raw_text
        self.errors = list(errors)
        self.attempts = attempts
        first = _describe_first_error(self.errors)
        tries = f" after {attempts} attempts" if attempts > 1 else ""
        super().__init__(
            f"The reply did not validate as {expected}{tries}: {first}. "
            f"Reply was: {snippet(raw_text)!r}. Raise `retry` to let the model correct itself, "
            "or loosen the output type."
        )


class RefusalError(CommandError):
    """The provider reported that the model refused to answer.

    Not re-asked: asking again for the same thing rarely changes a refusal, and a re-ask
    would be billed. ``refusal`` is the model's own explanation.
    """

    def __init__(self, refusal: str, expected: str = "a reply"):
        self.refusal = refusal
        self.expected = expected
        said = refusal.strip() or "no reason given"
        end = "" if said.endswith((".", "!", "?")) else "."
        super().__init__(f"The model refused to give {expected}: {said}{end}")


def problems(errors: Sequence[Any], limit: int) -> list[tuple[str | None, str]]:
    """``(location, message)`` of the first ``limit`` validation errors, as pydantic lists
    them (``errors()`` dicts); anything else is shown as it is, with location ``None``."""
    found: list[tuple[str | None, str]] = []
    for item in errors[:limit]:
        if isinstance(item, Mapping):
            error = cast("Mapping[str, Any]", item)
            loc = ".".join(str(part) for part in error.get("loc", ()))
            found.append((loc, str(error.get("msg", error))))
        else:
            found.append((None, str(item)))
    return found


def _describe_first_error(errors: Sequence[Any]) -> str:
    if not errors:
        return "no value"
    loc, msg = problems(errors, 1)[0]
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{loc + ': ' if loc else ''}{msg}{more}"


class ToolLoopLimitExceeded(CommandError):
    """The model kept calling tools past ``max_tool_turns``."""

    def __init__(self, max_turns: int, turns_taken: int, partial_text: str = ""):
        self.max_turns = max_turns
        self.turns_taken = turns_taken
        self.partial_text = partial_text
        tail = f" Last text: {snippet(partial_text)!r}." if partial_text else ""
        super().__init__(
            f"The model was still calling tools after {turns_taken} turns "
            f"(max_tool_turns={max_turns}). Raise max_tool_turns or simplify the task.{tail}"
        )


class ToolError(AlloyError):
    """A tool's contract failed; the message is reported to the model."""


class ProviderError(AlloyError):
    """The provider or the transport failed.

    Attributes:
        provider: backend name (``"openai"``, ``"anthropic"``, ...).
        status_code: HTTP status, when there was a response.
        request_id: the provider's request id, when it sent one.
        retryable: whether alloy's transport retries may try again.
        retry_after: seconds the provider asked to wait, when it said.
    """

    retryable_default = False

    def __init__(
        self,
        message: str,
        *,
        provider: str,
        status_code: int | None = None,
        request_id: str | None = None,
        retryable: bool | None = None,
        retry_after: float | None = None,
    ):
        self.provider = provider
        self.status_code = status_code
        self.request_id = request_id
        self.retryable = self.retryable_default if retryable is None else retryable
        self.retry_after = retry_after
        parts = [f"{provider}: {message}"]
        if status_code is not None:
            parts.append(f"(HTTP {status_code})")
        if request_id:
            parts.append(f"[request id {request_id}]")
        super().__init__(" ".join(parts))


class AuthenticationError(ProviderError):
    """The provider rejected the credentials (401/403)."""


class RateLimitError(ProviderError):
    """The provider is rate limiting (429); ``retry_after`` says how long it asked to wait."""

    retryable_default = True


class ProviderTimeout(ProviderError):
    """The provider did not answer within ``timeout``."""

    retryable_default = True


class ProviderConnectionError(ProviderError):
    """The connection failed: refused, reset, or the name did not resolve."""

    retryable_default = True


class StreamError(ProviderError):
    """A streamed reply broke: malformed chunk, in-stream error, or no terminal event."""
