"""Saving and loading trained networks as ``.npz`` files, shared by both engines.

A model file is a plain NumPy ``.npz`` archive (no pickle) holding the weight arrays plus three
entries: ``__format__`` (an integer version), ``__kind__`` (the class name) and ``__config__``
(the constructor settings as JSON). Files are written to a temporary name in the same folder and
moved into place only when complete, so a crash never leaves half a model under the real name.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

FORMAT_VERSION = 1
_META = ("__format__", "__kind__", "__config__")


def save_npz(
    path: str | os.PathLike[str],
    *,
    kind: str,
    config: dict[str, Any],
    arrays: dict[str, np.ndarray],
) -> Path:
    """Write ``arrays`` and their ``config`` to ``path`` atomically; return the path.

    Parameters
    ----------
    path : path-like
        Destination, used exactly as given (no suffix is added).
    kind : str
        Name of the model class, checked again on load.
    config : dict
        JSON-serialisable constructor settings.
    arrays : dict of str to numpy.ndarray
        The learned parameters.
    """
    path = Path(path)
    payload = {
        "__format__": np.array(FORMAT_VERSION),
        "__kind__": np.array(kind),
        "__config__": np.array(json.dumps(config, sort_keys=True)),
        **arrays,
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **payload)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def load_npz(
    path: str | os.PathLike[str], *, kind: str | None = None
) -> tuple[str, dict[str, Any], dict[str, np.ndarray]]:
    """Read a model file written by :func:`save_npz`.

    Parameters
    ----------
    path : path-like
    kind : str, optional
        If given, the file must hold a model of this class.

    Returns
    -------
    (kind, config, arrays)

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a dropout_py model, has another format version or kind, or holds
        non-finite or non-numeric parameters.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no model file at {path}")
    try:
        with open(path, "rb") as file:
            loaded = np.load(file, allow_pickle=False)
            if not isinstance(loaded, np.lib.npyio.NpzFile):
                raise ValueError("a single array, not an archive")
            with loaded as archive:
                data = {name: archive[name] for name in archive.files}
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise ValueError(f"{path}: not a readable .npz model file ({exc})") from None
    missing = [m for m in _META if m not in data]
    if missing:
        raise ValueError(f"{path}: not a dropout_py model file (missing {', '.join(missing)})")
    version = int(data.pop("__format__"))
    if version != FORMAT_VERSION:
        raise ValueError(
            f"{path}: model format {version} is not supported (this version reads format "
            f"{FORMAT_VERSION})"
        )
    found_kind = str(data.pop("__kind__"))
    if kind is not None and found_kind != kind:
        raise ValueError(f"{path}: holds a {found_kind}, not a {kind}")
    try:
        config = json.loads(str(data.pop("__config__")))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: corrupt model configuration ({exc})") from None
    for name, array in data.items():
        if array.dtype.kind not in "fiu" or not np.all(np.isfinite(array)):
            raise ValueError(f"{path}: parameter {name!r} is not a finite numeric array")
    return found_kind, config, data


def rebuild(path: str | os.PathLike[str], cls: type, config: dict[str, Any], arrays: dict) -> Any:
    """Construct ``cls(**config)`` and check the file's ``arrays`` against the new model.

    The model class provides ``_arrays()``, the parameters it saves by name; every one must be in
    the file with the same shape. The caller then copies the arrays into the model.

    Raises
    ------
    ValueError
        If the settings do not construct a model, or a parameter is missing or mis-shaped.
    """
    try:
        model = cls(**config, seed=0)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: invalid settings in model file ({exc})") from None
    for name, current in model._arrays().items():
        array = arrays.get(name)
        if not isinstance(array, np.ndarray):
            raise ValueError(f"{path}: parameter {name!r} is missing")
        if array.shape != current.shape:
            raise ValueError(
                f"{path}: parameter {name!r} has shape {array.shape}, expected {current.shape}"
            )
    return model
