"""Training in the page beside training natively, measured in one run.

Usage: ``python benchmarks/bench_page_training.py [--site site] [--runs 3] [--parts ...]``
(``make bench-page-training`` builds the site first). Headless Chromium opens the built site,
served by ``scripts/serve.py`` (or a header-less ``python -m http.server`` where said), and runs
Python in the page's own worker; the native numbers come from the same code in a subprocess of
this benchmark, taking turns with the page. Parts:

* ``products``: microseconds per product at the fast engine's shapes (784-100-10, batch 100, and
  a 10,000-row prediction chunk): numpy's ``@`` and SciPy's BLAS ``gemm`` in the page, numpy's
  ``@`` natively (median of 5 timings);
* ``epoch``: one full-MNIST epoch of ``DropoutMLP`` 784-100-10, batch 100, no dropout, float32
  and float64: seconds of training (wall) in the page with numpy's ``@`` (how the page trained
  before the BLAS path) and with SciPy's BLAS (now), and natively, and the CPU time of the
  epoch with its scoring (natively the process's, in the page all of Chromium's); runs take
  turns, medians and the page/native ratios of both are printed;
* ``demo``: the full-MNIST cell of the MNIST page, run in the page: seconds of training until the
  test accuracy first reaches 0.97, the accuracy after each epoch, the wall and CPU time of the
  whole cell;
* ``parity``: one float64 epoch on 2,000 images with dropout, the same seed, in the page (SciPy's
  BLAS) and natively, both engines: the largest difference of a weight, and how many
  predictions of the subset's 2,000 test images differ;
* ``stop``: a header-less ``http.server`` serving the site below ``/project/``: a full-MNIST
  training cell runs, Stop is pressed; how long until the page is usable again (the cell has
  stopped and another cell can run), whether the model's ``score`` still works, and the long
  tasks (PerformanceObserver ``longtask``) on the page's main thread while it trained;
* ``bytes``: for every page with cells, the bytes of a first visit (until Python is ready and
  the background loading has finished, nothing run) and whether SciPy was downloaded.

Rows go to ``results/bench-page-training.jsonl`` (one per measurement, ``name`` says which).
The machine is shared: read the ratios of one invocation, not absolute seconds across runs.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests" / "browser")]

from site_helpers import CHROMIUM, CHROMIUM_FLAGS, PROJECT_PATH, cell_pages  # noqa: E402
from static_servers import http_server, site_at  # noqa: E402

from dropout_py.run.results import append_row, git_commit, machine, now  # noqa: E402
from scripts import serve  # noqa: E402

RESULTS = REPO / "results" / "bench-page-training.jsonl"
PARTS = ("products", "epoch", "demo", "parity", "stop", "bytes")
TRAINING_PAGE = "mnist/"
READY = ".dp-toolbar[data-runtime=ready]"
IDLE = (
    "() => !document.querySelector("
    "'.dp-cell[data-cell-state=queued], .dp-cell[data-cell-state=running]')"
)
# Runs code in the page's worker (the Kernel of web/cells.js); resolves to what it printed.
RUN_IN_PAGE = """async ([code]) => {
  const page = window.dropoutPage;
  await page.kernel.ready;
  let out = "";
  const reply = await page.kernel.run(code, 0, (e) => {
    if (e.type === "stream" || e.type === "error") out += e.text ?? e.traceback;
  });
  return reply.ok ? out : `FAILED ${out} ${reply.error ?? ""}`;
}"""
LONG_TASKS = """
window.dpLongTasks = [];
new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) window.dpLongTasks.push([entry.startTime, entry.duration]);
}).observe({ type: "longtask", buffered: true });
"""

PRODUCTS_CODE = """
import json, sys, time
import numpy as np
from dropout_py.nn import products

SHAPES = [((100, 784), (784, 100), "NN", "forward, layer 1"),
          ((784, 100), (100, 100), "TN", "gradient, layer 1"),
          ((100, 100), (100, 10), "NN", "forward, layer 2"),
          ((100, 100), (100, 10), "TN", "gradient, layer 2"),
          ((100, 10), (10, 100), "NT", "delta back, layer 2"),
          ((10000, 784), (784, 100), "NN", "prediction chunk")]
from dropout_py.nn._threads import limit_blas_threads

kinds = ["numpy", "blas"] if sys.platform == "emscripten" else ["numpy"]
rng = np.random.default_rng(0)
rows = []
limit = limit_blas_threads(1)  # natively one BLAS thread, as DropoutMLP trains by default
limit.__enter__()
for dtype in ("float32", "float64"):
    for (sa, sb, layout, what) in SHAPES:
        a = rng.random(sa if layout[0] == "N" else sa[::-1]).astype(dtype)
        b = rng.random(sb if layout[1] == "N" else sb[::-1]).astype(dtype)
        a = a if layout[0] == "N" else a.T
        b = b if layout[1] == "N" else b.T
        reps = max(1, int(3e7 // (2 * sa[0] * sa[1] * sb[1])))
        for kind in kinds:
            products.use(kind)
            times = []
            for _ in range(5):
                start = time.perf_counter()
                for _ in range(reps):
                    products.matmul(a, b)
                times.append((time.perf_counter() - start) / reps)
            rows.append({"dtype": dtype, "shape": f"{sa}x{sb} {layout}", "what": what,
                         "kind": kind, "us": sorted(times)[2] * 1e6})
limit.__exit__(None, None, None)
products.use("auto")
print("RESULT " + json.dumps(rows))
"""

# Data first (not measured), then the epoch: in the page two runs of the worker, so that the
# CPU time Chromium spends on the second is the epoch's (with its scoring), as natively.
EPOCH_SETUP = """
import json, sys, time
from dropout_py import DropoutMLP, load_mnist
from dropout_py.nn import products
data = load_mnist()
print("RESULT null")
"""
EPOCH_FIT = """
products.use(KIND)
model = DropoutMLP((784, 100, 10), batch_size=100, dtype=DTYPE, seed=1)
cpu = time.process_time()
[record] = model.fit(data.train_images, data.train_labels, epochs=1,
                     validation_data=(data.test_images, data.test_labels), score_train=False)
cpu = time.process_time() - cpu
products.use("auto")
print("RESULT " + json.dumps({"seconds": record["seconds"],
                              "test_accuracy": record["test_accuracy"],
                              "cpu_seconds": None if sys.platform == "emscripten" else cpu}))
"""


def run_in_page(page, code: str, timeout_ms: int = 900_000) -> object:
    page.set_default_timeout(timeout_ms)
    printed = page.evaluate(RUN_IN_PAGE, [code])
    return _result(printed)


def descendants_cpu_seconds() -> float:
    """CPU seconds (user + system) used so far by the running descendants of this process.

    That is Chromium (every process of it) and Playwright's driver: read before and after a run
    in the page, the difference is the CPU time the page took, which a busy machine disturbs
    less than the wall time (natively ``time.process_time`` measures the same).
    """
    parents, used = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # ended meanwhile
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        used[pid] = int(fields[11]) + int(fields[12])  # utime + stime, in clock ticks
    mine = {os.getpid()}
    grown = True
    while grown:  # add children of the processes found until no more are found
        found = {pid for pid, parent in parents.items() if parent in mine} - mine
        mine |= found
        grown = bool(found)
    ticks = sum(used[pid] for pid in mine - {os.getpid()})
    return ticks / os.sysconf("SC_CLK_TCK")


def run_natively(code: str) -> object:
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, cwd=REPO
    )
    return _result(proc.stdout + proc.stderr)


def _result(printed: str) -> object:
    for line in reversed(printed.splitlines()):  # the last result printed
        if line.startswith("RESULT "):
            return json.loads(line.removeprefix("RESULT "))
    raise RuntimeError(f"no result in:\n{printed[-3000:]}")


def open_page(browser, url: str, init_script: str = ""):
    ctx = browser.new_context()
    if init_script:
        ctx.add_init_script(init_script)
    page = ctx.new_page()
    page.goto(url)
    page.wait_for_selector(READY, timeout=120_000)
    return ctx, page


def measure_products(browser, base: str, runs: int) -> list[dict]:
    rows = []
    for run in range(1, runs + 1):
        ctx, page = open_page(browser, base + TRAINING_PAGE)
        in_page = run_in_page(page, PRODUCTS_CODE)
        ctx.close()
        native = run_natively(PRODUCTS_CODE)
        for row in in_page:
            rows.append({"name": "product", "run": run, "where": "page", **row})
        for row in native:
            rows.append({"name": "product", "run": run, "where": "native", **row})
    return rows


def measure_epochs(browser, base: str, runs: int) -> list[dict]:
    rows = []
    for run in range(1, runs + 1):
        ctx, page = open_page(browser, base + TRAINING_PAGE)
        for dtype in ("float32", "float64"):
            turns = [("page", "numpy"), ("page", "blas"), ("native", "numpy")]
            shift = run % len(turns)  # each run starts with another of the three
            for where, kind in turns[shift:] + turns[:shift]:
                fit = EPOCH_FIT.replace("KIND", repr(kind)).replace("DTYPE", repr(dtype))
                if where == "page":
                    run_in_page(page, EPOCH_SETUP)
                    cpu = descendants_cpu_seconds()
                    measured = run_in_page(page, fit)
                    measured["cpu_seconds"] = descendants_cpu_seconds() - cpu
                else:
                    measured = run_natively(EPOCH_SETUP + fit)
                rows.append(
                    {"name": "epoch", "run": run, "where": where, "products": kind,
                     "dtype": dtype, **measured}
                )  # fmt: skip
                print(
                    f"  run {run} {dtype} {where:<6} {kind:<5} {measured['seconds']:6.2f} s "
                    f"training, {measured['cpu_seconds']:6.2f} s CPU with scoring"
                )
        ctx.close()
    return rows


def measure_demo(browser, base: str) -> list[dict]:
    """The MNIST page's full-MNIST cell, as it stands on the page, run in the page."""
    ctx, page = open_page(browser, base + TRAINING_PAGE)
    sources = page.eval_on_selector_all(".dp-cell", "cells => cells.map(c => c.dataset.source)")
    [demo] = [s for s in sources if "full = load_mnist()" in s]
    setup = "from dropout_py import load_mnist\n"
    report = (
        "\nimport json\nprint('RESULT ' + json.dumps(["
        "{'epoch': r['epoch'], 'seconds': r['seconds'], 'test_accuracy': r['test_accuracy']}"
        " for r in history]))"
    )
    start, cpu = time.perf_counter(), descendants_cpu_seconds()
    records = run_in_page(page, setup + demo + report)
    wall, cpu = time.perf_counter() - start, descendants_cpu_seconds() - cpu
    ctx.close()
    elapsed, reached = 0.0, None
    for record in records:
        elapsed += record["seconds"]
        if reached is None and record["test_accuracy"] >= 0.97:
            reached = elapsed
    print(
        f"  demo: test accuracy {[round(r['test_accuracy'], 4) for r in records]}, 0.97 after "
        f"{reached} s of training; the whole cell (data, scoring, curves) took {wall:.1f} s, "
        f"{cpu:.1f} s of CPU time"
    )
    return [
        {"name": "demo", "epochs": records, "seconds_to_0.97": reached, "cell_seconds": wall,
         "cell_cpu_seconds": cpu}
    ]  # fmt: skip


PARITY_CODE = """
import base64, json
from dropout_py import DropoutMLP, NeuralNetwork, load_mnist
from dropout_py.nn import products
data = load_mnist(subset="small")
X, y = data.train_images[:2000], data.train_labels[:2000]
model = MAKE
model.fit(model.prepare(X), y, epochs=1, score_train=False)
predictions = model.predict(model.prepare(data.test_images))
print("RESULT " + json.dumps({
    "products": products.kind,
    "predictions": base64.b64encode(predictions.astype("int8").tobytes()).decode(),
    "arrays": {name: [str(a.dtype), a.shape, base64.b64encode(a.tobytes()).decode()]
               for name, a in model._arrays().items()},
}))
"""
PARITY_MODELS = {
    "fast": "DropoutMLP((784, 100, 10), keep_input=0.8, keep_hidden=0.5, dtype='float64', seed=11)",
    "tutorial": "NeuralNetwork(784, 10, 100, 0.1, seed=11, keep_input=0.8, keep_hidden=0.5)",
}


def _decoded(result: dict) -> tuple[dict, object]:
    arrays = {
        name: np.frombuffer(base64.b64decode(data), dtype).reshape(shape)
        for name, (dtype, shape, data) in result["arrays"].items()
    }
    return arrays, np.frombuffer(base64.b64decode(result["predictions"]), "int8")


def measure_parity(browser, base: str) -> list[dict]:
    """Train the same float64 epoch in the page and natively; compare weights and predictions."""
    rows = []
    ctx, page = open_page(browser, base + TRAINING_PAGE)
    for engine, make in PARITY_MODELS.items():
        code = PARITY_CODE.replace("MAKE", make)
        in_page, native = run_in_page(page, code), run_natively(code)
        (page_arrays, page_pred), (native_arrays, native_pred) = map(_decoded, (in_page, native))
        delta = max(float(np.max(np.abs(page_arrays[k] - native_arrays[k]))) for k in page_arrays)
        row = {
            "name": "parity",
            "engine": engine,
            "images": 2000,
            "page_products": in_page["products"],
            "max_abs_weight_delta": delta,
            "predictions_differing": int(np.sum(page_pred != native_pred)),
        }
        print(
            f"  parity {engine}: page products {row['page_products']}, max |dw| {delta:.2e}, "
            f"{row['predictions_differing']} of {len(page_pred)} test predictions differ"
        )
        rows.append(row)
    ctx.close()
    return rows


STOP_CELL = """from dropout_py import DropoutMLP, load_mnist
full = load_mnist()
model = DropoutMLP((784, 100, 10), activation="relu", seed=1)
history = model.fit(full.train_images, full.train_labels, epochs=3, score_train=False)"""


def measure_stop(browser, site_dir: Path, tmp: Path) -> list[dict]:
    """Stop during training on a header-less http.server at a sub-path."""
    root = site_at(site_dir, tmp / "www", PROJECT_PATH)
    with http_server(root) as (base, _):
        ctx, page = open_page(browser, base + PROJECT_PATH + "fast-trainer/", LONG_TASKS)
        isolated = page.evaluate("crossOriginIsolated")
        page.locator(".dp-cell").nth(0).locator(".cm-content").click()  # once the editors are in
        page.keyboard.press("Control+a")
        page.keyboard.insert_text(STOP_CELL)
        page.evaluate("window.dpLongTasks.length = 0")
        page.get_by_role("button", name="Run cell 1", exact=True).click()
        page.wait_for_function(
            "() => /step (\\d{3})\\//.test(document.querySelector('.dp-training')?.textContent)",
            timeout=300_000,
        )
        page.wait_for_timeout(3_000)  # train a while: the long tasks of training count here
        during = page.evaluate("window.dpLongTasks.slice()")
        start = time.perf_counter()
        page.get_by_role("button", name="Stop", exact=True).click()
        page.wait_for_function(IDLE, timeout=60_000)
        stopped = time.perf_counter() - start
        printed = run_in_page(
            page, "import json\nprint('RESULT ' + json.dumps(model.score("
            "full.test_images, full.test_labels).accuracy))", 60_000
        )  # fmt: skip
        usable = time.perf_counter() - start
        # The observer works: a 300 ms loop on the main thread shows up as a long task.
        # (In a task of the page's own: code that Playwright evaluates is not counted as one.)
        busy = "const t = performance.now(); while (performance.now() - t < 300);"
        page.evaluate(f"setTimeout(() => {{ {busy} }})")
        page.wait_for_timeout(1_000)
        observer_works = page.evaluate("window.dpLongTasks.some(([, d]) => d >= 250)")
        ctx.close()
    longest = max((d for _, d in during), default=0.0)
    row = {
        "name": "stop",
        "server": "http.server",
        "path": PROJECT_PATH,
        "isolated": isolated,
        "stop_seconds": stopped,
        "usable_seconds": usable,
        "score_after_stop": printed,
        "long_tasks_over_200ms": sum(d > 200 for _, d in during),
        "longest_task_ms": longest,
        "long_task_observer_works": observer_works,
    }
    print(
        f"  stop: isolated {isolated}, stopped in {stopped:.2f} s, a cell ran after "
        f"{usable:.2f} s (score {printed:.4f}); long tasks > 200 ms while training: "
        f"{row['long_tasks_over_200ms']} (longest {longest:.0f} ms; observer works: "
        f"{observer_works})"
    )
    return [row]


def measure_bytes(browser, base: str, handler) -> list[dict]:
    rows = []
    for path in cell_pages():
        urls: list[str] = []
        ctx = browser.new_context()
        ctx.on("request", lambda r, urls=urls: urls.append(r.url))
        page = ctx.new_page()
        handler.sent = 0
        page.goto(base + path)
        page.wait_for_selector(READY, timeout=120_000)
        page.wait_for_timeout(4_000)  # the background loading (SciPy) finishes
        scipy = any("/scipy-" in u for u in urls)
        trains = page.locator(".dp-toolbar").get_attribute("data-preload") is not None
        rows.append(
            {"name": "page bytes", "page": path or "home", "first_visit_mib": handler.sent / 2**20,
             "scipy_fetched": scipy, "preloads_scipy": trains}
        )  # fmt: skip
        print(f"  {path or 'home':<16} {handler.sent / 2**20:5.1f} MiB  scipy: {scipy}")
        ctx.close()
    return rows


def summarize(rows: list[dict]) -> None:
    epochs = [r for r in rows if r["name"] == "epoch"]
    for dtype in ("float32", "float64"):
        for measure, label in (("seconds", "training wall time"), ("cpu_seconds", "CPU time")):
            median = {}
            for where, kind in (("page", "numpy"), ("page", "blas"), ("native", "numpy")):
                values = [
                    r[measure] for r in epochs
                    if r["dtype"] == dtype and r["where"] == where and r["products"] == kind
                ]  # fmt: skip
                if values:
                    median[where, kind] = statistics.median(values)
            if len(median) == 3:
                native, before, now = (
                    median["native", "numpy"], median["page", "numpy"], median["page", "blas"]
                )  # fmt: skip
                print(
                    f"{dtype}, {label}: native {native:.2f} s; page before (numpy @) "
                    f"{before:.2f} s = {before / native:.1f}x; page now (BLAS) {now:.2f} s = "
                    f"{now / native:.1f}x"
                )
    products = [r for r in rows if r["name"] == "product"]
    for key in sorted({(r["dtype"], r["shape"], r["what"]) for r in products}):
        cells = []
        for where, kind in (("page", "numpy"), ("page", "blas"), ("native", "numpy")):
            values = [
                r["us"] for r in products
                if (r["dtype"], r["shape"], r["what"]) == key
                and (r["where"], r["kind"]) == (where, kind)
            ]  # fmt: skip
            cells.append(f"{statistics.median(values):9.0f}" if values else "        -")
        row = f"{key[0]} {key[2]:<20} {key[1]:<28} {' '.join(cells)}"
        print(row + "  (us: page @, page BLAS, native @)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=REPO / "site")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--results", type=Path, default=RESULTS)
    args = parser.parse_args()
    meta = {
        "suite": "page-training",
        "run_id": now(),
        "commit": git_commit(),
        "machine": machine(),
        "browser": str(CHROMIUM),
        "openblas_env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
    }
    rows: list[dict] = []
    with (
        serve.serving(args.site) as (base, handler),
        sync_playwright() as pw,
        tempfile.TemporaryDirectory(prefix="dp-bench-") as tmp,
    ):
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        if "products" in args.parts:
            print("products at the engine's shapes:")
            rows += measure_products(browser, base, args.runs)
        if "epoch" in args.parts:
            print("one full-MNIST epoch, 784-100-10, batch 100:")
            rows += measure_epochs(browser, base, args.runs)
        if "demo" in args.parts:
            rows += measure_demo(browser, base)
        if "parity" in args.parts:
            rows += measure_parity(browser, base)
        if "stop" in args.parts:
            rows += measure_stop(browser, args.site, Path(tmp))
        if "bytes" in args.parts:
            print("first visit, nothing run:")
            rows += measure_bytes(browser, base, handler)
        browser.close()
    for row in rows:
        append_row(args.results, {**meta, **row, "finished": now()})
    summarize(rows)


if __name__ == "__main__":
    main()
