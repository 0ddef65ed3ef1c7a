"""What each Ollama model can do, as ``ModelProfile`` rows (pure data, no I/O).

Structured output is enforced natively by every model: ``format=<JSON schema>``, which Ollama
turns into a grammar. Native tool calling depends on the model family, from the "tools"
label of Ollama's model library (ollama.com/search?c=tools), which marks the models whose
chat template renders tools and parses tool calls.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from .._reasoning import ReasoningRow
from .._reasoning import ReasoningSupport
from .._reasoning import support_for
from ..base import Capabilities
from ..base import MediaSupport
from ..base import ModelProfile
from ..base import profile_for

__all__ = [
    "DIALECT",
    "NAME",
    "NO_TOOLS",
    "PROFILES",
    "REASONING",
    "TOOLS",
    "capabilities",
    "family",
    "profile",
]

NAME = "ollama"
"""The backend's name: it tags the provider data this backend keeps, and its errors."""

DIALECT = "ollama"
"""The schema dialect of ``alloy._schema`` this backend sends (``format`` and tools)."""

# Fields left out keep ``Capabilities``' defaults: native JSON schema output, native
# parallel tools, streaming.
TOOLS = Capabilities(
    schema_dialect=DIALECT,
    # ``images`` of a message, as bytes: no audio, no documents, no URLs.
    media=MediaSupport(image=frozenset({"inline"})),
    # ``format`` constrains decoding but is not shown to the model (ollama/ollama#8162).
    schema_in_prompt=True,
)
"""Models with native tool calling; every model gets ``format`` (a grammar) for output."""
NO_TOOLS = replace(TOOLS, tools=False, parallel_tools=False)
"""Models without native tool calling: tools go through the ReAct text loop."""

# Matched by prefix against the family name (see ``profile``), first row first: variants
# without tools come before their family. A model not listed (a newer or custom model) is
# assumed to have tools, as most recent models do; if it has none, Ollama answers 400
# "... does not support tools".
# fmt: off
PROFILES: tuple[ModelProfile, ...] = (
    ModelProfile(NO_TOOLS, (
        "llama3.2-vision", "qwen2.5vl", "qwen2-math", "mistral-openorca", "mistrallite",
        "granite3-guardian", "granite3.2-vision", "phi4-mini-reasoning",
    )),
    ModelProfile(TOOLS, (
        "llama3.1", "llama3.2", "llama3.3", "llama4", "llama3-groq-tool-use", "qwen2", "qwen3",
        "qwq", "mistral", "mixtral", "ministral", "magistral", "devstral", "command-r",
        "command-a", "firefunction", "hermes3", "nemotron", "granite3", "granite4", "smollm2",
        "athene-v2", "cogito", "phi4-mini", "deepseek-r1", "deepseek-v3.1", "gpt-oss", "kimi-k2",
        "functiongemma",
    )),
    ModelProfile(NO_TOOLS, (
        "llama2", "llama3", "codellama", "gemma", "codegemma", "phi", "llava", "bakllava",
        "tinyllama", "vicuna", "orca-mini", "deepseek-coder", "deepseek-llm", "deepseek-v2",
        "deepseek-v3", "starcoder", "granite-code", "moondream", "minicpm-v", "qwen",
    )),
    ModelProfile(TOOLS),
)
# fmt: on
"""The rows behind ``capabilities`` and the docs' capability matrix; the first match wins."""


# Thinking, from the "thinking" label of Ollama's library: gpt-oss thinks at a level
# (``think="low"|"medium"|"high"``) and cannot stop; the other thinking families switch it on
# and off (``think=true|false``: ``show_reasoning=True`` or ``reasoning_effort="none"``).
# Families known not to think are refused; a family not listed gets what is asked, and
# Ollama's own 400 (``"... does not support thinking"``) if it cannot.
# fmt: off
REASONING: tuple[ReasoningRow, ...] = (
    ReasoningRow(ReasoningSupport("think", ("low", "medium", "high"), text="full"), ("gpt-oss",)),
    ReasoningRow(ReasoningSupport("think", ("none",), text="full"), (
        "deepseek-r1", "deepseek-v3.1", "qwen3", "qwq", "magistral", "cogito", "phi4-reasoning",
        "phi4-mini-reasoning", "granite3.2", "granite4",
    )),
    ReasoningRow(None, (
        "llama", "codellama", "gemma", "codegemma", "mistral", "mixtral", "ministral", "phi",
        "llava", "bakllava", "tinyllama", "vicuna", "orca-mini", "deepseek-coder", "deepseek-llm",
        "deepseek-v2", "deepseek-v3", "starcoder", "granite-code", "moondream", "minicpm-v",
        "qwen", "command-r", "hermes3", "smollm2", "nemotron", "firefunction", "functiongemma",
    )),
    ReasoningRow(ReasoningSupport("think", ("none", "low", "medium", "high"), text="full")),
)
# fmt: on
"""Thinking rows by family (matched like ``profile``), first match winning."""


def family(model: str) -> str:
    """The family name Ollama's tables are matched on: lower case, without a ``namespace/``
    (or registry path) and without the ``:tag``."""
    return model.lower().rsplit("/", 1)[-1].split(":", 1)[0]


@lru_cache(maxsize=512)  # pure, and asked on every call by the encoder
def profile(model: str) -> ModelProfile:
    """The row of ``model``, matched by its ``family``.

    >>> profile("registry.ollama.ai/library/Gemma3:4b").capabilities.tools
    False
    """
    return profile_for(PROFILES, family(model))


@lru_cache(maxsize=512)
def capabilities(model: str) -> Capabilities:
    """What ``model`` can do on Ollama.

    >>> capabilities("llama3.1:8b").tools, capabilities("gemma3:4b").tools
    (True, False)
    """
    reasoning = support_for(REASONING, family(model))
    return replace(profile(model).capabilities, reasoning=reasoning)
