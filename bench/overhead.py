"""Per-call client CPU overhead of an alloy command against the raw SDK, non-streaming.

For each backend, the same request (same prompt, same structured-output parameters, same
client settings: ``max_retries=0`` and a 60 s per-request timeout) is made in a loop by:

* **raw**: the provider's SDK called directly, and the reply text validated with pydantic
  (``TypeAdapter(Contact).validate_json(text, strict=True)``) into the same dataclass;
* **alloy**: ``extract(text)``, a ``@command(output=Contact)`` (``bench/_workload.py``).

Before timing, the raw side's request body is compared with alloy's, as the emulator
received them, and the table says whether they are identical.

The emulator (``python -m alloy.testing.emulator``) runs in its own process and answers
every request with the same JSON reply; the figure is this process's CPU time
(``time.process_time``), so the server's work is not counted. After a warm-up, the sides
take turns in blocks of 10 calls (who goes first rotates), 100 calls per side per round,
10 rounds: 1000 calls per side. The table gives each side's median µs per call over its
blocks, and the median over turns of the ratio of the two blocks of one turn (adjacent in
time, so machine drift cancels out; an A/A run of raw against raw gives 1.00 +- 0.01).

Peer libraries (instructor, magentic, mirascope, pydantic-ai) join the openai-chat table
when they are importable, each with its own emulator scenario and the reply its request
asks for; each is skipped with a note otherwise. Install them in a separate venv together
with alloy (see docs/performance.md) and run this script with that venv's Python.

    python bench/overhead.py [--backends openai-chat,ollama] [--rounds 10] [--calls 100]
    python bench/overhead.py --profile ollama   # cProfile (CPU time) of alloy's calls
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import pstats
import re
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _emulator import emulator_process
from _workload import BACKENDS
from _workload import EXPECTED
from _workload import MODELS
from _workload import REPLY
from _workload import TEXT
from _workload import TIMEOUT
from _workload import Contact
from _workload import alloy_command
from _workload import prompt_for
from _workload import same_value

from alloy.testing.emulator import RemoteEmulator
from alloy.testing.emulator import Reply
from alloy.testing.emulator import ToolCall

TARGET = 1.05

Call = Callable[[str], Any]


# --- the raw SDK side ---------------------------------------------------------------------


def raw_call(backend: str, emu: RemoteEmulator, sent: dict[str, Any]) -> Call:
    """The same request made with ``backend``'s SDK directly, validated into ``Contact``.

    ``sent`` is the body alloy sent (as the emulator recorded it); only its structured-output
    parameters are reused (the schema dict, and for Ollama the system message carrying the
    schema), so the raw side sends what a hand-written call with the same schema would.
    """
    from pydantic import TypeAdapter

    adapter = TypeAdapter(Contact)
    validate = adapter.validate_json
    model = MODELS[backend]

    if backend == "openai-chat":
        import openai

        client = openai.OpenAI(base_url=emu.base_url("openai"), api_key="bench", max_retries=0)
        response_format = sent["response_format"]

        def chat(text: str) -> Contact:
            completion = client.chat.completions.create(
                model=model,
                messages=[{"role": "user", "content": prompt_for(text)}],
                response_format=response_format,
                timeout=TIMEOUT,
            )
            return validate(completion.choices[0].message.content or "", strict=True)

        return chat

    if backend == "openai":
        import openai

        client = openai.OpenAI(base_url=emu.base_url("openai"), api_key="bench", max_retries=0)
        text_format = sent["text"]

        def responses(text: str) -> Contact:
            response = client.responses.create(
                model=model,
                input=[
                    {"role": "user", "content": [{"type": "input_text", "text": prompt_for(text)}]}
                ],
                text=text_format,
                timeout=TIMEOUT,
            )
            return validate(response.output_text, strict=True)

        return responses

    if backend == "anthropic":
        import anthropic

        anthropic_client = anthropic.Anthropic(
            base_url=emu.base_url("anthropic"), api_key="bench", max_retries=0
        )
        output_config = sent["output_config"]
        max_tokens = sent["max_tokens"]

        def messages(text: str) -> Contact:
            message = anthropic_client.messages.create(
                model=model,
                max_tokens=max_tokens,
                messages=[{"role": "user", "content": prompt_for(text)}],
                output_config=output_config,
                timeout=TIMEOUT,
            )
            block = message.content[0]
            return validate(block.text if block.type == "text" else "", strict=True)

        return messages

    if backend == "gemini":
        from google import genai

        gclient = genai.Client(api_key="bench", http_options={"base_url": emu.base_url("gemini")})
        schema = sent["generationConfig"]["responseJsonSchema"]

        def generate(text: str) -> Contact:
            response = gclient.models.generate_content(
                model=model,
                contents=[{"role": "user", "parts": [{"text": prompt_for(text)}]}],
                config={
                    # alloy turns automatic function calling off too (no tools are sent).
                    "automatic_function_calling": {"disable": True},
                    "response_mime_type": "application/json",
                    "response_json_schema": schema,
                    "http_options": {"timeout": int(TIMEOUT * 1000)},
                },
            )
            return validate(response.text or "", strict=True)

        return generate

    if backend == "ollama":
        import ollama

        oclient = ollama.Client(host=emu.base_url("ollama"), timeout=TIMEOUT)
        schema = sent["format"]
        # Ollama does not show ``format`` to the model, so alloy also states the schema in
        # the system message (capability ``schema_in_prompt``); the raw call sends the same.
        system = sent["messages"][0]["content"]

        def chat_ollama(text: str) -> Contact:
            response = oclient.chat(
                model=model,
                messages=[
                    {"role": "system", "content": system},
                    {"role": "user", "content": prompt_for(text)},
                ],
                format=schema,
                stream=False,
            )
            return validate(response.message.content or "", strict=True)

        return chat_ollama

    raise SystemExit(f"unknown backend {backend!r}; known: {', '.join(BACKENDS)}")


# --- peer libraries (openai-chat only, each optional) ---------------------------------------


class _PeerSkipped(Exception):
    """A peer that is installed but cannot make this call (the reason is the message)."""


def peer_calls(
    emu: RemoteEmulator,
) -> tuple[
    dict[str, Call], list[tuple[RemoteEmulator, Reply]], dict[str, dict[str, Any]], list[str]
]:
    """The peers importable here: their calls, each with its own emulator scenario and the
    reply scripted there, the body each sends; and a note for each peer left out."""
    calls: dict[str, Call] = {}
    scripts: list[tuple[RemoteEmulator, Reply]] = []
    bodies: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for name, build in PEERS.items():
        scenario = emu.scenario()
        try:
            call, body = build(scenario)
        except ImportError as exc:
            notes.append(f"{name}: not installed ({exc.name or exc}); skipped")
            continue
        except Exception as exc:  # noqa: BLE001 - a peer that cannot be set up is reported
            notes.append(f"{name}: could not be set up ({type(exc).__name__}: {exc}); skipped")
            continue
        calls[name] = call
        bodies[name] = body
        scripts.append((scenario, _reply_for(body)))
    return calls, scripts, bodies, notes


def compare(body: dict[str, Any], alloy_body: dict[str, Any]) -> str:
    """ "identical" or the top-level keys in which a request body differs from alloy's."""
    if body == alloy_body:
        return "identical"
    differ = sorted(k for k in {*body, *alloy_body} if body.get(k) != alloy_body.get(k))
    return f"differs in {', '.join(differ)}"


def _contact_model() -> Any:
    """``Contact`` as a pydantic model, for peers that take only those."""
    from pydantic import BaseModel

    class ContactModel(BaseModel):
        name: str
        email: str
        age: int
        vip: bool

    return ContactModel


def _probe(scenario: RemoteEmulator, call: Call) -> dict[str, Any]:
    """The body of the request ``call`` sends (whatever becomes of the reply)."""
    scenario.reset()
    scenario.set_default(REPLY)
    with contextlib.suppress(Exception):  # only the request matters here
        call(TEXT)
    requests = scenario.requests
    if not requests:
        raise _PeerSkipped("it sent no request to the emulator")
    body: dict[str, Any] = requests[-1].json
    return body


def _reply_for(body: dict[str, Any]) -> Reply:
    """The reply that gives ``EXPECTED`` in the form the request asked for: JSON text, or a
    call of the one tool it forced."""
    tools = body.get("tools") or []
    if "response_format" in body or not tools:
        return REPLY
    name = tools[0]["function"]["name"]
    # In one chunk if the peer streams it (magentic always streams).
    return Reply(tool_calls=[ToolCall(name, asdict(EXPECTED))], chunk_chars=4096)


def _instructor(scenario: RemoteEmulator) -> tuple[Call, dict[str, Any]]:
    import instructor
    import openai

    client = instructor.from_openai(
        openai.OpenAI(base_url=scenario.base_url("openai"), api_key="bench", max_retries=0),
        mode=instructor.Mode.JSON_SCHEMA,  # response_format json_schema, as alloy sends
    )
    model = _contact_model()

    def call(text: str) -> Any:
        return client.chat.completions.create(
            model=MODELS["openai-chat"],
            response_model=model,
            messages=[{"role": "user", "content": prompt_for(text)}],
            max_retries=0,
            timeout=TIMEOUT,
        )

    return call, _probe(scenario, call)


def _magentic(scenario: RemoteEmulator) -> tuple[Call, dict[str, Any]]:
    from magentic import OpenaiChatModel
    from magentic import prompt

    chat_model = OpenaiChatModel(
        MODELS["openai-chat"], api_key="bench", base_url=scenario.base_url("openai")
    )

    def extract_contact(text: str) -> Any: ...

    # magentic reads the annotations as objects, and this module postpones them.
    extract_contact.__annotations__ = {"text": str, "return": _contact_model()}
    call = prompt("Extract the contact from this text: {text}", model=chat_model)(extract_contact)
    return call, _probe(scenario, call)


def _mirascope(scenario: RemoteEmulator) -> tuple[Call, dict[str, Any]]:
    from mirascope import llm

    llm.register_provider(
        "openai", scope="openai/", api_key="bench", base_url=scenario.base_url("openai")
    )
    model = _contact_model()

    @llm.call(
        f"openai/{MODELS['openai-chat']}:completions", format=llm.format(model, mode="strict")
    )
    def extract_contact(text: str) -> str:
        return prompt_for(text)

    def call(text: str) -> Any:
        return extract_contact(text).parse()

    return call, _probe(scenario, call)


def _pydantic_ai(scenario: RemoteEmulator) -> tuple[Call, dict[str, Any]]:
    from pydantic_ai import Agent
    from pydantic_ai import NativeOutput
    from pydantic_ai.models.openai import OpenAIChatModel
    from pydantic_ai.providers.openai import OpenAIProvider

    provider = OpenAIProvider(base_url=scenario.base_url("openai"), api_key="bench")
    agent = Agent(
        OpenAIChatModel(MODELS["openai-chat"], provider=provider),
        output_type=NativeOutput(Contact),  # response_format json_schema, as alloy sends
        retries=0,
    )

    def call(text: str) -> Any:
        return agent.run_sync(prompt_for(text)).output

    return call, _probe(scenario, call)


PEERS: dict[str, Callable[[RemoteEmulator], tuple[Call, dict[str, Any]]]] = {
    "instructor": _instructor,
    "magentic": _magentic,
    "mirascope": _mirascope,
    "pydantic-ai": _pydantic_ai,
}


# --- measuring ----------------------------------------------------------------------------


def same_body(emu: RemoteEmulator, call: Call, alloy_body: dict[str, Any]) -> str:
    """How ``call``'s request body compares with the one alloy sent."""
    arm([(emu, REPLY)])
    call(TEXT)
    return compare(emu.requests[-1].json, alloy_body)


def time_block(call: Call, calls: int) -> float:
    """Client CPU seconds per call over ``calls`` calls (the last result is checked)."""
    start = time.process_time()
    for _ in range(calls):
        value = call(TEXT)
    elapsed = time.process_time() - start
    if not same_value(value):
        raise SystemExit(f"unexpected result {value!r}")
    return elapsed / calls


def arm(scripts: list[tuple[RemoteEmulator, Reply]]) -> None:
    """Empty each scenario's request log (untimed) and script its reply."""
    for scenario, reply in scripts:
        scenario.reset()
        scenario.set_default(reply)


def measure(
    sides: dict[str, Call],
    scripts: list[tuple[RemoteEmulator, Reply]],
    rounds: int,
    calls: int,
    block: int,
) -> tuple[dict[str, float], dict[str, float]]:
    """Each side's median CPU µs per call, and its median ratio to the first side.

    Sides take turns in blocks of ``block`` calls (rotating who goes first), ``calls`` per
    side per round; a ratio is taken between the blocks of one turn, so machine drift
    cancels out.
    """
    names = list(sides)
    arm(scripts)
    for name in names:  # warm-up: connections, lazy imports, caches
        time_block(sides[name], max(20, calls // 5))
    per_call: dict[str, list[float]] = {name: [] for name in names}
    ratios: dict[str, list[float]] = {name: [] for name in names}
    turn = 0
    for _ in range(rounds):
        arm(scripts)
        gc.collect()
        for _ in range(max(1, calls // block)):
            shift = turn % len(names)
            turn += 1
            got = {name: time_block(sides[name], block) for name in names[shift:] + names[:shift]}
            for name in names:
                per_call[name].append(got[name])
                ratios[name].append(got[name] / got[names[0]])
    return (
        {name: statistics.median(v) * 1e6 for name, v in per_call.items()},
        {name: statistics.median(v) for name, v in ratios.items()},
    )


def profile(emu: RemoteEmulator, backend: str, calls: int) -> None:
    """cProfile, with a CPU-time clock, of ``calls`` alloy calls after a warm-up: alloy's
    functions with their cumulative and own µs per command call, then the top of everything
    by own time. Profiling inflates small functions: read it for proportions."""
    cmd = alloy_command(backend)
    arm([(emu, REPLY)])
    for _ in range(50):
        cmd(TEXT)
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(calls):
        cmd(TEXT)
    profiler.disable()
    stats = pstats.Stats(profiler)
    raw_stats: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    mine = re.compile(r"alloy[/\\](?!testing)")
    rows = [
        (ct, tt, nc, f"{file[file.rfind('alloy') :]}:{line}({name})")
        for (file, line, name), (_, nc, tt, ct, _) in raw_stats.items()
        if mine.search(file)
    ]
    total = max((ct for ct, *_ in rows), default=0.0)
    own = sum(tt for _, tt, _, _ in rows)
    print(
        f"{backend}: {total / calls * 1e6:.0f} µs CPU per call under the profiler, of which "
        f"{own / calls * 1e6:.0f} µs in alloy's own function bodies"
    )
    print(f"{'cum µs/call':>12} {'own µs/call':>12} {'calls/call':>11}  function")
    for ct, tt, nc, where in sorted(rows, reverse=True)[:30]:
        print(f"{ct / calls * 1e6:>12.1f} {tt / calls * 1e6:>12.1f} {nc / calls:>11.1f}  {where}")
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(25)
    print(out.getvalue())


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--calls", type=int, default=100, help="calls per side per round")
    parser.add_argument("--block", type=int, default=10, help="calls per turn")
    parser.add_argument("--no-peers", action="store_true", help="leave the peer libraries out")
    parser.add_argument("--profile", metavar="BACKEND", help="profile alloy's calls instead")
    args = parser.parse_args()
    backends = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(unknown)}; known: {', '.join(BACKENDS)}")
    with emulator_process() as emu:
        if args.profile:
            profile(emu, args.profile, args.calls * args.rounds)
            return 0
        print(
            f"client CPU per call (time.process_time), {args.rounds} rounds x {args.calls} "
            f"calls per side in turns of {args.block}; medians. Emulator in its own process."
        )
        print(f"{'backend':<12} {'raw µs/call':>12} {'alloy µs/call':>14} {'ratio':>7}  request")
        worst = 0.0
        peer_rows: list[str] = []
        for backend in backends:
            cmd = alloy_command(backend)
            arm([(emu, REPLY)])
            if cmd(TEXT) != EXPECTED:
                raise SystemExit(f"{backend}: alloy returned the wrong value")
            alloy_body = emu.requests[-1].json
            raw = raw_call(backend, emu, alloy_body)
            body = same_body(emu, raw, alloy_body)
            sides: dict[str, Call] = {"raw": raw, "alloy": cmd}
            scripts = [(emu, REPLY)]
            notes: list[str] = []
            bodies: dict[str, dict[str, Any]] = {}
            if backend == "openai-chat" and not args.no_peers:
                peers, peer_scripts, bodies, notes = peer_calls(emu)
                sides.update(peers)
                scripts += peer_scripts
            per_call, ratios = measure(sides, scripts, args.rounds, args.calls, args.block)
            worst = max(worst, ratios["alloy"])
            print(
                f"{backend:<12} {per_call['raw']:>12.0f} {per_call['alloy']:>14.0f} "
                f"{ratios['alloy']:>6.3f}x  raw body vs alloy's: {body}",
                flush=True,
            )
            for name in PEERS:
                if name in sides:
                    peer_rows.append(
                        f"  {name:<12} {per_call[name]:>10.0f} {ratios[name]:>8.2f}x  "
                        f"request {compare(bodies[name], alloy_body)}"
                    )
            peer_rows += [f"  {note}" for note in notes]
        if peer_rows:
            print("\npeers on openai-chat, same emulator and run:  µs/call  vs raw SDK")
            print("\n".join(peer_rows))
        verdict = "met" if worst <= TARGET else "NOT met"
        print(f"\nworst alloy/raw ratio {worst:.3f}x: target <= {TARGET}x (SPEC §10) {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
