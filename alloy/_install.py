"""The project's name on the package index, for install hints (the import name is ``alloy``;
``alloy`` on the index is an unrelated project)."""

from __future__ import annotations

__all__ = ["DISTRIBUTION", "install_hint"]

DISTRIBUTION = "alloy-llm"


def install_hint(extra: str) -> str:
    """The command that installs ``extra``: ``pip install 'alloy-llm[openai]'``."""
    return f"pip install '{DISTRIBUTION}[{extra}]'"
