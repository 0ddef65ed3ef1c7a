"""Backends: the contract, the request and reply types, and the registry.

Everything a backend author needs is importable from here; each provider lives in its own
module (or folder), imported on first use.
"""

from __future__ import annotations

from .._deltas import Delta
from .._deltas import Finish
from .._deltas import ReasoningDelta
from .._deltas import RefusalDelta
from .._deltas import TextDelta
from .._deltas import ToolCallDelta
from .._deltas import UsageDelta
from .._messages import MediaPart
from .._messages import Message
from .._messages import NormalFinish
from .._messages import OutputSchema
from .._messages import ProviderData
from .._messages import Request
from .._messages import Response
from .._messages import TextPart
from .._messages import ToolCall
from .._messages import ToolResult
from .._messages import ToolSpec
from .._messages import finish_of
from .._messages import lookup_finish
from .._usage import Usage
from ._registry import BackendInfo
from ._registry import clear_instances
from ._registry import get_backend
from ._registry import info
from ._registry import register_backend
from ._registry import registered
from ._registry import resolve
from .base import Backend
from .base import Capabilities
from .base import MediaSupport
from .base import ModelProfile
from .base import WrapperBackend

__all__ = [
    "Backend",
    "BackendInfo",
    "Capabilities",
    "Delta",
    "Finish",
    "MediaPart",
    "MediaSupport",
    "Message",
    "ModelProfile",
    "NormalFinish",
    "OutputSchema",
    "ProviderData",
    "ReasoningDelta",
    "RefusalDelta",
    "Request",
    "Response",
    "TextDelta",
    "TextPart",
    "ToolCall",
    "ToolCallDelta",
    "ToolResult",
    "ToolSpec",
    "Usage",
    "UsageDelta",
    "WrapperBackend",
    "clear_instances",
    "finish_of",
    "get_backend",
    "info",
    "lookup_finish",
    "register_backend",
    "registered",
    "resolve",
]
