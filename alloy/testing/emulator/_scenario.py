"""The scripting surface shared by ``Emulator`` and its scenarios."""

from __future__ import annotations

from collections.abc import Callable

from ._cached_contents import CachedContent
from ._items import Item
from ._record import RecordedRequest
from ._record import Recording
from ._routing import api_base_url
from ._routing import sdk_env
from ._state import Default
from ._state import ScenarioState
from .batches import SubmittedBatch
from .files import StoredFile

__all__ = ["Scenario"]


class Scenario:
    """An isolated script queue, request log and file store on a running emulator.

    A scenario is served under ``/_s/{name}/…``; point an SDK at ``base_url(api)`` (or use
    ``env()``) and only this scenario's queue answers it and only its log records it, so tests
    sharing one emulator, or concurrent benchmark clients, do not see each other.

    The OpenAI, Anthropic and Gemini Files APIs answer from the scenario's in-memory store
    (``files``); they never take scripted items, so uploads leave the queue, and the strict
    "no scripted reply left" error, to the model calls.
    """

    def __init__(self, state: ScenarioState, root: Callable[[], str], prefix: str) -> None:
        self._state = state
        self._root = root
        self._prefix = prefix

    @property
    def name(self) -> str:
        """The scenario name (``default`` for the emulator's own queue)."""
        return self._state.name

    @property
    def url(self) -> str:
        """Root URL of this scenario, e.g. ``http://127.0.0.1:PORT/_s/NAME``."""
        return self._root() + self._prefix

    def base_url(self, api: str) -> str:
        """The base URL an SDK wants: api is ``openai``, ``anthropic``, ``gemini`` or ``ollama``."""
        return api_base_url(self.url, api)

    def env(self) -> dict[str, str]:
        """Environment variables pointing every official SDK here, with dummy API keys."""
        return sdk_env(self.url)

    def enqueue(self, *items: Item) -> None:
        """Queue answers; requests to any API of this scenario take them in FIFO order."""
        self._state.enqueue(items)

    def replay(self, recording: Recording) -> None:
        """Queue a recording's responses, to be served verbatim for their method and path."""
        self._state.enqueue(tuple(recording.items()))

    def set_default(self, item: Default) -> None:
        """Answer for an empty queue: an item, a function of the ``RecordedRequest``, or None
        for the strict error (400 "emulator: no scripted reply left ...")."""
        self._state.set_default(item)

    def set_limits(self, *, max_request_bytes: int | None) -> None:
        """Refuse model calls whose body is over ``max_request_bytes`` (None: no limit), with
        each provider's own error: OpenAI 413 (an HTML page, as its Cloudflare front sends),
        Anthropic 413 ``request_too_large``, Gemini 400 ``INVALID_ARGUMENT`` "Request payload
        size exceeds the limit", Ollama 413. A refused call takes no scripted item. Files API
        uploads are not limited."""
        self._state.set_limits(max_request_bytes)

    def set_file_processing(self, polls: int = 0, *, fail: bool = False) -> None:
        """How Gemini files uploaded from now on process: the upload and the first ``polls``
        ``files.get`` calls answer ``PROCESSING``, the next ones ``ACTIVE`` (``FAILED``, with
        an ``error``, when ``fail``). The default, ``polls=0``, is ACTIVE at once."""
        self._state.files.set_processing(polls, fail)

    def set_strict_reasoning(self, on: bool = True) -> None:
        """Check echoed reasoning as the real APIs do: a later request that sends back an
        assistant turn this scenario answered must keep its Anthropic thinking blocks and
        signatures, its Gemini ``thoughtSignature`` on each function call, and, under
        Responses ``store: false``, its reasoning items' ``encrypted_content``; otherwise it
        gets the provider's 400 (404 for an unstored Responses item) without taking a
        scripted item. Such requests are still recorded."""
        self._state.replay.set_strict(on)

    def set_prompt_cache(self, *, hits: bool) -> None:
        """Simulate automatic prompt caching: with ``hits=True`` the cache counts of each
        answer come from the requests seen, not from the reply's ``cached_tokens`` and
        ``cache_write_tokens``. A request's prefix (model, system prompt, tools, then every
        message but the last) counts one token per four bytes of its JSON, at most the
        reply's ``input_tokens``; the longest part of it an earlier request of the scenario
        also sent is read, the rest written (on Anthropic, OpenAI Chat and Responses; Gemini
        reports reads only)."""
        self._state.prompt_cache.set_hits(hits)

    def cached_contents(self) -> list[CachedContent]:
        """The Gemini cached contents created in this scenario since the last reset, in
        order, deleted ones included (``deleted=True``)."""
        return self._state.caches.snapshot()

    def advance_cache_clock(self, seconds: float) -> None:
        """Move the clock Gemini cached contents expire on by ``seconds``: a cache created
        with ``ttl="300s"`` is gone (404) once the clock has moved 300 seconds on."""
        self._state.caches.advance(seconds)

    def expire_cached_contents(self) -> None:
        """End every live Gemini cached content now, as if its TTL had run out."""
        self._state.caches.expire_all()

    def set_cache_minimum(self, tokens: int) -> None:
        """Refuse to create Gemini cached contents under ``tokens`` tokens (the emulator
        counts one per four bytes of their JSON), with the API's 400 "Cached content is too
        small"; 0, the default, takes any size."""
        self._state.caches.set_minimum(tokens)

    def advance(self, seconds: float) -> None:
        """Move the scenario clock on by ``seconds``: batches change phase on it, and the
        Gemini cached contents expire on it (the clock ``advance_cache_clock`` moves)."""
        self._state.caches.advance(seconds)

    def set_batch_timing(
        self,
        *,
        validating: float | None = None,
        running: float | None = None,
        finalizing: float | None = None,
        cancel_lag: float | None = None,
        expires_after: float | None = None,
    ) -> None:
        """How long the phases of batches created from now on last, in clock seconds (the
        ones not given keep theirs; the defaults are 0, 60, 0, 0 and 24 hours): validating,
        then running (line ``i`` of ``n`` is answered ``running * (i + 1) / n`` seconds in),
        then finalizing, then completed. A batch still running ``expires_after`` seconds
        after its creation expires; a cancel takes ``cancel_lag`` seconds to end it."""
        given = {
            "validating": validating,
            "running": running,
            "finalizing": finalizing,
            "cancel_lag": cancel_lag,
            "expires_after": expires_after,
        }
        self._state.batches.set_timing(**{k: v for k, v in given.items() if v is not None})

    def set_batch_limits(
        self, api: str, *, max_requests: int | None = None, max_bytes: int | None = None
    ) -> None:
        """Patch one batch API's limits (``openai``, ``anthropic`` or ``gemini``; None is the
        provider's own): OpenAI 50,000 requests and 200 MB of input file (over them the
        batch fails validation), Anthropic 100,000 requests (400) and 256 MB (413), Gemini
        20 MB of inline request (400; the file route has no limit here)."""
        self._state.batches.set_limits(api, max_requests, max_bytes)

    def script_batch_item(self, key: str, item: Item) -> None:
        """Answer every batch line with this ``custom_id`` (Gemini: ``key``, or the inline
        request's ``metadata["key"]``, else its index) with ``item``, ahead of the queue."""
        self._state.batches.script(key, item)

    def fail_batch(self, batch_id: str | None = None, message: str = "emulated failure") -> str:
        """Fail a batch that has not ended (the newest one when no id is given) now, and
        return its id: OpenAI ``failed`` with ``errors``, Anthropic ``ended`` with its
        unfinished lines errored, Gemini ``BATCH_STATE_FAILED``."""
        return self._state.batches.fail(batch_id, message)

    @property
    def batches(self) -> list[SubmittedBatch]:
        """The batches created in this scenario since the last reset, oldest first (deleted
        ones too), each with its lines' keys and bodies as received."""
        return self._state.batches.snapshot()

    @property
    def files(self) -> list[StoredFile]:
        """The files uploaded to this scenario's Files APIs since the last reset, in order,
        deleted ones included (``deleted=True``)."""
        return self._state.files.snapshot()

    def reset(self) -> None:
        """Forget queued items, recorded requests, uploaded files, batches (and their
        timing, limits and per-key scripts), cached contents (and the scenario clock and
        cache minimum), the reasoning sent and the prompt cache, and restore the
        initial default, size limit and file processing, and switch strict reasoning and
        the prompt cache simulation off."""
        self._state.reset()

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot (copies) of the requests received so far, in arrival order."""
        return self._state.snapshot()

    @property
    def pending(self) -> int:
        """How many queued items are still unused."""
        return self._state.pending

    @property
    def in_flight(self) -> int:
        """Requests currently being answered."""
        return self._state.in_flight

    @property
    def peak_in_flight(self) -> int:
        """The most requests answered at the same time since the last reset."""
        return self._state.peak_in_flight

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
