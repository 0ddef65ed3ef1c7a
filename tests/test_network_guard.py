"""The suite's network guard refuses what is not loopback, and ``allowed()`` lifts it for a
block only (as the live provider tests do while they run)."""

from __future__ import annotations

import socket

import pytest

from tests import network


def test_lookups_and_connections_beyond_loopback_are_refused() -> None:
    with pytest.raises(socket.gaierror, match="network blocked in tests"):
        socket.getaddrinfo("api.openai.com", 443)
    with socket.socket() as sock, pytest.raises(OSError, match="network blocked in tests"):
        sock.connect(("192.0.2.1", 443))
    assert socket.getaddrinfo("127.0.0.1", 80)  # loopback stays open


def test_allowed_lifts_the_guard_for_its_block_only() -> None:
    guarded = socket.getaddrinfo
    with network.allowed():
        assert socket.getaddrinfo is not guarded
        assert socket.socket.connect is not network._guarded_connect
    assert socket.getaddrinfo is guarded
    with pytest.raises(socket.gaierror, match="network blocked in tests"):
        socket.getaddrinfo("api.anthropic.com", 443)
