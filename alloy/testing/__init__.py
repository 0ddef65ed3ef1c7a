"""Test support: the fake backend, backend overrides, cassettes, and the provider emulator.

``FakeBackend`` and ``use_backend`` need nothing beyond alloy itself, and neither do
``Cassette`` (a test's replies recorded in a JSON file, the ``alloy_cassette`` fixture) and
``CassetteMiss``. The ``Emulator`` (a loopback HTTP server speaking the providers' wire
formats) needs ``alloy-llm[testing]``; it is imported on first use.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from typing import TYPE_CHECKING
from typing import Any

from ..backends._registry import override
from ..backends.base import Backend
from ..backends.fake import FakeBackend
from ..backends.fake import schema_value

if TYPE_CHECKING:
    from ._cassette import Cassette
    from ._cassette import CassetteMiss
    from .emulator import Emulator
    from .emulator import Fault
    from .emulator import RecordedRequest
    from .emulator import RemoteEmulator
    from .emulator import Reply
    from .emulator import ToolCall
    from .emulator import load_recording

__all__ = [
    "Cassette",
    "CassetteMiss",
    "Emulator",
    "FakeBackend",
    "Fault",
    "RecordedRequest",
    "RemoteEmulator",
    "Reply",
    "ToolCall",
    "load_recording",
    "schema_value",
    "use_backend",
]

_EMULATOR_NAMES = frozenset(
    {"Emulator", "Fault", "RecordedRequest", "RemoteEmulator", "Reply", "ToolCall"}
    | {"load_recording"}
)


@contextmanager
def use_backend(backend: Backend) -> Generator[Backend, None, None]:
    """Route every command and ``ask`` in this block to ``backend`` (this thread/task only).

    >>> fake = FakeBackend()
    >>> with use_backend(fake):
    ...     pass
    """
    with override(backend):
        yield backend


def __getattr__(name: str) -> Any:
    if name in ("Cassette", "CassetteMiss"):
        from . import _cassette

        return getattr(_cassette, name)
    if name in _EMULATOR_NAMES:
        from . import emulator

        return getattr(emulator, name)
    raise AttributeError(f"module 'alloy.testing' has no attribute {name!r}")
