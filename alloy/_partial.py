"""Reading a JSON reply while it streams: partial snapshots and completed list items.

The scanner looks at each new chunk once, jumping between the characters that matter with
regular expressions, and keeps only what it needs: the open containers, the position of the
last complete value (a safe place to cut), and the text of the list element being read. A
snapshot closes the text at the last safe cut (or inside a string value) and hands it to
``json.loads``. Snapshots are taken geometrically less often as the reply grows, so a reply of
any size costs time linear in its length.
"""

from __future__ import annotations

import json
import re
from typing import Any

from ._types import MISSING

__all__ = ["NOTHING", "JsonScanner"]

NOTHING: Any = MISSING
"""No snapshot available yet."""

_IN_STRING = re.compile(r'["\\]')
_OUTSIDE = re.compile(r'[{}\[\],:"]|[^\s{}\[\],:"]')
_SCALAR_END = re.compile(r'[\s{}\[\],:"]')
_CLOSE = {"{": "}", "[": "]"}


class _Frame:
    __slots__ = ("expect", "key", "kind")

    def __init__(self, kind: str):
        self.kind = kind  # "{" or "["
        self.expect = "key" if kind == "{" else "value"  # key, colon, value, comma
        self.key: str | None = None


class JsonScanner:
    """Feed chunks of one JSON value; read snapshots and the completed items of a list.

    ``items_at`` picks the list whose elements are reported: ``"root"`` for a list at the top,
    ``"value"`` for the list in a ``{"value": [...]}`` wrapper, ``None`` for none.
    """

    def __init__(self, items_at: str | None = None):
        self._chunks: list[str] = []
        self._length = 0
        self._stack: list[_Frame] = []
        self._in_string = False
        self._escape = False
        self._string_is_key = False
        self._key_parts: list[str] = []
        self._in_scalar = False
        self._safe = 0  # absolute offset after the last complete value
        self._safe_closers = ""
        self._started = False
        self._done = False
        self._items_at = items_at
        self._item_first: str | None = None  # the open item's text in the chunk it began in
        self._item_more: list[str] = []  # whole chunks fed since it began
        self._items: list[str] = []
        self._last_snapshot_at = 0

    @property
    def done(self) -> bool:
        """Whether the top-level value is complete."""
        return self._done

    def feed(self, chunk: str) -> list[str]:
        """Take the next chunk; returns the texts of list items completed by it."""
        self._chunks.append(chunk)
        if self._item_first is not None:
            self._item_more.append(chunk)
        base = self._length
        self._length += len(chunk)
        pos = 0
        n = len(chunk)
        if self._escape:  # the escaped character of a backslash that ended the last chunk
            self._escape = False
            if self._string_is_key and n:
                self._key_parts.append(chunk[0])
            pos = 1
        while pos < n:
            if self._in_string:
                pos = self._scan_string(chunk, pos, base)
                continue
            if self._in_scalar:
                match = _SCALAR_END.search(chunk, pos)
                if match is None:
                    break
                pos = match.start()
                self._in_scalar = False
                self._value_done(base + pos)
                continue
            match = _OUTSIDE.search(chunk, pos)
            if match is None:
                break
            char, at = match.group(), match.start()
            pos = match.end()
            if char in "{[":
                self._value_start(chunk, at)
                self._stack.append(_Frame(char))
                self._set_safe(base + pos)
            elif char in "}]":
                if not self._stack:
                    break
                del self._stack[-1]
                self._end_item(chunk, at, closing=True)
                self._value_done(base + pos)
            elif char == ",":
                self._end_item(chunk, at, closing=False)
                if self._stack:
                    frame = self._stack[-1]
                    frame.expect = "key" if frame.kind == "{" else "value"
            elif char == ":":
                if self._stack:
                    self._stack[-1].expect = "value"
            elif char == '"':
                top = self._stack[-1] if self._stack else None
                self._string_is_key = top is not None and top.kind == "{" and top.expect == "key"
                if self._string_is_key:
                    self._key_parts = []
                else:
                    self._value_start(chunk, at)
                self._in_string = True
            else:
                self._value_start(chunk, at)
                self._in_scalar = True
        done, self._items = self._items, []
        return done

    def _scan_string(self, chunk: str, pos: int, base: int) -> int:
        match = _IN_STRING.search(chunk, pos)
        n = len(chunk)
        if match is None:
            if self._string_is_key:
                self._key_parts.append(chunk[pos:])
            return n
        if match.group() == "\\":
            end = match.end()
            if end >= n:  # the escaped character comes in the next chunk
                self._escape = True
                if self._string_is_key:
                    self._key_parts.append(chunk[pos:])
                return n
            if self._string_is_key:
                self._key_parts.append(chunk[pos : end + 1])
            return end + 1
        if self._string_is_key:
            self._key_parts.append(chunk[pos : match.start()])
        self._in_string = False
        self._string_done(base + match.end())
        return match.end()

    # --- structure bookkeeping ------------------------------------------------------------

    def _target_depth(self) -> int | None:
        return {"root": 1, "value": 2}.get(self._items_at or "")

    def _value_start(self, chunk: str, at: int) -> None:
        self._started = True
        depth = self._target_depth()
        if depth is None or self._item_first is not None or len(self._stack) != depth:
            return
        if self._stack[-1].kind == "[" and (depth == 1 or self._stack[0].key == "value"):
            self._item_first = chunk[at:]
            self._item_more = []

    def _end_item(self, chunk: str, at: int, *, closing: bool) -> None:
        if self._item_first is None:
            return
        if len(self._stack) + (1 if closing else 0) != self._target_depth():
            return
        if not self._item_more:  # began in this same chunk
            text = self._item_first[: len(self._item_first) - (len(chunk) - at)]
        else:
            text = self._item_first + "".join(self._item_more[:-1]) + chunk[:at]
        self._items.append(text)
        self._item_first = None
        self._item_more = []

    def _string_done(self, end: int) -> None:
        if self._string_is_key:
            if self._stack:
                frame = self._stack[-1]
                frame.key = "".join(self._key_parts)
                frame.expect = "colon"
            return
        self._value_done(end)

    def _value_done(self, end: int) -> None:
        if not self._stack:
            self._done = True
        else:
            self._stack[-1].expect = "comma"
        self._set_safe(end)

    def _set_safe(self, end: int) -> None:
        self._safe = end
        self._safe_closers = "".join(_CLOSE[f.kind] for f in reversed(self._stack))

    # --- snapshots ------------------------------------------------------------------------

    def due(self) -> bool:
        """Whether a snapshot is worth taking now (geometrically less often as text grows)."""
        grown = self._length - self._last_snapshot_at
        return self._started and grown > 0 and grown >= self._last_snapshot_at // 4

    def snapshot(self) -> Any:
        """The value parsed so far, closed where it is cut; ``NOTHING`` before it starts."""
        if not self._started:
            return NOTHING
        self._last_snapshot_at = self._length
        text = "".join(self._chunks)
        self._chunks = [text]
        closed = text[: self._safe] + self._safe_closers
        if self._in_string and not self._string_is_key and not self._escape:
            # Show a string value as far as it has come.
            closers = "".join(_CLOSE[f.kind] for f in reversed(self._stack))
            candidates: tuple[str, ...] = (text + '"' + closers, closed)
        else:
            candidates = (closed,)
        for candidate in candidates:
            try:
                return json.loads(candidate)
            except (ValueError, RecursionError):
                continue
        return NOTHING
