"""Writing files safely: unique temporary names, atomic replacement, stale leftovers removed.

Every file the package writes goes first to a temporary name next to its target,
``.<target name>.<pid>-<random>.<suffix>``, unique per writer, so two writers never share a
temporary file; :func:`os.replace` then moves it into place in one step. A process killed
mid-write leaves its temporary file behind: the next write to the same target (or the next
fetch into the cache) removes such leftovers once they are :data:`STALE_SECONDS` old, an age
no live writer reaches.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import stat
import time
from collections.abc import Iterator
from pathlib import Path

STALE_SECONDS = 3600.0


def temporary_path(target: Path, suffix: str = ".tmp") -> Path:
    """Return a fresh temporary path next to ``target``, unique to this writer."""
    return target.with_name(f".{target.name}.{os.getpid()}-{secrets.token_hex(6)}{suffix}")


@contextlib.contextmanager
def replacing(path: str | os.PathLike[str], suffix: str = ".tmp") -> Iterator[Path]:
    """Yield a temporary path to write; on success it replaces ``path``, else it is removed.

    The new file keeps the permission bits of the file it replaces; a new file gets the usual
    ``0o666`` minus the umask. Stale temporary files of the same target are removed first.

    Parameters
    ----------
    path : path-like
        The file to write (its folder must exist).
    suffix : str
        Ending of the temporary name.
    """
    target = Path(path)
    remove_stale(target.parent, f".{glob.escape(target.name)}.*{suffix}")
    tmp = temporary_path(target, suffix)
    try:
        yield tmp
        with contextlib.suppress(FileNotFoundError):
            os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
        os.replace(tmp, target)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


def remove_stale(folder: Path, pattern: str, *, age: float = STALE_SECONDS) -> list[Path]:
    """Remove the entries of ``folder`` matching ``pattern`` not modified for ``age`` seconds.

    Folders are removed with their contents. Entries that vanish or resist removal meanwhile
    are skipped (another process may be cleaning up too).

    Returns
    -------
    list of pathlib.Path
        What was removed.
    """
    removed = []
    cutoff = time.time() - age
    with contextlib.suppress(OSError):
        candidates = sorted(folder.glob(pattern))
        for entry in candidates:
            try:
                info = entry.lstat()
                if info.st_mtime > cutoff:
                    continue
                if stat.S_ISDIR(info.st_mode):
                    shutil.rmtree(entry)
                else:
                    entry.unlink()
            except OSError:
                continue
            removed.append(entry)
    return removed
