"""The backend contract: encode a ``Request``, make one SDK call, decode a ``Response``.

A backend is anything with this shape (a ``typing.Protocol``): the fake backend and
third-party backends need not inherit from anything. What a backend can do is data
(``Capabilities``), so the command layer chooses strategies without naming providers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

from .._deltas import Delta
from .._messages import Request, Response

__all__ = ["Backend", "Capabilities", "StructuredOutput"]

StructuredOutput = Literal["json_schema", "tool_call", "prompt"]


@dataclass(frozen=True, slots=True)
class Capabilities:
    """What a backend (or one of its models) supports.

    Attributes:
        structured_output: how the provider enforces an output schema: natively
            (``"json_schema"``), through a forced tool call, or only by instructions.
        schema_dialect: name of the schema transform in ``alloy._schema`` this provider needs.
        tools: native tool calling; without it the ReAct text protocol is used.
        parallel_tools: the model may call several tools in one turn.
        tool_error_flag: tool results can be marked as errors on the wire.
        streaming: the backend can stream replies.
        schema_in_prompt: also describe the output schema in the system prompt, for
            providers that enforce a schema without showing it to the model (Ollama's
            grammar-constrained ``format``: the model never sees field names otherwise).
    """

    structured_output: StructuredOutput = "json_schema"
    schema_dialect: str = "json"
    tools: bool = True
    parallel_tools: bool = True
    tool_error_flag: bool = False
    streaming: bool = True
    schema_in_prompt: bool = False


@runtime_checkable
class Backend(Protocol):
    """A model provider.

    ``complete`` and ``acomplete`` must raise only ``alloy.ProviderError`` subclasses for
    provider and transport failures: the backend maps its SDK's exceptions at this boundary.
    Backends do not retry; alloy's own retry policy wraps every call.
    """

    name: str

    def capabilities(self, model: str) -> Capabilities:
        """Capabilities of ``model`` on this backend."""
        ...

    def complete(self, request: Request) -> Response:
        """Make one model call."""
        ...

    async def acomplete(self, request: Request) -> Response:
        """Make one model call on the running event loop."""
        ...

    def stream(self, request: Request) -> Iterator[Delta]:
        """Make one streamed model call, yielding its deltas as they arrive.

        ``Finish`` is yielded only for the provider's real terminal event. Closing the
        iterator early closes the HTTP response. Failures before the first delta are mapped
        like ``complete``'s; failures after it are ``StreamError``s (or the matching
        ``ProviderError``).
        """
        ...

    def astream(self, request: Request) -> AsyncIterator[Delta]:
        """The async twin of ``stream`` (an async generator)."""
        ...
