"""Alloy: typed AI functions over the official provider SDKs.

>>> from alloy import command
>>> @command(output=int)
... def count_words(text: str) -> str:
...     return f"How many words are in: {text}"

Everything public is importable from here; backends and test support live in
``alloy.backends`` and ``alloy.testing``. Importing alloy imports no provider SDK.
"""

from ._ask import ask
from ._command import AsyncCommand, Command, command
from ._config import Config, configure, use_config
from ._contracts import ensure, require
from ._errors import (
    AlloyError,
    AuthenticationError,
    CapabilityError,
    CommandError,
    ConfigurationError,
    OutputValidationError,
    ProviderConnectionError,
    ProviderError,
    ProviderTimeout,
    RateLimitError,
    StreamError,
    ToolError,
    ToolLoopLimitExceeded,
)
from ._media import Audio, Document, Image
from ._result import Result, ToolTrace
from ._stream import AsyncStream, Stream
from ._tools import Tool, tool
from ._usage import Usage

__all__ = [
    "AlloyError",
    "AsyncCommand",
    "AsyncStream",
    "Audio",
    "AuthenticationError",
    "CapabilityError",
    "Command",
    "CommandError",
    "Config",
    "ConfigurationError",
    "Document",
    "Image",
    "OutputValidationError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeout",
    "RateLimitError",
    "Result",
    "Stream",
    "StreamError",
    "Tool",
    "ToolError",
    "ToolLoopLimitExceeded",
    "ToolTrace",
    "Usage",
    "ask",
    "command",
    "configure",
    "ensure",
    "require",
    "tool",
    "use_config",
]

__version__ = "0.1.0"
