"""The shared pieces: RNG resolution, activations, initializers, thinning, metrics, model files."""

import json
import zipfile

import numpy as np
import pytest
from scipy import special, stats

from dropout_py._random import resolve_rng
from dropout_py.nn import activations as act
from dropout_py.nn import losses
from dropout_py.nn.initializers import (
    chapter_weights,
    initial_weights,
    scaled_weights,
    truncated_normal,
)
from dropout_py.nn.metrics import confusion_counts
from dropout_py.nn.serialization import load_npz, save_npz
from dropout_py.nn.thinning import (
    keep_mask,
    partition_bounds,
    sample_active_indices,
    thin,
    with_bias_index,
    write_back,
)

# --- randomness ----------------------------------------------------------------------------


def test_resolve_rng_int_is_reproducible_and_generator_is_passed_through():
    assert resolve_rng(7).random() == resolve_rng(7).random()
    rng = np.random.default_rng(1)
    assert resolve_rng(rng) is rng


@pytest.mark.parametrize(
    ("seed", "message"),
    [
        (-1, "seed must be a non-negative integer, got -1"),
        (1.5, "seed must be an int, None or a numpy.random.Generator, got float 1.5"),
        (True, "seed must be an int, None or a numpy.random.Generator, got bool True"),
    ],
)
def test_resolve_rng_rejects(seed, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        resolve_rng(seed)


# --- activations ---------------------------------------------------------------------------


def test_sigmoid_matches_scipy_expit_without_overflow():
    z = np.linspace(-1000, 1000, 20001)
    with np.errstate(over="raise"):
        np.testing.assert_allclose(act.sigmoid(z), special.expit(z), rtol=0, atol=3e-16)


def test_sigmoid_keeps_float32():
    assert act.sigmoid(np.zeros(3, dtype=np.float32)).dtype == np.float32


def test_softmax_matches_scipy_and_survives_huge_inputs():
    z = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, -1000.0]])
    np.testing.assert_allclose(act.softmax(z.copy()), special.softmax(z, axis=1))


@pytest.mark.parametrize("name", ["sigmoid", "relu"])
def test_derivatives_match_finite_differences(name):
    z = np.linspace(-3, 3, 61) + 0.013  # avoid relu's kink at 0
    f = act.ACTIVATIONS[name]
    h = 1e-6
    numeric = (f(z + h) - f(z - h)) / (2 * h)
    np.testing.assert_allclose(act.DERIVATIVES[name](f(z)), numeric, atol=1e-8)


def test_losses_on_a_hand_worked_example():
    targets = np.array([[0.0, 1.0], [1.0, 0.0]])
    outputs = np.array([[0.2, 0.8], [0.6, 0.4]])
    # 0.5 * ((0.04 + 0.04) + (0.16 + 0.16)) / 2 rows
    assert losses.squared_error(targets, outputs) == pytest.approx(0.1)
    assert losses.cross_entropy(targets, outputs) == pytest.approx(-(np.log(0.8) + np.log(0.6)) / 2)


def test_cross_entropy_is_finite_for_zero_outputs():
    assert np.isfinite(losses.cross_entropy(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])))


# --- initializers --------------------------------------------------------------------------


def test_truncated_normal_follows_scipy_truncnorm():
    rng = np.random.default_rng(0)
    draws = truncated_normal(rng, (20000,), mean=2.0, sd=1.0, low=-0.5, high=0.5)
    reference = stats.truncnorm(-2.5, -1.5, loc=2.0, scale=1.0)
    assert stats.kstest(draws, reference.cdf).pvalue > 0.001
    assert draws.min() >= -0.5 and draws.max() <= 0.5


def test_truncated_normal_fills_a_narrow_interval_far_from_the_mean():
    draws = truncated_normal(np.random.default_rng(1), (500,), mean=0, sd=1, low=5.0, high=5.1)
    assert draws.shape == (500,) and draws.min() >= 5.0 and draws.max() <= 5.1


def test_scaled_weights_respect_the_fan_in_bound():
    w = scaled_weights(np.random.default_rng(0), 100, 784)
    assert w.shape == (100, 784)
    assert np.abs(w).max() <= 1 / np.sqrt(784)
    assert abs(w.mean()) < 0.001


def test_chapter_weights_lean_positive_as_published():
    w = chapter_weights(np.random.default_rng(0), 100, 784)
    assert w.min() >= -0.5 and w.max() <= 0.5
    assert 0.13 < w.mean() < 0.17  # the truncated N(2, 1) on [-0.5, 0.5] has mean ~0.153


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(mean=0, sd=1, low=1, high=1), "bounds must be finite with low < high"),
        (dict(mean=0, sd=1, low=0, high=np.inf), "bounds must be finite with low < high"),
        (dict(mean=0, sd=0, low=0, high=1), "sd must be positive, got 0"),
    ],
)
def test_truncated_normal_rejects(kwargs, message):
    with pytest.raises(ValueError, match=message):
        truncated_normal(np.random.default_rng(0), (3,), **kwargs)


def test_initial_weights_names_the_choices():
    with pytest.raises(ValueError, match="init must be one of 'scaled', 'chapter', 'he', got 'x'"):
        initial_weights("x", np.random.default_rng(0), 2, 2)


# --- thinning ------------------------------------------------------------------------------


def test_sample_active_indices_counts_as_the_chapter():
    rng = np.random.default_rng(3)
    idx = sample_active_indices(rng, 10, 0.7)
    assert len(idx) == 7 and len(set(idx)) == 7
    assert np.all(np.diff(idx) > 0) and idx.min() >= 0 and idx.max() <= 9
    assert len(sample_active_indices(rng, 5, 0.7)) == 3  # int(5 * 0.7)
    assert len(sample_active_indices(rng, 3, 0.1)) == 1  # never an empty layer
    np.testing.assert_array_equal(sample_active_indices(rng, 4, 1.0), np.arange(4))


@pytest.mark.parametrize(
    ("fraction", "message"),
    [
        (0, "keep_fraction must be in \\(0, 1\\], got 0"),
        (1.2, "keep_fraction must be in \\(0, 1\\], got 1.2"),
        ("0.5", "keep_fraction must be a number in \\(0, 1\\], got '0.5'"),
    ],
)
def test_sample_active_indices_rejects(fraction, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        sample_active_indices(np.random.default_rng(0), 10, fraction)


def test_thin_and_write_back_are_the_chapters_slicing():
    wih = np.arange(50).reshape(5, 10)
    inputs, hidden = np.array([0, 2, 3, 7]), np.array([1, 4])
    sub = thin(wih, hidden, inputs)
    np.testing.assert_array_equal(sub, wih[hidden][:, inputs])
    full = wih.copy()
    write_back(full, hidden, inputs, -sub)
    np.testing.assert_array_equal(full[np.ix_(hidden, inputs)], -sub)
    untouched = np.ones(wih.shape, bool)
    untouched[np.ix_(hidden, inputs)] = False
    np.testing.assert_array_equal(full[untouched], wih[untouched])


def test_bias_index_and_keep_mask():
    np.testing.assert_array_equal(with_bias_index(np.array([1, 3]), 5, 1), [1, 3, 5])
    np.testing.assert_array_equal(with_bias_index(np.array([1, 3]), 5, 0), [1, 3])
    np.testing.assert_array_equal(keep_mask(5, np.array([1, 3])), [0, 1, 0, 1, 0])


@pytest.mark.parametrize(("n", "parts"), [(10, 3), (60000, 100), (7, 7), (5, 1), (103, 10)])
def test_partitions_cover_every_sample_once(n, parts):
    bounds = partition_bounds(n, parts)
    covered = np.concatenate([np.arange(a, b) for a, b in bounds])
    np.testing.assert_array_equal(covered, np.arange(n))
    lengths = [b - a for a, b in bounds]
    assert lengths[:parts] == [n // parts] * parts
    assert len(bounds) in (parts, parts + 1)


# --- metrics -------------------------------------------------------------------------------


def test_confusion_counts_rows_are_true_labels():
    counts = confusion_counts(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 1]), 3)
    np.testing.assert_array_equal(counts, [[1, 1, 0], [0, 1, 0], [0, 1, 0]])


# --- model files ---------------------------------------------------------------------------


def test_save_load_round_trip(tmp_path):
    path = save_npz(tmp_path / "m.npz", kind="Thing", config={"a": [1, 2]}, arrays={"W": np.eye(2)})
    kind, config, arrays = load_npz(path, kind="Thing", shapes={"W": (2, 2)})
    assert (kind, config) == ("Thing", {"a": [1, 2]})
    np.testing.assert_array_equal(arrays["W"], np.eye(2))
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]  # no temporary file left


def test_failed_save_leaves_no_file(tmp_path):
    with pytest.raises(TypeError):
        save_npz(tmp_path / "m.npz", kind="T", config={"x": object()}, arrays={})
    assert list(tmp_path.iterdir()) == []


def _write_zip(path, entries):
    with zipfile.ZipFile(path, "w") as z:
        for name, array in entries.items():
            with z.open(name + ".npy", "w") as f:
                np.lib.format.write_array(f, np.asarray(array))


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        ({"W": np.eye(2)}, "not a dropout_py model file \\(missing __format__"),
        (
            {"__format__": 9, "__kind__": "T", "__config__": "{}"},
            "model format 9 is not supported",
        ),
        ({"__format__": 1, "__kind__": "Other", "__config__": "{}"}, "holds a Other, not a T"),
        ({"__format__": 1, "__kind__": "T", "__config__": "{nope"}, "corrupt model configuration"),
        (
            {"__format__": 1, "__kind__": "T", "__config__": "{}", "W": [np.nan]},
            "parameter 'W' is not a finite numeric array",
        ),
    ],
)
def test_load_rejects_bad_archives(tmp_path, entries, message):
    path = tmp_path / "bad.npz"
    _write_zip(path, entries)
    with pytest.raises(ValueError, match=message):
        load_npz(path, kind="T", shapes={"W": (1,)})


def test_load_rejects_truncated_and_garbage_files(tmp_path):
    good = save_npz(tmp_path / "g.npz", kind="T", config={}, arrays={"W": np.ones((50, 50))})
    truncated = tmp_path / "t.npz"
    truncated.write_bytes(good.read_bytes()[:500])
    garbage = tmp_path / "x.npz"
    garbage.write_bytes(b"hello world" * 10)
    single = tmp_path / "a.npy"
    np.save(single, np.eye(2))
    for path in (truncated, garbage, single):
        with pytest.raises(ValueError, match="not a readable .npz model file"):
            load_npz(path, shapes={})
    with pytest.raises(FileNotFoundError, match="no model file at"):
        load_npz(tmp_path / "missing.npz", shapes={})


def test_config_is_stored_as_json(tmp_path):
    path = save_npz(tmp_path / "m.npz", kind="T", config={"lr": 0.1}, arrays={})
    with np.load(path) as archive:
        assert json.loads(str(archive["__config__"])) == {"lr": 0.1}
