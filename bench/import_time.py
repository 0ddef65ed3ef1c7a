"""How long `import alloy` takes, against bare Python, in fresh processes.

Also checks that nothing heavy or optional is imported (no provider SDK, HTTP stack,
pydantic, sqlite3, OpenTelemetry, tqdm, price tables and their decimals, or executors: each
loads when a feature needs it), failing when one is, and times the decoration of a command
with a nested output type (built once per command).

    python bench/import_time.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

PROBE = (
    "import time, sys, json\n"
    "t = time.perf_counter()\n"
    "{stmt}\n"
    "elapsed = time.perf_counter() - t\n"
    "print(json.dumps([elapsed, sorted({{m.split('.')[0] for m in sys.modules}})]))\n"
)

DECORATE = """
import time
from dataclasses import dataclass
from alloy import command

@dataclass
class Line:
    description: str
    amount: float

@dataclass
class Invoice:
    vendor: str
    lines: list[Line]
    tags: dict[str, list[str]]

t = time.perf_counter()
@command(output=Invoice)
def extract(text: str) -> str:
    return text
first = time.perf_counter() - t

t = time.perf_counter()
@command(output=Invoice)
def extract_again(text: str) -> str:
    return text
second = time.perf_counter() - t
print(first, second)
"""


FORBIDDEN = frozenset(
    {
        "openai",
        "anthropic",
        "google",
        "ollama",
        "httpx",
        "httpx2",
        "pydantic",
        "pydantic_core",
        "sqlite3",
        "_sqlite3",
        "opentelemetry",
        "tqdm",
        "genai_prices",
        "decimal",
        "dask",
        "ray",
        "asyncio",
    }
)
"""Top-level modules that ``import alloy`` must not load."""


def measure(stmt: str) -> tuple[float, list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(stmt=stmt)], capture_output=True, text=True, check=True
    )
    elapsed, modules = json.loads(out.stdout)
    return float(elapsed), list(modules)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    runs = parser.parse_args().runs
    bare = [measure("pass")[0] for _ in range(runs)]
    timed = [measure("import alloy") for _ in range(runs)]
    alloy_times = [t for t, _ in timed]
    loaded = set(timed[-1][1])
    forbidden = sorted(loaded & FORBIDDEN)
    over = statistics.median(alloy_times) - statistics.median(bare)
    print(
        f"import alloy: median {statistics.median(alloy_times) * 1000:.1f} ms, "
        f"min {min(alloy_times) * 1000:.1f} ms over {runs} fresh processes"
    )
    print(f"over bare Python: {over * 1000:.1f} ms (target < 60 ms)")
    print(
        f"forbidden modules imported (SDKs, pydantic, sqlite3, tracing...): {forbidden or 'none'}"
    )
    out = subprocess.run(
        [sys.executable, "-c", DECORATE], capture_output=True, text=True, check=True
    )
    first, second = (float(x) for x in out.stdout.split())
    print(
        f"decorating a command with a nested output type: first {first * 1000:.1f} ms "
        f"(imports pydantic), next {second * 1000:.2f} ms (target < 5 ms)"
    )
    return 0 if not forbidden else 1


if __name__ == "__main__":
    sys.exit(main())
