"""``RemoteEmulator``: script an emulator running in another process over its control plane."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Any
from urllib.parse import quote

from ._cached_contents import CachedContent
from ._items import Item
from ._items import item_to_json
from ._record import RecordedRequest
from ._record import Recording
from ._record import request_from_json
from ._routing import api_base_url
from ._routing import sdk_env
from ._routing import valid_scenario_name
from .batches import SubmittedBatch
from .batches import batch_from_json
from .files import StoredFile
from .files import file_from_json

__all__ = ["RemoteEmulator"]


class RemoteEmulator:
    """The scripting surface of ``Emulator``/``Scenario``, over HTTP (stdlib only).

    ``url`` is the emulator's root URL (what ``python -m alloy.testing.emulator`` prints);
    ``scenario`` selects a scenario (None: the default one). Proxies from the environment
    are ignored, since the emulator is always local.
    """

    def __init__(self, url: str, scenario: str | None = None, *, timeout: float = 10.0) -> None:
        if scenario is not None and not valid_scenario_name(scenario):
            raise ValueError(f"invalid scenario name {scenario!r}")
        self.root = url.rstrip("/")
        self.name = scenario
        self.timeout = timeout
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @property
    def url(self) -> str:
        """Root URL of the selected scenario."""
        return self.root if self.name is None else f"{self.root}/_s/{self.name}"

    def base_url(self, api: str) -> str:
        """The base URL an SDK wants for ``api`` (openai, anthropic, gemini, ollama)."""
        return api_base_url(self.url, api)

    def env(self) -> dict[str, str]:
        """Environment variables pointing every official SDK at this scenario."""
        return sdk_env(self.url)

    def scenario(self, name: str | None = None) -> RemoteEmulator:
        """Another scenario on the same emulator (a fresh unique one without a name)."""
        name = name if name is not None else "s" + uuid.uuid4().hex[:16]
        return RemoteEmulator(self.root, name, timeout=self.timeout)

    def enqueue(self, *items: Item) -> None:
        """Queue answers (see ``Emulator.enqueue``)."""
        self._post("enqueue", {"items": [item_to_json(item) for item in items]})

    def replay(self, recording: Recording) -> None:
        """Queue a recording's responses to be served verbatim."""
        self.enqueue(*recording.items())

    def set_default(self, item: Item | None) -> None:
        """The answer for an empty queue; None for the strict error. (No callables remotely.)"""
        self._post("default", {"item": None if item is None else item_to_json(item)})

    def set_limits(self, *, max_request_bytes: int | None) -> None:
        """Refuse model calls over ``max_request_bytes`` (see ``Scenario.set_limits``)."""
        self._post("limits", {"max_request_bytes": max_request_bytes})

    def set_file_processing(self, polls: int = 0, *, fail: bool = False) -> None:
        """How Gemini files process (see ``Scenario.set_file_processing``)."""
        self._post("file_processing", {"polls": polls, "fail": fail})

    def set_strict_reasoning(self, on: bool = True) -> None:
        """Check echoed reasoning (see ``Scenario.set_strict_reasoning``)."""
        self._post("strict_reasoning", {"on": on})

    def set_prompt_cache(self, *, hits: bool) -> None:
        """Simulate prompt caching (see ``Scenario.set_prompt_cache``)."""
        self._post("prompt_cache", {"hits": hits})

    def cached_contents(self) -> list[CachedContent]:
        """The Gemini cached contents created so far (see ``Scenario.cached_contents``)."""
        return [CachedContent(**entry) for entry in self._get("cached_contents")]

    def advance_cache_clock(self, seconds: float) -> None:
        """Age the Gemini cached contents (see ``Scenario.advance_cache_clock``)."""
        self._post("cache_clock", {"seconds": seconds})

    def expire_cached_contents(self) -> None:
        """End every live Gemini cached content (see ``Scenario.expire_cached_contents``)."""
        self._post("expire_cached_contents", {})

    def set_cache_minimum(self, tokens: int) -> None:
        """Refuse small Gemini caches (see ``Scenario.set_cache_minimum``)."""
        self._post("cache_minimum", {"tokens": tokens})

    def advance(self, seconds: float) -> None:
        """Move the scenario clock on (see ``Scenario.advance``)."""
        self._post("advance", {"seconds": seconds})

    def set_batch_timing(
        self,
        *,
        validating: float | None = None,
        running: float | None = None,
        finalizing: float | None = None,
        cancel_lag: float | None = None,
        expires_after: float | None = None,
    ) -> None:
        """How long batch phases last (see ``Scenario.set_batch_timing``)."""
        self._post(
            "batch_timing",
            {
                "validating": validating,
                "running": running,
                "finalizing": finalizing,
                "cancel_lag": cancel_lag,
                "expires_after": expires_after,
            },
        )

    def set_batch_limits(
        self, api: str, *, max_requests: int | None = None, max_bytes: int | None = None
    ) -> None:
        """Patch a batch API's limits (see ``Scenario.set_batch_limits``)."""
        self._post(
            "batch_limits", {"api": api, "max_requests": max_requests, "max_bytes": max_bytes}
        )

    def script_batch_item(self, key: str, item: Item) -> None:
        """Answer batch lines with this key (see ``Scenario.script_batch_item``)."""
        self._post("batch_item", {"key": key, "item": item_to_json(item)})

    def fail_batch(self, batch_id: str | None = None, message: str = "emulated failure") -> str:
        """Fail a batch now (see ``Scenario.fail_batch``)."""
        return str(self._post("fail_batch", {"id": batch_id, "message": message})["id"])

    @property
    def batches(self) -> list[SubmittedBatch]:
        """The batches created so far (see ``Scenario.batches``)."""
        return [batch_from_json(entry) for entry in self._get("batches")]

    @property
    def files(self) -> list[StoredFile]:
        """The files uploaded so far (see ``Scenario.files``)."""
        return [file_from_json(entry) for entry in self._get("files")]

    def reset(self) -> None:
        """Forget queued items, recorded requests, uploaded files, the reasoning sent and the
        prompt cache, and restore the initial settings (see ``Scenario.reset``)."""
        self._post("reset", {})

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests recorded so far (bodies come back through UTF-8 text)."""
        data = self._get("requests")
        return [request_from_json(entry) for entry in data]

    @property
    def peak_in_flight(self) -> int:
        """Peak concurrent requests of the selected scenario since its last reset."""
        return int(self._get("stats")["peak_in_flight"])

    @property
    def pending(self) -> int:
        """How many queued items are still unused."""
        return int(self._get("stats")["pending"])

    def health(self) -> bool:
        """True when the emulator answers its control plane."""
        try:
            return bool(self._get("health").get("ok"))
        except OSError:
            return False

    def _post(self, action: str, payload: dict[str, Any]) -> Any:
        payload["scenario"] = self.name
        request = urllib.request.Request(
            f"{self.root}/__emu__/{action}",
            data=json.dumps(payload).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        return self._call(request)

    def _get(self, action: str) -> Any:
        query = "" if self.name is None else f"?scenario={quote(self.name)}"
        return self._call(urllib.request.Request(f"{self.root}/__emu__/{action}{query}"))

    def _call(self, request: urllib.request.Request) -> Any:
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            with exc:
                detail = exc.read().decode("utf-8", "replace")
            raise RuntimeError(f"emulator control plane: {exc.code} {detail}") from None

    def __repr__(self) -> str:
        return f"<RemoteEmulator {self.url}>"
