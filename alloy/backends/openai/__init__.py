"""The OpenAI backends, over one SDK: ``openai`` (the Responses API, ``responses.py``) and
``openai-chat`` (Chat Completions, also for OpenAI-compatible servers, ``chat.py``)."""

from ._shared import CAPABILITY_TABLE as CAPABILITY_TABLE
from .chat import OpenAIChatBackend as OpenAIChatBackend
from .responses import OpenAIBackend as OpenAIBackend

__all__ = ["CAPABILITY_TABLE", "OpenAIBackend", "OpenAIChatBackend"]
