"""What stock static servers send for the built site's files (the table on the Deploy page).

Every JavaScript file must come with a JavaScript MIME type; the gzipped files (the wasm core,
MNIST) must come without ``Content-Encoding``, or the browser would unpack them on the way. And
the site has no file whose extension some stock table does not know and that must be typed.
"""

from __future__ import annotations

import urllib.request
from pathlib import Path

import pytest
from static_servers import caddy, http_server, nginx

pytestmark = pytest.mark.browser

JAVASCRIPT = {"text/javascript", "application/javascript"}


def head(url: str) -> tuple[str, str | None]:
    request = urllib.request.Request(url, method="HEAD", headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=10) as response:
        mime = (response.headers.get("Content-Type") or "").split(";")[0]
        return mime, response.headers.get("Content-Encoding")


def test_the_site_has_no_mjs_and_no_wasm(site_dir: Path) -> None:
    names = [p.name for p in site_dir.rglob("*") if p.is_file()]
    assert [n for n in names if n.endswith((".mjs", ".wasm"))] == []
    assert "pyodide.asm.wasm.gz" in names and "coi-serviceworker.js" in names


@pytest.mark.parametrize("server", ["http.server", "nginx", "caddy"])
def test_stock_mime_tables_serve_the_site_right(site_dir: Path, tmp_path: Path, server) -> None:
    scripts = sorted(p.relative_to(site_dir).as_posix() for p in site_dir.rglob("*.js"))
    packed = sorted(p.relative_to(site_dir).as_posix() for p in site_dir.rglob("*.gz"))
    assert "pyodide/pyodide.asm.wasm.gz" in packed
    if server == "http.server":
        running = http_server(site_dir)
    elif server == "nginx":
        running = nginx(site_dir, tmp_path / "nginx")
    else:
        running = caddy(site_dir, tmp_path / "caddy")
    with running as started:
        base = started[0] if server == "http.server" else started
        wrong = {path: head(base + path)[0] for path in scripts}
        assert {p: t for p, t in wrong.items() if t not in JAVASCRIPT} == {}
        encoded = {path: head(base + path)[1] for path in packed}
        assert {p: e for p, e in encoded.items() if e} == {}
