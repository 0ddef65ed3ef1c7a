"""Reading a backend's stream back into a ``Response``, for the end-to-end suites."""

from __future__ import annotations

import asyncio

from alloy._deltas import Assembler
from alloy.backends import Request
from alloy.backends import Response
from alloy.backends.base import Backend


def assemble(backend: Backend, request: Request, mode: str) -> Response:
    """``backend.stream`` (``mode="sync"``) or ``astream`` (``"async"``) through the
    shared assembler, as alloy's streams read it."""
    assembler = Assembler(backend.name)
    if mode == "sync":
        for delta in backend.stream(request):
            assembler.feed(delta)
        return assembler.response()

    async def run() -> Response:
        async for delta in backend.astream(request):
            assembler.feed(delta)
        return assembler.response()

    return asyncio.run(run())
