"""The batch contract: what a backend with its provider's batch API offers (``Batcher``).

Alloy's batch jobs (``alloy._batch``) drive it: build each item's line from the same
``Request`` a realtime call sends (its body built by the SDK itself, ``_wire``), submit the
lines with a marker that names the alloy job, find a submitted batch again by that marker
after a crash, poll it, fetch every line's outcome, cancel, and delete the provider's files.
Each outcome is decoded by the backend's realtime decoder, or is the alloy error of its line.
"""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import Literal
from typing import Protocol
from typing import runtime_checkable

from .._errors import ProviderError
from .._messages import Request
from .._messages import Response

__all__ = ["BatchLimits", "BatchOutcome", "BatchPoll", "Batcher", "ProviderBatch", "UNKNOWN"]

UNKNOWN: Literal["unknown"] = "unknown"
"""What ``batch_find`` answers when the provider cannot be asked (Anthropic batches carry no
metadata): whether the batch was submitted is not known."""


@dataclass(frozen=True, slots=True)
class BatchLimits:
    """The most one provider batch may hold: requests, and bytes of its lines."""

    max_requests: int
    max_bytes: int


@dataclass(frozen=True, slots=True)
class ProviderBatch:
    """A batch at the provider: its ``id`` and the ``files`` alloy uploaded for it."""

    id: str
    files: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class BatchPoll:
    """A provider batch's state: ``ended`` once every line has its outcome (completed,
    expired, cancelled or failed as a whole); ``provider_state`` in the provider's words."""

    ended: bool
    provider_state: str
    counts: Mapping[str, int] = field(default_factory=dict[str, int])
    error: str | None = None
    """Why the whole batch failed, when it did (then no line has a result)."""


BatchOutcome = Response | ProviderError | Literal["expired", "cancelled"]
"""One line's outcome: the decoded reply, its error, or that it never ran."""


@runtime_checkable
class Batcher(Protocol):
    """A backend that can run requests through its provider's batch API."""

    def batch_limits(self) -> BatchLimits:
        """The provider's limits for one batch."""
        ...

    def batch_line(self, request: Request, key: str) -> dict[str, Any]:
        """The provider's line for ``request`` under ``key``: its body exactly the body the
        same realtime call sends. ``ConfigurationError`` for what cannot travel in a line."""
        ...

    def batch_submit(
        self, model: str, lines: Sequence[Mapping[str, Any]], marker: str
    ) -> ProviderBatch:
        """Upload what needs uploading and create the batch, tagged with ``marker`` where the
        provider keeps a tag."""
        ...

    def batch_find(self, marker: str) -> ProviderBatch | Literal["unknown"] | None:
        """The batch created with ``marker``, ``None`` when there is none, or ``UNKNOWN``."""
        ...

    def batch_poll(self, batch_id: str) -> BatchPoll:
        """The state now of the provider's batch ``batch_id``."""
        ...

    def batch_results(self, batch_id: str) -> dict[str, BatchOutcome]:
        """Every line's outcome by key, once the batch has ended."""
        ...

    def batch_cancel(self, batch_id: str) -> None:
        """Ask the provider to stop the batch (lines already answered keep their results)."""
        ...

    def batch_cleanup(self, batch_id: str, files: tuple[str, ...]) -> None:
        """Delete the provider files of the batch (``files``, inputs alloy uploaded, and
        its results), best effort."""
        ...
