"""MkDocs hook: put everything the cells need into the built site, no other step needed.

* ``assets/dropout/``: the page script ``cells.js``, the Python worker ``worker.js`` and the
  editor chunk the page script loads after starting Python, bundled with esbuild from ``web/``
  (CodeMirror comes from ``node_modules``; ``npm ci`` runs first when ``node_modules`` is
  missing or older than ``package-lock.json``);
* ``coi-serviceworker.js`` at the site root: the service worker of the npm package
  ``coi-serviceworker``, which adds the COOP/COEP headers on hosts that send none, so that Stop
  can interrupt Python (``web/isolation.js`` registers it; it must sit at the root for its scope
  to cover every page, also when the site is served from a sub-path);
* ``pyodide/``: the Pyodide 0.27.7 core and the numpy/scipy files (``scripts/vendor_pyodide.py``,
  cached in the user cache and verified), the 10 MB ``pyodide.asm.wasm`` as
  ``pyodide.asm.wasm.gz`` (3 MB; the worker unpacks it, so no host needs to compress it or to
  know the ``.wasm`` MIME type), the ``dropout_py`` wheel built from this repository
  and a ``pyodide-lock.json`` listing exactly what the site hosts (``scripts/build_wheel.py``);
  with ``extra.cells.pyodide_cdn: true`` (or ``DROPOUT_PY_PYODIDE_CDN=1``) only the wheel, the
  lock and ``cdn-integrity.json``, since the pages then take Pyodide and its packages from the
  official CDN: that file pins every CDN file by its Subresource Integrity digest, computed from
  the verified copy vendored here (the same bytes the CDN serves), and the worker refuses any
  file from the CDN that does not match;
* ``data/mnist/``: the MNIST bundle written by ``dropout_py.mnist.export_web`` (cached in the
  user cache), or the folder named by ``DROPOUT_PY_SITE_DATA``.

All of these are added as generated files, so ``mkdocs build`` copies them like any other.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib.util
import json
import logging
import os
import shutil
import subprocess
from pathlib import Path
from types import ModuleType

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

REPO = Path(__file__).resolve().parent.parent
WEB_BUILD = REPO / ".cache" / "web"
RUNTIME_BUILD = REPO / ".cache" / "runtime"
SERVICE_WORKER = REPO / "node_modules" / "coi-serviceworker" / "coi-serviceworker.js"
ENTRIES = ("web/cells.js", "web/worker.js")
SITE_DATA_ENV = "DROPOUT_PY_SITE_DATA"
CDN_ENV = "DROPOUT_PY_PYODIDE_CDN"

log = logging.getLogger("mkdocs.hooks.site_runtime")


def load_script(name: str) -> ModuleType:
    """Import ``scripts/<name>.py`` by path (MkDocs puts only ``hooks/`` on the import path)."""
    spec = importlib.util.spec_from_file_location(
        f"dp_scripts_{name}", REPO / "scripts" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _run(command: list[str], what: str) -> None:
    proc = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise PluginError(f"{what} failed ({' '.join(command)}):\n{proc.stdout}{proc.stderr}")


def bundle_scripts() -> Path:
    """Bundle the page script and the worker into ``.cache/web/``; return that folder."""
    installed = REPO / "node_modules" / ".package-lock.json"
    lock = REPO / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        log.info("npm ci (editor and bundler)")
        _run(["npm", "ci", "--no-audit", "--no-fund"], "npm ci")
    esbuild = REPO / "node_modules" / ".bin" / "esbuild"
    shutil.rmtree(WEB_BUILD, ignore_errors=True)  # no stale chunks
    _run(
        [str(esbuild), *ENTRIES, "--bundle", "--splitting", "--format=esm", "--minify",
         "--target=es2022", "--loader:.py=text", "--chunk-names=[name]-[hash]",
         "--log-level=warning", f"--outdir={WEB_BUILD}"],
        "esbuild",
    )  # fmt: skip
    return WEB_BUILD


def use_cdn(config: MkDocsConfig) -> bool:
    """Whether pages load Pyodide from the official CDN (``extra.cells.pyodide_cdn``, env var)."""
    settings = config.extra.get("cells", {}) or {}
    return bool(settings.get("pyodide_cdn")) or os.environ.get(CDN_ENV) == "1"


def cdn_integrity(paths: list[Path]) -> dict[str, str]:
    """File name -> Subresource Integrity value (``sha384-<base64>``) of each file."""
    pins = {}
    for path in paths:
        digest = hashlib.sha384(path.read_bytes()).digest()
        pins[path.name] = "sha384-" + base64.b64encode(digest).decode("ascii")
    return pins


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """With the CDN switched on, tell the cells hook where Pyodide lives (``pyodide_url``).

    The URL (and so the Pyodide version) is written once, in ``scripts/vendor_pyodide.py``.
    """
    if use_cdn(config):
        cells = config.extra.setdefault("cells", {})
        cells["pyodide_url"] = load_script("vendor_pyodide").CDN_URL
    return config


def gzipped(path: Path) -> Path:
    """Return ``.cache/runtime/<name>.gz``, ``path`` gzipped; made again when ``path`` is newer."""
    target = RUNTIME_BUILD / f"{path.name}.gz"
    if not target.exists() or target.stat().st_mtime < path.stat().st_mtime:
        RUNTIME_BUILD.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".partial")
        partial.write_bytes(gzip.compress(path.read_bytes(), compresslevel=6, mtime=0))
        partial.replace(target)
    return target


def _add(files: Files, config: MkDocsConfig, uri: str, path: Path) -> None:
    if files.get_file_from_path(uri) is not None:
        files.remove(files.get_file_from_path(uri))
    files.append(File.generated(config, uri, abs_src_path=str(path)))


def _data_bundle() -> Path:
    """Return the folder of the MNIST web bundle, exporting it into the user cache if needed."""
    override = os.environ.get(SITE_DATA_ENV)
    if override:
        return Path(override)
    from dropout_py.data.cache import user_cache_dir
    from dropout_py.mnist import export_web

    folder = user_cache_dir("site-data", "mnist")
    export_web(folder)  # returns at once when the bundle there is already complete and verified
    return folder


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Add the bundled scripts, the Python runtime, the wheel and the data to the site."""
    web = bundle_scripts()
    for path in sorted(web.glob("*.js")):  # the two entries and their shared chunks
        _add(files, config, f"assets/dropout/{path.name}", path)
    _add(files, config, SERVICE_WORKER.name, SERVICE_WORKER)  # installed by bundle_scripts' npm ci

    vendor, wheels = load_script("vendor_pyodide"), load_script("build_wheel")
    runtime = vendor.vendor_pyodide(log=log.info)
    if not use_cdn(config):
        for path in vendor.hosted_files(runtime):
            hosted = gzipped(path) if path.name == "pyodide.asm.wasm" else path
            _add(files, config, f"pyodide/{hosted.name}", hosted)
    else:
        pins = cdn_integrity([*vendor.hosted_files(runtime), runtime / "pyodide-lock.json"])
        content = json.dumps({"indexURL": vendor.CDN_URL, "files": pins}, indent=1)
        files.append(File.generated(config, "pyodide/cdn-integrity.json", content=content))
    wheel = wheels.build_wheel()
    _add(files, config, f"pyodide/{wheel.name}", wheel)
    lock = wheels.site_lock(runtime / "pyodide-lock.json", list(vendor.MIRROR_PACKAGES), wheel)
    files.append(File.generated(config, "pyodide/pyodide-lock.json", content=json.dumps(lock)))

    data = _data_bundle()
    for path in sorted(p for p in data.rglob("*") if p.is_file()):
        _add(files, config, f"data/mnist/{path.relative_to(data).as_posix()}", path)
    return files
