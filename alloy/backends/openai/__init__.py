"""The OpenAI backends, over one SDK: ``openai`` (the Responses API, ``responses.py``) and
``openai-chat`` (Chat Completions, also for OpenAI-compatible servers, ``chat.py``).

What both share (the backend class, clients, schema blocks) is in ``_shared.py``, the
exception translation in ``_errors.py``, the model table in ``_models.py``, and the raw
server-sent-event reading in ``_sse.py``, with one stream decoder per API.
"""

from ._models import PROFILES as PROFILES
from .chat import OpenAIChatBackend as OpenAIChatBackend
from .responses import OpenAIBackend as OpenAIBackend

__all__ = ["PROFILES", "OpenAIBackend", "OpenAIChatBackend"]
