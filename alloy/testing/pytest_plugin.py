"""Pytest fixtures for projects that use alloy (registered through the ``pytest11`` entry point).

* ``alloy_fake``: a fresh ``FakeBackend`` that every command in the test is routed to.
* ``alloy_emulator``: a scenario of a provider emulator shared by the session, with the
  environment variables of every official SDK pointing at it for the test's duration.
* ``alloy_cassette``: the test's model replies recorded in
  ``cassettes/<module>/<test>.json`` next to the test file, and replayed from it
  (``ALLOY_RECORD``: ``once``, ``none``, ``new`` or ``all``).

Alloy reads its ``ALLOY_*`` variables once; the plugin has it read them again before and
after every test, so a test's ``monkeypatch.setenv("ALLOY_MODEL", ...)`` applies to that
test (set before its first call) and not to the next one.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from .. import _env
from .. import backends
from .._config import use_config
from ..backends.fake import FakeBackend
from . import use_backend

if TYPE_CHECKING:
    from ._cassette import Cassette
    from .emulator import Emulator
    from .emulator import Scenario


_UNUSED = pytest.StashKey[list[tuple[str, int]]]()


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """List the tests that left scripted emulator items unused."""
    unused = config.stash.get(_UNUSED, None)
    if not unused:
        return
    terminalreporter.section("alloy_emulator: scripted items never used")
    for nodeid, count in unused:
        terminalreporter.line(f"{nodeid}: {count} item(s)")


@pytest.fixture(autouse=True)
def _alloy_reads_the_environment_afresh() -> Iterator[None]:
    _env.reload()
    yield
    _env.reload()
    _forget_rate_limiters()


def _forget_rate_limiters() -> None:
    """Each test starts with full rate-limit buckets (the limiters are process-wide)."""
    import sys

    rate = sys.modules.get("alloy._rate")
    if rate is not None:
        rate.reset()


@pytest.fixture
def alloy_fake() -> Iterator[FakeBackend]:
    """A ``FakeBackend`` that all commands in the test use. A configured response cache is
    off (its stored replies would skip the fake's script); ``use_config(response_cache=...)``
    in the test turns one on."""
    fake = FakeBackend()
    with use_backend(fake), use_config(response_cache=False):
        yield fake


@pytest.fixture(scope="session")
def alloy_emulator_server() -> Iterator[Emulator]:
    """The emulator process-wide server, started once per test session."""
    from .emulator import Emulator

    # Strict: a model call nothing was scripted for is an error saying so, not a silent "ok".
    with Emulator(strict=True) as emulator:
        yield emulator


@pytest.fixture
def alloy_emulator(
    alloy_emulator_server: Emulator, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[Scenario]:
    """A fresh emulator scenario (own queue and request log) with the SDKs pointed at it.

    It wins over an exported ``ALLOY_BACKEND`` (``fake``, as the quick start suggests):
    the test asked for the emulator. A configured response cache is off, so that every call
    reaches the scenario; ``use_config(response_cache=...)`` in the test turns one on.
    Scripted items a test did not use are listed at the end of the run (a test may script
    more than it expects to be used, to prove that a call was not retried, so they do not
    fail it).
    """
    scenario = alloy_emulator_server.scenario()
    for name, value in scenario.env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("ALLOY_BACKEND", raising=False)
    _env.reload()
    # SDK clients read their environment when built: start from fresh ones.
    backends.clear_instances()
    # Stored replies would never reach the scenario: a configured response cache is off.
    with use_config(response_cache=False):
        yield scenario
    backends.clear_instances()
    unused = scenario.pending
    if unused:
        request.config.stash.setdefault(_UNUSED, []).append((request.node.nodeid, unused))


@pytest.fixture
def alloy_cassette(request: pytest.FixtureRequest) -> Iterator[Cassette]:
    """The test's cassette: every model call in the test is answered from it or recorded
    into it, as ``ALLOY_RECORD`` says (``once`` by default: record if the file is missing,
    else only replay). The file is ``cassettes/<test module>/<test name>.json`` beside the
    test file; replies it holds that the test did not use are a warning at teardown."""
    from ._cassette import Cassette

    with Cassette(cassette_path(request.node)) as cassette:
        yield cassette


def cassette_path(node: pytest.Item) -> Path:
    """``<test file's dir>/cassettes/<module stem>/<test name>.json``; a class and the
    parameters' id join the name, with what a file name cannot hold replaced by ``-``."""
    import hashlib
    import re

    where = node.nodeid.split("::", 1)[1] if "::" in node.nodeid else node.name
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", where.replace("::", ".")).strip("-.") or "test"
    if len(name) > 120:  # keep it within every file system's limit, still unique
        name = f"{name[:100]}-{hashlib.sha256(where.encode()).hexdigest()[:12]}"
    return node.path.parent / "cassettes" / node.path.stem / f"{name}.json"
