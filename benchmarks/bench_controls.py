"""Measure a live control in headless Chromium: slider move to new figure on the page.

Usage: ``python benchmarks/bench_controls.py [--site site] [--moves 10]`` (``make bench-controls``
builds the site first). The site is served from 127.0.0.1 by ``scripts/serve.py``.

On the thinned-network explorable of "What dropout does" (the cell with the ``keep`` slider),
once Python is ready: one warm-up move down (its first run imports the figure code), then
``--moves`` moves by keyboard, ArrowRight and ArrowLeft in turn (0.4 and 0.5). Each move is
timed inside the page from the slider's ``keydown`` to the animation frame after the new figure
(an ``<svg>`` not there before) entered the cell's output: substituting the value in the code
(a single move is not delayed by the debounce), the run in the Python worker and drawing the
figure. Every request the browser makes is recorded; any beyond the local server is reported
(and fails the goal). Each row records the load average: the machine may be shared.

Printed: every move, the median, and whether the median meets the goal (at most 300 ms). Each
move is appended as a row to ``results/bench-controls.jsonl``, with the warm-up move marked.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import sys
from pathlib import Path
from urllib.parse import urlsplit

from playwright.sync_api import sync_playwright

from dropout_py.run.results import append_row, git_commit, machine, now

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "results" / "bench-controls.jsonl"
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
PAGE = "dropout/"
SLIDER = "keep probability p"
GOAL_MS = 300.0

# Arms a one-shot timer on the slider's cell: keydown on the slider starts it, the animation
# frame after a new <svg> appears in the output stops it; the result lands in window.dpMove.
ARM = """(name) => {
  const slider = [...document.querySelectorAll(".dp-control input")]
    .find((input) => input.closest("label").textContent.trim() === name);
  const output = slider.closest(".dp-cell").querySelector(".dp-cell-output");
  const before = new Set(output.querySelectorAll("svg"));
  window.dpMove = undefined;
  let start;
  slider.addEventListener("keydown", () => (start = performance.now()), { once: true });
  const observer = new MutationObserver(() => {
    const fresh = [...output.querySelectorAll("svg")].some((svg) => !before.has(svg));
    if (start === undefined || !fresh) return;
    observer.disconnect();
    requestAnimationFrame(() => (window.dpMove = performance.now() - start));
  });
  observer.observe(output, { childList: true, subtree: true });
}"""
MOVED = "() => window.dpMove !== undefined"
IDLE = (
    "() => !document.querySelector("
    "'.dp-cell[data-cell-state=queued], .dp-cell[data-cell-state=running]')"
)


def _serve_module():
    spec = importlib.util.spec_from_file_location("dp_serve", REPO / "scripts" / "serve.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def move(page, key: str) -> float:
    """Press ``key`` on the slider; return milliseconds until the new figure was painted."""
    page.evaluate(ARM, SLIDER)
    page.get_by_role("slider", name=SLIDER).press(key)
    page.wait_for_function(MOVED, timeout=60_000)
    page.wait_for_function(IDLE, timeout=60_000)
    return page.evaluate("window.dpMove")


def measure(browser, base: str, moves: int) -> tuple[float, list[float], list[str]]:
    """Return the warm-up move, the timed moves (ms) and the requests beyond ``base``."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    requests: list[str] = []
    ctx.on("request", lambda request: requests.append(request.url))
    page = ctx.new_page()
    page.goto(base + PAGE)
    page.wait_for_selector(".dp-toolbar[data-runtime=ready]", timeout=120_000)
    warm_up = move(page, "ArrowLeft")  # 0.5 -> 0.4: room for five steps either way
    timed = [move(page, "ArrowRight" if n % 2 == 0 else "ArrowLeft") for n in range(moves)]
    ctx.close()
    origin = urlsplit(base).netloc
    foreign = [u for u in requests if urlsplit(u).scheme in ("http", "https")
               and urlsplit(u).netloc != origin]  # fmt: skip
    return warm_up, timed, foreign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, default=REPO / "site")
    parser.add_argument("--moves", type=int, default=10)
    parser.add_argument("--results", type=Path, default=RESULTS, help="results file to append to")
    args = parser.parse_args()
    meta = {
        "suite": "controls",
        "run_id": now(),
        "page": PAGE,
        "control": SLIDER,
        "commit": git_commit(),
        "machine": machine(),
        "browser": CHROMIUM,
        "load_average": [round(x, 1) for x in os.getloadavg()],  # the machine may be shared
    }
    serve = _serve_module()
    with serve.serving(args.site) as (base, _), sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        warm_up, timed, foreign = measure(browser, base, args.moves)
        browser.close()
    median = statistics.median(timed)
    rows = [{"name": "move", "move": 0, "warm_up": True, "ms": round(warm_up, 1)}]
    rows += [
        {"name": "move", "move": n, "warm_up": False, "ms": round(ms, 1)}
        for n, ms in enumerate(timed, 1)
    ]
    rows.append({
        "name": "median", "moves": len(timed), "ms": round(median, 1),
        "goal_ms": GOAL_MS, "foreign_requests": len(foreign),
    })  # fmt: skip
    for row in rows:
        append_row(args.results, {**meta, **row, "finished": now()})
    print(f"{PAGE} '{SLIDER}': slider move -> new figure painted (ms)")
    print(f"  warm-up move {warm_up:7.0f}")
    print(f"  moves        {[round(ms) for ms in timed]}")
    print(f"  median of {len(timed)}  {median:5.0f}   goal <= {GOAL_MS:.0f}: "
          f"{'met' if median <= GOAL_MS and not foreign else 'NOT met'}")  # fmt: skip
    print(f"  requests beyond the site: {len(foreign)} {foreign[:5]}")


if __name__ == "__main__":
    main()
