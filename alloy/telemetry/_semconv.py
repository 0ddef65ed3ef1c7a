"""The OpenTelemetry names alloy's spans carry, kept in one place with the version they follow.

Written as literals rather than imported from ``opentelemetry-semantic-conventions``: alloy
needs only ``opentelemetry-api`` at run time, and the GenAI constants there are marked as
moved to a repository of their own. The names follow OpenTelemetry semantic conventions
``SEMCONV_VERSION`` (GenAI, development status), except the cache-write count, which takes the
newer ``cache_write`` spelling that ``opentelemetry-util-genai`` and the Anthropic SDK write
instead of ``cache_creation``. Attributes of alloy's own start with ``alloy.``.
"""

from __future__ import annotations

__all__ = [
    "CHAT",
    "GENERATE_CONTENT",
    "INVOKE_WORKFLOW",
    "EXECUTE_TOOL",
    "PROVIDER_NAMES",
    "SEMCONV_VERSION",
    "provider_name",
]

SEMCONV_VERSION = "1.44.0"
"""The semantic-conventions release these names follow (``opentelemetry-semantic-conventions``
0.66b2)."""

# Operations (``gen_ai.operation.name``), which also open the span names.
CHAT = "chat"
GENERATE_CONTENT = "generate_content"
"""Gemini's operation: its API is ``generateContent``."""
INVOKE_WORKFLOW = "invoke_workflow"
EXECUTE_TOOL = "execute_tool"

OPERATION_NAME = "gen_ai.operation.name"
PROVIDER_NAME = "gen_ai.provider.name"
WORKFLOW_NAME = "gen_ai.workflow.name"
OUTPUT_TYPE = "gen_ai.output.type"

REQUEST_MODEL = "gen_ai.request.model"
REQUEST_MAX_TOKENS = "gen_ai.request.max_tokens"
REQUEST_TEMPERATURE = "gen_ai.request.temperature"
REQUEST_STREAM = "gen_ai.request.stream"
REQUEST_REASONING_LEVEL = "gen_ai.request.reasoning.level"

RESPONSE_ID = "gen_ai.response.id"
RESPONSE_MODEL = "gen_ai.response.model"
RESPONSE_FINISH_REASONS = "gen_ai.response.finish_reasons"

USAGE_INPUT_TOKENS = "gen_ai.usage.input_tokens"
"""Inclusive of cache reads and writes, on every provider (alloy's portable count)."""
USAGE_OUTPUT_TOKENS = "gen_ai.usage.output_tokens"
"""Inclusive of reasoning tokens."""
USAGE_CACHE_READ = "gen_ai.usage.cache_read.input_tokens"
USAGE_CACHE_WRITE = "gen_ai.usage.cache_write.input_tokens"
USAGE_REASONING = "gen_ai.usage.reasoning.output_tokens"

TOOL_NAME = "gen_ai.tool.name"
TOOL_TYPE = "gen_ai.tool.type"
TOOL_CALL_ID = "gen_ai.tool.call.id"
TOOL_CALL_ARGUMENTS = "gen_ai.tool.call.arguments"
TOOL_CALL_RESULT = "gen_ai.tool.call.result"

# Content, only when capture is on.
INPUT_MESSAGES = "gen_ai.input.messages"
OUTPUT_MESSAGES = "gen_ai.output.messages"
SYSTEM_INSTRUCTIONS = "gen_ai.system_instructions"
TOOL_DEFINITIONS = "gen_ai.tool.definitions"

SERVER_ADDRESS = "server.address"
SERVER_PORT = "server.port"

ERROR_TYPE = "error.type"
HTTP_STATUS = "http.response.status_code"

CONTENT_ENV = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
"""The environment variable that turns content capture on (``true``)."""

# alloy's own: the workflow span's totals are not ``gen_ai.usage.*``, so summing the usage
# over a trace's spans counts each token once.
ATTEMPTS = "alloy.attempts"
TOOL_CALLS = "alloy.tool_calls"
FINISH = "alloy.finish"
CLOSED_EARLY = "alloy.closed_early"
TURN = "alloy.turn"
HTTP_ATTEMPTS = "alloy.http_attempts"
CACHED = "alloy.cached"
"""On a chat span answered from stored replies (a response cache, a cassette), which then
has no ``gen_ai.usage.*``: nothing was spent."""
TOTAL_INPUT_TOKENS = "alloy.usage.input_tokens"
TOTAL_OUTPUT_TOKENS = "alloy.usage.output_tokens"
CONTENT_TRUNCATED = "alloy.content_truncated"
RETRY_EVENT = "alloy.retry"
RETRY_ATTEMPT = "alloy.retry.attempt"
RETRY_WAIT = "alloy.retry.wait_s"

PROVIDER_NAMES = {
    "openai": "openai",
    "openai-chat": "openai",
    "anthropic": "anthropic",
    "gemini": "gcp.gemini",
    "ollama": "ollama",
}
"""alloy backend name → ``gen_ai.provider.name`` (the conventions have no value for Ollama;
``openai-chat`` servers speak OpenAI's API, whoever runs them)."""


def provider_name(backend: str) -> str:
    """The ``gen_ai.provider.name`` of an alloy backend (its own name when not listed)."""
    return PROVIDER_NAMES.get(backend, backend)
