"""Where dropout_py keeps downloaded files: one per-user cache directory.

``DROPOUT_PY_CACHE`` overrides the location; otherwise the platform's usual user cache folder is
used (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS,
``%LOCALAPPDATA%`` on Windows).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

CACHE_ENV = "DROPOUT_PY_CACHE"


def user_cache_dir(*parts: str) -> Path:
    """Return ``<cache root>/<parts...>`` (not created).

    Parameters
    ----------
    *parts : str
        Sub-folders below the cache root, e.g. ``"mnist"``.
    """
    override = os.environ.get(CACHE_ENV)
    if override:
        root = Path(override).expanduser()
    elif sys.platform == "darwin":
        root = Path.home() / "Library" / "Caches" / "dropout_py"
    elif sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        root = Path(base) / "dropout_py" / "Cache"
    else:
        base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
        root = Path(base) / "dropout_py"
    return root.joinpath(*parts)
