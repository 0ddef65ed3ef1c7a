"""Backends: the contract, the request and reply types, and the registry.

Everything a backend author needs is importable from here; each provider lives in its own
module (or folder), imported on first use.
"""

from __future__ import annotations

from .._deltas import (
    Delta,
    Finish,
    ReasoningDelta,
    RefusalDelta,
    TextDelta,
    ToolCallDelta,
    UsageDelta,
)
from .._messages import (
    Message,
    OutputSchema,
    ProviderData,
    Request,
    Response,
    TextPart,
    ToolCall,
    ToolResult,
    ToolSpec,
)
from .._usage import Usage
from ._registry import (
    BackendInfo,
    clear_instances,
    get_backend,
    info,
    register_backend,
    registered,
    resolve,
)
from .base import Backend, Capabilities, ModelProfile, WrapperBackend

__all__ = [
    "Backend",
    "BackendInfo",
    "Capabilities",
    "Delta",
    "Finish",
    "Message",
    "ModelProfile",
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
    "get_backend",
    "info",
    "register_backend",
    "registered",
    "resolve",
]
