"""Engine benchmark on the full MNIST: seconds per epoch, accuracy and peak memory, side by side.

Every configuration trains in its own process (so its peak resident memory is its own), and the
configurations take turns round by round, so a noisy neighbour slows all of them alike. Printed:
median seconds per epoch (training only), the speed-up over the tutorial engine, the final test
accuracy and the peak RSS.

    python benchmarks/bench_engines.py                 # speed table (a few minutes)
    python benchmarks/bench_engines.py --suite goals   # the accuracy goals (about 10 minutes)
    python benchmarks/bench_engines.py --suite stretch # deep ReLU net, up to 30 minutes

The suites:
- speed: tutorial engine (the chapter's run) vs fast engine in float64 and float32, same
  784-100-10 sigmoid network, no dropout; and the same three with dropout 0.8 / 0.5.
- goals: --preset chapter with both inits; fast 784-100-10 for 20 epochs; 3,000 training images,
  400 hidden units, 60 epochs, seeds 1-3, with and without dropout.
- stretch: 784-1024-1024-10 ReLU, dropout 0.8/0.5, max-norm, momentum, until 30 minutes.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time

SPEED = {
    "tutorial": dict(engine="tutorial", epochs=2, partitions=100, init="scaled"),
    "fast float64": dict(engine="fast", epochs=3, dtype="float64"),
    "fast float32": dict(engine="fast", epochs=3, dtype="float32"),
}
DROPOUT = dict(keep_input=0.8, keep_hidden=0.5)


def child(settings_json: str) -> None:
    """Train one configuration and print one JSON line of results."""
    from dropout_py import load_mnist
    from dropout_py.experiment import RunSettings, run

    fields = json.loads(settings_json)
    fields["hidden"] = tuple(fields.get("hidden", (100,)))
    deadline = fields.pop("deadline", None)
    settings = RunSettings(**fields)
    data = load_mnist()
    started = time.perf_counter()

    def stop_at_deadline(event) -> bool:
        return bool(deadline) and time.perf_counter() - started > deadline

    result = run(settings, data, on_event=stop_at_deadline)
    best = max((h["test_accuracy"] for h in result.history), default=float("nan"))
    print(
        json.dumps(
            {
                "seconds": [h["seconds"] for h in result.history],
                "test_accuracy": result.test.accuracy,
                "best_test_accuracy": best,
                "epochs": len(result.history),
                "seconds_total": result.seconds_total,
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
            }
        )
    )


def measure(settings: dict) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", json.dumps(settings)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def speed_suite(rounds: int) -> None:
    configs = {name: dict(cfg) for name, cfg in SPEED.items()}
    configs.update({f"{name} + dropout": {**cfg, **DROPOUT} for name, cfg in SPEED.items()})
    runs: dict[str, list[dict]] = {name: [] for name in configs}
    for r in range(rounds):
        for name, cfg in configs.items():
            print(f"round {r + 1}/{rounds}: {name} ...", file=sys.stderr, flush=True)
            runs[name].append(measure({**cfg, "seed": r + 1}))
    print(f"\nFull MNIST, 784-100-10 sigmoid, {rounds} rounds; median seconds per epoch\n")
    print(f"{'engine':<28}{'s/epoch':>9}{'speed-up':>10}{'test acc':>10}{'peak MB':>9}")
    for group in ("", " + dropout"):
        base = statistics.median(_epoch_times(runs["tutorial" + group]))
        for name in SPEED:
            key = name + group
            seconds = statistics.median(_epoch_times(runs[key]))
            accuracy = statistics.median(r["test_accuracy"] for r in runs[key])
            peak = max(r["peak_mb"] for r in runs[key])
            print(f"{key:<28}{seconds:>9.3f}{base / seconds:>9.1f}x{accuracy:>10.4f}{peak:>9.0f}")
    print(
        "\n(tutorial: per-sample loop, float64, 100 partitions; fast: batch 100, momentum 0.9,"
        " softmax + cross-entropy; seconds exclude the per-epoch scoring)"
    )


def goals_suite() -> None:
    rows = [
        (
            "--preset chapter (init scaled)",
            dict(engine="tutorial", epochs=3, partitions=100, init="scaled"),
        ),
        (
            "--preset chapter --init chapter",
            dict(engine="tutorial", epochs=3, partitions=100, init="chapter"),
        ),
        ("fast 784-100-10, 20 epochs", dict(engine="fast", epochs=20)),
    ]
    print(f"{'run':<36}{'test acc':>10}{'best':>8}{'s/epoch':>9}{'peak MB':>9}")
    for name, cfg in rows:
        r = measure({**cfg, "seed": 1})
        seconds = statistics.median(r["seconds"])
        print(
            f"{name:<36}{r['test_accuracy']:>10.4f}{r['best_test_accuracy']:>8.4f}"
            f"{seconds:>9.3f}{r['peak_mb']:>9.0f}"
        )
    small = dict(engine="fast", hidden=[400], epochs=60, train_size=3000)
    print("\n3,000 training images, 784-400-10, 60 epochs, test accuracy for seeds 1-3")
    means = {}
    for label, keep in (
        ("no dropout", dict(keep_input=1, keep_hidden=1)),
        ("dropout 0.8/0.5", DROPOUT),
    ):
        accs = [measure({**small, **keep, "seed": s})["test_accuracy"] for s in (1, 2, 3)]
        means[label] = statistics.mean(accs)
        print(f"  {label:<18} {' '.join(f'{a:.4f}' for a in accs)}  mean {means[label]:.4f}")
    gain = 100 * (means["dropout 0.8/0.5"] - means["no dropout"])
    print(f"  dropout gain: {gain:+.2f} points of mean test accuracy")


def stretch_suite(minutes: float) -> None:
    cfg = dict(
        engine="fast", hidden=[1024, 1024], activation="relu", keep_input=0.8, keep_hidden=0.5,
        max_norm=3.5, momentum=0.95, learning_rate=0.05, lr_decay=0.98, epochs=500,
        deadline=minutes * 60, seed=1,
    )  # fmt: skip
    r = measure(cfg)
    print(
        f"784-1024-1024-10 ReLU, dropout 0.8/0.5, max-norm 3.5: {r['epochs']} epochs in "
        f"{r['seconds_total'] / 60:.1f} min, test error {100 * (1 - r['test_accuracy']):.2f}% "
        f"(best epoch {100 * (1 - r['best_test_accuracy']):.2f}%), peak {r['peak_mb']:.0f} MB"
    )


def _epoch_times(runs: list[dict]) -> list[float]:
    return [s for r in runs for s in r["seconds"]]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suite", choices=["speed", "goals", "stretch"], default="speed")
    parser.add_argument("--rounds", type=int, default=2, help="speed suite: rounds")
    parser.add_argument("--minutes", type=float, default=30, help="stretch suite: time limit")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
    elif args.suite == "speed":
        speed_suite(args.rounds)
    elif args.suite == "goals":
        goals_suite()
    else:
        stretch_suite(args.minutes)


if __name__ == "__main__":
    main()
