"""Commands pickle by reference, as functions do: by module and qualified name.

A pickled command holds where it is defined, the layer ``with_config`` put on it, and for a
command read from an instance, that instance: never the function, its tools or its
decorator options, which the process that unpickles it gets by importing the module. So a
command must be defined at module level (or in a class at module level); one made inside a
function has no name to be found by, and refuses to pickle. A ``with_config`` layer that
holds a key refuses too (see ``refuse_secrets``): keys belong in the environment of the
process that makes the call.
"""

from __future__ import annotations

import importlib
import inspect
import pickle
from collections.abc import Callable
from typing import Any
from typing import cast

__all__ = ["address", "find"]


def address(fn: Callable[..., Any], where: str) -> tuple[str, str]:
    """The module and qualified name another process finds the command of ``fn`` by
    (``where`` names the command); ``PicklingError`` when there is none."""
    module = getattr(fn, "__module__", None)
    name: str = getattr(fn, "__qualname__", "")
    if not module or "<locals>" in name.split("."):
        raise pickle.PicklingError(
            f"{where} cannot be pickled: it is defined inside a function, so another process "
            "cannot import it. Define it at module level."
        )
    try:
        found = find(module, name)
    except (ImportError, AttributeError):
        found = None
    if getattr(found, "__wrapped__", None) is not fn:
        raise pickle.PicklingError(
            f"{where} cannot be pickled: {module}.{name} is not this command, so another "
            "process would not find it. Define it at module level under its own name."
        )
    return module, name


def find(module: str, name: str) -> object:
    """What ``module`` defines as ``name`` (dotted, for a class attribute)."""
    # Static look-ups: in a class, the command itself, not the copy bound by ``__get__``
    # (``staticmethod`` and ``classmethod`` unwrapped).
    found: object = importlib.import_module(module)
    for part in name.split("."):
        found = inspect.getattr_static(found, part)
        if isinstance(found, staticmethod | classmethod):
            found = cast("object", found.__func__)
    return found
