"""What the engines' divergence checks cost: under 1 % of an epoch is the goal.

Training checks that every step's loss is finite and, every ``CHECK_ROWS`` rows and after every
epoch, that the weights are (see :mod:`dropout_py.nn.engine`). Two measurements, in one process
on one BLAS thread, in CPU time (steady on a busy machine):

* accounting: each check timed alone (``timeit``, best of 5) times how often an epoch makes it,
  over the CPU time of an epoch of ``DropoutMLP`` 784-100-10 on full MNIST (median of 5);
* A/B: epochs with the checks and with them patched out, alternating (on a busy machine the
  ratio's noise is a few per cent, so this only confirms that nothing big was missed).

    python benchmarks/bench_divergence_check.py            # ~1 minute
    python benchmarks/bench_divergence_check.py --out -    # print only

Appends one row per configuration to ``results/divergence_check.jsonl`` (``--out``).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
import timeit
from collections.abc import Callable
from pathlib import Path

from threadpoolctl import threadpool_limits

import dropout_py.nn.engine as engine
from dropout_py import DropoutMLP, NeuralNetwork, load_mnist
from dropout_py.run.results import append_row, git_commit, machine, now

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "results" / "divergence_check.jsonl"
ROWS = 60_000


def epoch_cpu_seconds(make: Callable, X, y, rounds: int) -> float:
    """Median CPU seconds of one training epoch of a fresh model (scoring excluded)."""
    times = []
    for _ in range(rounds):
        model = make()
        started = time.process_time()
        model.fit(X, y, epochs=1, score_train=False)
        times.append(time.process_time() - started)
    return statistics.median(times)


def best_seconds(function: Callable[[], object], number: int) -> float:
    return min(timeit.repeat(function, number=number, repeat=5)) / number


def step_check_seconds(batch: int) -> float:
    """The statements the check adds to every step, on objects like the loop's own."""
    steps = [(start, start + batch) for start in range(0, ROWS, batch)]
    position = engine.EpochPosition(ROWS, steps, 0.1)
    loss, unchecked = 0.5, 0

    def added() -> None:
        start, end = position.steps[position.step]
        if not math.isfinite(loss):
            raise AssertionError
        if unchecked + (end - start) >= engine.CHECK_ROWS:
            pass

    return best_seconds(added, 200_000)


class _AlwaysFinite:
    @staticmethod
    def isfinite(value: float) -> bool:
        return True


def ab_ratio(make: Callable, X, y, rounds: int) -> tuple[float, float]:
    """Median epoch CPU seconds with the checks and with them patched out, alternating."""
    real = engine.Engine.check_finite, engine.math
    timed: dict[bool, list[float]] = {True: [], False: []}
    try:
        for index in range(rounds):
            for checks in (True, False) if index % 2 else (False, True):
                if checks:
                    engine.Engine.check_finite, engine.math = real
                else:
                    engine.Engine.check_finite = lambda self: None  # type: ignore[method-assign]
                    engine.math = _AlwaysFinite  # type: ignore[assignment]
                timed[checks].append(epoch_cpu_seconds(make, X, y, 1))
    finally:
        engine.Engine.check_finite, engine.math = real
    return statistics.median(timed[True]), statistics.median(timed[False])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", default=str(DEFAULT_OUT), help="results file, or - for none")
    args = parser.parse_args()
    data = load_mnist()
    commit, run_id = git_commit(), now()
    print("engine, configuration: epoch CPU ms; checks per epoch x cost = share of the epoch")
    with threadpool_limits(1):
        rows = []
        for batch in (32, 128):

            def make(batch: int = batch) -> DropoutMLP:
                return DropoutMLP((784, 100, 10), batch_size=batch, seed=1)

            X, y = make().prepare(data.train_images), data.train_labels
            epoch = epoch_cpu_seconds(make, X, y, args.rounds)
            steps, checks = math.ceil(ROWS / batch), ROWS // engine.CHECK_ROWS + 1
            per_step = step_check_seconds(batch)
            per_check = best_seconds(make().check_finite, 2000)
            share = (steps * per_step + checks * per_check) / epoch
            with_checks, without = ab_ratio(make, X, y, 2 * args.rounds)
            name = f"DropoutMLP float32 784-100-10 batch {batch}"
            print(
                f"{name}: {epoch * 1e3:.0f} ms; {steps} steps x {per_step * 1e9:.0f} ns + "
                f"{checks} weight checks x {per_check * 1e6:.1f} us = {100 * share:.3f} %; "
                f"A/B with/without {with_checks / without:.4f}"
            )
            rows.append(
                (
                    name,
                    {"engine": "DropoutMLP", "batch_size": batch, "dtype": "float32"},
                    {
                        "epoch_cpu_seconds": epoch,
                        "step_check_seconds": per_step,
                        "weight_check_seconds": per_check,
                        "steps": steps,
                        "weight_checks": checks,
                        "share": share,
                        "ab_with_checks_seconds": with_checks,
                        "ab_without_checks_seconds": without,
                        "ab_ratio": with_checks / without,
                    },
                )
            )

        def make_tutorial() -> NeuralNetwork:
            return NeuralNetwork(784, 10, 100, 0.1, seed=1)

        X, y = make_tutorial().prepare(data.train_images[:20_000]), data.train_labels[:20_000]
        epoch = epoch_cpu_seconds(make_tutorial, X, y, 1)
        per_check = best_seconds(make_tutorial().check_finite, 2000)
        checks = 20_000 // engine.CHECK_ROWS + 1
        share = checks * per_check / epoch
        name = "NeuralNetwork 784-100-10, 20,000 rows"
        print(
            f"{name}: {epoch * 1e3:.0f} ms; {checks} weight checks x {per_check * 1e6:.1f} us = "
            f"{100 * share:.4f} % (no loss per step to check)"
        )
        metrics = {"epoch_cpu_seconds": epoch, "weight_check_seconds": per_check, "share": share}
        rows.append((name, {"engine": "NeuralNetwork", "rows": 20_000}, metrics))
    if args.out == "-":
        return
    for name, settings, metrics in rows:
        row = {"benchmark": "divergence_check", "name": name, "settings": settings}
        row |= {"metrics": metrics, "run_id": run_id, "commit": commit}
        append_row(args.out, {**row, "machine": machine(), "finished": now()})
    print(f"rows: {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
