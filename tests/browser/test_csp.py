"""Content-Security-Policy of the built site, output that looks like HTML, and CDN mode's pins.

The policy tests read the built pages; the browser tests load them in Chromium through
``scripts/serve.py`` (which also sends the policies as headers, so the Python worker runs under
its own policy) and fail on any violation (see the ``context`` fixture). CDN mode cannot reach
the real CDN here: its test answers the CDN's URLs from the vendored files, once as they are and
once with one byte changed.
"""

from __future__ import annotations

import base64
import hashlib
import html.parser
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from site_helpers import REPO, cell_pages

from scripts import serve, vendor_pyodide

SCRATCH = "thinning/"
SCIPY_PAGE = "network-class/"  # its first cell imports SciPy: a second Pyodide package loads
CDN = vendor_pyodide.CDN_URL  # the one place the Pyodide version is written
READY_OR_FAILED = ".dp-toolbar[data-runtime=ready], .dp-toolbar[data-runtime=failed]"
IDLE = (
    "() => !document.querySelector("
    "'.dp-cell[data-cell-state=queued], .dp-cell[data-cell-state=running]')"
)


class InlineScripts(html.parser.HTMLParser):
    """The executable inline scripts of a page and its CSP ``<meta>`` (with its position)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.scripts: list[str] = []
        self.policy: str | None = None
        self.first_in_head = False
        self._in_script = False
        self._after_head = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        attrs = dict(attrs)
        if self._after_head:
            self.first_in_head = (
                tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy"
            )
            self._after_head = False
        if tag == "head":
            self._after_head = True
        if tag == "meta" and attrs.get("http-equiv") == "Content-Security-Policy":
            self.policy = attrs["content"]
        if tag == "script" and "src" not in attrs and attrs.get("type", "") in ("", "module"):
            self._in_script = True
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def directives(policy: str) -> dict[str, list[str]]:
    parts = (d.split() for d in policy.split(";") if d.strip())
    return {name: sources for name, *sources in parts}


def sha256_source(text: str) -> str:
    return f"'sha256-{base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()}'"


def built_pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if "assets" not in p.parts)


# --- the policies in the built site ----------------------------------------------------------


def test_every_page_has_a_policy_first_that_hashes_exactly_its_inline_scripts(site_dir) -> None:
    pages = built_pages(site_dir)
    assert len(pages) >= 8
    for page in pages:
        parsed = InlineScripts()
        parsed.feed(page.read_text(encoding="utf-8"))
        assert parsed.policy is not None and parsed.first_in_head, page
        policy = directives(parsed.policy)
        hashes = [s for s in policy["script-src"] if s.startswith("'sha256-")]
        assert hashes == [sha256_source(s) for s in dict.fromkeys(parsed.scripts)], page
        assert policy["script-src"][0] == "'self'" and "'unsafe-inline'" not in policy["script-src"]
        assert "'unsafe-eval'" not in parsed.policy and "https:" not in parsed.policy
        assert policy["default-src"] == ["'self'"] and policy["object-src"] == ["'none'"]
        assert policy["worker-src"] == ["'self'"] and policy["connect-src"] == ["'self'"]


def test_the_worker_policy_allows_webassembly_and_nothing_remote(site_dir) -> None:
    worker = json.loads((site_dir / "assets" / "dropout" / "csp.json").read_text())["worker"]
    policy = directives(worker)
    assert policy["script-src"] == ["'self'", "'wasm-unsafe-eval'"]
    assert policy["connect-src"] == ["'self'"] and policy["default-src"] == ["'self'"]


# --- in the browser ---------------------------------------------------------------------------


@pytest.mark.browser
def test_no_page_logs_a_csp_violation_while_python_starts_and_a_cell_runs(
    context, server, site_dir
) -> None:
    ctx, requests = context
    base, _ = server
    cells = set(cell_pages())
    for html_file in built_pages(site_dir):
        path = html_file.parent.relative_to(site_dir).as_posix() + "/"
        path = "" if path == "./" else path
        if path.startswith("search/") or html_file.name != "index.html":
            continue
        page = ctx.new_page()
        page.goto(base + path)
        page.wait_for_load_state("load")
        if path in cells:
            page.wait_for_selector(".dp-toolbar[data-runtime=ready]")
        # All cells of every page also run under the same watch (the context fixture) in
        # test_site_browser.py; here the first cell of two pages.
        if path in (SCRATCH, SCIPY_PAGE):
            page.get_by_role("button", name="Run cell 1", exact=True).click()
            page.wait_for_function(IDLE, timeout=300_000)
            first = page.locator(".dp-cell").first
            assert first.get_attribute("data-cell-state") == "done", first.inner_text()
        page.keyboard.press("/")  # the search box (its worker loads the index)
        page.keyboard.type("dropout")
        page.wait_for_timeout(300)
        page.close()
    assert ctx.csp_violations == []
    assert requests.foreign(base) == []


@pytest.mark.browser
@pytest.mark.csp_violations_expected
def test_the_policy_refuses_an_injected_inline_handler(context, server) -> None:
    ctx, _ = context
    base, _ = server
    page = ctx.new_page()
    page.goto(base)
    page.evaluate(
        "document.body.insertAdjacentHTML('beforeend', "
        '\'<img src="missing.png" onerror="window.pwned = 1">\')'
    )
    page.wait_for_function("() => document.querySelector('img[src=\"missing.png\"]').complete")
    page.wait_for_timeout(300)
    assert page.evaluate("window.pwned") is None
    assert any("script-src" in v for v in ctx.csp_violations), ctx.csp_violations


@pytest.mark.browser
@pytest.mark.csp_violations_expected
def test_html_printed_or_returned_by_a_cell_shows_as_text_and_runs_nothing(context, server) -> None:
    ctx, _ = context
    base, _ = server
    page = ctx.new_page()
    page.goto(base + SCRATCH)
    page.wait_for_selector(".dp-toolbar[data-runtime=ready]")
    code = (
        "print('<img src=x onerror=\"window.pwned = 1\">')\n"
        "class Rich:\n"
        "    def _repr_html_(self):\n"
        '        return (\'<b class="shown">bold</b><img src=x onerror="window.pwned = 2">\'\n'
        "                '<script>window.pwned = 3</script>'\n"
        '                \'<a class="link" href=" java\\tscript:window.pwned = 4">link</a>\'\n'
        '                \'<svg onload="window.pwned = 5"><a href="javascript:1"><text>t</text>\'\n'
        "                '</a></svg><iframe srcdoc=\"<script>parent.pwned = 6</script>\">'\n"
        '                \'</iframe><meta http-equiv="refresh" content="0; url=/moved/">\')\n'
        "display(Rich())\n"
        "'<i>just text</i>'"
    )
    editor = page.locator(".dp-cell").first.locator(".cm-content")
    editor.click()
    page.keyboard.press("Control+a")
    page.keyboard.insert_text(code)
    page.get_by_role("button", name="Run cell 1", exact=True).click()
    page.wait_for_function(IDLE)
    output = page.locator(".dp-cell").first.locator(".dp-cell-output")
    assert output.locator(".dp-stdout").inner_text() == '<img src=x onerror="window.pwned = 1">\n'
    assert output.locator(".dp-result").inner_text() == "'<i>just text</i>'"
    rich = output.locator(".dp-rich")
    assert rich.locator("b.shown").inner_text() == "bold"
    assert rich.locator("script, iframe, meta, [onerror], [onload]").count() == 0
    assert rich.locator("a.link").get_attribute("href") is None
    rich.locator("a.link").click()
    page.wait_for_timeout(1500)
    assert output.locator("img").count() == 1  # the rich one, without its handler
    assert page.evaluate("window.pwned") is None
    assert page.url == base + SCRATCH  # no refresh to elsewhere
    # The handlers were refused when parsed (Chrome reports that, though it never runs them);
    # nothing else was even attempted.
    blocked = [v for v in ctx.csp_violations if v.startswith("CSP violation")]
    assert blocked and all(v.startswith("CSP violation: script-src-attr") for v in blocked)


# --- CDN mode ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def cdn_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built in CDN mode (``DROPOUT_PY_PYODIDE_CDN=1``)."""
    out = tmp_path_factory.mktemp("cdn-site") / "site"
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", "DROPOUT_PY_PYODIDE_CDN": "1"},
        check=False,
    )
    assert proc.returncode == 0, f"mkdocs build failed:\n{proc.stdout}\n{proc.stderr}"
    return out


@pytest.fixture(scope="session")
def vendored() -> Path:
    return vendor_pyodide.vendor_pyodide(log=lambda line: None)


def test_cdn_build_pins_every_runtime_file_by_the_vendored_digest(cdn_site, vendored) -> None:
    pins = json.loads((cdn_site / "pyodide" / "cdn-integrity.json").read_text())
    assert pins["indexURL"] == CDN
    runtime = vendor_pyodide.hosted_files(vendored)
    assert set(pins["files"]) == {p.name for p in runtime} | {"pyodide-lock.json"}
    for name, sri in pins["files"].items():
        digest = hashlib.sha384((vendored / name).read_bytes()).digest()
        assert sri == "sha384-" + base64.b64encode(digest).decode(), name
    hosted = sorted(p.name for p in (cdn_site / "pyodide").iterdir())
    assert [n for n in hosted if not n.startswith("dropout_py-")] == [
        "cdn-integrity.json",
        "pyodide-lock.json",
    ]
    worker = directives(json.loads((cdn_site / "assets/dropout/csp.json").read_text())["worker"])
    assert worker["connect-src"] == ["'self'", "https://cdn.jsdelivr.net"]
    assert worker["script-src"] == ["'self'", "'wasm-unsafe-eval'", "blob:"]
    page = (cdn_site / SCRATCH / "index.html").read_text()
    assert f'data-pyodide-url="{CDN}"' in page


def cdn_route(vendored: Path, served: list[str], tampered: str | None = None):
    """A Playwright route answering the CDN's URLs with the vendored files (CORS, CORP)."""
    types = {".js": "text/javascript", ".mjs": "text/javascript", ".wasm": "application/wasm"}

    def handle(route) -> None:
        name = route.request.url.removeprefix(CDN)
        served.append(name)
        path = vendored / name
        headers = {
            "Access-Control-Allow-Origin": "*",
            "Cross-Origin-Resource-Policy": "cross-origin",
            "Content-Type": types.get(path.suffix, "application/octet-stream"),
        }
        if not re.fullmatch(r"[\w.-]+", name) or not path.is_file():
            return route.fulfill(status=404, body="not found", headers=headers)
        body = bytearray(path.read_bytes())
        if name == tampered:
            body[len(body) // 2] ^= 0x01
        return route.fulfill(status=200, body=bytes(body), headers=headers)

    return handle


@pytest.mark.browser
@pytest.mark.parametrize(
    "tampered", [None, "pyodide.js", "pyodide.asm.js", "pyodide.asm.wasm", "pyodide-lock.json"]
)
def test_cdn_mode_runs_the_pinned_files_and_refuses_a_changed_one(
    context, cdn_site, vendored, tampered
) -> None:
    ctx, requests = context
    served: list[str] = []
    ctx.route(CDN + "**", cdn_route(vendored, served, tampered))
    with serve.serving(cdn_site) as (base, _):
        page = ctx.new_page()
        page.goto(base + SCRATCH)
        page.wait_for_selector(READY_OR_FAILED, timeout=120_000)
        status = page.locator(".dp-status").inner_text()
        if tampered is None:
            assert page.locator(".dp-toolbar").get_attribute("data-runtime") == "ready", status
            page.get_by_role("button", name="Run cell 1", exact=True).click()
            page.wait_for_function(IDLE)
            assert page.locator(".dp-cell").first.get_attribute("data-cell-state") == "done"
            assert {"pyodide.asm.wasm", "python_stdlib.zip", "pyodide-lock.json"} <= set(served)
        else:
            assert page.locator(".dp-toolbar").get_attribute("data-runtime") == "failed"
            assert f"{CDN}{tampered} does not match its pinned digest" in status
    foreign = {u for u in requests.foreign(base) if not u.startswith(CDN)}
    assert foreign == set()
