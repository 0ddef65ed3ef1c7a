"""Finding an optional backend protocol inside the wrappers around a backend.

Wrappers (``alloy.backends.WrapperBackend``, alloy's retries and guard, a user's own) hold
the backend they wrap as ``inner``. An optional protocol such as ``Uploader`` is the
provider backend's, so callers look for it from the outermost wrapper inward, by its
methods: the core reaches the backends package only through planning.
"""

from __future__ import annotations

from typing import Any

__all__ = ["inner_with"]


def inner_with(backend: object, *methods: str) -> Any:
    """The first backend, from ``backend`` inward through the wrappers' ``inner``, that has
    every one of ``methods``, or None."""
    current: object = backend
    for _ in range(32):  # wrappers nest a few deep; a cycle must not hang
        if all(callable(getattr(current, name, None)) for name in methods):
            return current
        current = getattr(current, "inner", None)
        if current is None:
            return None
    return None
