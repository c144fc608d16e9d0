"""Engine benchmark on the full MNIST: seconds per epoch, accuracy and peak memory, side by side.

Every configuration trains in its own process (so its peak resident memory is its own), and the
configurations take turns round by round, so a noisy neighbour slows all of them alike. Printed:
median seconds per epoch (training only), the speed-up over the tutorial engine, the final test
accuracy and the peak RSS. Every measurement is also appended as one row to
``results/bench-engines-<suite>.jsonl`` (settings, seed, per-epoch history, final metrics,
seconds, peak memory, commit, machine); the pages quote those rows.

    python benchmarks/bench_engines.py                 # speed table (a few minutes)
    python benchmarks/bench_engines.py --suite goals   # the accuracy goals (about 10 minutes)
    python benchmarks/bench_engines.py --suite stretch --minutes 60 --budget-clock cpu

The suites:
- speed: tutorial engine (the chapter's run) vs fast engine in float64 and float32, same
  784-100-10 sigmoid network, no dropout; and the same three with dropout 0.8 / 0.5.
- goals: --preset chapter (seeds 1-3) with the scaled and the chapter's first weights, with the
  chapter's dropout 0.7 / 0.7, and with the exact gradient; fast 784-100-10 for 20 epochs;
  3,000 training images, 400 hidden units, 60 epochs, seeds 1-3, with and without dropout.
- stretch (the paper check): 784-1024-1024-10 ReLU, dropout 0.8/0.5, max-norm, momentum, a
  decaying learning rate, until a time budget (``--minutes``) of wall-clock or process CPU time
  (``--budget-clock``) is spent; test error, wall and CPU time after every epoch.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

from dropout_py.run.results import append_row, git_commit, machine, now

RESULTS = Path(__file__).resolve().parent.parent / "results"

SPEED = {
    "tutorial": dict(engine="tutorial", epochs=2, partitions=100, init="scaled"),
    "fast float64": dict(engine="fast", epochs=3, dtype="float64"),
    "fast float32": dict(engine="fast", epochs=3, dtype="float32"),
}
DROPOUT = dict(keep_input=0.8, keep_hidden=0.5)


class EpochTimer:
    """An ``on_event`` for :func:`~dropout_py.run.experiment.run`: per-epoch times and a budget.

    For every epoch it notes ``cpu_seconds`` (process CPU time of the epoch's training steps, as
    the record's ``seconds`` is their wall time) and ``elapsed_seconds`` /
    ``elapsed_cpu_seconds`` (wall and CPU time since the run began, per-epoch scoring
    included). With ``budget`` seconds on ``clock`` ("wall" or "cpu"), it stops the run at the
    first step after the budget is spent. CPU time counts only what this process ran, so on a
    shared, oversubscribed machine a CPU budget buys about the same training as on an idle one.
    """

    def __init__(self, budget: float | None = None, clock: str = "wall", report: bool = False):
        if clock not in ("wall", "cpu"):
            raise ValueError(f"budget clock must be 'wall' or 'cpu', got {clock!r}")
        self.budget, self.clock, self.report = budget, clock, report
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        self.epoch_cpu0 = self.last_step_cpu = self.cpu0
        self.epochs: list[dict[str, float]] = []

    def elapsed(self) -> dict[str, float]:
        return {"wall": time.perf_counter() - self.wall0, "cpu": time.process_time() - self.cpu0}

    def __call__(self, event) -> bool:
        cpu = time.process_time()
        if event.kind == "step":
            self.last_step_cpu = cpu
        else:
            elapsed = self.elapsed()
            timing = {
                "cpu_seconds": self.last_step_cpu - self.epoch_cpu0,
                "elapsed_seconds": elapsed["wall"],
                "elapsed_cpu_seconds": elapsed["cpu"],
            }
            self.epochs.append(timing)
            self.epoch_cpu0 = cpu
            if self.report:
                error = 100 * (1 - event.metrics.get("test_accuracy", float("nan")))
                print(
                    f"epoch {len(self.epochs)}: test error {error:.2f}%, "
                    f"{event.metrics['seconds']:.1f} s ({timing['cpu_seconds']:.1f} s CPU); "
                    f"elapsed {elapsed['wall'] / 60:.1f} min ({elapsed['cpu'] / 60:.1f} min CPU)",
                    file=sys.stderr,
                    flush=True,
                )
        return self.budget is not None and self.elapsed()[self.clock] > self.budget


def child(settings_json: str) -> None:
    """Train one configuration and print one JSON line of results."""
    from dropout_py import load_mnist
    from dropout_py.run.experiment import RunSettings, run
    from dropout_py.run.results import run_row

    fields = json.loads(settings_json)
    fields["hidden"] = tuple(fields.get("hidden", (100,)))
    timer_options = {
        "budget": fields.pop("budget_seconds", None),
        "clock": fields.pop("budget_clock", "wall"),
        "report": fields.pop("report_epochs", False),
    }
    score_train = fields.pop("score_train", True)
    settings = RunSettings(**fields)
    data = load_mnist()
    timer = EpochTimer(**timer_options)
    result = run(settings, data, on_event=timer, score_train=score_train)
    row = run_row(result)
    for record, timing in zip(row["history"], timer.epochs, strict=True):
        record.update(timing)
    elapsed = timer.elapsed()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({**row, "elapsed_seconds": elapsed["wall"],
                      "elapsed_cpu_seconds": elapsed["cpu"], "peak_mb": peak_mb}))  # fmt: skip


class Recorder:
    """Appends one row per measurement to ``results/bench-engines-<suite>.jsonl``."""

    def __init__(self, suite: str, folder: Path) -> None:
        self.path = folder / f"bench-engines-{suite}.jsonl"
        self.suite = suite
        self.run_id = now()  # rows of one invocation share it; the pages quote the latest
        self.commit, self.machine = git_commit(), machine()

    def measure(self, name: str, settings: dict, **extra) -> dict:
        """Train ``settings`` in a fresh process, append its row, return the row."""
        out = subprocess.run(  # the child's progress (stderr) shows in the terminal
            [sys.executable, __file__, "--child", json.dumps(settings)],
            stdout=subprocess.PIPE,
            text=True,
            check=True,
        )
        measured = json.loads(out.stdout.strip().splitlines()[-1])
        row = {
            "suite": self.suite,
            "name": name,
            "run_id": self.run_id,
            **extra,
            **measured,
            "commit": self.commit,
            "machine": self.machine,
            "finished": now(),
        }
        append_row(self.path, row)
        return row


def test_accuracy(row: dict) -> float:
    return row["final"]["test_accuracy"]


def best_test_accuracy(row: dict) -> float:
    return max((h["test_accuracy"] for h in row["history"]), default=float("nan"))


def speed_suite(rounds: int, folder: Path) -> None:
    recorder = Recorder("speed", folder)
    configs = {name: dict(cfg) for name, cfg in SPEED.items()}
    configs.update({f"{name} + dropout": {**cfg, **DROPOUT} for name, cfg in SPEED.items()})
    runs: dict[str, list[dict]] = {name: [] for name in configs}
    for r in range(rounds):
        for name, cfg in configs.items():
            print(f"round {r + 1}/{rounds}: {name} ...", file=sys.stderr, flush=True)
            runs[name].append(recorder.measure(name, {**cfg, "seed": r + 1}, round=r + 1))
    print(f"\nFull MNIST, 784-100-10 sigmoid, {rounds} rounds; median seconds per epoch\n")
    print(f"{'engine':<28}{'s/epoch':>9}{'speed-up':>10}{'test acc':>10}{'peak MB':>9}")
    for group in ("", " + dropout"):
        base = statistics.median(_epoch_times(runs["tutorial" + group]))
        for name in SPEED:
            key = name + group
            seconds = statistics.median(_epoch_times(runs[key]))
            accuracy = statistics.median(test_accuracy(r) for r in runs[key])
            peak = max(r["peak_mb"] for r in runs[key])
            print(f"{key:<28}{seconds:>9.3f}{base / seconds:>9.1f}x{accuracy:>10.4f}{peak:>9.0f}")
    print(
        "\n(tutorial: per-sample loop, float64, 100 partitions; fast: batch 100, momentum 0.9,"
        f" softmax + cross-entropy; seconds exclude the per-epoch scoring)\nrows: {recorder.path}"
    )


CHAPTER = dict(engine="tutorial", epochs=3, partitions=100, init="scaled")
GOALS_TUTORIAL = {  # the chapter's run (--preset chapter) and its variants, seeds 1-3
    "chapter-scaled": CHAPTER,
    "chapter-init": {**CHAPTER, "init": "chapter"},
    "chapter-dropout": {**CHAPTER, "keep_input": 0.7, "keep_hidden": 0.7},
    "chapter-gradient": {**CHAPTER, "backprop": "gradient"},
}
SMALL = dict(engine="fast", hidden=[400], epochs=60, train_size=3000)
GOALS_SMALL = {  # 3,000 training images, 784-400-10, 60 epochs, seeds 1-3
    "small-plain": SMALL,
    "small-dropout": {**SMALL, **DROPOUT},
}


def goals_suite(folder: Path) -> None:
    recorder = Recorder("goals", folder)
    print(f"{'run':<20}{'seed':>5}{'train acc':>10}{'test acc':>10}{'s/epoch':>9}{'peak MB':>9}")
    for name, cfg in GOALS_TUTORIAL.items():
        for seed in (1, 2, 3):
            r = recorder.measure(name, {**cfg, "seed": seed})
            print(
                f"{name:<20}{seed:>5}{r['final']['train_accuracy']:>10.4f}{test_accuracy(r):>10.4f}"
                f"{r['seconds_per_epoch']:>9.3f}{r['peak_mb']:>9.0f}"
            )
    r = recorder.measure("fast-20", dict(engine="fast", epochs=20, seed=1))
    best = best_test_accuracy(r)
    print(f"fast 784-100-10, 20 epochs: test {test_accuracy(r):.4f}, best {best:.4f}")
    print("\n3,000 training images, 784-400-10, 60 epochs, test accuracy for seeds 1-3")
    means = {}
    for name, cfg in GOALS_SMALL.items():
        accs = [test_accuracy(recorder.measure(name, {**cfg, "seed": s})) for s in (1, 2, 3)]
        means[name] = statistics.mean(accs)
        print(f"  {name:<18} {' '.join(f'{a:.4f}' for a in accs)}  mean {means[name]:.4f}")
    gain = 100 * (means["small-dropout"] - means["small-plain"])
    print(f"  dropout gain: {gain:+.2f} points of mean test accuracy\nrows: {recorder.path}")


# The paper check: Srivastava et al. (2014), MNIST, ReLU units, dropout 0.8 / 0.5, max-norm,
# momentum; here 784-1024-1024-10 with an exponentially decaying learning rate, scored on the
# test set after every epoch (the training set only at the end, to spend the budget training).
STRETCH = dict(
    engine="fast", hidden=[1024, 1024], activation="relu", keep_input=0.8, keep_hidden=0.5,
    max_norm=3.5, momentum=0.95, learning_rate=0.05, lr_decay=0.98, batch_size=100,
    dtype="float32", epochs=1000, seed=1, score_train=False,
)  # fmt: skip


def stretch_suite(minutes: float, clock: str, folder: Path) -> None:
    budget = dict(budget_seconds=minutes * 60, budget_clock=clock, report_epochs=True)
    recorder = Recorder("stretch", folder)
    r = recorder.measure(
        "deep-relu", {**STRETCH, **budget}, minutes=minutes, budget_clock=clock, threads=1
    )
    errors = [100 * (1 - h["test_accuracy"]) for h in r["history"]]
    best = min(range(len(errors)), key=errors.__getitem__, default=None)
    print(
        f"784-1024-1024-10 ReLU, dropout 0.8/0.5, max-norm 3.5, budget {minutes:g} min of {clock}"
        f" time: {r['final']['epochs']} epochs in {r['elapsed_seconds'] / 60:.1f} min wall, "
        f"{r['elapsed_cpu_seconds'] / 60:.1f} min CPU; test error at the end "
        f"{100 * (1 - test_accuracy(r)):.2f}%"
        + (f", lowest {errors[best]:.2f}% after epoch {best + 1}" if best is not None else "")
        + f", peak {r['peak_mb']:.0f} MB\nrows: {recorder.path}"
    )


def _epoch_times(runs: list[dict]) -> list[float]:
    return [h["seconds"] for r in runs for h in r["history"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=["speed", "goals", "stretch"], default="speed")
    parser.add_argument("--rounds", type=int, default=2, help="speed suite: rounds")
    parser.add_argument("--minutes", type=float, default=60, help="stretch suite: time budget")
    parser.add_argument(
        "--budget-clock",
        choices=["wall", "cpu"],
        default="wall",
        help="stretch suite: count the budget in wall-clock time or in this process's CPU time",
    )
    parser.add_argument("--results", type=Path, default=RESULTS, help="folder of results files")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
    elif args.suite == "speed":
        speed_suite(args.rounds, args.results)
    elif args.suite == "goals":
        goals_suite(args.results)
    else:
        stretch_suite(args.minutes, args.budget_clock, args.results)


if __name__ == "__main__":
    main()
