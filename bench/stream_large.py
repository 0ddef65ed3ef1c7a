"""Streaming a large structured reply: client CPU of a streamed call against the same reply
non-streamed, at several sizes (the cost must grow linearly with the reply).

The emulator runs in its own process; the figure is this process's CPU time
(``time.process_time``) per call, so the server's work is not counted.

    python bench/stream_large.py [--backend openai-chat] [--chunk 128] [--repeat 3]
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _emulator import emulator_process

from alloy import command
from alloy.testing.emulator import Reply


@dataclass
class Row:
    id: int
    name: str
    note: str


@command
def export(n: int) -> list[Row]:
    """Export {n} rows."""
    ...


def rows_for(size: int) -> list[dict[str, Any]]:
    row = {"id": 0, "name": "row-00000", "note": "x" * 60}
    per_row = len(str(row)) + 2
    return [{"id": i, "name": f"row-{i:05d}", "note": "x" * 60} for i in range(size // per_row)]


def streamed_result(cmd: Any, count: int) -> Any:
    return cmd.stream(count).result()


def raw_sdk_stream(backend: str, emu: Any) -> Any:
    """The same streamed request made with the raw SDK, reading every chunk (the floor)."""
    messages = [{"role": "user", "content": "Export the rows."}]
    if backend == "ollama":
        import ollama

        client = ollama.Client(host=emu.base_url("ollama"))

        def run_ollama() -> str:
            return "".join(
                c.message.content or "" for c in client.chat("bench", messages, stream=True)
            )

        return run_ollama
    import openai

    oa = openai.OpenAI(base_url=emu.base_url("openai"), api_key="bench", max_retries=0)

    def run_openai() -> str:
        chunks = oa.chat.completions.create(model="bench", messages=messages, stream=True)  # type: ignore[arg-type]
        return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)

    return run_openai


def cpu(call: Any) -> float:
    start = time.process_time()
    call()
    return time.process_time() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backend", default="openai-chat")
    parser.add_argument("--chunk", type=int, default=128, help="characters per streamed chunk")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cmd = export.with_config(model=f"{args.backend}:bench", timeout=120)
    sizes = [250_000, 500_000, 1_000_000]
    print(f"backend {args.backend}, chunks of {args.chunk} characters, best of {args.repeat}")
    print(
        f"{'reply':>10} {'plain CPU s':>12} {'stream CPU s':>13} {'ratio':>7} "
        f"{'raw SDK stream s':>17} {'vs raw':>7} {'stream µs/KB':>13}"
    )
    per_kb: list[float] = []
    with emulator_process() as emu:
        for size in sizes:
            data = rows_for(size)
            plain: list[float] = []
            streamed: list[float] = []
            raw: list[float] = []
            raw_call = raw_sdk_stream(args.backend, emu)
            count = len(data)
            for _ in range(args.repeat + 1):  # the first round warms up and is dropped
                emu.enqueue(Reply(json={"value": data}))
                plain.append(cpu(partial(cmd, count)))
                emu.enqueue(Reply(json={"value": data}, chunk_chars=args.chunk))
                streamed.append(cpu(partial(streamed_result, cmd, count)))
                emu.enqueue(Reply(json={"value": data}, chunk_chars=args.chunk))
                raw.append(cpu(raw_call))
            p, s, r = min(plain[1:]), min(streamed[1:]), min(raw[1:])
            per_kb.append(s / (size / 1000) * 1e6)
            print(
                f"{size:>10} {p:>12.3f} {s:>13.3f} {s / p:>7.2f} {r:>17.3f} {s / r:>7.2f} "
                f"{per_kb[-1]:>13.1f}"
            )
    spread = max(per_kb) / min(per_kb)
    print(f"stream cost per KB varies by {spread:.2f}x across sizes (1.0 = perfectly linear)")
    print("stream/plain client-CPU target <= 1.5x (SPEC §10); see docs/performance.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
