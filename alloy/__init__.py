"""Alloy: typed AI functions over the official provider SDKs.

```python
from alloy import command

@command(output=int)
def count_words(text: str) -> str:
    return f"How many words are in: {text}"
```

Everything public is importable from here; backends and test support live in
``alloy.backends`` and ``alloy.testing``. Importing alloy imports no provider SDK.
"""

from typing import TYPE_CHECKING
from typing import Any

from ._ask import ask
from ._command import AsyncCommand
from ._command import Command
from ._command import command
from ._config import Config
from ._config import configure
from ._config import use_config
from ._context import Context
from ._context_cache import close_context
from ._contracts import ensure
from ._contracts import require
from ._errors import AlloyError
from ._errors import AuthenticationError
from ._errors import BatchItemNotRun
from ._errors import CapabilityError
from ._errors import CommandError
from ._errors import ConfigurationError
from ._errors import OutputValidationError
from ._errors import ProviderConnectionError
from ._errors import ProviderError
from ._errors import ProviderTimeout
from ._errors import RateLimitError
from ._errors import RefusalError
from ._errors import StreamError
from ._errors import ToolError
from ._errors import ToolLoopLimitExceeded
from ._errors import TruncatedOutputError
from ._media import Audio
from ._media import Document
from ._media import Image
from ._result import Result
from ._result import ToolTrace
from ._usage import Usage

if TYPE_CHECKING:
    from . import batches as batches
    from ._batch import BatchJob
    from ._batch import BatchStatus
    from ._budget import BudgetExceeded
    from ._budget import budget
    from ._chat import Conversation
    from ._cost import Cost
    from ._map import MapResult
    from ._map import Outcome
    from ._parsers import register_type
    from ._response_cache import ResponseCache
    from ._stream import AsyncStream
    from ._stream import Stream
    from ._tools import Tool
    from ._tools import tool

__all__ = [
    "AlloyError",
    "AsyncCommand",
    "AsyncStream",
    "Audio",
    "AuthenticationError",
    "BatchItemNotRun",
    "BatchJob",
    "BatchStatus",
    "BudgetExceeded",
    "CapabilityError",
    "Command",
    "CommandError",
    "Config",
    "ConfigurationError",
    "Context",
    "Conversation",
    "Cost",
    "Document",
    "Image",
    "MapResult",
    "Outcome",
    "OutputValidationError",
    "ProviderConnectionError",
    "ProviderError",
    "ProviderTimeout",
    "RateLimitError",
    "RefusalError",
    "ResponseCache",
    "Result",
    "Stream",
    "StreamError",
    "Tool",
    "ToolError",
    "ToolLoopLimitExceeded",
    "ToolTrace",
    "TruncatedOutputError",
    "Usage",
    "ask",
    "batches",
    "budget",
    "close_context",
    "command",
    "configure",
    "ensure",
    "register_type",
    "require",
    "tool",
    "use_config",
]

__version__ = "0.1.0"

# Streams, tools and costs load on first use: ``import alloy`` stays cheap for code that
# needs none of them (``from alloy import tool`` loads them then).
_LAZY = {
    "AsyncStream": "_stream",
    "BatchJob": "_batch",
    "BatchStatus": "_batch",
    "BudgetExceeded": "_budget",
    "Conversation": "_chat",
    "Cost": "_cost",
    "MapResult": "_map",
    "Outcome": "_map",
    "ResponseCache": "_response_cache",
    "Stream": "_stream",
    "budget": "_budget",
    "register_type": "_parsers",
    "Tool": "_tools",
    "tool": "_tools",
}


def __getattr__(name: str) -> Any:
    import importlib

    if name == "batches":  # a module of functions: alloy.batches.list(), .resume()...
        return importlib.import_module(f"{__name__}.batches")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'alloy' has no attribute {name!r}")

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value
