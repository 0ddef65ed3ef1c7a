"""Fan-out: ``cmd.amap`` over N items (default 10,000) against the raw async SDK behind an
``asyncio.Semaphore`` of the same size.

For each backend, both sides make the same request per item (see ``concurrency.raw_call``)
with C calls in flight (default 64): alloy through ``extract.amap(items, concurrency=C)``,
which also builds an ``Outcome`` per item and a ``MapResult`` in input order; the raw side
through ``asyncio.gather`` of one coroutine per item, each holding the semaphore around its
SDK call. After a warm-up run per side, each side makes ``--runs`` (default 3) timed runs,
taking turns; the table gives the best wall time and the best CPU time (``time.process_time``)
of each side and their ratios (target: both at most 1.10). Every run checks that all N
items returned the expected value. The emulator runs in its own process.

The emulator answers each request after ``--latency`` seconds (default 0.25, still less than
a real provider takes for a short extraction). With no latency the client's event loop is
saturated: each SDK call then costs several times its sequential CPU in httpcore's connection
pool bookkeeping (every request start and response end scans every pooled connection), and
that work is bistable: the same raw SDK code runs at 1.5 or 3 ms per call from one run to the
next, so ratios taken there measure which state each side fell into, not alloy.

    python bench/fanout.py [--backends openai-chat,gemini] [-n 10000] [-c 64] [--runs 3]
        [--latency 0.25]
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import gc
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _emulator import emulator_process
from _workload import BACKENDS
from _workload import REPLY
from _workload import TEXT
from _workload import alloy_command
from _workload import same_value
from concurrency import raise_fd_limit
from concurrency import raw_call

from alloy.backends import clear_instances
from alloy.testing.emulator import RemoteEmulator

TARGET = 1.10
DEFAULT_BACKENDS = ("openai-chat", "gemini", "ollama")


async def timed(run: Any) -> tuple[float, float, int]:
    """(wall s, CPU s, items that returned the expected value) of one run."""
    gc.collect()
    wall, cpu = time.perf_counter(), time.process_time()
    values = await run()
    return time.perf_counter() - wall, time.process_time() - cpu, sum(map(same_value, values))


async def run_backend(
    emu: RemoteEmulator, backend: str, n: int, c: int, runs: int, latency: float
) -> dict[str, list[tuple[float, float, int]]]:
    extract = alloy_command(backend)
    await asyncio.to_thread(emu.reset)  # the last backend's log would be slow to read
    await asyncio.to_thread(emu.set_default, dataclasses.replace(REPLY, delay=latency))
    await extract.async_(TEXT)
    sent = (await asyncio.to_thread(lambda: emu.requests))[-1].json
    raw, close = await raw_call(backend, emu, sent)
    items = [TEXT] * n

    async def through_alloy() -> list[Any]:
        result = await extract.amap(items, concurrency=c)
        return [o.value if o.ok else None for o in result]

    async def through_sdk() -> list[Any]:
        gate = asyncio.Semaphore(c)

        async def one(text: str) -> Any:
            async with gate:
                return await raw(text)

        return await asyncio.gather(*(one(text) for text in items))

    sides = {"raw": through_sdk, "alloy": through_alloy}
    found: dict[str, list[tuple[float, float, int]]] = {"raw": [], "alloy": []}
    try:
        for name, run in sides.items():
            await timed(run)  # warm-up
            del name
        for turn in range(runs):
            order = list(sides.items()) if turn % 2 == 0 else list(reversed(sides.items()))
            for name, run in order:
                found[name].append(await timed(run))
    finally:
        await close()
        clear_instances()
    return found


async def run_all(
    emu: RemoteEmulator, backends: list[str], n: int, c: int, runs: int, latency: float
) -> tuple[float, list[str]]:
    worst, problems = 0.0, []
    for backend in backends:
        found = await run_backend(emu, backend, n, c, runs, latency)
        wall = {side: min(r[0] for r in rows) for side, rows in found.items()}
        cpu = {side: min(r[1] for r in rows) for side, rows in found.items()}
        ok = all(r[2] == n for rows in found.values() for r in rows)
        wall_ratio, cpu_ratio = wall["alloy"] / wall["raw"], cpu["alloy"] / cpu["raw"]
        worst = max(worst, wall_ratio, cpu_ratio)
        print(
            f"{backend:<12} {wall['raw']:>7.2f} {wall['alloy']:>8.2f} {wall_ratio:>6.2f}x  "
            f"{cpu['raw']:>7.2f} {cpu['alloy']:>8.2f} {cpu_ratio:>6.2f}x  {'yes' if ok else 'NO'}",
            flush=True,
        )
        if not ok:
            problems.append(f"{backend}: not every item returned the expected value")
    return worst, problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default=",".join(DEFAULT_BACKENDS), help="or 'all'")
    parser.add_argument("-n", type=int, default=10_000, help="items per run")
    parser.add_argument("-c", type=int, default=64, help="calls in flight")
    parser.add_argument("--runs", type=int, default=3, help="timed runs per side")
    parser.add_argument("--latency", type=float, default=0.25, help="emulator seconds per reply")
    args = parser.parse_args()
    chosen = BACKENDS if args.backends == "all" else args.backends.split(",")
    backends = [b.strip() for b in chosen if b.strip()]
    raise_fd_limit(args.c + 256)
    print(
        f"{args.n} items, {args.c} in flight, {args.runs} timed runs per side, "
        f"{args.latency:g} s per reply"
    )
    print(
        f"{'backend':<12} {'raw s':>7} {'alloy s':>8} {'wall':>7}  {'raw CPU':>7} "
        f"{'alloy CPU':>8} {'CPU':>7}  {'all ok':>6}"
    )
    with emulator_process() as emu:
        worst, problems = asyncio.run(
            run_all(emu, backends, args.n, args.c, max(1, args.runs), args.latency)
        )
    for problem in problems:
        print(f"problem: {problem}")
    print(f"worst ratio {worst:.2f}x (target {TARGET:.2f}x)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
