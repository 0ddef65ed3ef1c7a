"""The plain JSON body an SDK call would send, built by the SDK itself, without sending it.

A provider batch line must carry exactly the body that the same call sends in real time.
Each SDK shapes that body on its own way from its arguments: OpenAI's and Anthropic's
transforms of their typed dicts and the ``extra_body`` merge, google-genai's conversion of a
``GenerateContentConfig`` to REST JSON. Rather than write those again (and drift from them),
alloy makes the call on a client whose HTTP transport keeps the request and raises instead of
sending it: the body is the SDK's own bytes. The encoder stays the one realtime calls use.

What cannot travel in a batch line is refused (``ConfigurationError``): request headers and
query parameters (``extra_headers``, ``extra_query``), which a line has no place for. The
``timeout`` goes to the SDK, which keeps it out of the body, as it does in real time.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from typing import cast

from .._errors import ConfigurationError

__all__ = ["WireRequest", "wire_request"]

_UNSENDABLE = ("extra_headers", "extra_query")


@dataclass(frozen=True, slots=True)
class WireRequest:
    """A request as the SDK would send it: ``method``, ``path`` (below the base URL's host)
    and the JSON ``body``."""

    method: str
    path: str
    body: dict[str, Any]


class _Kept(Exception):
    """Raised by the keeping transport in place of sending."""


def wire_request(provider: str, params: Mapping[str, Any]) -> WireRequest:
    """The request that ``provider``'s blocking SDK call with ``params`` (its encoder's
    arguments) would send."""
    import httpx2

    call = _CALLS.get(provider)
    if call is None:
        raise ConfigurationError(f"{provider}: no batch API to build a request for")

    unsendable = sorted(k for k in _UNSENDABLE if params.get(k))
    if unsendable:
        raise ConfigurationError(
            f"{provider}: {', '.join(unsendable)} cannot travel in a batch request (a batch "
            "line has a body only); leave them out of provider_options for batch jobs."
        )
    kept: list[httpx2.Request] = []

    class Keep(httpx2.BaseTransport):
        def handle_request(self, request: httpx2.Request) -> httpx2.Response:
            kept.append(request)
            raise _Kept

    sendable = {k: v for k, v in params.items() if k not in _UNSENDABLE}
    http: Any = httpx2.Client(transport=Keep())
    with http:
        try:
            call(http, sendable)
        except Exception:  # re-raised below unless the transport kept a request
            # The SDK wraps the transport's exception in its own connection error; anything
            # raised before a request was made (bad arguments) is the caller's to see.
            if not kept:
                raise
    request = kept[0]
    body: object = json.loads(request.read())
    if not isinstance(body, dict):
        raise ConfigurationError(f"{provider}: the SDK built a request body that is not an object")
    return WireRequest(request.method, request.url.path, cast("dict[str, Any]", body))


# The blocking SDK call of each backend, on a client built around ``http``. The key is a
# placeholder: nothing is sent, and the body never carries it. The base URLs are the
# providers' own, whatever the environment says, so that paths are the API's.
_KEY = "unused-no-request-is-sent"


def _openai(http: Any) -> Any:
    import openai

    return openai.OpenAI(
        api_key=_KEY, base_url="https://api.openai.com/v1", http_client=http, max_retries=0
    )


def _responses(http: Any, params: dict[str, Any]) -> object:
    return _openai(http).responses.create(**params)


def _chat(http: Any, params: dict[str, Any]) -> object:
    return _openai(http).chat.completions.create(**params)


def _messages(http: Any, params: dict[str, Any]) -> object:
    import anthropic

    client = anthropic.Anthropic(
        api_key=_KEY, base_url="https://api.anthropic.com", http_client=http, max_retries=0
    )
    create = cast("Callable[..., object]", client.messages.create)
    return create(**params)


def _generate(http: Any, params: dict[str, Any]) -> object:
    from google import genai
    from google.genai import types

    options = types.HttpOptions(
        base_url="https://generativelanguage.googleapis.com/", httpx_client=http
    )
    client = genai.Client(api_key=_KEY, http_options=options)
    return client.models.generate_content(**params)  # pyright: ignore[reportUnknownMemberType]


_CALLS: dict[str, Callable[[Any, dict[str, Any]], object]] = {
    "openai": _responses,
    "openai-chat": _chat,
    "anthropic": _messages,
    "gemini": _generate,
}
