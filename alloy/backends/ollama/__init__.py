"""The ``ollama`` backend (Ollama's native ``/api/chat``): the names other code may import.

>>> model_capabilities("llama3.1:8b").tools, model_capabilities("gemma3:4b").tools
(True, False)
"""

from ._models import NO_TOOLS as NO_TOOLS
from ._models import PROFILES as PROFILES
from ._models import TOOLS as TOOLS
from ._models import capabilities as model_capabilities
from .backend import OllamaBackend as OllamaBackend

__all__ = ["NO_TOOLS", "PROFILES", "TOOLS", "OllamaBackend", "model_capabilities"]
