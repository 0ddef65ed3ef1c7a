"""Stored replies: what the response cache and test cassettes share.

Both answer a model call from a reply kept earlier instead of sending it. A ``ReplyStore``
says where replies are kept (``alloy.ResponseCache``: the SQLite store;
``alloy.testing.Cassette``: a JSON file per test); the wrapper in
``alloy.backends._replaying`` asks it before each call and tells it each reply that came
back, for every backend alike, since it works on the provider-neutral ``Request`` and
``Response``.

A reply is filed under a ``ReplyKey``: the provider, the request's fingerprint
(``alloy._codec.fingerprint``: everything that shapes the reply but the timeout, media by
their SHA-256) and, for a store that keeps replies apart per account, the base URL and a
one-way fingerprint of the credential. A cassette leaves those two out, so that a recording
replays under another key or none.

The cassette a test records into is set for the context (``use_recorder``): it takes the
place of any response cache while it is active.
"""

from __future__ import annotations

from collections.abc import Generator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING
from typing import Any
from typing import Protocol
from typing import runtime_checkable

if TYPE_CHECKING:
    import os

    from ._messages import Request
    from ._messages import Response

__all__ = [
    "FORMAT",
    "REPLAY_CHUNK",
    "ReplyKey",
    "ReplySource",
    "ReplyStore",
    "recorder",
    "summary",
    "use_recorder",
]

FORMAT = 1
"""The version of what goes into a key; a change here makes every stored reply a miss."""

REPLAY_CHUNK = 64
"""Characters per text delta when a stored reply is streamed."""

_SUMMARY_TEXT = 80


@dataclass(frozen=True, slots=True)
class ReplyKey:
    """What a stored reply is filed under.

    Attributes:
        provider: the backend name (``"openai"``...).
        request: the request itself (a cassette summarises it).
        fingerprint: ``alloy._codec.fingerprint(request)``.
        base_url / account: where the request goes and for whom (``Accounted.account``);
            empty for a store that does not keep replies apart per account.
    """

    provider: str
    request: Request = field(repr=False)
    fingerprint: str
    base_url: str = ""
    account: str = ""

    @classmethod
    def of(cls, provider: str, request: Request, where: tuple[str, str] = ("", "")) -> ReplyKey:
        """The key of ``request`` to ``provider``, sent to ``where`` (base URL, account)."""
        from ._codec import fingerprint

        return cls(provider, request, fingerprint(request), *where)

    @property
    def digest(self) -> str:
        """One hex SHA-256 over everything the key holds but the request itself (its
        fingerprint stands for it)."""
        import hashlib
        import json

        parts = [FORMAT, self.provider, self.base_url, self.account, self.fingerprint]
        return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


class ReplyStore(Protocol):
    """Where replies are kept, as the replaying wrapper sees it."""

    @property
    def per_account(self) -> bool:
        """Whether replies are kept apart per base URL and account (``ReplyKey``)."""
        ...

    @property
    def single_flight(self) -> bool:
        """Whether identical calls in flight at once make one request (the others waiting
        for its reply), or each its own (a cassette records each)."""
        ...

    @property
    def scope(self) -> str:
        """What the store is (its file), so calls to two stores never wait for each other."""
        ...

    def find(self, key: ReplyKey) -> Response | None:
        """The reply kept for ``key``, or None."""
        ...

    def sending(self, key: ReplyKey) -> None:
        """``key`` has no reply and its request is about to be sent: raise to refuse that
        (a cassette that only replays)."""
        ...

    def keep(self, key: ReplyKey, response: Response) -> None:
        """Keep ``response``, a reply that came back normally, for ``key``."""
        ...


@runtime_checkable
class ReplySource(Protocol):
    """What the ``response_cache`` setting holds (``alloy.ResponseCache``): where the
    replies of a call with a given ``store`` setting are kept."""

    def at(self, store: str | os.PathLike[str] | None) -> ReplyStore:
        """The ``ReplyStore`` for a call whose ``store`` setting is ``store``."""
        ...


def summary(key: ReplyKey) -> dict[str, Any]:
    """A short account of a request for people reading a cassette: the provider, the model,
    the first characters of the last user text (a context's documents, which open the first
    turn, left out) and the tools offered."""
    from ._messages import TextPart
    from ._messages import context_parts

    request = key.request
    shared = 0
    if request.context is not None:
        shared = sum(len(context_parts(layer)) for layer in request.context.layers)
    texts = [
        "".join(p.text for p in m.parts[shared if i == 0 else 0 :] if isinstance(p, TextPart))
        for i, m in enumerate(request.messages)
        if m.role == "user"
    ]
    text = next((t for t in reversed(texts) if t), "")
    shown = text if len(text) <= _SUMMARY_TEXT else text[:_SUMMARY_TEXT] + "…"
    return {
        "provider": key.provider,
        "model": request.model,
        "prompt": shown,
        "tools": [tool.name for tool in request.tools],
    }


_recorder: ContextVar[ReplyStore | None] = ContextVar("alloy_recorder", default=None)


def recorder() -> ReplyStore | None:
    """The cassette active in this context, if any."""
    return _recorder.get()


@contextmanager
def use_recorder(store: ReplyStore) -> Generator[ReplyStore, None, None]:
    """Answer every model call in this context from ``store``, in place of any response
    cache: this thread or task, the tasks it starts, and the threads alloy starts for it (a
    map's, tools'); a thread of one's own needs ``contextvars.copy_context().run``."""
    token = _recorder.set(store)
    try:
        yield store
    finally:
        _recorder.reset(token)
