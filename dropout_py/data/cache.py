"""Where dropout_py keeps downloaded files (one per-user cache directory), and their digests.

``DROPOUT_PY_CACHE`` overrides the location; otherwise the platform's usual user cache folder is
used (``$XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS,
``%LOCALAPPDATA%`` on Windows).
"""

from __future__ import annotations

import hashlib
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


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Return the hex sha256 of the file at ``path``, read in 1 MiB blocks.

    The one file digest of the project: downloads, the web bundle, the vendored Pyodide files
    and the wheel are all checked with it.
    """
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()
