"""The providers' batch APIs, on a state machine that runs on the scenario clock.

Each provider module exposes ``handle``; ``serve`` picks one by API prefix. Batch calls never
take scripted items themselves: a batch's lines take theirs when it is created (see
``_jobs`` for the phases and ``_answers`` for how a line is answered).
"""

from __future__ import annotations

from ..files import FileAnswer
from ..files import FileRequest
from . import anthropic
from . import gemini
from . import openai
from ._answers import BatchContext
from ._answers import Take
from ._jobs import DEFAULT_LIMITS
from ._jobs import BatchLimits
from ._jobs import BatchLine
from ._jobs import BatchStore
from ._jobs import BatchTiming
from ._jobs import SubmittedBatch
from ._jobs import batch_from_json

__all__ = [
    "DEFAULT_LIMITS",
    "BatchContext",
    "BatchLimits",
    "BatchLine",
    "BatchStore",
    "BatchTiming",
    "SubmittedBatch",
    "Take",
    "batch_from_json",
    "serve",
]


def serve(api: str, ctx: BatchContext, request: FileRequest) -> FileAnswer:
    """Answer a request to ``api``'s batch API (``openai``, ``anthropic`` or ``gemini``)."""
    if api == "openai":
        return openai.handle(ctx, request)
    if api == "anthropic":
        return anthropic.handle(ctx, request, len(request.body))
    return gemini.handle(ctx, request, len(request.body))
