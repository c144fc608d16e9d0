"""Serve the built site the way the cells need it: ``python scripts/serve.py [--port 8000]``.

What a plain ``python -m http.server`` gets wrong for this site, and what this server does:

* MIME types: ``.wasm`` as ``application/wasm`` (otherwise Pyodide cannot start), ``.mjs``/``.js``
  as ``text/javascript``; ``.gz``, ``.whl`` and ``.zip`` as ``application/octet-stream`` with no
  ``Content-Encoding`` header, so the browser hands the gzip MNIST files to Python untouched;
* ``Cross-Origin-Opener-Policy: same-origin`` and ``Cross-Origin-Embedder-Policy: require-corp``,
  which make the page cross-origin isolated: the Stop button can then interrupt Python and keep
  its variables (``--no-isolation`` leaves them out, to try the fallback);
* ``Content-Security-Policy`` headers: each page's own policy (the ``<meta>`` that
  ``hooks/csp.py`` puts in it, plus ``frame-ancestors``, which a ``<meta>`` cannot carry), and
  with every script the workers' policy from ``assets/dropout/csp.json`` (a worker obeys the
  policy its script comes with, not the page's);
* HTTP caching: every response has ``ETag``, ``Last-Modified`` and ``Cache-Control: no-cache``,
  so a second visit revalidates and gets ``304 Not Modified`` instead of the bytes, and a rebuilt
  site is never served stale;
* compression of the files that shrink (the 10 MB ``pyodide.asm.wasm`` goes over the wire as
  3 MB), done once per file and kept in memory, as static hosts do (at most ``GZIP_CACHE_BYTES``,
  least recently used copies dropped first, so rebuilding the site does not grow it);
* every request gets an answer: 400 for a path with control characters (``/%00``), 414 for an
  overlong one, 404 for anything that cannot be served (outside the root, a symlink loop), 500
  (with the traceback in the log) if something unexpected breaks; an idle connection is closed
  after ``READ_TIMEOUT`` seconds, and pending connections queue up to ``LISTEN_BACKLOG``.

The server also counts the bytes it sends (``SiteHandler.sent``), for the tests and benchmarks.
"""

from __future__ import annotations

import argparse
import email.utils
import gzip
import hashlib
import http.server
import json
import os
import re
import threading
import traceback
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

REPO = Path(__file__).resolve().parent.parent

MIME_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".wasm": "application/wasm",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".xml": "application/xml",
    ".txt": "text/plain; charset=utf-8",
    ".py": "text/plain; charset=utf-8",
    ".inv": "application/octet-stream",
    ".gz": "application/octet-stream",
    ".whl": "application/octet-stream",
    ".zip": "application/octet-stream",
}
#: Never compressed on the fly: already compressed, or must reach the page byte for byte.
NO_COMPRESSION = {".gz", ".whl", ".png", ".inv"}
MIN_SAVING = 0.9  # keep the gzip copy only if it is under 90 % of the original
GZIP_CACHE_BYTES = 64 * 2**20  # the site's compressible files take about 15 MB gzipped
MAX_PATH = 2048  # characters of a request path; longer gets 414
READ_TIMEOUT = 30.0  # seconds a connection may stay silent
LISTEN_BACKLOG = 128
POLICY_FILE = "assets/dropout/csp.json"  # written by hooks/csp.py
CSP_META = re.compile(r'<meta http-equiv="Content-Security-Policy" content="([^"]*)"')


class _Gzipped:
    """Gzip copies of files, made once per (path, size, mtime) and shared by all threads.

    At most ``max_bytes`` of copies are kept; the least recently used go first, and a file's
    copy is dropped as soon as the file changes.
    """

    def __init__(self, max_bytes: int = GZIP_CACHE_BYTES) -> None:
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, tuple[tuple[int, int], bytes | None]] = OrderedDict()
        self.bytes = 0

    def get(self, path: Path, stat: os.stat_result) -> bytes | None:
        name, version = str(path), (stat.st_size, stat.st_mtime_ns)
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None and cached[0] == version:
                self._cache.move_to_end(name)
                return cached[1]
            raw = path.read_bytes()
            packed = gzip.compress(raw, compresslevel=6, mtime=0)
            packed = packed if len(packed) < MIN_SAVING * len(raw) else None
            self._store(name, version, packed)
            return packed

    def _store(self, name: str, version: tuple[int, int], packed: bytes | None) -> None:
        old = self._cache.pop(name, None)
        if old is not None and old[1] is not None:
            self.bytes -= len(old[1])
        size = len(packed) if packed is not None else 0
        if size > self.max_bytes:
            return  # compressed for this answer only
        self._cache[name] = (version, packed)
        self.bytes += size
        while self.bytes > self.max_bytes:
            _, (_, dropped) = self._cache.popitem(last=False)
            self.bytes -= len(dropped) if dropped is not None else 0


class SiteHandler(http.server.BaseHTTPRequestHandler):
    """GET/HEAD of static files below ``root``, with the headers described in the module doc."""

    root: Path = REPO / "site"
    isolate: bool = True
    compress: bool = True
    mime_types: dict[str, str] = MIME_TYPES
    gzipped = _Gzipped()
    worker_policy: str | None = None  # from the site's assets/dropout/csp.json
    sent = 0  # body bytes sent by all handlers of this class (reset by the caller)
    quiet = True

    def log_message(self, format: str, *args: object) -> None:
        if not self.quiet:
            super().log_message(format, *args)

    timeout = READ_TIMEOUT  # socketserver applies it to the connection: idle ones are closed

    def do_GET(self) -> None:
        self._answer(body=True)

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def _answer(self, *, body: bool) -> None:
        """Serve the request; whatever goes wrong, the client still gets a status line."""
        self._headers_sent = False
        try:
            self._serve(body=body)
        except (ConnectionError, TimeoutError):
            self.close_connection = True  # the client went away: nobody to answer
        except Exception:
            self.log_error("%s", traceback.format_exc())
            self.close_connection = True
            if not self._headers_sent:
                self._headers_buffer = []  # drop a half-built answer: nothing went out yet
                self._send_plain(500, "internal server error")

    def end_headers(self) -> None:
        self._headers_sent = True
        super().end_headers()

    _headers_sent = False

    def _resolve(self) -> Path | None:
        """The file to serve, or None when there is none (missing, outside the root, a loop)."""
        rel = unquote(urlsplit(self.path).path).lstrip("/")
        try:
            path = (self.root / rel).resolve()
            if not path.is_relative_to(self.root.resolve()):
                return None
            if path.is_dir():
                if not self.path.split("?")[0].endswith("/"):
                    return path  # redirected in _serve
                path = path / "index.html"
            return path if path.is_file() else None
        except (OSError, RuntimeError):  # too long for the file system, a symlink loop
            return None

    def _serve(self, *, body: bool) -> None:
        if len(self.path) > MAX_PATH:
            return self._send_plain(414, "request path too long")
        decoded = unquote(urlsplit(self.path).path)
        if any(ord(c) < 32 or ord(c) == 127 for c in decoded):
            return self._send_plain(400, "control characters in the request path")
        path = self._resolve()
        if path is None:
            return self._send_plain(404, "not found")
        if path.is_dir():
            self.send_response(301)
            self.send_header("Location", urlsplit(self.path).path + "/")
            self.send_header("Content-Length", "0")
            return self.end_headers()
        stat = path.stat()
        data, encoding = self._payload(path, stat)
        etag = '"{}{}"'.format(
            hashlib.sha1(f"{stat.st_size}-{stat.st_mtime_ns}".encode()).hexdigest()[:16],
            "-gz" if encoding else "",
        )
        if self._not_modified(etag, stat):
            self.send_response(304)
            self._common_headers(etag, stat, encoding)
            return self.end_headers()
        self.send_response(200)
        self._common_headers(etag, stat, encoding)
        policy = self._policy(path)
        if policy:
            self.send_header("Content-Security-Policy", policy)
        self.send_header("Content-Type", self._mime(path))
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            type(self).sent += len(data)  # counted first: a client may read it before we return
            self.wfile.write(data)

    def _payload(self, path: Path, stat: os.stat_result) -> tuple[bytes, str | None]:
        accepts_gzip = "gzip" in self.headers.get("Accept-Encoding", "")
        if self.compress and accepts_gzip and path.suffix not in NO_COMPRESSION:
            packed = self.gzipped.get(path, stat)
            if packed is not None:
                return packed, "gzip"
        return path.read_bytes(), None

    def _mime(self, path: Path) -> str:
        return self.mime_types.get(path.suffix.lower(), "application/octet-stream")

    def _not_modified(self, etag: str, stat: os.stat_result) -> bool:
        tags = self.headers.get("If-None-Match")
        if tags is not None:
            return etag in [t.strip() for t in tags.split(",")] or tags.strip() == "*"
        since = self.headers.get("If-Modified-Since")
        if since is None:
            return False
        try:
            return int(stat.st_mtime) <= email.utils.parsedate_to_datetime(since).timestamp()
        except (TypeError, ValueError):
            return False

    def _policy(self, path: Path) -> str | None:
        """The Content-Security-Policy to send with ``path`` (None: none)."""
        if path.suffix in (".js", ".mjs"):
            return self.worker_policy
        if path.suffix != ".html":
            return None
        with open(path, "rb") as page:
            meta = CSP_META.search(page.read(4096).decode("utf-8", "replace"))
        return None if meta is None else f"{meta.group(1)}; frame-ancestors 'self'"

    def _common_headers(self, etag: str, stat: os.stat_result, encoding: str | None) -> None:
        self.send_header("ETag", etag)
        self.send_header("Last-Modified", email.utils.formatdate(stat.st_mtime, usegmt=True))
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Vary", "Accept-Encoding")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        if self.isolate:
            self.send_header("Cross-Origin-Opener-Policy", "same-origin")
            self.send_header("Cross-Origin-Embedder-Policy", "require-corp")

    def _send_plain(self, code: int, text: str) -> None:
        data = text.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)


class SiteServer(http.server.ThreadingHTTPServer):
    """A thread per connection (daemon threads), a longer listen queue than the default 5."""

    request_queue_size = LISTEN_BACKLOG
    daemon_threads = True


def handler_class(root: Path, *, isolate: bool = True, **overrides: object) -> type[SiteHandler]:
    """Return a handler class serving ``root`` (its own byte counter and gzip cache).

    Parameters
    ----------
    root : Path
        The built site.
    isolate : bool
        Send the COOP/COEP headers (cross-origin isolation, needed for interrupting Python).
    **overrides
        Other class attributes, e.g. ``mime_types={**MIME_TYPES, ".wasm": "text/plain"}``.
    """
    attrs = {
        "root": Path(root),
        "isolate": isolate,
        "gzipped": _Gzipped(),
        "sent": 0,
        "worker_policy": _worker_policy(Path(root)),
        **overrides,
    }
    return type("Handler", (SiteHandler,), attrs)


def _worker_policy(root: Path) -> str | None:
    try:
        return json.loads((root / POLICY_FILE).read_text(encoding="utf-8"))["worker"]
    except (OSError, ValueError, KeyError, TypeError):
        return None


def warm(handler: type[SiteHandler]) -> None:
    """Compress the big compressible files now rather than on the first request."""
    if not handler.compress:
        return
    for path in handler.root.rglob("*"):
        if path.is_file() and path.suffix not in NO_COMPRESSION and path.stat().st_size > 100_000:
            handler.gzipped.get(path, path.stat())


@contextmanager
def serving(
    root: Path, *, port: int = 0, isolate: bool = True, **overrides: object
) -> Iterator[tuple[str, type[SiteHandler]]]:
    """Serve ``root`` on 127.0.0.1 in a background thread; yield ``(base_url, handler class)``."""
    handler = handler_class(root, isolate=isolate, **overrides)
    warm(handler)
    server = SiteServer(("127.0.0.1", port), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/", handler
    finally:
        server.shutdown()
        server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the built dropout_py site.")
    parser.add_argument("--dir", type=Path, default=REPO / "site", help="the built site")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-isolation", action="store_true", help="omit COOP/COEP headers")
    parser.add_argument("--no-gzip", action="store_true", help="send every file uncompressed")
    args = parser.parse_args()
    if not (args.dir / "index.html").is_file():
        parser.error(f"{args.dir} has no index.html; build the site first (make site)")
    handler = handler_class(
        args.dir, isolate=not args.no_isolation, compress=not args.no_gzip, quiet=False
    )
    warm(handler)
    server = SiteServer((args.host, args.port), handler)
    print(f"Serving {args.dir} at http://{args.host}:{args.port}/ (Ctrl+C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
