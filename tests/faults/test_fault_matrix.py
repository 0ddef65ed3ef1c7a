"""The fault matrix: every fault of ``matrix.CASES`` on every backend, through a ``@command``.

Each cell must end in exactly the outcome the table gives: the value after the right number
of attempts, or exactly the alloy error class (never a subclass, never a raw SDK or
transport exception). Attempts are counted twice: by the emulator's request log (what reached
the server) and by a spy on alloy's retry decisions (what alloy did).
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import pytest

from alloy import ProviderError
from alloy import command
from alloy import use_config
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario
from tests.e2e.wires import WIRES
from tests.e2e.wires import Wire
from tests.faults import matrix
from tests.faults.matrix import BACKENDS
from tests.faults.matrix import CASES
from tests.faults.matrix import Case

DOCS = Path(__file__).resolve().parents[2] / "docs" / "errors.md"

# A good reply queued after every script: a retry that should not happen consumes it.
SENTINEL = Reply(json={"value": 99})


@command
def rate(product: str) -> int:
    """Rate {product} from 1 to 5."""
    ...


def _call(case: Case, mode: str) -> int:
    cmd = rate.with_config(**case.config)
    if mode == "sync":
        return cmd.stream("tea").result().value if case.stream else cmd("tea")

    async def run() -> int:
        if case.stream:
            return (await cmd.stream_async("tea").result()).value
        return await cmd.async_("tea")

    return asyncio.run(run())


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _outcome(case: Case, mode: str, provider: str, wire: Wire) -> int | BaseException:
    try:
        if case.refused:
            url = f"http://127.0.0.1:{_closed_port()}"
            with use_config(provider_options={provider: wire.client_option(url)}):
                return _call(case, mode)
        return _call(case, mode)
    except Exception as exc:  # noqa: BLE001 - the cell decides what may come out
        return exc


CELLS = [pytest.param(case, mode, id=f"{case.id}-{mode}") for case in CASES for mode in case.modes]


@pytest.mark.parametrize(("case", "mode"), CELLS)
def test_fault(
    provider: str,
    wire: Wire,
    alloy_emulator: Scenario,
    waits: list[float],
    case: Case,
    mode: str,
) -> None:
    expected = case.expected(provider)
    alloy_emulator.enqueue(*case.script, SENTINEL)

    got = _outcome(case, mode, provider, wire)

    cell = f"{case.id} on {provider} ({mode})"
    if expected.error is None:
        assert got == matrix.VALUE, f"{cell}: expected the value, got {got!r}"
    else:
        assert type(got) is expected.error, f"{cell}: {type(got).__name__}: {got}"
        _check_error(case, got, provider, wire)
    assert len(waits) + 1 == expected.attempts, f"{cell}: alloy retried {len(waits)} times"
    served = 0 if case.refused else expected.attempts
    assert len(alloy_emulator.requests) == served, f"{cell}: the emulator saw other attempts"
    assert alloy_emulator.pending == len(case.script) + 1 - served
    if case.waits is not None:
        assert waits == pytest.approx(case.waits)
    if case.stream and served:
        assert all(request.stream for request in alloy_emulator.requests)


def _check_error(case: Case, err: Any, provider: str, wire: Wire) -> None:
    assert isinstance(err, ProviderError)
    assert err.provider == provider
    if case.status_code is not None:
        assert err.status_code == case.status_code
    if case.retryable is not None:
        assert err.retryable is case.retryable
    if case.retry_after is not None:
        assert err.retry_after == pytest.approx(case.retry_after)
    if case.names_key and wire.key_env:
        assert wire.key_env in str(err)


def test_the_table_covers_every_backend_and_fault_once() -> None:
    assert set(BACKENDS) == set(WIRES)
    assert len({case.id for case in CASES}) == len(CASES)
    for case in CASES:
        assert set(case.per_backend) <= set(BACKENDS), case.id
        assert set(case.modes) <= {"sync", "async"}, case.id


def test_docs_show_the_matrix() -> None:
    text = DOCS.read_text(encoding="utf-8")
    assert matrix.block() in text, (
        "docs/errors.md is out of date: run `python -m tests.faults.matrix docs/errors.md`"
    )
    assert matrix.splice(text) == text


def test_render_has_one_row_per_fault_and_one_column_per_backend() -> None:
    lines = matrix.render().splitlines()
    assert len(lines) == 2 + len(CASES)
    assert all(line.count(" | ") == len(BACKENDS) + 1 for line in lines)
    assert "ok after 2" in lines[2]
    assert f"RateLimitError {matrix.TIMES}1" in matrix.render()


def test_regenerating_replaces_only_the_block(tmp_path: Path) -> None:
    path = tmp_path / "errors.md"
    path.write_text(f"# Errors\n\nbefore\n\n{matrix.START}\nstale\n{matrix.END}\n\nafter\n")
    assert matrix.main([str(path)]) == 0
    assert path.read_text() == f"# Errors\n\nbefore\n\n{matrix.block()}\n\nafter\n"
    with pytest.raises(ValueError, match="markers"):
        matrix.splice("no markers here")
