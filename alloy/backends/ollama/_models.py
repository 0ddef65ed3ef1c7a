"""What each Ollama model can do, as ``ModelProfile`` rows (pure data, no I/O).

Structured output is enforced natively by every model: ``format=<JSON schema>``, which Ollama
turns into a grammar. Native tool calling depends on the model family, from the "tools"
label of Ollama's model library (ollama.com/search?c=tools), which marks the models whose
chat template renders tools and parses tool calls.
"""

from __future__ import annotations

from dataclasses import replace
from functools import lru_cache

from ..base import Capabilities
from ..base import MediaSupport
from ..base import ModelProfile
from ..base import profile_for

__all__ = ["DIALECT", "NAME", "NO_TOOLS", "PROFILES", "TOOLS", "capabilities", "profile"]

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


@lru_cache(maxsize=512)  # pure, and asked on every call by the encoder
def profile(model: str) -> ModelProfile:
    """The row of ``model``, matched as Ollama names models: case-insensitively, without a
    ``namespace/`` (or registry path) and without the ``:tag``.

    >>> profile("registry.ollama.ai/library/Gemma3:4b").capabilities.tools
    False
    """
    family = model.lower().rsplit("/", 1)[-1].split(":", 1)[0]
    return profile_for(PROFILES, family)


def capabilities(model: str) -> Capabilities:
    """What ``model`` can do on Ollama.

    >>> capabilities("llama3.1:8b").tools, capabilities("gemma3:4b").tools
    (True, False)
    """
    return profile(model).capabilities
