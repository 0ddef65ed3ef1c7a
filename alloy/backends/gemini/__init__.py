"""The ``gemini`` backend: Google's Gemini API through the official ``google-genai`` SDK.

``backend`` holds the class; ``_encode``, ``_decode``, ``_stream`` and ``_errors`` what it
sends, reads and raises; ``_models`` what each model family can do.
"""

from ._models import PROFILES as PROFILES
from .backend import GeminiBackend as GeminiBackend

__all__ = ["PROFILES", "GeminiBackend"]
