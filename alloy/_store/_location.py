"""Which file the store is: an explicit path, else the ``store`` setting, else a per-user
data file. No dependency: the platform directories are three rules."""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["default_path", "store_path"]


def default_path() -> Path:
    """The per-user store file, in the platform's data directory.

    ``$XDG_DATA_HOME/alloy/alloy.db`` (``~/.local/share/alloy/alloy.db`` when it is unset) on
    Linux and other Unixes, ``~/Library/Application Support/alloy/alloy.db`` on macOS,
    ``%LOCALAPPDATA%\\alloy\\alloy.db`` on Windows.
    """
    home = Path.home()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or home / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = home / "Library" / "Application Support"
    else:
        xdg = os.environ.get("XDG_DATA_HOME", "")
        # The XDG spec: a relative value is invalid and must be ignored.
        base = Path(xdg) if os.path.isabs(xdg) else home / ".local" / "share"
    return base / "alloy" / "alloy.db"


def store_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The file a store opened with ``path`` uses: ``path`` itself; else the ``store`` setting
    (``configure(store=...)``, ``use_config``, ``ALLOY_STORE``); else ``default_path()``.

    A leading ``~`` is the home directory.
    """
    if path is None:
        from .._config import base_config

        path = base_config().store
    if path is None:
        return default_path()
    return Path(os.path.expanduser(os.fspath(path)))
