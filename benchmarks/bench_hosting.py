"""The site on the static servers of the hosting tests: time to Python ready, isolation, bytes.

Usage: ``python benchmarks/bench_hosting.py [--site site] [--runs 3]`` (``make bench-hosting``
builds the site first; for the sub-path rows build it with ``DROPOUT_PY_SITE_URL`` or not, only
the 404 page differs). Needs ``make setup-web`` (Chromium, nginx, Caddy).

Printed:

* per server (``scripts/serve.py``, ``python -m http.server``, Debian's stock nginx, Caddy) and
  path (site root, ``/project/``): whether Python loaded, how the page was isolated, whether Stop
  kept a variable, and the time from navigation to "Python ready" on a first visit in a fresh
  browser context (wall clock, so the service worker's one reload is included), median of
  ``--runs``, rotating the servers between runs;
* bytes a first visit of each cell page transfers until Python is ready and the page's
  background imports are loaded, counted by ``scripts/serve.py`` (with and without gzip).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests" / "browser")]

from site_helpers import CHROMIUM, CHROMIUM_FLAGS, cell_pages  # noqa: E402
from static_servers import caddy, http_server, nginx, site_at  # noqa: E402

from scripts import serve  # noqa: E402

SERVERS = ("serve.py", "http.server", "nginx", "caddy")
PATHS = {"root": "", "/project/": "project/"}
READY = ".dp-toolbar[data-runtime=ready]"
STOP_CHECK = "thinning/"


@contextmanager
def hosted(server: str, site: Path, tmp: Path, sub_path: str):
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


def first_visit(browser, url: str) -> dict[str, object]:
    """Open ``url`` in a fresh context; seconds to ready, isolation, navigations."""
    ctx = browser.new_context()
    page = ctx.new_page()
    loads = []
    page.on("framenavigated", lambda frame: frame == page.main_frame and loads.append(frame.url))
    start = time.monotonic()
    page.goto(url)
    page.wait_for_selector(READY, timeout=120_000)
    seconds = time.monotonic() - start
    result = {
        "seconds": seconds,
        "isolation": page.locator(".dp-toolbar").get_attribute("data-isolation"),
        "loads": len(loads),
    }
    ctx.close()
    return result


def stop_keeps_state(browser, url: str) -> bool:
    """Define a variable, interrupt an endless loop with Stop, and read the variable back."""
    ctx = browser.new_context()
    ctx.set_default_timeout(120_000)
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_selector(READY)
    page.wait_for_selector(".dp-cell .cm-content")  # the editors come once Python is ready

    def run(code: str, *, stop: bool = False) -> str:
        editor = page.locator(".dp-cell").first.locator(".cm-content")
        editor.click()
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(code)
        page.get_by_role("button", name="Run cell 1", exact=True).click()
        if stop:
            page.wait_for_selector(".dp-cell[data-cell-state=running]")
            page.wait_for_timeout(300)
            page.get_by_role("button", name="Stop", exact=True).click()
        page.wait_for_function(
            "() => !document.querySelector('.dp-cell[data-cell-state=running],"
            " .dp-cell[data-cell-state=queued]')"
        )
        page.wait_for_selector(READY)
        return page.locator(".dp-cell").first.locator(".dp-cell-output").inner_text()

    run("kept = 42")
    run("while True: pass", stop=True)
    kept = "42" in run("print(kept)")
    ctx.close()
    return kept


def bytes_per_page(browser, site: Path, *, compress: bool) -> dict[str, int]:
    """Bytes ``scripts/serve.py`` sends for a first visit of each cell page (fresh context)."""
    sent = {}
    with serve.serving(site, compress=compress) as (base, handler):
        for path in cell_pages():
            ctx = browser.new_context()
            page = ctx.new_page()
            handler.sent = 0
            page.goto(base + path)
            page.wait_for_selector(READY, timeout=120_000)
            page.wait_for_timeout(3_000)  # background imports (scipy on one page)
            sent[path or "home"] = handler.sent
            ctx.close()
    return sent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=REPO / "site")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--bytes-only", action="store_true", help="only the bytes per page")
    parser.add_argument("--servers", nargs="+", choices=SERVERS, default=list(SERVERS))
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="dp-bench-hosting-"))
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
            if not args.bytes_only:
                report_servers(browser, args.site, tmp, args.runs, tuple(args.servers))
            for compress in (True, False):
                sent = bytes_per_page(browser, args.site, compress=compress)
                label = "gzip" if compress else "no compression"
                print(f"first visit, bytes sent by scripts/serve.py ({label}), MiB:")
                for page, size in sent.items():
                    print(f"  {page:<16} {size / 2**20:6.2f}")
            browser.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def report_servers(browser, site: Path, tmp: Path, runs: int, servers: tuple[str, ...]) -> None:
    times: dict[tuple[str, str], list[float]] = {}
    facts: dict[tuple[str, str], dict[str, object]] = {}
    for run in range(runs):
        order = servers[run % len(servers) :] + servers[: run % len(servers)]
        for server in order:
            for where, sub_path in PATHS.items():
                with hosted(server, site, tmp / f"{server}-{run}", sub_path) as url:
                    visit = first_visit(browser, url + STOP_CHECK)
                    times.setdefault((server, where), []).append(visit["seconds"])
                    if run == 0:
                        facts[(server, where)] = {**visit, "stop": stop_keeps_state(browser, url)}
    print(f"time to Python ready on a first visit ({STOP_CHECK}), median of {runs} (s):")
    print(f"  {'server':<12} {'path':<10} {'loads':<6} {'isolation':<15} stop keeps  ready")
    for (server, where), values in times.items():
        fact = facts[(server, where)]
        print(
            f"  {server:<12} {where:<10} {fact['loads']:<6} {fact['isolation'] or '-':<15}"
            f" {fact['stop']!s:<10} {statistics.median(values):5.2f}"
            f"   runs: {[round(v, 2) for v in values]}"
        )


if __name__ == "__main__":
    main()
