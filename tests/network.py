"""The suite's network guard: no connection and no name lookup beyond loopback.

``block()`` installs it (``tests/conftest.py`` does, for every session); ``allowed()`` lifts
it for a block, which only the live provider tests (``tests/live/``) do, and only while one
of them actually runs.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

__all__ = ["allowed", "block"]

_real_connect = socket.socket.connect
_real_getaddrinfo = socket.getaddrinfo


def _is_loopback(host: Any) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded_connect(self: socket.socket, address: Any) -> None:
    if self.family in (socket.AF_INET, socket.AF_INET6) and not _is_loopback(address[0]):
        raise OSError(f"network blocked in tests: connection to {address[0]!r}")
    _real_connect(self, address)


def _guarded_getaddrinfo(host: Any, *args: Any, **kwargs: Any) -> Any:
    if host is not None and not _is_loopback(host):
        raise socket.gaierror(f"network blocked in tests: lookup of {host!r}")
    return _real_getaddrinfo(host, *args, **kwargs)


def block() -> None:
    """Refuse every connection and lookup beyond loopback, from now on."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.getaddrinfo = _guarded_getaddrinfo


@contextmanager
def allowed() -> Iterator[None]:
    """Real network inside the block; the guard is back when it ends."""
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.getaddrinfo = _real_getaddrinfo
    try:
        yield
    finally:
        block()
