"""The ``ollama`` backend (Ollama's native ``/api/chat``): the names other code may import."""

from .backend import CAPABILITY_TABLE as CAPABILITY_TABLE
from .backend import OllamaBackend as OllamaBackend
from .backend import model_capabilities as model_capabilities

__all__ = ["CAPABILITY_TABLE", "OllamaBackend", "model_capabilities"]
