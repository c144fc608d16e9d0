"""Render time and size of a learning-curve figure: 100 epochs x 4 runs (goal < 50 ms, < 60 KB).

Run: ``.venv/bin/python benchmarks/bench_figures.py [--repeat N]``. The histories are synthetic
(smooth curves plus seeded noise), shaped like what the trainer records per epoch. Also times
every other figure kind, for orientation. Every timing is also appended as one row to
``results/bench-figures.jsonl``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from dropout_py.figures import (
    Figure,
    confusion_matrix,
    digit_grid,
    learning_curves,
    network_diagram,
    thinned_networks,
    thinning_steps,
    weight_matrix,
)
from dropout_py.run.results import append_row, git_commit, machine, now

RESULTS = Path(__file__).resolve().parent.parent / "results" / "bench-figures.jsonl"

GOAL_MS, GOAL_KB = 50.0, 60.0


def synthetic_runs(epochs: int = 100, runs: int = 4, seed: int = 0) -> dict[str, list[dict]]:
    rng = np.random.default_rng(seed)
    result = {}
    for r in range(runs):
        e = np.arange(1, epochs + 1)
        train = 0.5 * np.exp(-e / (10 + 5 * r)) + 0.05 + rng.normal(0, 0.005, epochs)
        test = train + 0.01 + 0.0005 * e / (r + 1) + rng.normal(0, 0.01, epochs)
        result[f"run {r}"] = [
            {
                "epoch": int(k),
                "train_loss": float(a),
                "test_loss": float(b),
                "train_accuracy": float(1 - a / 1.5),
                "test_accuracy": float(1 - b / 1.4),
            }
            for k, a, b in zip(e, train, test, strict=True)
        ]
    return result


def timed(build: Callable[[], Figure], repeat: int) -> tuple[float, int]:
    """Median milliseconds over ``repeat`` builds, and the SVG size in bytes."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fig = build()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times), len(fig.svg.encode("utf-8"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--results", type=Path, default=RESULTS, help="results file to append to")
    args = parser.parse_args()
    meta = {"suite": "figures", "run_id": now(), "commit": git_commit(), "machine": machine()}

    def record(name: str, ms: float, size: int, repeat: int) -> None:
        row = {"name": name, "median_ms": ms, "bytes": size, "repeat": repeat}
        append_row(args.results, {**meta, **row, "finished": now()})

    runs = synthetic_runs()
    ms, size = timed(lambda: learning_curves(runs), args.repeat)
    record("learning_curves 100 epochs x 4 runs", ms, size, args.repeat)
    ok = ms < GOAL_MS and size / 1000 < GOAL_KB
    print(
        f"learning_curves 100 epochs x 4 runs: median {ms:.1f} ms over {args.repeat} runs, "
        f"{size / 1000:.1f} KB  (goal < {GOAL_MS:g} ms, < {GOAL_KB:g} KB: "
        f"{'met' if ok else 'MISSED'})"
    )
    rng = np.random.default_rng(1)
    others = {
        "learning_curves + loss, mark_best": lambda: learning_curves(
            runs, metrics=("accuracy", "loss"), mark_best=True
        ),
        "network_diagram 784-100-10": lambda: network_diagram(
            (784, 100, 10), [range(0, 784, 3), range(0, 100, 3), None]
        ),
        "thinned_networks 3 x 3-4-2": lambda: thinned_networks((3, 4, 2), 0.7, seed=1),
        "weight_matrix 10 x 10": lambda: weight_matrix(rng.normal(size=(10, 10))),
        "weight_matrix 100 x 785 (PNG)": lambda: weight_matrix(rng.normal(size=(100, 785))),
        "thinning_steps 10 x 20": lambda: thinning_steps(
            rng.normal(size=(10, 20)), range(0, 10, 2), range(0, 20, 3)
        ),
        "confusion_matrix 10 x 10": lambda: confusion_matrix(rng.integers(0, 900, (10, 10))),
        "digit_grid 100 digits": lambda: digit_grid(
            rng.integers(0, 256, (100, 28, 28), dtype=np.uint8), np.arange(100) % 10
        ),
    }
    for name, build in others.items():
        ms, size = timed(build, max(3, args.repeat // 10))
        record(name, ms, size, max(3, args.repeat // 10))
        print(f"{name:32s} median {ms:7.1f} ms  {size / 1000:7.1f} KB")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
