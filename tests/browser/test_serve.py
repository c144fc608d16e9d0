"""scripts/serve.py over real HTTP on 127.0.0.1: MIME types, gzip, caching, isolation."""

from __future__ import annotations

import gzip
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from site_helpers import serve

WASM = b"\0asm" + bytes(200_000)  # compressible, like the real one


@pytest.fixture
def site(tmp_path: Path) -> Path:
    (tmp_path / "pyodide").mkdir()
    (tmp_path / "pyodide" / "pyodide.asm.wasm").write_bytes(WASM)
    (tmp_path / "pyodide" / "pyodide.mjs").write_text("export {};\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(b"x" * 5000))
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "index.html").write_text("<p>demo</p>")
    (tmp_path / "index.html").write_text("<p>home</p>")
    return tmp_path


def fetch(url: str, **headers: str):
    request = urllib.request.Request(url, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def test_mime_types_and_isolation_headers(site: Path) -> None:
    with serve.serving(site) as (base, _):
        status, headers, body = fetch(base + "pyodide/pyodide.asm.wasm")
        assert (status, headers["Content-Type"], body) == (200, "application/wasm", WASM)
        assert fetch(base + "pyodide/pyodide.mjs")[1]["Content-Type"].startswith("text/javascript")
        assert headers["Cross-Origin-Opener-Policy"] == "same-origin"
        assert headers["Cross-Origin-Embedder-Policy"] == "require-corp"
    with serve.serving(site, isolate=False) as (base, _):
        headers = fetch(base + "index.html")[1]
        assert "Cross-Origin-Embedder-Policy" not in headers


def test_gzip_data_files_are_sent_as_they_are(site: Path) -> None:
    raw = (site / "data" / "t10k-labels-idx1-ubyte.gz").read_bytes()
    with serve.serving(site) as (base, _):
        _, headers, body = fetch(
            base + "data/t10k-labels-idx1-ubyte.gz", **{"Accept-Encoding": "gzip"}
        )
    assert headers["Content-Type"] == "application/octet-stream"
    assert "Content-Encoding" not in headers
    assert body == raw


def test_compressible_files_are_gzipped_for_clients_that_accept_it(site: Path) -> None:
    with serve.serving(site) as (base, handler):
        _, headers, body = fetch(base + "pyodide/pyodide.asm.wasm", **{"Accept-Encoding": "gzip"})
        assert headers["Content-Encoding"] == "gzip"
        assert gzip.decompress(body) == WASM
        assert handler.sent == len(body) < len(WASM) / 10


def test_second_request_revalidates_to_304(site: Path) -> None:
    with serve.serving(site) as (base, handler):
        _, headers, _ = fetch(base + "pyodide/pyodide.asm.wasm")
        assert headers["Cache-Control"] == "no-cache"
        handler.sent = 0
        status, _, body = fetch(
            base + "pyodide/pyodide.asm.wasm", **{"If-None-Match": headers["ETag"]}
        )
        assert (status, body, handler.sent) == (304, b"", 0)
        since = headers["Last-Modified"]
        assert fetch(base + "pyodide/pyodide.asm.wasm", **{"If-Modified-Since": since})[0] == 304
        (site / "pyodide" / "pyodide.asm.wasm").write_bytes(WASM + b"new")
        assert (
            fetch(base + "pyodide/pyodide.asm.wasm", **{"If-None-Match": headers["ETag"]})[0] == 200
        )


def test_directories_redirect_and_nothing_outside_the_root(site: Path) -> None:
    (site.parent / "secret.txt").write_text("no")
    with serve.serving(site) as (base, _):
        assert fetch(base + "demo/")[2] == b"<p>demo</p>"
        assert fetch(base + "demo")[2] == b"<p>demo</p>"  # urllib follows the 301
        assert fetch(base + "../secret.txt")[0] == 404
        assert fetch(base + "%2e%2e/secret.txt")[0] == 404
        assert fetch(base + "missing.js")[0] == 404
