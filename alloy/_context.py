"""``Context``: system text and documents that many calls share, sent as one prefix.

A context goes ahead of every prompt of the commands it is set on (the ``context``
setting): its system text before the command's own system prompt, its documents (media or
plain text) as the first parts of the first user turn. Because the prefix is the same for
every call, it is what provider prompt caching keys on: with ``cache=True`` Anthropic gets a
cache breakpoint on the context's last block, OpenAI a cache key derived from the context,
and Gemini a cached content created once for the context (see docs/caching.md).

A context may stand on another one (``base=``): a company-wide prefix, then one per
customer. Each layer is its own cache breakpoint where the provider takes breakpoints, so a
call reuses the longest prefix it shares with earlier calls.

A context is immutable and identified by ``key``, a digest of its system text and of each
document's content (media by their SHA-256, never by object identity) over every layer, so
equal contexts built in two processes share one provider cache.
"""

from __future__ import annotations

from collections.abc import Iterable

from ._errors import ConfigurationError
from ._media import Media

__all__ = ["Context"]


class Context:
    """A reusable prompt prefix: ``Context(system="...", documents=[Document..., "text"])``.

    Attributes:
        system: text placed before the commands' own system prompts (after the base's).
        documents: media values and strings, sent in this order before each prompt (after
            the base's).
        name: how errors and the docs name it (default ``"context"``).
        base: the context this one extends, or None.
    """

    __slots__ = ("_key", "base", "documents", "name", "system")

    def __init__(
        self,
        system: str | None = None,
        documents: Iterable[Media | str] = (),
        *,
        name: str = "context",
        base: Context | None = None,
    ) -> None:
        if system is not None and not isinstance(system, str):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ConfigurationError("Context(system=...) takes a string.")
        docs = tuple(documents)
        for doc in docs:
            if not isinstance(doc, Media | str):  # pyright: ignore[reportUnnecessaryIsInstance]
                raise ConfigurationError(
                    f"Context(documents=...) takes Image, Audio or Document values and "
                    f"strings, not {type(doc).__name__}."
                )
        if not system and not docs:
            raise ConfigurationError("A Context needs system text, documents or both.")
        if base is not None and not isinstance(base, Context):  # pyright: ignore[reportUnnecessaryIsInstance]
            raise ConfigurationError("Context(base=...) takes another Context.")
        self.system = system or None
        self.documents: tuple[Media | str, ...] = docs
        self.name = name
        self.base = base
        self._key: str | None = None

    @property
    def layers(self) -> tuple[Context, ...]:
        """This context's layers, the first base first and this one last."""
        below = self.base.layers if self.base is not None else ()
        return (*below, self)

    @property
    def all_documents(self) -> tuple[Media | str, ...]:
        """Every layer's documents, in the order they are sent."""
        return tuple(doc for layer in self.layers for doc in layer.documents)

    @property
    def key(self) -> str:
        """A digest of the context's content (32 hex characters), stable across processes."""
        if self._key is None:
            import hashlib
            import json

            identity: list[object] = [self.base.key if self.base is not None else None]
            identity.append(self.system)
            for doc in self.documents:
                if isinstance(doc, str):
                    identity.append(["text", doc])
                else:
                    ident = doc.sha256 or doc.url or doc.file_id
                    identity.append([doc.kind, doc.media_type, ident])
            text = json.dumps(identity, separators=(",", ":"), ensure_ascii=False)
            self._key = hashlib.sha256(text.encode()).hexdigest()[:32]
        return self._key

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Context) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def __repr__(self) -> str:
        shown = [f"system={len(self.system)} chars"] if self.system else []
        if self.documents:
            shown.append(f"documents={len(self.documents)}")
        if self.base is not None:
            shown.append(f"base={self.base.key[:12]}")
        return f"Context({', '.join(shown)}, key={self.key[:12]})"
