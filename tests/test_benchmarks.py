"""The benchmarks' own logic: the time budget of the paper check (no timing is asserted)."""

import importlib.util
import sys
import time
from pathlib import Path

import pytest

from dropout_py.nn.events import TrainingEvent

REPO = Path(__file__).resolve().parent.parent


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


bench_engines = load("dp_bench_engines", REPO / "benchmarks" / "bench_engines.py")


def busy(cpu_seconds: float) -> None:
    """Spend this much CPU time in this process."""
    start = time.process_time()
    while time.process_time() - start < cpu_seconds:
        pass


def event(kind: str) -> TrainingEvent:
    return TrainingEvent(kind, 1, 9, 1, 1, 0.0, {"seconds": 0.0, "test_accuracy": 0.9})


def test_the_timer_notes_each_epochs_cpu_time_without_its_scoring():
    timer = bench_engines.EpochTimer()
    busy(0.05)  # a training step
    assert timer(event("step")) is False
    busy(0.05)  # scoring after the epoch
    assert timer(event("epoch")) is False
    busy(0.03)
    timer(event("step"))
    timer(event("epoch"))
    first, second = timer.epochs
    assert 0.05 <= first["cpu_seconds"] < first["elapsed_cpu_seconds"]
    assert first["elapsed_cpu_seconds"] >= 0.1
    assert second["cpu_seconds"] >= 0.03
    assert second["elapsed_cpu_seconds"] >= first["elapsed_cpu_seconds"] + 0.03
    assert all(e["elapsed_seconds"] > 0 for e in timer.epochs)


def test_a_cpu_budget_ignores_time_spent_waiting_and_a_wall_budget_counts_it():
    on_cpu = bench_engines.EpochTimer(budget=0.5, clock="cpu")
    on_wall = bench_engines.EpochTimer(budget=0.05, clock="wall")
    time.sleep(0.1)  # a busy neighbour holds the processor: wall time passes, ours does not
    assert on_wall(event("step")) is True
    assert on_cpu(event("step")) is False
    busy(0.5)
    assert on_cpu(event("step")) is True


def test_a_budget_clock_other_than_wall_or_cpu_is_refused():
    with pytest.raises(ValueError, match="budget clock must be 'wall' or 'cpu', got 'gpu'"):
        bench_engines.EpochTimer(budget=1, clock="gpu")
