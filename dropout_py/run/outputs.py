"""A run's output files: checked before training starts, rescued if writing them fails after it.

A run that trained for half an hour must not be lost to a typo in a path. So every place a run
will write is checked first, without leaving anything behind: :func:`check_file` (a file to
create or replace, e.g. ``--save``) and :func:`check_folder` (a folder to create or fill, e.g.
``--plot`` or the sweep's results). Each test writes and removes a small file where the output
will go, so it catches what permissions alone do not tell (a read-only file system, a
``/sys``-like folder, root's quirks). When writing still fails at the end (the disk filled up, the
folder vanished), :func:`rescue_path` gives a fresh file name in the cache's ``rescued`` folder
(the temporary folder if even that fails) for the caller to write to instead and report.
"""

from __future__ import annotations

import contextlib
import datetime
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

from dropout_py._files import temporary_path
from dropout_py.data.cache import user_cache_dir
from dropout_py.nn.serialization import MAX_CONFIG_CHARS, MAX_PARAMETERS
from dropout_py.run.memory import layer_sizes, parameter_count

if TYPE_CHECKING:
    from dropout_py.run.experiment import RunSettings

#: The longest JSON an epoch's record can take in a model file's history (every number at its
#: longest, e.g. ``-1.2345678901234567e-100``), and room for the settings beside the history.
_RECORD_CHARS = 280
_SETTINGS_CHARS = 2_000


class OutputWarning(UserWarning):
    """An output went to a rescue file because its own place could not be written."""


def check_file(path: str | os.PathLike[str], *, needs_bytes: int = 0) -> Path:
    """Raise ``ValueError`` unless a file can be written at ``path`` (created or replaced).

    Parameters
    ----------
    path : path-like
        The file; its folder must exist already.
    needs_bytes : int
        Free space the file needs in its folder.
    """
    target = Path(path)
    if target.is_dir():
        raise ValueError(f"{target} is a folder; name a file in it, e.g. {target / 'model.npz'}")
    folder = target.parent
    if not folder.exists():
        raise ValueError(f"the folder {folder} does not exist")
    if not folder.is_dir():
        raise ValueError(f"{folder} is not a folder")
    _check_writable(folder, needs_bytes)
    return target


def check_model_file(settings: RunSettings) -> None:
    """Raise ``ValueError`` if the model a run trains could not be loaded back from its file.

    Model files hold at most :data:`~dropout_py.nn.serialization.MAX_PARAMETERS` parameters and
    :data:`~dropout_py.nn.serialization.MAX_CONFIG_CHARS` characters of settings and history.
    """
    parameters = parameter_count(settings)
    if parameters > MAX_PARAMETERS:
        network = "-".join(map(str, layer_sizes(settings)))
        raise ValueError(
            f"a {network} network has {parameters:,} parameters; a model file holds at most "
            f"{MAX_PARAMETERS:,}, so it could not be loaded back"
        )
    most = (MAX_CONFIG_CHARS - _SETTINGS_CHARS) // _RECORD_CHARS
    if settings.epochs > most:
        raise ValueError(
            f"{settings.epochs:,} epochs of history do not fit in a model file (at most "
            f"{most:,} are sure to), so it could not be loaded back"
        )


def check_folder(path: str | os.PathLike[str], files: Iterable[str] = ()) -> Path:
    """Raise ``ValueError`` unless ``files`` can be written in the folder ``path``.

    The folder may not exist yet: then the closest folder above it that does must be writable
    (the caller creates the rest when it writes). Nothing is created here.
    """
    folder = Path(path)
    if folder.exists() and not folder.is_dir():
        raise ValueError(f"{folder} is a file, not a folder")
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise ValueError(f"{existing} is a file, so {folder} cannot be a folder")
    _check_writable(existing, 0)
    for name in files:
        if (folder / name).is_dir():
            raise ValueError(f"{folder / name} is a folder, so the file {name} cannot be written")
    return folder


def _check_writable(folder: Path, needs_bytes: int) -> None:
    probe = temporary_path(folder / "write-test", ".probe")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        raise ValueError(f"cannot write in {folder} ({exc.strerror or exc})") from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    if needs_bytes:
        free = shutil.disk_usage(folder).free
        if free < needs_bytes:
            raise ValueError(
                f"{folder} has {free / 1e6:,.1f} MB free; the file needs about "
                f"{needs_bytes / 1e6:,.1f} MB"
            )


def rescue_path(name: str) -> Path:
    """A new file name for an output that could not go where it was asked to.

    ``<cache>/rescued/<date>-<time>-<pid>-<name>`` (the cache of
    :func:`~dropout_py.data.cache.user_cache_dir`), or the same in the temporary folder if the
    cache cannot be written. The folder is created.
    """
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    for folder in (user_cache_dir("rescued"), Path(tempfile.gettempdir()) / "dropout_py-rescued"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            _check_writable(folder, 0)
        except (OSError, ValueError):
            continue
        return folder / f"{stamp}-{os.getpid()}-{name}"
    raise OSError(f"neither the cache nor {tempfile.gettempdir()} can be written")
