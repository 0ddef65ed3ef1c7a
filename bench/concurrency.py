"""1000 concurrent calls: an alloy command's ``.async_()`` against the raw async SDK.

For each backend, N (default 1000) calls start at once with ``asyncio.gather`` on one event
loop, as raw async SDK calls (the reply text validated with pydantic into the same
dataclass) and as ``extract.async_(text)``, the same request through alloy. After one
warm-up gather per side, each side makes ``--runs`` (default 5) timed gathers, the sides
taking turns (who goes first alternates). The table gives each side's best and median wall
time (``time.perf_counter``) and best CPU time; the target (SPEC §10) is read on the best
times. Both sides use the SDK's default connection pool, ``max_retries=0`` and a 60 s
timeout, so a failure shows as an error instead of being retried silently; every gather
checks that all N calls returned the expected value and that the emulator served exactly N
replies. Default backends: openai-chat, gemini and ollama; ``--backends all`` adds openai
and anthropic (each about twice as slow to run).

At this concurrency the client is CPU-bound (wall time is about CPU time) and each gather's
cost swings by 10-20% with the state of the SDK's connection pool, so the last column adds
a precise figure for the same async path without the pool: alloy's CPU per call over the
raw SDK's with one call at a time, the median ratio over 40 turns of 10 calls per side,
measured before any gather (a pool that has just served a burst keeps up to 100 idle
connections for 5 s and checks each of them on every request).

Before each timed gather, the same side makes an untimed gather of 100 calls. The SDKs'
pools drop idle connections after 5 s (httpx's ``keepalive_expiry``), which the other
side's gather can outlast, and 1000 requests queued on an *empty* pool capped at 100
connections (Ollama's and google-genai's httpx defaults) took 35-40 s instead of 3-5 s on
the test machine (httpcore re-scans the queued requests on every pool event); the refill
keeps both sides out of that state, which is a property of the SDKs' pools, not of alloy.

The emulator (``python -m alloy.testing.emulator``, long keep-alive, listen backlog 4096)
runs in its own process. N connections need about N file descriptors in each process, so
the soft ``RLIMIT_NOFILE`` is raised towards the hard limit first (the emulator inherits it).

    python bench/concurrency.py [--backends all] [-n 1000] [--runs 5] [-v]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Awaitable
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _emulator import emulator_process
from _workload import BACKENDS
from _workload import MODELS
from _workload import REPLY
from _workload import TEXT
from _workload import TIMEOUT
from _workload import Contact
from _workload import alloy_command
from _workload import prompt_for
from _workload import same_value

from alloy.backends import clear_instances
from alloy.testing.emulator import RemoteEmulator

TARGET = 1.10
WARM = 100
"""Calls of the untimed gather that refills a side's connection pool before each timed one."""
SEQUENTIAL_TURNS = 40
"""Turns of 10 calls per side for the one-at-a-time CPU ratio."""
DEFAULT_BACKENDS = ("openai-chat", "gemini", "ollama")
"""The cheapest to run; openai and anthropic take about twice as long (``--backends all``)."""

ACall = Callable[[str], Awaitable[Any]]


def raise_fd_limit(needed: int) -> int:
    """Raise the soft limit on open files towards ``needed`` (up to the hard limit)."""
    try:
        import resource
    except ImportError:  # not on POSIX: nothing to raise
        return needed
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        target = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    return int(soft) if soft != resource.RLIM_INFINITY else needed


async def raw_call(backend: str, emu: RemoteEmulator, sent: dict[str, Any]) -> tuple[ACall, Any]:
    """The raw async SDK call for ``backend`` (the same request as alloy's, see
    ``overhead.raw_call``), and a coroutine function that closes its client."""
    from pydantic import TypeAdapter

    validate = TypeAdapter(Contact).validate_json
    model = MODELS[backend]

    if backend in ("openai-chat", "openai"):
        import openai

        oa = openai.AsyncOpenAI(base_url=emu.base_url("openai"), api_key="bench", max_retries=0)
        if backend == "openai-chat":
            response_format = sent["response_format"]

            async def chat(text: str) -> Contact:
                completion = await oa.chat.completions.create(
                    model=model,
                    messages=[{"role": "user", "content": prompt_for(text)}],
                    response_format=response_format,
                    timeout=TIMEOUT,
                )
                return validate(completion.choices[0].message.content or "", strict=True)

            return chat, oa.close
        text_format = sent["text"]

        async def responses(text: str) -> Contact:
            response = await oa.responses.create(
                model=model,
                input=[
                    {"role": "user", "content": [{"type": "input_text", "text": prompt_for(text)}]}
                ],
                text=text_format,
                timeout=TIMEOUT,
            )
            return validate(response.output_text, strict=True)

        return responses, oa.close

    if backend == "anthropic":
        import anthropic

        an = anthropic.AsyncAnthropic(
            base_url=emu.base_url("anthropic"), api_key="bench", max_retries=0
        )
        output_config, max_tokens = sent["output_config"], sent["max_tokens"]

        async def messages(text: str) -> Contact:
            message = await an.messages.create(
                model=model,
                max_tokens=max_tokens,
                messages=[{"role": "user", "content": prompt_for(text)}],
                output_config=output_config,
                timeout=TIMEOUT,
            )
            block = message.content[0]
            return validate(block.text if block.type == "text" else "", strict=True)

        return messages, an.close

    if backend == "gemini":
        from google import genai

        gclient = genai.Client(api_key="bench", http_options={"base_url": emu.base_url("gemini")})
        schema = sent["generationConfig"]["responseJsonSchema"]

        async def generate(text: str) -> Contact:
            response = await gclient.aio.models.generate_content(
                model=model,
                contents=[{"role": "user", "parts": [{"text": prompt_for(text)}]}],
                config={
                    "automatic_function_calling": {"disable": True},
                    "response_mime_type": "application/json",
                    "response_json_schema": schema,
                    "http_options": {"timeout": int(TIMEOUT * 1000)},
                },
            )
            return validate(response.text or "", strict=True)

        async def close_gemini() -> None:
            await gclient.aio.aclose()
            gclient.close()

        return generate, close_gemini

    if backend == "ollama":
        import ollama

        oclient = ollama.AsyncClient(host=emu.base_url("ollama"), timeout=TIMEOUT)
        schema, system = sent["format"], sent["messages"][0]["content"]

        async def chat_ollama(text: str) -> Contact:
            response = await oclient.chat(
                model=model,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": prompt_for(text)},
                ],
                format=schema,
                stream=False,
            )
            return validate(response.message.content or "", strict=True)

        return chat_ollama, oclient.close

    raise SystemExit(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")


class Outcome:
    """One gather: wall and CPU seconds, calls that returned the expected value, errors,
    and how many scripted replies the emulator served."""

    def __init__(self, wall: float, cpu: float, results: list[Any], served: int):
        self.wall, self.cpu, self.served = wall, cpu, served
        self.ok = sum(1 for r in results if not isinstance(r, BaseException) and same_value(r))
        errors = [r for r in results if isinstance(r, BaseException)]
        self.errors = len(errors)
        self.first_error = f"{type(errors[0]).__name__}: {errors[0]}"[:200] if errors else ""


async def gather(emu: RemoteEmulator, call: ACall, n: int) -> Outcome:
    """``n`` concurrent calls. The emulator is scripted first (untimed) with exactly ``n``
    replies and no default: a request beyond them gets an HTTP 500, which fails a call."""
    await asyncio.to_thread(emu.reset)
    await asyncio.to_thread(emu.set_default, None)
    await asyncio.to_thread(emu.enqueue, *([REPLY] * n))
    gc.collect()
    cpu, start = time.process_time(), time.perf_counter()
    results = await asyncio.gather(*(call(TEXT) for _ in range(n)), return_exceptions=True)
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    pending = await asyncio.to_thread(lambda: emu.pending)
    return Outcome(wall, cpu, list(results), n - pending)


def check(side: str, out: Outcome, n: int) -> str | None:
    """A problem with this gather, if any."""
    if out.ok != n:
        return f"{side}: {out.ok}/{n} calls succeeded ({out.errors} errors; {out.first_error})"
    if out.served != n:
        return f"{side}: the emulator served {out.served} replies for {n} calls"
    return None


async def sequential_ratio(emu: RemoteEmulator, sides: dict[str, ACall], turns: int) -> float:
    """alloy's CPU per call over the raw SDK's with one call at a time (no pool effects):
    the median over ``turns`` of the ratio of two adjacent blocks of 10 awaited calls."""

    async def block(call: ACall) -> float:
        start = time.process_time()
        for _ in range(10):
            await call(TEXT)
        return time.process_time() - start

    ratios: list[float] = []
    for turn in range(turns):
        if turn % 10 == 0:
            await asyncio.to_thread(emu.reset)  # keeps the request log small; untimed
            await asyncio.to_thread(emu.set_default, REPLY)
        if turn % 2 == 0:
            raw = await block(sides["raw"])
            alloy = await block(sides["alloy"])
        else:
            alloy = await block(sides["alloy"])
            raw = await block(sides["raw"])
        ratios.append(alloy / raw)
    return statistics.median(ratios)


async def run_backend(
    emu: RemoteEmulator, backend: str, n: int, runs: int, verbose: bool = False
) -> tuple[dict[str, list[Outcome]], float, list[str]]:
    """``runs`` timed gathers of ``n`` calls per side, the one-at-a-time CPU ratio, and any
    problems seen."""
    cmd = alloy_command(backend)
    await asyncio.to_thread(emu.reset)
    await asyncio.to_thread(emu.set_default, REPLY)
    if not same_value(await cmd.async_(TEXT)):
        raise SystemExit(f"{backend}: alloy returned the wrong value")
    sent = (await asyncio.to_thread(lambda: emu.requests))[-1].json
    raw, close = await raw_call(backend, emu, sent)
    sides: dict[str, ACall] = {"raw": raw, "alloy": cmd.async_}
    problems: list[str] = []
    timed: dict[str, list[Outcome]] = {name: [] for name in sides}
    warm = min(n, WARM)
    try:
        # First, while both pools hold one connection: after a gather a pool keeps up to 100
        # idle connections for 5 s, and httpcore checks each of them on every request (a
        # poll() per connection), which would tax whichever side gathered last.
        sequential = await sequential_ratio(emu, sides, SEQUENTIAL_TURNS)
        for name, call in sides.items():  # warm-up: connection pools, lazy imports
            await gather(emu, call, warm)
            problem = check(name, await gather(emu, call, n), n)
            if problem:
                problems.append(f"warm-up {problem}")
        for r in range(runs):
            order = list(sides) if r % 2 == 0 else list(reversed(sides))
            for name in order:
                # The other side's gather may have outlasted the pool's keep-alive expiry
                # (httpx: 5 s): refill this side's pool first (untimed, see the docstring).
                await gather(emu, sides[name], warm)
                out = await gather(emu, sides[name], n)
                if verbose:
                    print(f"  {backend} {name}: {out.wall:.2f} s wall, {out.cpu:.2f} s CPU")
                problem = check(name, out, n)
                if problem:
                    problems.append(problem)
                timed[name].append(out)
    finally:
        await close()
        clear_instances()  # alloy's clients too, as the raw one is closed
    return timed, sequential, problems


async def run_all(
    emu: RemoteEmulator, backends: list[str], n: int, runs: int, verbose: bool
) -> tuple[float, list[str]]:
    """Every backend on one event loop (alloy keeps one async client per loop); prints a
    row per backend and returns the worst ratio of best times and the problems seen."""
    worst = 0.0
    failures: list[str] = []
    for backend in backends:
        timed, sequential, problems = await run_backend(emu, backend, n, runs, verbose)
        best = {name: min(o.wall for o in outs) for name, outs in timed.items()}
        median = {name: statistics.median(o.wall for o in outs) for name, outs in timed.items()}
        cpu = {name: min(o.cpu for o in outs) for name, outs in timed.items()}
        ratio = best["alloy"] / best["raw"]
        worst = max(worst, ratio)
        print(
            f"{backend:<12} {best['raw']:>7.2f} {best['alloy']:>8.2f} {ratio:>6.2f}x  "
            f"{median['raw']:>10.2f} {median['alloy']:>10.2f} "
            f"{median['alloy'] / median['raw']:>6.2f}x  {cpu['raw']:>6.2f} {cpu['alloy']:>6.2f}  "
            f"{sequential:>9.3f}x  {'all' if not problems else 'NO'}",
            flush=True,
        )
        failures += [f"{backend}: {p}" for p in problems]
    return worst, failures


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default=",".join(DEFAULT_BACKENDS), help="or 'all'")
    parser.add_argument("-n", type=int, default=1000, help="concurrent calls per gather")
    parser.add_argument("--runs", type=int, default=5, help="timed gathers per side")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every gather")
    args = parser.parse_args()
    chosen = BACKENDS if args.backends == "all" else args.backends.split(",")
    backends = [b.strip() for b in chosen if b.strip()]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(unknown)}; known: {', '.join(BACKENDS)}")
    n, runs = args.n, max(1, args.runs)
    limit = raise_fd_limit(n + 256)
    if limit < n + 64:
        print(f"note: only {limit} file descriptors allowed (ulimit -n); using n={limit - 64}")
        n = limit - 64
    print(
        f"{n} concurrent calls per gather, {runs} timed gathers per side, each after a "
        f"{min(n, WARM)}-call refill of its pool; emulator in its own process"
    )
    print(
        f"{'':<12} {'best wall time':^24}  {'median wall time':^29}  {'best CPU s':^13}  "
        f"{'1 at a time':>10}  {'all':>3}"
    )
    print(
        f"{'backend':<12} {'raw s':>7} {'alloy s':>8} {'ratio':>7}  {'raw s':>10} "
        f"{'alloy s':>10} {'ratio':>7}  {'raw':>6} {'alloy':>6}  {'CPU ratio':>10}  {'ok':>3}"
    )
    with emulator_process() as emu:
        worst, failures = asyncio.run(run_all(emu, backends, n, runs, args.verbose))
    for failure in failures:
        print(f"  {failure}")
    verdict = "met" if worst <= TARGET else "NOT met"
    print(
        f"\nworst alloy/raw wall-time ratio {worst:.2f}x: target <= {TARGET}x (SPEC §10) {verdict}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
