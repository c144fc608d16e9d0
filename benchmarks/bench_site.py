"""Measure the site in headless Chromium: readiness, first output, bytes, scipy, foreign requests.

Usage: ``python benchmarks/bench_site.py [--site site] [--runs 3] [--no-gzip]`` (``make
bench-site`` builds the site first). The site is served from 127.0.0.1 by ``scripts/serve.py``.
Every run uses a fresh browser context (empty HTTP cache) unless it is a second visit.

Printed, median over the runs (milliseconds from navigation start unless said otherwise):

* ``numpy ready``: Pyodide, numpy and dropout_py loaded in the worker;
* ``ready``: the page's runtime is ready (data mounted, session made);
* ``first output``: from the first click on the Run button of the home page's first cell
  (``import dropout_py``), clicked as soon as the page script has run, to its first output;
* bytes the server sent for a page on a first visit and on a second visit with the same browser
  profile (a persistent one, with a disk cache like a reader's browser; after "Run all"
  finished), and how many requests answered 304;
* whether a page that does not import scipy downloaded it; requests to any other host.

Every run of the start-up measurement and every page's bytes are also appended as rows to
``results/bench-site.jsonl``; the pages quote the medians.
"""

from __future__ import annotations

import argparse
import importlib.util
import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

from dropout_py.run.results import append_row, git_commit, machine, now

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "results" / "bench-site.jsonl"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
IDLE = (
    "() => document.querySelector('.dp-toolbar[data-runtime=ready]') && !document.querySelector("
    "'.dp-cell[data-cell-state=queued], .dp-cell[data-cell-state=running]')"
)
PAGES = {
    "home": "",
    "thinning (numpy)": "thinning/",
    "network class (scipy)": "network-class/",
    "mnist (data)": "mnist/",
}


def _serve_module():
    spec = importlib.util.spec_from_file_location("dp_serve", REPO / "scripts" / "serve.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _mark(page, name: str) -> float:
    return page.evaluate(f"performance.getEntriesByName('{name}')[0]?.startTime ?? NaN")


def _run_all(page) -> None:
    page.wait_for_selector(".dp-toolbar[data-runtime=ready]")
    page.get_by_role("button", name="Run all", exact=True).click()
    page.wait_for_function(IDLE, timeout=900_000)  # training cells run minutes in Pyodide


def measure_start(browser, base: str) -> dict[str, float]:
    """One fresh visit of the home page; click its first Run button at once."""
    ctx = browser.new_context()
    page = ctx.new_page()
    page.goto(base, wait_until="commit")
    page.get_by_role("button", name="Run cell 1", exact=True).click()
    page.wait_for_function(IDLE, timeout=60_000)
    result = {
        "numpy ready": _mark(page, "dp-numpy-ready"),
        "ready": _mark(page, "dp-ready"),
        "first output": _mark(page, "dp-first-output") - _mark(page, "dp-first-click"),
    }
    ctx.close()
    return result


def measure_bytes(chromium, base: str, path: str, handler) -> dict[str, object]:
    """Bytes for a first and a second visit of one page, in one profile with a disk cache."""
    profile = tempfile.mkdtemp(prefix="dp-bench-profile-")
    ctx = chromium.launch_persistent_context(profile, executable_path=CHROMIUM, args=FLAGS)
    urls: list[str] = []
    statuses: list[int] = []
    ctx.on("request", lambda r: urls.append(r.url))
    ctx.on("response", lambda r: statuses.append(r.status))
    page = ctx.new_page()
    handler.sent = 0
    page.goto(base + path)
    _run_all(page)
    page.wait_for_timeout(1500)  # background prefetch (scipy) finishes
    first = handler.sent
    first_urls = list(urls)
    handler.sent = 0
    statuses.clear()
    page.goto(base + path)
    _run_all(page)
    page.wait_for_timeout(1500)
    second = handler.sent
    origin = urlsplit(base).netloc
    foreign = [
        u for u in urls if urlsplit(u).scheme in ("http", "https") and urlsplit(u).netloc != origin
    ]
    ctx.close()
    shutil.rmtree(profile, ignore_errors=True)
    return {
        "first MiB": first / 2**20,
        "second MiB": second / 2**20,
        "304s": statuses.count(304),
        "scipy fetched": any("/scipy-" in u for u in first_urls),
        "foreign": len(foreign),
    }


def _keys(measured: dict, suffix: str = "") -> dict:
    """``{"first MiB": 9.1}`` -> ``{"first_mib": 9.1}`` (row keys without spaces)."""
    return {k.lower().replace(" ", "_").replace("304s", "not_modified") + suffix: v
            for k, v in measured.items()}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=REPO / "site")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-gzip", action="store_true", help="serve without compression")
    parser.add_argument("--results", type=Path, default=RESULTS, help="results file to append to")
    args = parser.parse_args()
    meta = {
        "suite": "site",
        "run_id": now(),
        "gzip": not args.no_gzip,
        "commit": git_commit(),
        "machine": machine(),
        "browser": CHROMIUM,
    }
    serve = _serve_module()
    with (
        serve.serving(args.site, compress=not args.no_gzip) as (base, handler),
        sync_playwright() as pw,
    ):
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        starts = [measure_start(browser, base) for _ in range(args.runs)]
        for number, start in enumerate(starts, 1):
            row = {"name": "start", "run": number, **_keys(start, suffix="_ms")}
            append_row(args.results, {**meta, **row, "finished": now()})
        print(f"home page, fresh context, median of {args.runs} (ms):")
        for key in starts[0]:
            values = [s[key] for s in starts]
            print(
                f"  {key:<13} {statistics.median(values):7.0f}   runs: {[round(v) for v in values]}"
            )
        print("bytes sent by the server" + (" (no gzip)" if args.no_gzip else " (gzip)") + ":")
        for name, path in PAGES.items():
            row = measure_bytes(pw.chromium, base, path, handler)
            stored = {"name": "bytes", "page": name, "path": path, **_keys(row)}
            append_row(args.results, {**meta, **stored, "finished": now()})
            print(
                f"  {name:<22} first {row['first MiB']:5.1f} MiB"
                f"  second {row['second MiB']:5.2f} MiB"
                f"  ({row['304s']} x 304)  scipy fetched: {row['scipy fetched']}"
                f"  foreign requests: {row['foreign']}"
            )
        browser.close()


if __name__ == "__main__":
    main()
