"""What each provider answers a model call whose body is over the size limit.

A scenario's ``max_request_bytes`` stands in for the providers' real limits (Anthropic
Messages 32 MB, Gemini 20 MB inline, …) at a size a test can reach. The limit is checked
before anything is taken from the script queue, as the real services reject such a
request before any model sees it.

* OpenAI: 413 with the HTML page of the Cloudflare front (not a JSON envelope; seen in
  ``openai/codex#2908``); the openai SDK raises ``APIStatusError`` with status 413.
* Anthropic: 413 ``request_too_large`` "Request exceeds the maximum size"
  (``anthropics/anthropic-sdk-python#938``); the SDK raises ``ContentTooLargeError``
  (``RequestTooLargeError`` is its old name).
* Gemini: 400 ``INVALID_ARGUMENT`` "Request payload size exceeds the limit: N bytes.";
  google-genai raises ``errors.ClientError`` with code 400.
* Ollama (``/api/chat`` and its OpenAI-compatible chat): 413 with the error envelope of the
  endpoint, saying "http: request body too large" (Go's ``http.MaxBytesReader``); the
  ollama SDK raises ``ResponseError`` with status 413.
"""

from __future__ import annotations

from ._routing import Route
from .wire import WIRES
from .wire._base import dumps
from .wire._base import html_page

__all__ = ["too_large"]

_JSON = ("content-type", "application/json")


def too_large(route: Route, limit: int) -> tuple[int, list[tuple[str, str]], bytes]:
    """``(status, headers, body)`` for a request to ``route`` over ``limit`` bytes."""
    if route.api == "ollama":
        message = "http: request body too large"
        body = WIRES[route.envelope].error_body(413, message)
        return 413, [_JSON], dumps(body).encode()
    if route.provider == "anthropic":
        error = {"type": "request_too_large", "message": "Request exceeds the maximum size"}
        body = {"type": "error", "error": error, "request_id": None}
        return 413, [_JSON], dumps(body).encode()
    if route.provider == "gemini":
        message = f"Request payload size exceeds the limit: {limit} bytes."
        body = {"error": {"code": 400, "message": message, "status": "INVALID_ARGUMENT"}}
        return 400, [_JSON], dumps(body).encode()
    page = html_page("413 Request Entity Too Large", footer="cloudflare")
    return 413, [("content-type", "text/html; charset=utf-8")], page.encode()
