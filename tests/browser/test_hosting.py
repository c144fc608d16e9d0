"""The site on the servers people deploy to, at the site root and at a sub-path (``/project/``).

On each: Python starts, a cell runs, and Stop interrupts a running loop while keeping a variable
defined before. ``scripts/serve.py`` makes the page cross-origin isolated with its headers;
``python -m http.server``, Debian's stock nginx and Caddy send none, so the service worker
(``coi-serviceworker.js``, registered by ``web/isolation.js``) does, after one reload.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from site_helpers import PROJECT_PATH
from static_servers import caddy, http_server, nginx, site_at
from test_site_browser import IDLE, SCRATCH, cell, open_page, output_of, run_cell, set_code

from scripts import serve

pytestmark = pytest.mark.browser

SERVERS = ["serve.py", "http.server", "nginx", "caddy"]
PATHS = {"root": "", "sub-path": PROJECT_PATH}
TOOLBAR = ".dp-toolbar"
NO_OP_WORKER = """
self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
self.addEventListener("fetch", (event) => event.respondWith(fetch(event.request)));
"""


@contextmanager
def hosted(server: str, site: Path, tmp: Path, sub_path: str) -> Iterator[str]:
    """Serve ``site`` at ``sub_path`` with ``server``; yield the URL of the site."""
    root = site_at(site, tmp / "www", sub_path)
    if server == "serve.py":
        with serve.serving(root) as (base, _):
            yield base + sub_path
    elif server == "http.server":
        with http_server(root) as (base, _):
            yield base + sub_path
    elif server == "nginx":
        with nginx(root, tmp / "nginx", error_page=f"/{sub_path}404.html") as base:
            yield base + sub_path
    else:
        with caddy(root, tmp / "caddy") as base:
            yield base + sub_path


def track_navigations(page) -> list[str]:
    """URLs the page's main frame navigated to (a reload counts)."""
    urls: list[str] = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and urls.append(frame.url))
    return urls


def stop_a_loop_and_check_kept(page) -> None:
    set_code(page, 1, "kept = 42")
    assert run_cell(page, 1) == "done"
    set_code(page, 1, "while True: pass")
    page.get_by_role("button", name="Run cell 1", exact=True).click()
    page.wait_for_selector(".dp-cell[data-cell-state=running]")
    page.wait_for_timeout(300)
    page.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_function(IDLE)
    assert "KeyboardInterrupt" in output_of(page, 1)
    set_code(page, 1, "print('after stop', kept)")
    assert run_cell(page, 1) == "done"
    assert "after stop 42" in output_of(page, 1)


@pytest.mark.parametrize("where", PATHS)
@pytest.mark.parametrize("server", SERVERS)
def test_python_runs_and_stop_keeps_state(
    browser, site_dir: Path, project_site_dir: Path, tmp_path: Path, server: str, where: str
) -> None:
    sub_path = PATHS[where]
    site = project_site_dir if sub_path else site_dir
    ctx = browser.new_context(viewport={"width": 1100, "height": 900})
    ctx.set_default_timeout(60_000)
    with hosted(server, site, tmp_path, sub_path) as url:
        requests: list[str] = []
        ctx.on("request", lambda request: requests.append(request.url))
        page = ctx.new_page()
        navigations = track_navigations(page)
        page.goto(url + SCRATCH)
        page.wait_for_selector(f"{TOOLBAR}[data-runtime=ready]")
        how = "headers" if server == "serve.py" else "service worker"
        assert page.locator(TOOLBAR).get_attribute("data-isolation") == how
        assert page.evaluate("crossOriginIsolated")
        # The service worker needs one reload on the first visit, and only one.
        assert len(navigations) == (1 if server == "serve.py" else 2), navigations
        stop_a_loop_and_check_kept(page)

        # The next page is controlled from its first load: no reload.
        other = ctx.new_page()
        navigations = track_navigations(other)
        other.goto(url + "dropout/")
        other.wait_for_selector(f"{TOOLBAR}[data-isolation]")
        assert other.locator(TOOLBAR).get_attribute("data-isolation") == how
        assert len(navigations) == 1
        assert [u for u in requests if not u.startswith(url)] == []
    ctx.close()


@pytest.mark.parametrize("worker", ["missing", "not isolating"])
def test_the_service_worker_never_reloads_twice(
    browser, project_site_dir: Path, tmp_path: Path, worker: str
) -> None:
    """A service worker that cannot help leaves a working page without isolation, no loop."""
    site = tmp_path / "site"
    shutil.copytree(project_site_dir, site, copy_function=shutil.copy)
    if worker == "missing":
        (site / "coi-serviceworker.js").unlink()
    else:
        (site / "coi-serviceworker.js").write_text(NO_OP_WORKER)
    ctx = browser.new_context()
    with hosted("http.server", site, tmp_path, PROJECT_PATH) as url:
        for path, loads in ((SCRATCH, 1 if worker == "missing" else 2), ("dropout/", 1)):
            page = ctx.new_page()
            navigations = track_navigations(page)
            page.goto(url + path)
            page.wait_for_selector(f"{TOOLBAR}[data-isolation]", timeout=60_000)
            page.wait_for_timeout(1_000)  # a second reload would have happened by now
            assert len(navigations) == loads, navigations
            assert not page.evaluate("crossOriginIsolated")
            assert page.locator(TOOLBAR).get_attribute("data-isolation") == "none"
        page.wait_for_selector(f"{TOOLBAR}[data-runtime=ready]", timeout=60_000)  # Python starts
    ctx.close()


def test_nothing_is_downloaded_twice_on_a_reload(browser, site_dir: Path, tmp_path: Path) -> None:
    """Under a server that sends no Cache-Control, a reload revalidates (304) every file."""
    ctx = browser.new_context()  # an in-memory HTTP cache, as in a private window
    root = site_at(site_dir, tmp_path / "www", "")
    with http_server(root) as (base, log):
        page = ctx.new_page()
        page.goto(base + SCRATCH)
        page.wait_for_selector(f"{TOOLBAR}[data-runtime=ready]", timeout=60_000)
        assert "/pyodide/pyodide.asm.wasm.gz" in log.requests(200)
        log.clear()
        page.reload()
        page.wait_for_selector(f"{TOOLBAR}[data-runtime=ready]", timeout=60_000)
        page.wait_for_timeout(500)
        assert log.requests(200) == []  # revalidated (304) or still fresh (no request at all)
    ctx.close()


@pytest.mark.parametrize("where", PATHS)
def test_the_404_page_is_styled(
    browser, site_dir: Path, project_site_dir: Path, tmp_path: Path, where: str
) -> None:
    sub_path = PATHS[where]
    site = project_site_dir if sub_path else site_dir
    ctx = browser.new_context()
    with hosted("nginx", site, tmp_path, sub_path) as url:
        page = ctx.new_page()
        missing = url + "no/such/page/"
        failed: list[str] = []
        page.on("response", lambda r: r.status >= 400 and r.url != missing and failed.append(r.url))
        response = page.goto(missing)
        assert response.status == 404
        page.wait_for_load_state("load")
        assert "404" in page.locator("article").inner_text()
        header = page.evaluate("getComputedStyle(document.querySelector('.md-header')).position")
        assert header == "sticky"  # mkdocs-material's stylesheet applies
        assert failed == []
    ctx.close()


def test_stop_without_isolation_marks_earlier_cells_lost(
    browser, project_site_dir: Path, tmp_path: Path
) -> None:
    """No service worker (blocked here, as in some private windows): Stop restarts Python."""
    ctx = browser.new_context(service_workers="block")
    ctx.set_default_timeout(60_000)
    with hosted("http.server", project_site_dir, tmp_path, PROJECT_PATH) as url:
        page = open_page(ctx, url + SCRATCH)
        assert not page.evaluate("crossOriginIsolated")
        assert run_cell(page, 1) == "done"
        assert run_cell(page, 2) == "done"
        set_code(page, 3, "while True: pass")
        page.get_by_role("button", name="Run cell 3", exact=True).click()
        page.wait_for_selector(".dp-cell[data-cell-state=running]")
        page.get_by_role("button", name="Stop", exact=True).click()
        page.wait_for_function(IDLE)
        assert cell(page, 3).get_attribute("data-cell-state") == "error"
        assert "Python was restarted" in output_of(page, 3)
        assert "service worker could not be registered" in output_of(page, 3)
        for number in (1, 2):
            assert cell(page, number).get_attribute("data-cell-state") == "lost"
            assert f"what cell {number} defined is gone" in output_of(page, number)
        assert cell(page, 4).get_attribute("data-cell-state") == "idle"  # never ran
        page.wait_for_selector(f"{TOOLBAR}[data-runtime=ready]")
        assert run_cell(page, 1) == "done"  # running it again makes it current
        assert "defined is gone" not in output_of(page, 1)
    ctx.close()
