"""Alloy: typed AI functions over the official provider SDKs.

>>> from alloy import command
>>> @command(output=int)
... def count_words(text: str) -> str:
...     return f"How many words are in: {text}"

Everything public is importable from here; backends and test support live in
``alloy.backends`` and ``alloy.testing``. Importing alloy imports no provider SDK.
"""

from typing import TYPE_CHECKING, Any

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
from ._usage import Usage

if TYPE_CHECKING:
    from ._stream import AsyncStream, Stream
    from ._tools import Tool, tool

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

# Streams and tools load on first use: ``import alloy`` stays cheap for code that needs
# neither (``from alloy import tool`` loads them then).
_LAZY = {"AsyncStream": "_stream", "Stream": "_stream", "Tool": "_tools", "tool": "_tools"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'alloy' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
