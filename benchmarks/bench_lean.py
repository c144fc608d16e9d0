"""The fast engine beside a lean numpy training loop, in one process, one BLAS thread.

The lean loop is the least a mini-batch trainer of a 784-100-10 sigmoid/softmax network with
momentum and inverted dropout can do: weights stored (in, out), no checks, no events, no loss.
``DropoutMLP.fit`` trains the same network on the same float inputs (prepared once, outside the
timing). Each round trains one epoch of every configuration with both, in a rotated order (the
lean loop goes first in odd rounds), so a noisy neighbour slows both alike; the table shows the
median seconds per epoch over the rounds and their ratio (engine / lean, below 1.05 is the goal),
in wall-clock time and in the process's CPU time (steadier on a shared, busy machine).

    python benchmarks/bench_lean.py                # 5 rounds, every configuration (~2 min)
    python benchmarks/bench_lean.py --rounds 3 --only float32/32/none

Each configuration appends one row to ``results/engine_vs_lean.jsonl`` (``--out`` changes it):
benchmark name, settings, metrics (medians, ratios, every round, accuracies), seconds, git
commit, machine and time, written with :mod:`dropout_py.run.results` like every results file.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from dropout_py.run.results import append_row, git_commit, machine, now

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "results" / "engine_vs_lean.jsonl"
SIZES = (784, 100, 10)
LEARNING_RATE, MOMENTUM = 0.1, 0.9
DROPOUTS = {"none": (1.0, 1.0), "0.8/0.5": (0.8, 0.5)}


def lean_epoch(X, Y, params, velocities, rng, batch, keep_in, keep_hidden):
    """One epoch of plain mini-batch SGD with momentum and inverted dropout (the reference)."""
    W1, b1, W2, b2 = params
    dtype = X.dtype
    order = rng.permutation(len(X))
    for start in range(0, len(X), batch):
        rows = order[start : start + batch]
        x, t = X[rows], Y[rows]
        if keep_in < 1:
            x = x * ((rng.random(x.shape, dtype=dtype) < keep_in) * dtype.type(1 / keep_in))
        h = 0.5 * (1 + np.tanh(0.5 * (x @ W1 + b1)))
        mask = 1
        if keep_hidden < 1:
            mask = (rng.random(h.shape, dtype=dtype) < keep_hidden) * dtype.type(1 / keep_hidden)
        hm = h * mask
        z = hm @ W2 + b2
        o = np.exp(z - z.max(axis=1, keepdims=True))
        o /= o.sum(axis=1, keepdims=True)
        d2 = (o - t) / len(rows)
        d1 = (d2 @ W2.T) * mask * h * (1 - h)
        grads = (x.T @ d1, d1.sum(axis=0), hm.T @ d2, d2.sum(axis=0))
        for param, grad, velocity in zip(params, grads, velocities, strict=True):
            velocity *= MOMENTUM
            velocity -= LEARNING_RATE * grad
            param += velocity


def lean_accuracy(X, y, params):
    W1, b1, W2, b2 = params
    h = 0.5 * (1 + np.tanh(0.5 * (X @ W1 + b1)))
    return float(np.mean(np.argmax(h @ W2 + b2, axis=1) == y))


class Lean:
    def __init__(self, X, y, dtype, batch, keeps, seed):
        rng = np.random.default_rng(seed)
        self.X, self.Y = X, np.eye(SIZES[-1], dtype=dtype)[y]
        self.batch, self.keeps, self.rng = batch, keeps, rng
        bound1, bound2 = 1 / np.sqrt(SIZES[0]), 1 / np.sqrt(SIZES[1])
        self.params = [
            rng.uniform(-bound1, bound1, SIZES[:2]).astype(dtype),
            np.zeros(SIZES[1], dtype),
            rng.uniform(-bound2, bound2, SIZES[1:]).astype(dtype),
            np.zeros(SIZES[2], dtype),
        ]
        self.velocities = [np.zeros_like(p) for p in self.params]

    def epoch(self):
        lean_epoch(self.X, self.Y, self.params, self.velocities, self.rng, self.batch, *self.keeps)

    def accuracy(self, X, y):
        return lean_accuracy(X, y, self.params)


class Engine:
    def __init__(self, X, y, dtype, batch, keeps, seed):
        from dropout_py import DropoutMLP

        self.X, self.y = X, y
        self.model = DropoutMLP(
            SIZES,
            keep_input=keeps[0],
            keep_hidden=keeps[1],
            learning_rate=LEARNING_RATE,
            momentum=MOMENTUM,
            batch_size=batch,
            dtype=dtype,
            seed=seed,
        )

    def epoch(self):
        self.model.fit(self.X, self.y, epochs=1, score_train=False)

    def accuracy(self, X, y):
        return float(np.mean(self.model.predict(X) == y))


def configurations(only: list[str] | None) -> list[dict]:
    configs = [
        {"dtype": dtype, "batch_size": batch, "dropout": dropout}
        for dtype in ("float32", "float64")
        for batch in (32, 128)
        for dropout in DROPOUTS
    ]
    if only:
        configs = [c for c in configs if _name(c) in only]
    return configs


def _name(config: dict) -> str:
    return f"{config['dtype']}/{config['batch_size']}/{config['dropout']}"


def measure(config: dict, data, rounds: int) -> dict:
    """Train both for ``rounds`` epochs, alternating which goes first; seconds per epoch."""
    train_x, train_y, test_x, test_y = data
    dtype = np.dtype(config["dtype"])
    X, T = (train_x / 255).astype(dtype), (test_x / 255).astype(dtype)
    keeps = DROPOUTS[config["dropout"]]
    runners = {
        name: cls(X, train_y, dtype, config["batch_size"], keeps, seed=1)
        for name, cls in (("lean", Lean), ("engine", Engine))
    }
    wall: dict[str, list[float]] = {name: [] for name in runners}
    cpu: dict[str, list[float]] = {name: [] for name in runners}
    for r in range(rounds):
        order = ["lean", "engine"] if r % 2 == 0 else ["engine", "lean"]
        for name in order:
            started, started_cpu = time.perf_counter(), time.process_time()
            runners[name].epoch()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    lean, engine = (statistics.median(wall[n]) for n in ("lean", "engine"))
    lean_cpu, engine_cpu = (statistics.median(cpu[n]) for n in ("lean", "engine"))
    return {
        "lean_seconds_per_epoch": lean,
        "engine_seconds_per_epoch": engine,
        "ratio": engine / lean,
        "lean_cpu_seconds_per_epoch": lean_cpu,
        "engine_cpu_seconds_per_epoch": engine_cpu,
        "cpu_ratio": engine_cpu / lean_cpu,
        "lean_rounds": wall["lean"],
        "engine_rounds": wall["engine"],
        "lean_cpu_rounds": cpu["lean"],
        "engine_cpu_rounds": cpu["engine"],
        "lean_test_accuracy": runners["lean"].accuracy(T, test_y),
        "engine_test_accuracy": runners["engine"].accuracy(T, test_y),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", nargs="+", metavar="DTYPE/BATCH/DROPOUT")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    from dropout_py import load_mnist

    data = load_mnist()
    host, commit, run_id = machine(), git_commit(), now()
    env = {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    print(f"784-100-10, full MNIST, {args.rounds} rounds, one BLAS thread; s/epoch (median)")
    print(
        f"{'dtype/batch/dropout':<22}{'lean':>7}{'engine':>8}{'ratio':>7}"
        f"{'cpu ratio':>11}{'acc lean/engine':>18}"
    )
    with threadpool_limits(limits=1, user_api="blas"):
        for config in configurations(args.only):
            started = time.perf_counter()
            metrics = measure(config, data, args.rounds)
            row = {
                "benchmark": "engine_vs_lean",
                "name": _name(config),
                "run_id": run_id,
                "settings": {
                    **config,
                    "layer_sizes": list(SIZES),
                    "rounds": args.rounds,
                    "learning_rate": LEARNING_RATE,
                    "momentum": MOMENTUM,
                    "blas_threads": 1,
                    "blas_env": env,
                },
                "metrics": metrics,
                "seconds": time.perf_counter() - started,
                "commit": commit,
                "machine": host,
                "finished": now(),
            }
            append_row(args.out, row)
            print(
                f"{_name(config):<22}{metrics['lean_seconds_per_epoch']:>7.3f}"
                f"{metrics['engine_seconds_per_epoch']:>8.3f}{metrics['ratio']:>7.3f}"
                f"{metrics['cpu_ratio']:>11.3f}"
                f"{metrics['lean_test_accuracy']:>10.4f}/{metrics['engine_test_accuracy']:.4f}",
                flush=True,
            )
    print(f"rows: {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
