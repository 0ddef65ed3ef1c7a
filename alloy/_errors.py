"""Alloy's exceptions: one root, a few branches, raised at the boundary.

```
AlloyError
├── ConfigurationError          bad settings, unknown model prefix, missing SDK extra, bad types
│   └── CapabilityError         the backend/model cannot do what was asked
├── CommandError                a command could not produce its value
│   ├── OutputValidationError   reply did not validate (expected type, raw text, errors)
│   ├── RefusalError            the model refused (refusal text); never re-asked
│   ├── TruncatedOutputError    the token limit cut the reply (limit, reasoning tokens spent)
│   └── ToolLoopLimitExceeded   (max_turns, turns_taken, partial_text)
├── ToolError                   raised by contracts inside tools (reported to the model)
└── ProviderError               anything from the provider or the transport
    ├── AuthenticationError     401/403: names the env var to set
    ├── RateLimitError          429 (retry_after)
    ├── ProviderTimeout         connect/read timeout, hung stream
    ├── ProviderConnectionError reset, refused, DNS
    ├── StreamError             malformed chunk, in-stream error event, missing terminal event
    └── BatchItemNotRun         a batch item expired or was cancelled before it ran (state)
```

Every SDK and transport exception is translated into one of these by the backend that
called the SDK; the original is kept as ``__cause__``. Messages say what to do next and never
contain a secret.

Every alloy error pickles (to a worker process and back) with its message and attributes as
they were when pickled. The ``__cause__`` (the SDK's exception) and the traceback are left
out, as ``pickle`` leaves them out of any exception: an SDK exception may hold the request
with its headers, keys included, and many do not pickle.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from typing import Any
from typing import cast

__all__ = [
    "AlloyError",
    "AuthenticationError",
    "BatchItemNotRun",
    "CapabilityError",
    "CommandError",
    "ConfigurationError",
    "OutputValidationError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeout",
    "RateLimitError",
    "RefusalError",
    "StreamError",
    "ToolError",
    "ToolLoopLimitExceeded",
    "TruncatedOutputError",
]

_SNIPPET = 200


def snippet(text: str, limit: int = _SNIPPET) -> str:
    """Shorten ``text`` for an error message, marking the cut."""
    return text if len(text) <= limit else text[:limit] + "…"


class AlloyError(Exception):
    """Root of every error alloy raises."""

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception's own reduce calls ``cls(*args)``, but the subclasses' constructors take
        # the parts a message is built from (some keyword only), not the message.
        return (_unpickled, (type(self), self.args), vars(self))


def _unpickled(cls: type[AlloyError], args: tuple[Any, ...]) -> AlloyError:
    """A pickled error, read back: its message as it was (retries add to a message after
    the error is made), its attributes set from the pickle, its constructor not called."""
    error = cls.__new__(cls)
    error.args = args
    return error


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


class TruncatedOutputError(CommandError):
    """The token limit cut the reply before the command had its value.

    Raised for a typed command whose reply was cut (even one that happens to parse), for a
    text command that got no text before the cut, and for a tool turn whose calls were cut.
    Not re-asked: the same request under the same limit would be cut again, and billed.

    Attributes:
        limit: the ``max_tokens`` of the cut call, or ``None`` when none was set and the
            provider's default limit applied.
        reasoning_tokens: reasoning (thinking) tokens the cut call spent, when reported.
        output_tokens: output tokens the cut call spent (reasoning included), when reported.
        partial_text: the text that came before the cut.
        finish_reason: the provider's own finish value (``"length"``, ``"max_tokens"``...).
    """

    def __init__(
        self,
        limit: int | None,
        reasoning_tokens: int | None = None,
        output_tokens: int | None = None,
        partial_text: str = "",
        finish_reason: str | None = None,
    ):
        self.limit = limit
        self.reasoning_tokens = reasoning_tokens
        self.output_tokens = output_tokens
        self.partial_text = partial_text
        self.finish_reason = finish_reason
        super().__init__(_truncation_message(self))


def _truncation_message(error: TruncatedOutputError) -> str:
    limit, reasoning, spent = error.limit, error.reasoning_tokens, error.output_tokens
    said = f"; finish {error.finish_reason!r}" if error.finish_reason else ""
    where = (
        f"max_tokens={limit}"
        if limit is not None
        else "max_tokens was not set, so the provider's default limit applied"
    )
    parts = [f"The token limit cut the reply ({where}{said})."]
    if spent is not None:
        of_them = f", {reasoning} of them reasoning" if reasoning else ""
        parts.append(f"The call spent {spent} output tokens{of_them}.")
    elif reasoning:
        parts.append(f"The call spent {reasoning} reasoning tokens.")
    text = error.partial_text
    parts.append(
        f"It got as far as {snippet(text)!r}." if text.strip() else "No text came before the cut."
    )
    if limit is not None:
        fix = f"Raise max_tokens above {limit}"
    elif spent is not None:
        fix = f"Set max_tokens above the {spent} tokens this reply used"
    else:
        fix = "Set max_tokens higher than the provider's default"
    if reasoning and (spent is None or 2 * reasoning >= spent):
        parts.append(
            f"{fix}, or lower the reasoning effort or thinking budget: reasoning took "
            f"{reasoning} tokens and left too few for the answer."
        )
    else:
        parts.append(f"{fix}, or ask for a shorter answer.")
    return " ".join(parts)


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


class BatchItemNotRun(ProviderError):
    """A batch item the provider never ran: the batch expired, or was cancelled, first.

    Submitting the item again (in a new batch, or through ``map``) may well succeed; nothing
    was charged for it.

    Attributes:
        state: ``"expired"`` or ``"cancelled"``.
    """

    def __init__(self, state: str, *, provider: str):
        self.state = state
        hint = (
            "the batch ended (24 h window) before reaching it"
            if state == "expired"
            else "the batch was cancelled before reaching it"
        )
        super().__init__(
            f"the batch item was {state} before it ran: {hint}; submit it again.",
            provider=provider,
            retryable=False,
        )
