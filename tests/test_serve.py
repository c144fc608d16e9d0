"""scripts/serve.py over real HTTP on 127.0.0.1: MIME types, gzip, caching, isolation, and an
answer to every request."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import random
import socket
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from scripts import serve

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


def raw_status(base: str, path: str) -> int | str:
    """The status of a GET sent as is (no client-side quoting), or why there was none."""
    host, port = base.removeprefix("http://").rstrip("/").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException) as exc:
        return f"no response ({exc!r})"
    finally:
        connection.close()


def test_every_request_gets_an_answer(site: Path) -> None:
    (site / "loop-a").symlink_to("loop-b")
    (site / "loop-b").symlink_to("loop-a")
    (site / "self").symlink_to("self")
    cases = {
        "/loop-a": 404,
        "/self/index.html": 404,
        "/%00": 400,
        "/index.html%00.js": 400,
        "/%0d%0aSet-Cookie:x": 400,
        "/" + "a" * 5000: 414,
        "/" + "a/" * 300 + "b": 404,  # under the length limit, but too deep for the file system
        "/" + "a" * 300: 404,  # one name longer than the file system allows
        "/%ff%fe": 404,
        "/index.html": 200,
    }
    with serve.serving(site) as (base, _):
        got = {path: raw_status(base, path) for path in cases}
    assert got == cases


def test_unexpected_failures_answer_500(site: Path) -> None:
    class Broken(dict):
        def get(self, *args):
            raise RuntimeError("a bug")

    with serve.serving(site, mime_types=Broken()) as (base, _):
        assert raw_status(base, "/index.html") == 500
        assert raw_status(base, "/missing") == 404  # the server lives on


def test_idle_connections_are_closed(site: Path) -> None:
    with serve.serving(site, timeout=0.5) as (base, _):
        host, port = base.removeprefix("http://").rstrip("/").split(":")
        started = time.monotonic()
        with socket.create_connection((host, int(port)), timeout=10) as idle:
            assert idle.recv(1) == b""  # closed by the server, not by our timeout
        assert time.monotonic() - started < 5
        assert raw_status(base, "/index.html") == 200
    assert serve.SiteServer.request_queue_size >= 64


def test_the_gzip_cache_stays_within_its_budget(site: Path) -> None:
    rng = random.Random(0)
    text = " ".join(f"word{rng.randrange(5000)}" for i in range(200_000)).encode()  # 1.8 MB
    cache = serve._Gzipped(max_bytes=500_000)
    with serve.serving(site, gzipped=cache) as (base, _):
        for rebuild in range(30):
            (site / "big.js").write_bytes(text + f"// build {rebuild}".encode())
            os.utime(site / "big.js", ns=(rebuild * 10**9, rebuild * 10**9))
            body = fetch(base + "big.js", **{"Accept-Encoding": "gzip"})[2]
            assert gzip.decompress(body).endswith(f"// build {rebuild}".encode())
        assert sum("big.js" in name for name in cache._cache) == 1  # old builds were dropped
        assert cache.bytes < 500_000
        for i in range(20):
            (site / f"f{i}.js").write_bytes(text[: 100_000 * (i + 1)])
            fetch(base + f"f{i}.js", **{"Accept-Encoding": "gzip"})
            assert cache.bytes <= 500_000
        assert "f19.js" in next(reversed(cache._cache))  # most recent kept, oldest dropped
        assert not any("big.js" in name for name in cache._cache)


def test_pages_and_scripts_carry_their_content_security_policy(site: Path) -> None:
    policy = "default-src 'self'; script-src 'self' 'sha256-abc='"
    (site / "index.html").write_text(
        f'<html><head><meta http-equiv="Content-Security-Policy" content="{policy}">'
        "</head><body>home</body></html>"
    )
    worker = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'"
    (site / "assets" / "dropout").mkdir(parents=True)
    (site / "assets" / "dropout" / "csp.json").write_text(json.dumps({"worker": worker}))
    with serve.serving(site) as (base, _):
        page = fetch(base + "index.html", **{"Accept-Encoding": "gzip"})[1]
        script = fetch(base + "pyodide/pyodide.mjs")[1]
        wasm = fetch(base + "pyodide/pyodide.asm.wasm")[1]
        plain = fetch(base + "demo/")[1]
    assert page["Content-Security-Policy"] == f"{policy}; frame-ancestors 'self'"
    assert script["Content-Security-Policy"] == worker
    assert "Content-Security-Policy" not in wasm
    assert "Content-Security-Policy" not in plain  # a page without a policy gets none
