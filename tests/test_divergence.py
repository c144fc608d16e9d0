"""Training that diverges stops with DivergenceError; nothing non-finite is saved or written."""

import json
import math

import numpy as np
import pytest

import dropout_py
import dropout_py.nn.engine as engine
import dropout_py.nn.serialization as serialization
from dropout_py import DivergenceError, DropoutMLP, NeuralNetwork, load_model
from dropout_py.data.mnist import MNIST
from dropout_py.run.experiment import RunSettings, run
from dropout_py.run.results import append_row, read_rows, run_row, strict_json

# numpy warns of the overflow that the divergence check then reports
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")


def data(n=200, seed=0):
    X = np.random.default_rng(seed).random((n, 4))
    return X, (X[:, 0] > 0.5).astype(int)


def refuse_constant(constant: str) -> None:
    raise ValueError(f"not strict JSON: {constant}")


def test_the_error_is_exported_and_an_arithmetic_error():
    assert dropout_py.DivergenceError is DivergenceError
    assert issubclass(DivergenceError, ArithmeticError)
    assert "DivergenceError" in dropout_py.__all__


def test_a_huge_learning_rate_stops_at_the_first_nan_loss():
    X, y = data()
    model = DropoutMLP((4, 8, 2), learning_rate=1e308, batch_size=50, seed=0)
    with pytest.raises(
        DivergenceError, match=r"epoch 1 \(step 2 of 4\): the loss of step 2 is nan"
    ):
        model.fit(X, y, epochs=3)
    assert model.history_ == []  # no epoch was completed


def test_dropout_whose_scale_overflows_diverges_at_once():
    X, y = data()
    model = DropoutMLP((4, 8, 2), keep_input=1e-300, seed=0)  # 1 / keep is inf in float32
    events = model.fit_iter(X, y, epochs=2)
    with pytest.raises(DivergenceError) as caught:
        next(events)
    assert (caught.value.epoch, caught.value.step, caught.value.steps) == (1, 1, 2)


def test_weights_are_checked_where_no_loss_is_measured(monkeypatch):
    """The chapter's network measures no loss per step: its weights are checked instead."""
    X, y = data(n=300)
    model = NeuralNetwork(4, 2, 8, 0.1, seed=0, partitions=3)
    model.who[0, 0] = np.inf
    monkeypatch.setattr(engine, "CHECK_ROWS", 150)  # checked after 150 rows: during step 2
    events = model.fit_iter(X, y, epochs=1)
    assert next(events).kind == "step"  # rows 0-99: not checked yet
    with pytest.raises(DivergenceError, match=r"step 2 of 3\): the parameters w.. hold inf"):
        next(events)


def test_the_weights_are_checked_after_every_epoch():
    X, y = data()
    model = NeuralNetwork(4, 2, 8, 0.1, seed=0)
    model.wih[:] = np.nan
    with pytest.raises(DivergenceError, match=r"step 10 of 10\): the parameters wih hold inf"):
        model.fit(X, y, epochs=1)


def test_check_finite_names_the_parameter():
    model = DropoutMLP((4, 8, 3), seed=0)
    model.check_finite()
    model.biases_[1][2] = -np.inf
    with pytest.raises(DivergenceError, match="the parameters b1 hold inf or nan"):
        model.check_finite()


def test_a_non_finite_model_is_never_saved(tmp_path):
    model = DropoutMLP((4, 8, 2), seed=0)
    model.weights_[0][0, 0] = np.nan
    path = tmp_path / "m.npz"
    with pytest.raises(ValueError, match=r"parameter 'W0' holds inf or nan.*could not be loaded"):
        model.save(path)
    assert list(tmp_path.iterdir()) == []  # not even a temporary file


def test_a_model_too_big_or_too_long_to_load_is_never_saved(tmp_path, monkeypatch):
    model = NeuralNetwork(4, 2, 8, 0.1, seed=0)
    monkeypatch.setattr(serialization, "MAX_PARAMETERS", 40)  # the network has 48
    with pytest.raises(ValueError, match="48 parameters; a model file holds at most 40"):
        model.save(tmp_path / "big.npz")
    monkeypatch.undo()
    X, y = data()
    model.fit(X, y, epochs=3)
    monkeypatch.setattr(serialization, "MAX_CONFIG_CHARS", 400)
    with pytest.raises(ValueError, match="training history take .* at most 400"):
        model.save(tmp_path / "long.npz")
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    assert load_model(model.save(tmp_path / "fine.npz")).epochs_trained_ == 3


def test_check_costs_nothing_when_training_is_fine():
    """A healthy run with both engines passes every check (no false alarm at lr 2)."""
    X, y = data()
    DropoutMLP((4, 8, 2), learning_rate=2.0, seed=0).fit(X, y, epochs=5)
    NeuralNetwork(4, 2, 8, 2.0, seed=0).fit(X, y, epochs=5)


@pytest.fixture
def tiny_mnist():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (60, 784), dtype=np.uint8)
    labels = rng.integers(0, 10, 60).astype(np.uint8)
    return MNIST(images[:40], labels[:40], images[40:], labels[40:])


def test_run_reports_a_divergence_and_scores_nothing(tiny_mnist):
    settings = RunSettings(hidden=(8,), epochs=3, learning_rate=1e308, batch_size=10)
    result = run(settings, tiny_mnist)
    assert isinstance(result.diverged, DivergenceError) and result.stopped_early
    assert math.isnan(result.test.accuracy) and result.test.n_samples == 0
    summary = json.loads(strict_json(result.summary()), parse_constant=refuse_constant)
    assert summary["diverged"].startswith("training diverged in epoch 1")
    assert summary["test_accuracy"] is None and summary["train_loss"] is None
    row = run_row(result)
    assert row["final"]["diverged"] == summary["diverged"]


def test_a_healthy_run_says_it_did_not_diverge(tiny_mnist):
    result = run(RunSettings(hidden=(8,), epochs=1, batch_size=10), tiny_mnist)
    assert result.diverged is None and result.summary()["diverged"] is None
    assert "diverged" not in run_row(result)["final"]


def test_results_rows_are_strict_json(tmp_path):
    path = tmp_path / "rows.jsonl"
    append_row(path, {"loss": float("nan"), "scores": np.array([np.inf, 0.5]), "n": np.int64(3)})
    line = path.read_text().strip()
    assert json.loads(line, parse_constant=refuse_constant) == {
        "loss": None,
        "n": 3,
        "scores": [None, 0.5],
    }
    assert read_rows(path)[0]["loss"] is None


def test_strict_json_refuses_what_it_cannot_store():
    with pytest.raises(TypeError, match="cannot store object"):
        strict_json({"x": object()})
