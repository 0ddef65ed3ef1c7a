"""The project's name on the package index, for install hints (the import name is ``alloy``;
``alloy`` on the index is an unrelated project), and the extras a hint may name."""

from __future__ import annotations

__all__ = ["DISTRIBUTION", "EXTRAS", "install_hint", "not_installed"]

DISTRIBUTION = "alloy-llm"

EXTRAS = {
    "openai": "openai",
    "anthropic": "anthropic",
    "gemini": "google-genai",
    "ollama": "ollama",
    "testing": "uvicorn",
    "cost": "genai-prices",
    "progress": "tqdm",
    "otel": "opentelemetry-api",
}
"""alloy's own extras (``pyproject.toml``; a test keeps the two in step), each with the
package it installs: the extras alloy's hints name."""


def install_hint(extra: str) -> str:
    """The command that installs ``extra``: ``pip install 'alloy-llm[openai]'``."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"


def not_installed(what: str, extra: str) -> str:
    """Why ``what`` cannot work without ``extra``'s package, and how to install it."""
    return (
        f"{what} needs the {EXTRAS[extra]} package, which is not installed: {install_hint(extra)}"
    )
