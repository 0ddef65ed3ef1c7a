"""The provider-neutral conversation: what a command sends and what a backend returns.

Backends translate these types to and from their SDK; SDK types never cross this boundary.
A message is a sequence of parts so that text, media, tool calls and tool results can share
one turn, as every provider allows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from types import MappingProxyType
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal
from typing import get_args

from ._media import Media
from ._usage import Usage

if TYPE_CHECKING:
    from ._context import Context

__all__ = [
    "ContentPart",
    "FINISHES",
    "MediaPart",
    "Message",
    "NormalFinish",
    "OutputMode",
    "OutputSchema",
    "Part",
    "Prompt",
    "ProviderData",
    "Request",
    "Response",
    "TextPart",
    "ToolCall",
    "ToolResult",
    "ToolSpec",
    "describe",
    "finish_of",
    "lookup_finish",
    "media_of",
    "native",
    "reply_finish",
    "text_of",
]

Role = Literal["user", "assistant"]
OutputMode = Literal["json_schema", "tool_call", "prompt"]
"""How a reply's schema is enforced: natively (``json_schema``), through a forced tool call,
or only by instructions in the prompt."""

NormalFinish = Literal["stop", "length", "refusal", "content_filter", "tool_calls"]
"""Why a reply ended, in the same words on every provider: it was complete (``stop``), the
token limit cut it (``length``), the model refused (``refusal``), a provider's filter
withheld it (``content_filter``), or it stopped to have tools run (``tool_calls``)."""

FINISHES: frozenset[str] = frozenset(get_args(NormalFinish))
"""Every ``NormalFinish`` value."""

_EMPTY: Mapping[str, Any] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class TextPart:
    """Plain text in a turn."""

    text: str


@dataclass(frozen=True, slots=True)
class MediaPart:
    """An image, audio clip or document in a turn.

    ``name`` is the command parameter it came from (None when a body or ``ask`` placed it),
    so that an error about it can name the argument.
    """

    media: Media
    name: str | None = None


ContentPart = TextPart | MediaPart
"""What a prompt or a tool result is made of: text and media, in order."""

Prompt = tuple[ContentPart, ...]
"""A rendered prompt: its parts, in order."""


def context_parts(context: Context) -> Prompt:
    """A ``Context``'s own documents (not its base's) as prompt parts, in order (text as
    text parts)."""
    return tuple[ContentPart, ...](
        TextPart(doc) if isinstance(doc, str) else MediaPart(doc, context.name)
        for doc in context.documents
    )


def text_of(content: str | Prompt) -> str:
    """The text of ``content``: itself if it is a string, else its text parts joined."""
    if isinstance(content, str):
        return content
    return "".join(p.text for p in content if isinstance(p, TextPart))


def describe(content: str | Prompt) -> str:
    """``content`` as text for people: media parts as placeholders such as
    ``<Image image/png 12 KB>``, never their bytes."""
    if isinstance(content, str):
        return content
    return "".join(p.text if isinstance(p, TextPart) else p.media.placeholder() for p in content)


def media_of(messages: tuple[Message, ...]) -> list[MediaPart]:
    """Every media part of ``messages``, tool results included, in order."""
    found: list[MediaPart] = []
    for message in messages:
        for part in message.parts:
            if isinstance(part, MediaPart):
                found.append(part)
            elif isinstance(part, ToolResult) and not isinstance(part.content, str):
                found.extend(p for p in part.content if isinstance(p, MediaPart))
    return found


@dataclass(frozen=True, slots=True)
class ProviderData:
    """A backend's native form of a turn or a tool call, tagged with the backend that made it.

    ``data`` is JSON (dicts, lists, strings, numbers, booleans, ``None``), with ``bytes``
    allowed for binary fields such as signatures. Only the backend named ``backend`` may
    echo it: a history made on one provider and continued on another falls back to the
    neutral parts.
    """

    backend: str
    data: Any


def native(provider_data: object, backend: str) -> Any:
    """The data of ``provider_data`` if ``backend`` produced it, else ``None``."""
    if isinstance(provider_data, ProviderData) and provider_data.backend == backend:
        return provider_data.data
    return None


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A tool call the model made.

    ``arguments`` is the JSON text exactly as the model produced it: it is parsed and
    validated by the tool layer, so a malformed reply can be reported back to the model.
    ``provider_data`` (a ``ProviderData``) is opaque to alloy; the backend that produced it
    may use it to re-encode the call faithfully (item ids, signatures).
    """

    id: str
    name: str
    arguments: str
    provider_data: ProviderData | None = None


@dataclass(frozen=True, slots=True)
class ToolResult:
    """The result of a tool call, sent back to the model: text, or a sequence of parts."""

    call_id: str
    name: str
    content: str | Prompt
    is_error: bool = False

    @property
    def text(self) -> str:
        """The result's text (its text parts joined)."""
        return text_of(self.content)


Part = TextPart | MediaPart | ToolCall | ToolResult


@dataclass(frozen=True, slots=True)
class Message:
    """One turn of the conversation."""

    role: Role
    parts: tuple[Part, ...]
    provider_data: ProviderData | None = None
    """Native form of an assistant turn, for the backend that produced it."""

    @classmethod
    def user(cls, content: str | Prompt) -> Message:
        """A user turn of ``content``: text, or the parts of a prompt."""
        return cls("user", (TextPart(content),) if isinstance(content, str) else content)

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, TextPart))


@dataclass(frozen=True, slots=True, eq=False)
class OutputSchema:
    """The JSON schema a reply must match, built once per command.

    ``schema`` always has an object at its root: other types are wrapped as
    ``{"value": ...}`` (``wrapped`` is then true) and unwrapped after decoding.
    Provider dialects of the schema are memoised in ``dialects`` by the schema module.
    """

    name: str
    schema: Mapping[str, Any]
    wrapped: bool
    dialects: dict[str, Any] = field(default_factory=dict[str, Any], repr=False)


@dataclass(frozen=True, slots=True, eq=False)
class ToolSpec:
    """A tool as the model sees it: name, description and a JSON schema of its arguments."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    dialects: dict[str, Any] = field(default_factory=dict[str, Any], repr=False)


@dataclass(frozen=True, slots=True)
class Request:
    """Everything one model call needs, independent of the provider.

    ``options`` holds this provider's ``provider_options`` (already checked for clashes
    with the typed fields) and is passed through to the SDK request. ``output_mode`` says how
    ``output`` is enforced; planning decides it once and backends obey it. The reasoning
    and caching fields are the settings of the same names, already checked against what the
    model can do (``alloy.backends._reasoning``); ``context`` goes ahead of ``messages``.
    """

    model: str
    messages: tuple[Message, ...]
    system: str | None = None
    output: OutputSchema | None = None
    tools: tuple[ToolSpec, ...] = ()
    temperature: float | None = None
    max_tokens: int | None = None
    timeout: float | None = None
    options: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    output_mode: OutputMode = "json_schema"
    reasoning_effort: str | None = None
    reasoning_budget: int | None = None
    show_reasoning: bool | None = None
    cache: bool | None = None
    cache_ttl: str | None = None
    context: Context | None = None
    cache_key: str | None = None
    """With ``cache``: what identifies the command and context for the provider's cache
    routing (OpenAI's ``prompt_cache_key``)."""
    cached_content: str | None = None
    """The provider cache holding the context, system text and tools (Gemini's
    ``cachedContents/...``), which the encoder then leaves out of the request; set by the
    driver (``alloy._context_cache``)."""

    def with_messages(self, messages: tuple[Message, ...]) -> Request:
        """This request with ``messages`` instead: ``dataclasses.replace`` at half the cost,
        for the copy every call and every turn makes (a test checks it keeps every field)."""
        return Request(
            self.model,
            messages,
            self.system,
            self.output,
            self.tools,
            self.temperature,
            self.max_tokens,
            self.timeout,
            self.options,
            self.output_mode,
            self.reasoning_effort,
            self.reasoning_budget,
            self.show_reasoning,
            self.cache,
            self.cache_ttl,
            self.context,
            self.cache_key,
            self.cached_content,
        )


@dataclass(frozen=True, slots=True)
class Response:
    """What one model call returned, decoded from the SDK's response.

    ``finish_reason`` is the provider's own value (``"stop"``, ``"end_turn"``, ``"STOP"``...);
    ``finish`` is the same in alloy's words (``NormalFinish``), or ``None`` when the provider
    sent a value that has no such word (``finish_of`` makes it).
    """

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None
    usage: Usage = Usage()  # noqa: RUF009 - Usage is frozen, so one shared default is safe
    model: str | None = None
    request_id: str | None = None
    refusal: str | None = None
    reasoning: str | None = None
    provider_data: ProviderData | None = None
    http_attempts: int = 1
    """HTTP requests this reply took: more than 1 when alloy's transport retries ran, 0 when
    it came from a response cache or a cassette."""
    finish: NormalFinish | None = None
    cached: bool = False
    """The reply was stored (a response cache, a cassette): no request was made for it."""

    def message(self) -> Message:
        """This reply as an assistant turn, for the next request of a conversation."""
        parts: list[Part] = [TextPart(self.text)] if self.text else []
        parts.extend(self.tool_calls)
        return Message("assistant", tuple(parts), self.provider_data)


def lookup_finish(table: Mapping[str, NormalFinish | None], raw: object) -> NormalFinish | None:
    """The provider's finish value ``raw`` in alloy's words, from the provider's ``table``;
    ``None`` for a value the table does not list (never a guess) or one that is not a string
    (the wire is not trusted)."""
    return table.get(raw) if isinstance(raw, str) else None


def reply_finish(
    finish: NormalFinish | None, *, refusal: bool, tool_calls: bool
) -> NormalFinish | None:
    """A reply's finish, from what its provider said (``finish``, already looked up) and what
    the reply holds.

    A provider's filter outranks the rest; a reply carrying a refusal ended as a refusal; a
    completed reply ended for ``tool_calls`` exactly when it holds calls for alloy's tools.
    The last rule matters both ways: a forced call of the output tool is the reply's value,
    not a tool call (Anthropic says ``tool_use``, Chat Completions ``tool_calls``), and
    Gemini and Ollama say ``STOP``/``stop`` for a turn of calls. A cut (``length``) stays a
    cut, calls or not. Applying it twice changes nothing, so a stream's assembler may apply
    it to a finish a backend already settled.
    """
    if finish == "content_filter":
        return finish
    if refusal:
        return "refusal"
    if finish in ("stop", "tool_calls"):
        return "tool_calls" if tool_calls else "stop"
    return finish


def finish_of(
    table: Mapping[str, NormalFinish | None], raw: object, *, refusal: bool, tool_calls: bool
) -> NormalFinish | None:
    """``reply_finish`` of ``raw`` looked up in ``table``: what a decoder of a whole reply
    puts in ``Response.finish``."""
    return reply_finish(lookup_finish(table, raw), refusal=refusal, tool_calls=tool_calls)
