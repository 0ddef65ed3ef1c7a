"""Cassettes: a test's model replies recorded once in a JSON file, then replayed offline.

A ``Cassette`` is a ``ReplyStore`` (``alloy._replay``) kept in a file: while one is active
(``with Cassette(path):``, or the ``alloy_cassette`` fixture), every model call in the
context is answered from it or recorded into it, on any backend, streamed or not. It takes
the place of a configured response cache for that time.

Replies are matched by the provider and the request's fingerprint, without the base URL or
the key, so a cassette recorded against one server and key replays with any other or none.
Identical requests replay their replies in the order they were recorded.

The mode (``ALLOY_RECORD``):

- ``once`` (the default): record every call when the file does not exist, else only replay.
- ``none``: only replay (CI): a call the file holds no reply for raises ``CassetteMiss``
  and no request is sent.
- ``new``: replay what the file holds, record the rest into it.
- ``all``: record every call afresh; the file is replaced.

Leaving a cassette with replies no call used warns (``UserWarning``), naming how many: the
test no longer makes those calls, and recording again drops them.

The file is sorted JSON (``sort_keys``, two-space indent) so that a change to it reads well
in a review: per reply a short summary of the request (provider, model, the start of the
last user text, the tools), the request's fingerprint and the reply as the codec's JSON. No
key and no header is ever written.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING
from typing import Any
from typing import Literal
from typing import cast
from typing import get_args

from .._errors import ConfigurationError

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from .._messages import Response
    from .._replay import ReplyKey
    from .._replay import ReplyStore

__all__ = ["MODES", "Cassette", "CassetteMiss", "RecordMode", "record_mode"]

RecordMode = Literal["once", "none", "new", "all"]
MODES: tuple[str, ...] = get_args(RecordMode)
_LAYOUT = 1  # the version of the file's own shape


class CassetteMiss(ConfigurationError):
    """A cassette that only replays holds no reply for a request; no request was sent.

    A ``ConfigurationError``: the recording no longer matches what the test asks (its
    prompt, settings or code changed), which is fixed by recording again, not by handling an
    error. It is deliberately not a ``ProviderError``, which code under test may catch and
    recover from (a fallback, a default value), hiding the miss.

    Attributes:
        path: the cassette file.
        mode: the record mode it ran in.
        summary: the request's summary (provider, model, prompt start, tools).
    """

    def __init__(self, path: Path, mode: str, summary: Mapping[str, Any], why: str):
        self.path = path
        self.mode = mode
        self.summary = dict(summary)
        tools = [str(t) for t in summary.get("tools") or ()]
        offered = f", tools {', '.join(tools)}" if tools else ""
        super().__init__(
            f"The cassette {path} {why} for this request: {summary.get('provider')}:"
            f"{summary.get('model')}, prompt {summary.get('prompt')!r}{offered}. It only "
            f"replays (ALLOY_RECORD={mode}), so nothing was sent. Run the test with "
            "ALLOY_RECORD=new to record what is missing, or ALLOY_RECORD=all to record the "
            "cassette again."
        )


def record_mode(value: str | None = None) -> RecordMode:
    """The record mode ``value`` names, else ``ALLOY_RECORD``'s, else ``once``."""
    raw = value if value is not None else os.environ.get("ALLOY_RECORD", "")
    mode = raw.strip().lower() or "once"
    if mode not in MODES:
        where = "ALLOY_RECORD" if value is None else "mode"
        raise ConfigurationError(
            f"{where}={raw!r} is not a record mode: expected one of {', '.join(MODES)}."
        )
    return cast("RecordMode", mode)


class _Entry:
    __slots__ = ("fingerprint", "provider", "raw", "response", "used")

    def __init__(self, raw: dict[str, Any], response: Response) -> None:
        self.raw = raw
        self.provider = str(raw["summary"]["provider"])
        self.fingerprint = str(raw["fingerprint"])
        self.response = response
        self.used = False


class Cassette:
    """A test's recorded replies, in the JSON file ``path``: every model call in the ``with``
    block is answered from it or recorded into it, and the file is written when it ends.

    >>> from alloy.testing import Cassette
    >>> with Cassette("cassettes/demo.json", mode="new") as cassette:
    ...     pass

    Args:
        path: the cassette file (its directory is made when it is first written).
        mode: ``once`` records every call when the file does not exist, else only replays;
            ``none`` only replays; ``new`` replays what the file holds and records the rest;
            ``all`` records every call afresh, replacing the file. None reads
            ``ALLOY_RECORD`` (default ``once``). Only replaying, a call the file holds no
            reply for raises ``CassetteMiss`` and nothing is sent.

    Replies are matched by the backend and the request's fingerprint (not the base URL nor
    the key); identical requests replay in the order they were recorded. Leaving the block
    with replies that no call used warns (``UserWarning``).
    """

    per_account = False
    single_flight = False

    def __init__(self, path: str | os.PathLike[str], mode: RecordMode | None = None) -> None:
        self.path = Path(path)
        self.mode: RecordMode = record_mode(mode)
        self.scope = str(self.path)
        exists = self.path.exists()
        self.replaying = self.mode in ("none", "new") or (self.mode == "once" and exists)
        self.recording = self.mode in ("new", "all") or (self.mode == "once" and not exists)
        self._entries = self._load() if exists and self.mode != "all" else []
        self._recorded: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._active: AbstractContextManager[ReplyStore] | None = None

    # --- what it holds ------------------------------------------------------------------

    @property
    def unused(self) -> int:
        """Replies the file held that no call has replayed (yet)."""
        return sum(not entry.used for entry in self._entries)

    @property
    def recorded(self) -> int:
        """Replies recorded by this cassette so far."""
        return len(self._recorded)

    # --- ReplyStore ---------------------------------------------------------------------

    def find(self, key: ReplyKey) -> Response | None:
        """The next unused reply recorded for ``key``, when replaying."""
        if not self.replaying:
            return None
        with self._lock:
            for entry in self._entries:
                if (
                    not entry.used
                    and entry.fingerprint == key.fingerprint
                    and entry.provider == key.provider
                ):
                    entry.used = True
                    return entry.response
        return None

    def sending(self, key: ReplyKey) -> None:
        """Refuse the request unless this cassette records."""
        if self.recording:
            return
        from .._replay import summary

        known = any(
            e.fingerprint == key.fingerprint and e.provider == key.provider for e in self._entries
        )
        if known:
            why = "has replayed every reply it recorded"
        elif self.path.exists():
            why = "holds no reply"
        else:
            why = "does not exist, so it holds no reply"
        raise CassetteMiss(self.path, self.mode, summary(key), why)

    def keep(self, key: ReplyKey, response: Response) -> None:
        """Record ``response`` for ``key``, when recording."""
        if not self.recording:
            return
        from .._codec import dump_response
        from .._replay import summary

        entry = {
            "summary": summary(key),
            "fingerprint": key.fingerprint,
            "response": dump_response(response),
        }
        with self._lock:
            self._recorded.append(entry)

    # --- the file -----------------------------------------------------------------------

    def _load(self) -> list[_Entry]:
        from .._codec import VERSION
        from .._codec import load_response

        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if doc.get("alloy_cassette") != _LAYOUT or doc.get("codec", 0) > VERSION:
                raise ValueError(
                    f"it was written in another layout ({doc.get('alloy_cassette')!r}, codec "
                    f"{doc.get('codec')!r}); this alloy reads layout {_LAYOUT}, codec {VERSION}"
                )
            return [_Entry(raw, load_response(raw["response"])) for raw in doc["entries"]]
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ConfigurationError(
                f"Cannot read the cassette {self.path}: {type(exc).__name__}: {exc}. Record it "
                "again with ALLOY_RECORD=all (or delete it)."
            ) from None

    def save(self) -> bool:
        """Write the file if this cassette recorded anything (in ``all`` mode, also to
        replace an existing file); whether it wrote."""
        from .._codec import VERSION

        with self._lock:
            recorded = list(self._recorded)
        if not recorded and not (self.mode == "all" and self.path.exists()):
            return False
        kept = [entry.raw for entry in self._entries]
        doc = {"alloy_cassette": _LAYOUT, "codec": VERSION, "entries": [*kept, *recorded]}
        text = json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) + "\n"
        self.path.parent.mkdir(parents=True, exist_ok=True)
        partial = self.path.with_name(self.path.name + ".tmp")
        partial.write_text(text, encoding="utf-8")
        partial.replace(self.path)  # a reader never sees half a file
        return True

    # --- use ----------------------------------------------------------------------------

    def __enter__(self) -> Cassette:
        from .._replay import use_recorder

        self._active = use_recorder(self)
        self._active.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        active, self._active = self._active, None
        if active is not None:
            active.__exit__(exc_type, exc, tb)
        self.save()
        unused = self.unused
        if unused and exc_type is None:
            import warnings

            warnings.warn(
                f"{unused} of the replies in the cassette {self.path} were never used: the "
                "test no longer makes those calls. Record it again with ALLOY_RECORD=all to "
                "drop them.",
                UserWarning,
                stacklevel=2,
            )

    def __repr__(self) -> str:
        return f"Cassette({str(self.path)!r}, mode={self.mode!r})"
