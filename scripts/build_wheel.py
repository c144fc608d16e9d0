"""Build the ``dropout_py`` wheel from the repository and write the site's ``pyodide-lock.json``.

The wheel is pure Python, so the ordinary ``python -m build --wheel`` makes it (no
``pyodide build`` needed, which cannot run offline). It is cached under ``.cache/wheel/``, keyed
by a digest of the package sources and ``pyproject.toml``, so a site rebuild only rebuilds the
wheel after the package changed.

The site's lock is the official Pyodide lock cut down to the packages the site hosts, plus one
entry for ``dropout_py`` whose dependencies are read from the wheel's metadata and evaluated for
Pyodide (``threadpoolctl`` carries ``sys_platform != 'emscripten'`` and drops out). With that
entry ``loadPackage("dropout_py")`` and ``loadPackagesFromImports`` find the wheel offline.
"""

from __future__ import annotations

import email.parser
import hashlib
import importlib.util
import json
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from pyodide_lock import PyodideLockSpec
from pyodide_lock.spec import PackageSpec

from dropout_py.data.cache import file_sha256

REPO = Path(__file__).resolve().parent.parent

#: The marker environment of Pyodide 0.27 (Python 3.12, emscripten 3.1.58, wasm32).
PYODIDE_MARKERS = {
    "implementation_name": "cpython",
    "implementation_version": "3.12.7",
    "os_name": "posix",
    "platform_machine": "wasm32",
    "platform_release": "3.1.58",
    "platform_system": "Emscripten",
    "platform_version": "#1",
    "python_full_version": "3.12.7",
    "platform_python_implementation": "CPython",
    "python_version": "3.12",
    "sys_platform": "emscripten",
}


def source_digest(repo: Path = REPO) -> str:
    """Return a sha256 over the package's source files and ``pyproject.toml`` (names + bytes)."""
    digest = hashlib.sha256()
    files = sorted((repo / "dropout_py").rglob("*"))
    files = [f for f in files if f.is_file() and "__pycache__" not in f.parts]
    for path in [repo / "pyproject.toml", *files]:
        digest.update(path.relative_to(repo).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def build_wheel(repo: Path = REPO, cache: Path | None = None) -> Path:
    """Return the path of a wheel built from the current sources (cached by source digest)."""
    cache = cache if cache is not None else repo / ".cache" / "wheel"
    key = source_digest(repo)[:16]
    folder = cache / key
    wheels = sorted(folder.glob("dropout_py-*.whl"))
    if wheels:
        return wheels[0]
    command = [sys.executable, "-m", "build", "--wheel", str(repo)]
    if importlib.util.find_spec("hatchling") is not None:
        command.append("--no-isolation")  # no download of the build backend
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        proc = subprocess.run([*command, "--outdir", tmp], capture_output=True, text=True)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{proc.stdout}{proc.stderr}")
        built = sorted(Path(tmp).glob("dropout_py-*.whl"))
        if len(built) != 1:
            raise RuntimeError(f"expected one dropout_py wheel from {command}, got {built}")
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir()
        shutil.move(built[0], folder / built[0].name)
    for old in cache.iterdir():  # keep only the current build
        if old.is_dir() and old != folder:
            shutil.rmtree(old, ignore_errors=True)
    return folder / built[0].name


def _wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as zf:
        name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        return email.parser.Parser().parsestr(zf.read(name).decode())


def pyodide_depends(wheel: Path) -> list[str]:
    """Return the wheel's run-time requirements that apply inside Pyodide (canonical names)."""
    depends = []
    for line in _wheel_metadata(wheel).get_all("Requires-Dist") or []:
        req = Requirement(line)
        marker = req.marker or Marker("python_version >= '0'")
        if marker.evaluate({**PYODIDE_MARKERS, "extra": ""}):
            depends.append(canonicalize_name(req.name))
    return depends


def wheel_spec(wheel: Path) -> PackageSpec:
    """Return the lock entry for a pure-Python wheel that sits next to the lock file."""
    meta = _wheel_metadata(wheel)
    return PackageSpec(
        name=canonicalize_name(meta["Name"]),
        version=meta["Version"],
        file_name=wheel.name,
        install_dir="site",
        sha256=file_sha256(wheel),
        package_type="package",
        imports=[meta["Name"].replace("-", "_")],
        depends=pyodide_depends(wheel),
    )


def site_lock(official_lock: Path, hosted: list[str], wheel: Path | None) -> dict:
    """Return the site's lock: ``hosted`` entries of the official lock, plus the wheel if given.

    Parameters
    ----------
    official_lock : Path
        ``pyodide-lock.json`` from the Pyodide npm package.
    hosted : list of str
        Names of the official packages whose files the site serves.
    wheel : Path or None
        The ``dropout_py`` wheel served next to the lock.
    """
    spec = PyodideLockSpec.from_json(official_lock)
    packages = {name: spec.packages[name] for name in hosted}
    if wheel is not None:
        entry = wheel_spec(wheel)
        missing = [d for d in entry.depends if d not in packages]
        if missing:
            raise RuntimeError(f"{wheel.name} needs {missing}, which the site does not host")
        packages[entry.name] = entry
    trimmed = PyodideLockSpec(info=spec.info, packages=packages)
    return json.loads(trimmed.model_dump_json())


if __name__ == "__main__":
    print(build_wheel())
