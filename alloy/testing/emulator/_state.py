"""Script queues and request logs, shared between the test thread and the server loop.

Tests script from their own thread while the app runs on uvicorn's loop thread, so every
read or write of a queue or log takes the scenario's lock.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import replace

from ._cached_contents import CacheStore
from ._items import Fault
from ._items import Item
from ._items import Reply
from ._items import Verbatim
from ._prompt_cache import PromptCache
from ._record import RecordedRequest
from ._replay import ReplayLedger
from ._routing import DEFAULT_SCENARIO
from ._routing import same_endpoint
from ._routing import valid_scenario_name
from .batches import BatchStore
from .files import FileStore

__all__ = ["Default", "Mismatch", "Registry", "Responder", "ScenarioState"]

Responder = Callable[[RecordedRequest], Item]
"""Computes the answer for a request when nothing is queued."""

Default = Item | Responder | None
"""What an empty queue answers with; None means the strict "nothing scripted" error."""


@dataclass(frozen=True)
class Mismatch:
    """The next queued recording is for another endpoint."""

    expected: Verbatim


class ScenarioState:
    """One scenario's queue, request log, default, in-flight gauge, uploaded files,
    request-size limit, reasoning ledger, simulated prompt cache and Gemini cached contents."""

    def __init__(self, name: str, default: Default) -> None:
        self.name = name
        self.files = FileStore()
        self.caches = CacheStore()
        self.replay = ReplayLedger()
        self.prompt_cache = PromptCache()
        # Batches run on the clock cached contents expire on: one clock per scenario.
        self.batches = BatchStore(self.caches.now)
        self._max_request_bytes: int | None = None
        self._lock = threading.Lock()
        self._queue: deque[Item] = deque()
        self._log: list[RecordedRequest] = []
        self._initial_default = default
        self._default = default
        self._in_flight = 0
        self._peak = 0

    def enqueue(self, items: tuple[Item, ...]) -> None:
        with self._lock:
            self._queue.extend(items)

    def set_default(self, default: Default) -> None:
        with self._lock:
            self._default = default

    def set_limits(self, max_request_bytes: object) -> None:
        """Set the size limit; ``object`` because control-plane JSON may send anything."""
        if max_request_bytes is not None and (
            isinstance(max_request_bytes, bool)
            or not isinstance(max_request_bytes, int)
            or max_request_bytes < 0
        ):
            raise ValueError(
                f"max_request_bytes must be a size in bytes or None, not {max_request_bytes!r}"
            )
        with self._lock:
            self._max_request_bytes = max_request_bytes

    @property
    def max_request_bytes(self) -> int | None:
        return self._max_request_bytes

    def reset(self) -> None:
        with self._lock:
            self._queue.clear()
            self._log.clear()
            self._default = self._initial_default
            self._peak = self._in_flight
            self._max_request_bytes = None
        self.files.clear()
        self.caches.clear()
        self.replay.clear()
        self.prompt_cache.clear()
        self.batches.clear()

    def snapshot(self) -> list[RecordedRequest]:
        with self._lock:
            return [replace(request) for request in self._log]

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def in_flight(self) -> int:
        return self._in_flight

    @property
    def peak_in_flight(self) -> int:
        return self._peak

    def arrive(self, request: RecordedRequest) -> None:
        with self._lock:
            self._log.append(request)
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)

    def depart(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def take(self, request: RecordedRequest, api_path: str) -> Item | Mismatch | None:
        """The next item for ``request``; recordings only answer their own endpoint."""
        with self._lock:
            if self._queue:
                head = self._queue[0]
                if isinstance(head, Verbatim) and not _matches(head, request.method, api_path):
                    return Mismatch(head)
                return self._queue.popleft()
            default = self._default
        if default is None or isinstance(default, (Reply, Fault, Verbatim)):
            return default
        return default(request)


def _matches(item: Verbatim, method: str, api_path: str) -> bool:
    if item.method is not None and item.method.upper() != method.upper():
        return False
    return item.path is None or same_endpoint(item.path, api_path)


class Registry:
    """All scenarios of one server, created on first use, plus the server-wide gauge."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self._lock = threading.Lock()
        self._scenarios: dict[str, ScenarioState] = {}
        self._in_flight = 0
        self._peak = 0
        self.default = self.get(DEFAULT_SCENARIO)

    def initial_default(self) -> Default:
        return None if self.strict else Reply(text="ok")

    def get(self, name: str) -> ScenarioState:
        if not valid_scenario_name(name):
            raise ValueError(f"invalid scenario name {name!r}")
        with self._lock:
            state = self._scenarios.get(name)
            if state is None:
                state = self._scenarios[name] = ScenarioState(name, self.initial_default())
            return state

    def discard(self, name: str) -> None:
        with self._lock:
            if name != DEFAULT_SCENARIO:
                self._scenarios.pop(name, None)

    def arrive(self, state: ScenarioState, request: RecordedRequest) -> None:
        state.arrive(request)
        with self._lock:
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)

    def depart(self, state: ScenarioState) -> None:
        state.depart()
        with self._lock:
            self._in_flight -= 1

    @property
    def peak_in_flight(self) -> int:
        return self._peak

    def reset_peak(self) -> None:
        with self._lock:
            self._peak = self._in_flight
