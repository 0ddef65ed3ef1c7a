"""``map(executor=...)`` on worker processes: a ``ProcessPoolExecutor`` and a Dask
``LocalCluster`` of processes, against the emulator, give outcomes in input order, summed
usage, a scripted per-item 400 and invalid reply as those items' errors with their
attributes; the pickled task carries no key unless ``ship_secrets=True``; a chunk whose worker
dies fails only as its own items."""

from __future__ import annotations

import json
import os
import pickle
import re
from concurrent.futures import Executor
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import pytest

from alloy import OutputValidationError
from alloy import ProviderError
from alloy import command
from alloy import use_config
from alloy._scatter import Chunk
from alloy._scatter import _travelling  # pyright: ignore[reportPrivateUsage]
from alloy.testing.emulator import Fault
from alloy.testing.emulator import RecordedRequest
from alloy.testing.emulator import Reply
from alloy.testing.emulator import Scenario

_ITEM = re.compile(r"item-(\d+)")
KEY = "sk-distinctive-executor-key-7c1e"


@command(retry=0)
def number(item: str) -> int:
    """Give the number in {item}"""


def _answer(request: RecordedRequest) -> Any:
    found = _ITEM.search(json.dumps(request.json))
    n = int(found.group(1)) if found else -1
    if n == 17:
        return Fault(status=400, message="this item is refused")
    if n == 101:
        return Reply(json={"value": "not a number"}, input_tokens=7, output_tokens=3)
    return Reply(json={"value": n}, input_tokens=7, output_tokens=3)


def _check(result: Any) -> None:
    assert [o.index for o in result] == list(range(200))
    error = result.errors[17]
    assert isinstance(error, ProviderError) and error.status_code == 400
    assert "this item is refused" in str(error)
    assert isinstance(result.errors[101], OutputValidationError)
    assert result.errors[101].raw_text
    assert sorted(result.errors) == [17, 101]
    assert result.values() == [n for n in range(200) if n not in (17, 101)]
    assert result.usage.input_tokens == 7 * 198


@pytest.fixture
def workers_see_the_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    monkeypatch.setenv("PYTHONPATH", root)


def test_a_process_pool(alloy_emulator: Scenario, workers_see_the_repo: None) -> None:
    alloy_emulator.set_default(_answer)
    with use_config(model="openai:gpt-5-mini"), ProcessPoolExecutor(2) as pool:
        result = number.map(
            (f"item-{n}" for n in range(200)), executor=pool, chunk_size=25, concurrency=4
        )
    _check(result)
    assert len(alloy_emulator.requests) == 200


DASK = """
import json
import distributed
from alloy import use_config
from tests.e2e.test_executors_e2e import number

with distributed.LocalCluster(
    processes=True, n_workers=2, threads_per_worker=1, dashboard_address=None
) as cluster, distributed.Client(cluster) as client:
    with use_config(model="openai:gpt-5-mini"):
        result = number.map([f"item-{n}" for n in range(200)], executor=client.get_executor())
errors = {
    str(i): [type(e).__name__, getattr(e, "status_code", None), str(e), e.__cause__ is None]
    for i, e in result.errors.items()
}
print(json.dumps({"index": [o.index for o in result], "values": result.values(),
                  "errors": errors, "input_tokens": result.usage.input_tokens}))
"""


def test_a_dask_cluster_of_processes(alloy_emulator: Scenario, workers_see_the_repo: None) -> None:
    """In a process of its own: importing Dask installs tblib's exception pickling for the
    whole process, which the rest of the suite must not run under."""
    import importlib.util
    import subprocess
    import sys

    if importlib.util.find_spec("distributed") is None:  # not imported here: see above
        pytest.skip("dask is in the dev extra")
    alloy_emulator.set_default(_answer)
    found = subprocess.run(
        [sys.executable, "-c", DASK], capture_output=True, text=True, timeout=180, check=False
    )
    assert found.returncode == 0, found.stderr[-3000:]
    doc = json.loads(found.stdout.splitlines()[-1])
    assert doc["index"] == list(range(200))
    assert doc["values"] == [n for n in range(200) if n not in (17, 101)]
    assert doc["input_tokens"] == 7 * 198
    refused, invalid = doc["errors"]["17"], doc["errors"]["101"]
    assert refused[:2] == ["ProviderError", 400] and "this item is refused" in refused[2]
    assert invalid[0] == "OutputValidationError"
    assert refused[3] and invalid[3]  # no SDK exception (and its key) came along


def test_keys_travel_only_when_asked() -> None:
    options = {"openai": {"api_key": KEY, "organization": "org-1"}}
    with use_config(model="openai:gpt-5-mini", provider_options=options):
        plain = pickle.dumps(Chunk(number, ((0, "a"),), {}, _travelling(False), 4))
        shipped = pickle.dumps(Chunk(number, ((0, "a"),), {}, _travelling(True), 4))
    assert KEY.encode() not in plain and b"org-1" in plain
    assert KEY.encode() in shipped


def _dies(*args: Any) -> Any:
    os._exit(3)


class _DyingOnce(Executor):
    """Runs tasks in this process; the second task fails as a dead worker's would."""

    def __init__(self) -> None:
        self.count = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Any:
        from concurrent.futures import Future

        self.count += 1
        future: Future[Any] = Future()
        if self.count == 2:
            future.set_exception(RuntimeError("worker died"))
        else:
            future.set_result(fn(*args, **kwargs))
        return future


def test_a_chunk_whose_worker_dies_fails_only_its_items(alloy_emulator: Scenario) -> None:
    alloy_emulator.set_default(_answer)
    with use_config(model="openai:gpt-5-mini"):
        result = number.map([f"item-{n}" for n in range(30)], executor=_DyingOnce(), chunk_size=10)
    assert sorted(result.errors)[:10] == list(range(10, 20))
    assert all("worker" in str(result.errors[n]) for n in range(10, 20))
    assert result.values()[:10] == list(range(10))
    with use_config(model="openai:gpt-5-mini"), pytest.raises(ProviderError, match="worker"):
        number.map(
            [f"item-{n}" for n in range(30)], executor=_DyingOnce(), chunk_size=10,
            return_exceptions=False,
        )  # fmt: skip
