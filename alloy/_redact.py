"""Masking credentials in text meant for people: URLs with ``user:pass@`` or ``?key=``.

A module of its own, below everything else, so that any module (settings, media values,
log filters) can mask a URL without importing the others.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import re

__all__ = ["mask_urls"]


def mask_urls(text: str) -> str:
    """``text`` with URL credentials (``user:pass@``, ``?key=...``) replaced by ``***``."""
    if "://" not in text and "=" not in text:
        return text
    user, query = _url_patterns()
    return query.sub(r"\1***", user.sub("***@", text))


@functools.cache
def _url_patterns() -> tuple[re.Pattern[str], re.Pattern[str]]:
    # Compiled on first use: ``re`` is not loaded by ``import alloy``.
    import re

    return (
        re.compile(r"(?<=://)[^/@\s]+@"),
        re.compile(r"(?i)([?&](?:key|api_key|apikey|token|access_token|sig|signature)=)[^&#\s]*"),
    )
