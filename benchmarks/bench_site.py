"""Measure the site in headless Chromium: readiness, first output, bytes, scipy, foreign requests.

Usage: ``python benchmarks/bench_site.py [--site site] [--runs 3] [--epochs 3] [--no-gzip]
[--parts start bytes epoch]`` (``make bench-site`` builds the site first). The site is served
from 127.0.0.1 by ``scripts/serve.py``.
Every run uses a fresh browser context (empty HTTP cache) unless it is a second visit.

Printed, median over the runs (milliseconds from navigation start unless said otherwise):

* ``numpy ready``: Pyodide, numpy and dropout_py loaded in the worker;
* ``ready``: the page's runtime is ready (data mounted, session made);
* ``first output``: from the first click on the Run button of the home page's first cell
  (``import dropout_py``), clicked as soon as the page script has run, to its first output;
* bytes the server sent for a page on a first visit and on a second visit with the same browser
  profile (a persistent one, with a disk cache like a reader's browser; after "Run all"
  finished), and how many requests answered 304;
* whether a page that does not import scipy downloaded it; requests to any other host;
* seconds per epoch of the fast engine (``DropoutMLP``, 784-100-10, batch 100, the full MNIST,
  float32 and float64) in the page's Python worker and natively in this process, the same code
  (:data:`EPOCH_SETUP`, :data:`EPOCH_RUN`), taking turns epoch by epoch (``--epochs`` each).

Every run of the start-up measurement, every page's bytes and every epoch are also appended as
rows to ``results/bench-site.jsonl``; the pages quote the medians. ``--parts`` measures only
some of the three (``start``, ``bytes``, ``epoch``).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import io
import json
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
PARTS = ("start", "bytes", "epoch")
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


# One epoch of the fast engine, run as is in the page's worker and natively: SETUP once per
# place, RUN once per epoch (its model lives on, so each run trains the next epoch).
EPOCH_SETUP = """\
import json
from dropout_py import DropoutMLP, load_mnist
_data = load_mnist()
_models = {}
"""
EPOCH_RUN = """\
if {dtype!r} not in _models:
    _models[{dtype!r}] = DropoutMLP((784, 100, 10), batch_size=100, dtype={dtype!r}, seed=1)
_model = _models[{dtype!r}]
_record = _model.fit(_data.train_images, _data.train_labels, epochs=1, score_train=False)[-1]
_test = _model.score(_data.test_images, _data.test_labels).accuracy
print(json.dumps({{"seconds": _record["seconds"], "epoch": _model.epochs_trained_,
                  "test_accuracy": _test}}))
"""
EPOCH_DTYPES = ("float32", "float64")
RUN_IN_PAGE = """async (code) => {
  const kernel = window.dropoutPage.kernel;
  await kernel.ready;
  let out = "";
  const errors = [];
  const reply = await kernel.run(code, 0, (event) => {
    if (event.type === "stream" && event.name === "stdout") out += event.text;
    if (event.type === "error") errors.push(event.traceback);
  });
  return { ok: reply.ok, error: reply.error ?? errors.join("\\n"), out };
}"""


def _last_json(text: str, where: str) -> dict:
    lines = [line for line in text.splitlines() if line.startswith("{")]
    if not lines:
        raise RuntimeError(f"{where}: the epoch code printed no result: {text!r}")
    return json.loads(lines[-1])


class PageKernel:
    """The Python worker of one open page, running code as a cell would."""

    def __init__(self, browser, base: str) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.page.goto(base, wait_until="load")
        self.run(EPOCH_SETUP)

    def run(self, code: str) -> str:
        reply = self.page.evaluate(RUN_IN_PAGE, code)
        if not reply["ok"]:
            raise RuntimeError(f"the page's worker failed: {reply['error']}")
        return reply["out"]

    def close(self) -> None:
        self.context.close()


class NativeKernel:
    """The same code, run natively in this process (one namespace, like the page's)."""

    def __init__(self) -> None:
        self.namespace: dict = {}
        self.run(EPOCH_SETUP)

    def run(self, code: str) -> str:
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(code, "<epoch>", "exec"), self.namespace)
        return out.getvalue()

    def close(self) -> None:
        self.namespace.clear()


def measure_epochs(browser, base: str, epochs: int) -> list[dict]:
    """Epochs of the fast engine in the page and natively, taking turns; one dict per epoch."""
    kernels = {"page": PageKernel(browser, base), "native": NativeKernel()}
    measured = []
    try:
        for number in range(epochs):
            for dtype in EPOCH_DTYPES:
                order = ["page", "native"] if number % 2 == 0 else ["native", "page"]
                for where in order:
                    out = kernels[where].run(EPOCH_RUN.format(dtype=dtype))
                    result = _last_json(out, where)
                    measured.append({"where": where, "dtype": dtype, **result})
    finally:
        for kernel in kernels.values():
            kernel.close()
    return measured


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
    parser.add_argument("--epochs", type=int, default=3, help="epochs per dtype and place")
    parser.add_argument(
        "--parts", nargs="+", choices=PARTS, default=list(PARTS), help="what to measure"
    )
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
        if "start" in args.parts:
            report_start(browser, base, args.runs, args.results, meta)
        if "bytes" in args.parts:
            report_bytes(pw.chromium, base, handler, args, meta)
        if "epoch" in args.parts:
            report_epochs(browser, base, args.epochs, args.results, meta)
        browser.close()


def report_start(browser, base: str, runs: int, results: Path, meta: dict) -> None:
    starts = [measure_start(browser, base) for _ in range(runs)]
    for number, start in enumerate(starts, 1):
        row = {"name": "start", "run": number, **_keys(start, suffix="_ms")}
        append_row(results, {**meta, **row, "finished": now()})
    print(f"home page, fresh context, median of {runs} (ms):")
    for key in starts[0]:
        values = [s[key] for s in starts]
        print(f"  {key:<13} {statistics.median(values):7.0f}   runs: {[round(v) for v in values]}")


def report_bytes(chromium, base: str, handler, args, meta: dict) -> None:
    print("bytes sent by the server" + (" (no gzip)" if args.no_gzip else " (gzip)") + ":")
    for name, path in PAGES.items():
        row = measure_bytes(chromium, base, path, handler)
        stored = {"name": "bytes", "page": name, "path": path, **_keys(row)}
        append_row(args.results, {**meta, **stored, "finished": now()})
        print(
            f"  {name:<22} first {row['first MiB']:5.1f} MiB"
            f"  second {row['second MiB']:5.2f} MiB"
            f"  ({row['304s']} x 304)  scipy fetched: {row['scipy fetched']}"
            f"  foreign requests: {row['foreign']}"
        )


def report_epochs(browser, base: str, epochs: int, results: Path, meta: dict) -> None:
    measured = measure_epochs(browser, base, epochs)
    for row in measured:
        settings = {"layer_sizes": [784, 100, 10], "batch_size": 100, "seed": 1}
        stored = {"name": "epoch", **row, "settings": settings}
        append_row(results, {**meta, **stored, "finished": now()})
    print(f"fast engine, 784-100-10, batch 100, full MNIST, median of {epochs} epochs (s):")
    for dtype in EPOCH_DTYPES:
        median = {
            where: statistics.median(
                m["seconds"] for m in measured if m["where"] == where and m["dtype"] == dtype
            )
            for where in ("page", "native")
        }
        accuracy = {m["where"]: m["test_accuracy"] for m in measured if m["dtype"] == dtype}
        print(
            f"  {dtype}: page {median['page']:.2f}, native {median['native']:.2f}, "
            f"ratio {median['page'] / median['native']:.1f}; test accuracy after {epochs}: "
            f"page {accuracy['page']:.4f}, native {accuracy['native']:.4f}"
        )


if __name__ == "__main__":
    main()
