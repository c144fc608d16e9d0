"""Both engines beside PyTorch and scikit-learn on the same MLP, one process, one thread each.

The network: 784-100-10, sigmoid hidden layer, softmax output with mean cross-entropy, plain
SGD with classical momentum 0.9 and learning rate 0.1, no dropout, no weight decay, full MNIST
(60,000 training images as floats in [0, 1], prepared once outside the timing). Every framework
starts from the same first weights: the fast engine's draw for seed 1 (truncated normal within
+-1/sqrt(fan-in), biases 0), copied into the PyTorch and scikit-learn models. Each trains its
own idiomatic way:

* fast: ``DropoutMLP.fit(X, y, epochs=1)`` (float32 and float64);
* tutorial: the chapter's ``NeuralNetwork`` (per example, float64; its own network: sigmoid
  output, squared error, no biases, the chapter's scaled inputs), as a reference point;
* pytorch: ``nn.Sequential(Linear, Sigmoid, Linear)``, ``F.cross_entropy``, ``optim.SGD``, a
  ``randperm`` loop over index batches (no DataLoader);
* scikit-learn: ``MLPClassifier(activation="logistic", solver="sgd", alpha=0,
  nesterovs_momentum=False)``, one ``partial_fit`` per epoch (which also checks its input and
  tracks the loss each call).

Part ``compare`` trains one epoch of every configuration per round, the order rotated each
round so that a noisy neighbour slows all alike; rows hold the median seconds per epoch (wall
and process CPU time), every round, and the test accuracy after the last round. Part
``growth`` does the same for the fast engine and PyTorch (float32) over hidden widths at batch
128 and over batch sizes at width 100: how the cost grows. One BLAS/OpenMP thread throughout
(``threadpoolctl``, ``torch.set_num_threads(1)``).

    python benchmarks/bench_peers.py                         # both parts (~10 min here)
    python benchmarks/bench_peers.py --part compare --rounds 5
    python benchmarks/bench_peers.py --part growth --rounds 3

A peer that is not installed is skipped with a note (``pip install -e '.[peers]'`` installs
both; ``make bench-peers``). Rows go to ``results/bench-peers.jsonl`` (``--out``), one per
configuration, written with :mod:`dropout_py.run.results` like every results file.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

from dropout_py import DropoutMLP, load_mnist
from dropout_py.run.experiment import RunSettings, build_model
from dropout_py.run.results import append_row, git_commit, machine, now

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "results" / "bench-peers.jsonl"
LEARNING_RATE, MOMENTUM, SEED, CLASSES = 0.1, 0.9, 1, 10
COMPARE_BATCHES = (32, 128)
GROWTH_WIDTHS = (50, 100, 200, 400, 800, 1600)
GROWTH_BATCHES = (16, 32, 64, 128, 256, 512)
GROWTH_WIDTH_BATCH, GROWTH_BATCH_WIDTH = 128, 100
PEERS = {"pytorch": "torch", "scikit-learn": "sklearn"}


def installed(module: str) -> bool:
    try:
        __import__(module)
    except ImportError:
        return False
    return True


def versions() -> dict[str, str | None]:
    found: dict[str, str | None] = {}
    for dist in ("numpy", "torch", "scikit-learn", "threadpoolctl"):
        try:
            found[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            found[dist] = None
    return found


def first_weights(sizes: tuple[int, ...], dtype: str) -> list[tuple[np.ndarray, np.ndarray]]:
    """The fast engine's first weights for seed 1: per layer ``(W (in, out), b (out,))``."""
    model = DropoutMLP(sizes, dtype=dtype, seed=SEED)
    return [(W.T.copy(), b.copy()) for W, b in zip(model.weights_, model.biases_, strict=True)]


class Data:
    """The training and test images as floats of each dtype, made once and shared."""

    def __init__(self) -> None:
        self.mnist = load_mnist()
        self._floats: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def floats(self, dtype: str) -> tuple[np.ndarray, np.ndarray]:
        if dtype not in self._floats:
            scale = np.asarray(1 / 255, dtype=dtype)
            self._floats[dtype] = tuple(  # type: ignore[assignment]
                images.astype(dtype) * scale
                for images in (self.mnist.train_images, self.mnist.test_images)
            )
        return self._floats[dtype]


# --- one runner per framework: epoch() trains one epoch, accuracy() scores the test set -------


class Fast:
    def __init__(self, data: Data, sizes: tuple[int, ...], dtype: str, batch: int) -> None:
        self.X, self.T = data.floats(dtype)
        self.y, self.t = data.mnist.train_labels, data.mnist.test_labels
        self.model = DropoutMLP(
            sizes,
            learning_rate=LEARNING_RATE,
            momentum=MOMENTUM,
            batch_size=batch,
            dtype=dtype,
            seed=SEED,
        )

    def epoch(self) -> None:
        self.model.fit(self.X, self.y, epochs=1, score_train=False)

    def accuracy(self) -> float:
        return float(np.mean(self.model.predict(self.T) == self.t))


class Tutorial:
    def __init__(self, data: Data, sizes: tuple[int, ...], dtype: str, batch: int) -> None:
        settings = RunSettings(engine="tutorial", hidden=sizes[1:-1], init="scaled", seed=SEED)
        self.model = build_model(settings)
        self.X = self.model.prepare(data.mnist.train_images)
        self.T = self.model.prepare(data.mnist.test_images)
        self.y, self.t = data.mnist.train_labels, data.mnist.test_labels

    def epoch(self) -> None:
        self.model.fit(self.X, self.y, epochs=1, score_train=False)

    def accuracy(self) -> float:
        return float(np.mean(self.model.predict(self.T) == self.t))


class PyTorch:
    def __init__(self, data: Data, sizes: tuple[int, ...], dtype: str, batch: int) -> None:
        import torch

        self.torch = torch
        torch_dtype = getattr(torch, dtype)
        layers: list[torch.nn.Module] = []
        for k, (W, b) in enumerate(first_weights(sizes, dtype)):
            linear = torch.nn.Linear(*W.shape, dtype=torch_dtype)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                linear.bias.copy_(torch.from_numpy(b))
            layers += [linear] if k == len(sizes) - 2 else [linear, torch.nn.Sigmoid()]
        self.model = torch.nn.Sequential(*layers)
        self.optimizer = torch.optim.SGD(
            self.model.parameters(), lr=LEARNING_RATE, momentum=MOMENTUM
        )
        X, T = data.floats(dtype)
        self.X, self.T = torch.from_numpy(X), torch.from_numpy(T)
        self.y = torch.from_numpy(data.mnist.train_labels.astype(np.int64))
        self.t = torch.from_numpy(data.mnist.test_labels.astype(np.int64))
        self.batch = batch
        self.generator = torch.Generator().manual_seed(SEED)

    def epoch(self) -> None:
        torch, model, optimizer = self.torch, self.model, self.optimizer
        order = torch.randperm(len(self.X), generator=self.generator)
        for start in range(0, len(self.X), self.batch):
            rows = order[start : start + self.batch]
            optimizer.zero_grad(set_to_none=True)
            loss = torch.nn.functional.cross_entropy(model(self.X[rows]), self.y[rows])
            loss.backward()
            optimizer.step()

    def accuracy(self) -> float:
        with self.torch.no_grad():
            return float((self.model(self.T).argmax(dim=1) == self.t).double().mean())


class ScikitLearn:
    def __init__(self, data: Data, sizes: tuple[int, ...], dtype: str, batch: int) -> None:
        from sklearn.neural_network import MLPClassifier

        self.X, self.T = data.floats(dtype)
        self.y, self.t = data.mnist.train_labels, data.mnist.test_labels
        self.model = MLPClassifier(
            hidden_layer_sizes=sizes[1:-1],
            activation="logistic",
            solver="sgd",
            alpha=0.0,
            batch_size=batch,
            learning_rate="constant",
            learning_rate_init=LEARNING_RATE,
            momentum=MOMENTUM,
            nesterovs_momentum=False,
            shuffle=True,
            random_state=SEED,
        )
        # partial_fit on one batch builds the model; then its weights become the shared first
        # weights and its momentum starts again at zero (set-up, not timed).
        self.model.partial_fit(self.X[:batch], self.y[:batch], classes=np.arange(CLASSES))
        for k, (W, b) in enumerate(first_weights(sizes, dtype)):
            self.model.coefs_[k][...] = W
            self.model.intercepts_[k][...] = b
        optimizer = self.model._optimizer
        optimizer.velocities = [np.zeros_like(v) for v in optimizer.velocities]

    def epoch(self) -> None:
        self.model.partial_fit(self.X, self.y)

    def accuracy(self) -> float:
        return float(np.mean(self.model.predict(self.T) == self.t))


RUNNERS: dict[str, Callable[..., object]] = {
    "fast": Fast,
    "tutorial": Tutorial,
    "pytorch": PyTorch,
    "scikit-learn": ScikitLearn,
}


# --- the measurement -------------------------------------------------------------------------


def configurations(part: str, frameworks: list[str]) -> list[dict]:
    """The configurations of one part, for the frameworks that are available."""
    if part == "compare":
        configs = [
            {"framework": f, "dtype": dtype, "batch_size": batch, "hidden": 100}
            for f in ("fast", "pytorch", "scikit-learn")
            for dtype in ("float32", "float64")
            for batch in COMPARE_BATCHES
        ]
        tutorial = {"framework": "tutorial", "dtype": "float64", "batch_size": 1, "hidden": 100}
        configs.append(tutorial)
    else:
        configs = []
        for f in ("fast", "pytorch"):
            configs += [
                {"framework": f, "dtype": "float32", "batch_size": GROWTH_WIDTH_BATCH, "hidden": w}
                for w in GROWTH_WIDTHS
            ]
            configs += [
                {"framework": f, "dtype": "float32", "batch_size": b, "hidden": GROWTH_BATCH_WIDTH}
                for b in GROWTH_BATCHES
                if b != GROWTH_WIDTH_BATCH
            ]
    return [c for c in configs if c["framework"] in frameworks]


def name(config: dict) -> str:
    return f"{config['framework']}/{config['dtype']}/h{config['hidden']}/b{config['batch_size']}"


def measure(configs: list[dict], data: Data, rounds: int) -> dict[str, dict]:
    """Train every configuration one epoch per round, the order rotated round by round."""
    runners = {}
    for config in configs:
        sizes = (784, config["hidden"], CLASSES)
        runners[name(config)] = RUNNERS[config["framework"]](
            data, sizes, config["dtype"], config["batch_size"]
        )
    names = list(runners)
    wall: dict[str, list[float]] = {n: [] for n in names}
    cpu: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        shift = r * max(1, len(names) // rounds) % len(names)
        order = names[shift:] + names[:shift]
        if r % 2:
            order.reverse()
        for n in order:
            started, started_cpu = time.perf_counter(), time.process_time()
            runners[n].epoch()
            wall[n].append(time.perf_counter() - started)
            cpu[n].append(time.process_time() - started_cpu)
        print(f"  round {r + 1}/{rounds} done", file=sys.stderr, flush=True)
    return {
        n: {
            "seconds_per_epoch": statistics.median(wall[n]),
            "cpu_seconds_per_epoch": statistics.median(cpu[n]),
            "rounds": wall[n],
            "cpu_rounds": cpu[n],
            "test_accuracy": runners[n].accuracy(),
        }
        for n in names
    }


def limit_threads() -> None:
    """One thread for PyTorch's own pools (threadpoolctl covers BLAS and OpenMP)."""
    if installed("torch"):
        import torch

        torch.set_num_threads(1)
        with contextlib.suppress(RuntimeError):  # already set, or work already ran
            torch.set_num_interop_threads(1)


def run_part(part: str, data: Data, rounds: int, out: Path, meta: dict) -> None:
    frameworks = ["fast", "tutorial"] + [p for p, module in PEERS.items() if installed(module)]
    configs = configurations(part, frameworks)
    print(f"{part}: {len(configs)} configurations, {rounds} rounds", file=sys.stderr, flush=True)
    started = time.perf_counter()
    measured = measure(configs, data, rounds)
    seconds = time.perf_counter() - started
    print(f"\n{part}: median seconds per epoch (wall / CPU), test accuracy after {rounds} epochs")
    for config in configs:
        metrics = measured[name(config)]
        row = {
            "benchmark": "peers",
            "part": part,
            "name": name(config),
            **meta,
            "settings": {
                **config,
                "layer_sizes": [784, config["hidden"], CLASSES],
                "activation": "sigmoid",
                "output": "softmax, mean cross-entropy"
                if config["framework"] != "tutorial"
                else "sigmoid, squared error (the chapter's network)",
                "learning_rate": LEARNING_RATE,
                "momentum": MOMENTUM if config["framework"] != "tutorial" else 0.0,
                "rounds": rounds,
                "threads": 1,
            },
            "metrics": metrics,
            "seconds": seconds,
            "finished": now(),
        }
        append_row(out, row)
        print(
            f"  {name(config):<36}{metrics['seconds_per_epoch']:>8.3f} s"
            f"{metrics['cpu_seconds_per_epoch']:>8.3f} s{metrics['test_accuracy']:>9.4f}",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["compare", "growth", "all"], default="all")
    parser.add_argument("--rounds", type=int, help="rounds (default: 5 compare, 3 growth)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    for peer, module in PEERS.items():
        if not installed(module):
            print(f"{peer} is not installed: skipped (pip install -e '.[peers]')", file=sys.stderr)
    meta = {
        "run_id": now(),
        "versions": versions(),
        "blas_env": {k: os.environ.get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")},
        "commit": git_commit(),
        "machine": machine(),
    }
    parts = ["compare", "growth"] if args.part == "all" else [args.part]
    data = Data()
    with threadpool_limits(limits=1):
        limit_threads()
        for part in parts:
            rounds = args.rounds or (5 if part == "compare" else 3)
            run_part(part, data, rounds, args.out, meta)
    print(f"rows: {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
