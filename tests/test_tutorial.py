"""The chapter's NeuralNetwork: its API, its dropout, and the bugs it fixes."""

import numpy as np
import pytest

from dropout_py import NeuralNetwork
from dropout_py.nn.tutorial import NeuralNetwork as TutorialNetwork


def blobs(n=300, n_in=6, n_out=3, seed=0):
    """A small separable data set: class c has a bright input c; chapter-style targets."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_out, n)
    data = rng.random((n, n_in)) * 0.3 + 0.01
    data[np.arange(n), labels] += 0.6
    targets = np.full((n, n_out), 0.01)
    targets[np.arange(n), labels] = 0.99
    return data, labels, targets


def test_exported_at_top_level():
    assert NeuralNetwork is TutorialNetwork


@pytest.mark.parametrize(("bias", "extra"), [(None, 0), (1, 1), (0.5, 1)])
def test_weight_shapes_follow_the_chapter(bias, extra):
    nn = NeuralNetwork(3, 2, 4, 0.1, bias, seed=0)
    assert nn.wih.shape == (4, 3 + extra)
    assert nn.who.shape == (2, 4 + extra)


def test_dropout_weight_matrices_slices_and_remembers_the_full_network():
    nn = NeuralNetwork(10, 7, 5, 0.1, seed=2)
    wih, who = nn.wih.copy(), nn.who.copy()
    inputs, hidden = nn.dropout_weight_matrices(0.7, 0.7)
    assert len(inputs) == 7 and len(hidden) == 3
    np.testing.assert_array_equal(nn.wih, wih[hidden][:, inputs])
    np.testing.assert_array_equal(nn.who, who[:, hidden])
    assert (nn.no_of_in_nodes, nn.no_of_hidden_nodes) == (7, 3)
    assert (nn.no_of_in_nodes_orig, nn.no_of_hidden_nodes_orig) == (10, 5)
    np.testing.assert_array_equal(nn.wih_orig, wih)
    np.testing.assert_array_equal(nn.active_input_indices, inputs)


def test_reset_writes_trained_values_back_and_leaves_the_rest():
    nn = NeuralNetwork(10, 7, 5, 0.1, seed=2)
    wih, who = nn.wih.copy(), nn.who.copy()
    inputs, hidden = nn.dropout_weight_matrices(0.7, 0.7)
    nn.wih = nn.wih + 100.0
    nn.who = nn.who - 100.0
    nn.weight_matrices_reset(inputs, hidden)
    assert nn.wih.shape == (5, 10) and nn.who.shape == (7, 5)
    assert (nn.no_of_in_nodes, nn.no_of_hidden_nodes) == (10, 5)
    assert nn.active_input_indices is None
    changed = np.zeros(wih.shape, bool)
    changed[np.ix_(hidden, inputs)] = True
    np.testing.assert_array_equal(nn.wih[changed], wih[changed] + 100.0)
    np.testing.assert_array_equal(nn.wih[~changed], wih[~changed])
    np.testing.assert_array_equal(nn.who[:, hidden], who[:, hidden] - 100.0)
    others = np.setdiff1d(np.arange(5), hidden)
    np.testing.assert_array_equal(nn.who[:, others], who[:, others])


def test_bias_columns_are_never_dropped():
    nn = NeuralNetwork(10, 3, 6, 0.1, bias=1, seed=0)
    wih, who = nn.wih.copy(), nn.who.copy()
    inputs, hidden = nn.dropout_weight_matrices(0.5, 0.5)
    assert nn.wih.shape == (3, 5 + 1) and nn.who.shape == (3, 3 + 1)
    np.testing.assert_array_equal(nn.wih[:, -1], wih[hidden, -1])
    np.testing.assert_array_equal(nn.who[:, -1], who[:, -1])
    nn.train_single(np.ones(5), np.full(3, 0.5))  # the chapter's version broke here
    nn.weight_matrices_reset(inputs, hidden)
    assert not np.array_equal(nn.who[:, -1], who[:, -1])  # the bias weights were trained


def test_training_with_bias_and_dropout_learns():
    data, labels, targets = blobs()
    nn = NeuralNetwork(6, 3, 12, 0.3, bias=1, seed=1)
    before = nn.evaluate(data, labels)[0]
    nn.train(data, targets, epochs=10, active_input_percentage=0.8, active_hidden_percentage=0.7)
    corrects, wrongs = nn.evaluate(data, labels)
    assert corrects + wrongs == len(data)
    assert corrects > max(before, 0.9 * len(data))


def test_every_sample_is_trained_once_per_epoch_when_partitions_do_not_divide(monkeypatch):
    data, _, targets = blobs(n=103)
    nn = NeuralNetwork(6, 3, 4, 0.1, seed=0)
    seen = []
    monkeypatch.setattr(nn, "_train_sample", lambda x, t: seen.append(t.copy()))
    events = []
    nn.train(data, targets, epochs=2, no_of_dropout_tests=10, callback=events.append)
    assert len(seen) == 2 * 103
    np.testing.assert_array_equal(np.array(seen[:103]), targets)
    steps = [e for e in events if e.kind == "step"]
    assert len(steps) == 2 * 11 and steps[-1].steps == 11
    assert [e.epoch for e in events if e.kind == "epoch"] == [1, 2]


def test_train_slices_each_input_to_the_active_nodes(monkeypatch):
    data, _, targets = blobs(n=20)
    nn = NeuralNetwork(6, 3, 4, 0.1, seed=0)
    calls = []
    real = nn._train_sample

    def spy(x, t):
        calls.append((x.copy(), nn.active_input_indices.copy()))
        real(x, t)

    monkeypatch.setattr(nn, "_train_sample", spy)
    nn.train(data, targets, epochs=1, active_input_percentage=0.5, no_of_dropout_tests=4)
    for i, (x, active) in enumerate(calls):
        assert len(active) == 3
        np.testing.assert_array_equal(x, data[i, active])


def test_no_dropout_is_plain_per_sample_gradient_descent():
    data, _, targets = blobs(n=40)
    a = NeuralNetwork(6, 3, 5, 0.2, bias=1, seed=4)
    b = NeuralNetwork(6, 3, 5, 0.2, bias=1, seed=4)
    a.train(data, targets, epochs=1, active_input_percentage=1, active_hidden_percentage=1)
    for x, t in zip(data, targets, strict=True):
        b.train_single(x, t)
    np.testing.assert_allclose(a.wih, b.wih)
    np.testing.assert_allclose(a.who, b.who)


def test_train_single_follows_the_gradient_of_the_squared_error():
    """A small step along the update lowers the error by lr * |gradient|^2 (first order)."""
    nn = NeuralNetwork(4, 3, 5, 1e-4, bias=1, backprop="gradient", seed=0)
    x, t = np.array([0.2, 0.9, 0.1, 0.5]), np.array([0.01, 0.99, 0.01])

    def error(net):
        return 0.5 * np.sum((t - net.run(x).ravel()) ** 2)

    wih, who = nn.wih.copy(), nn.who.copy()
    before = error(nn)
    nn.train_single(x, t)
    step = np.concatenate([(nn.wih - wih).ravel(), (nn.who - who).ravel()])
    # For gradient descent, the step is -lr * grad, so the error drops by |step|^2 / lr.
    assert before - error(nn) == pytest.approx(np.dot(step, step) / 1e-4, rel=1e-3)


def test_chapter_rule_sends_the_output_error_back_through_the_old_who():
    """The tutorial series' rule, worked by hand on one example (bias node included)."""
    nn = NeuralNetwork(3, 2, 4, 0.3, bias=1, seed=2)
    wih, who = nn.wih.copy(), nn.who.copy()
    x, t = np.array([0.2, 0.7, 0.4]), np.array([0.99, 0.01])
    xb = np.append(x, 1)
    h = 1 / (1 + np.exp(-(wih @ xb)))
    hb = np.append(h, 1)
    o = 1 / (1 + np.exp(-(who @ hb)))
    e = t - o
    hidden_error = (who.T @ e)[:-1]  # no output slope; who before its update; bias row dropped
    nn.train_single(x, t)
    np.testing.assert_allclose(nn.who, who + 0.3 * np.outer(e * o * (1 - o), hb), rtol=1e-12)
    np.testing.assert_allclose(
        nn.wih, wih + 0.3 * np.outer(hidden_error * h * (1 - h), xb), rtol=1e-12
    )


def test_the_two_rules_differ_only_in_the_hidden_layer():
    x, t = np.array([0.2, 0.7, 0.4]), np.array([0.99, 0.01])
    nets = [NeuralNetwork(3, 2, 4, 0.3, backprop=rule, seed=2) for rule in ("chapter", "gradient")]
    for nn in nets:
        nn.train_single(x, t)
    np.testing.assert_array_equal(nets[0].who, nets[1].who)
    assert not np.allclose(nets[0].wih, nets[1].wih)


def test_run_returns_a_column_and_matches_predict_proba():
    nn = NeuralNetwork(6, 3, 4, 0.1, bias=1, seed=0)
    data, _, _ = blobs(n=5)
    assert nn.run(data[0]).shape == (3, 1)
    np.testing.assert_allclose(nn.run(data[2]).ravel(), nn.predict_proba(data)[2])


def test_confusion_matrix_is_the_chapters_dict():
    data, labels, targets = blobs()
    nn = NeuralNetwork(6, 3, 8, 0.3, seed=0)
    nn.train(data, targets, epochs=3, active_input_percentage=1, active_hidden_percentage=1)
    cm = nn.confusion_matrix(data, labels.astype(float).reshape(-1, 1))
    assert sum(cm.values()) == len(data)
    assert all(isinstance(k, tuple) and len(k) == 2 for k in cm)
    corrects = sum(n for (t, p), n in cm.items() if t == p)
    assert corrects == nn.evaluate(data, labels)[0]
    score = nn.score(data, labels)
    assert score.accuracy == pytest.approx(corrects / len(data))
    assert score.confusion.sum() == len(data)


def test_same_seed_same_network_and_training():
    data, _, targets = blobs()
    nets = [NeuralNetwork(6, 3, 8, 0.1, seed=9) for _ in range(2)]
    for nn in nets:
        nn.train(data, targets, epochs=2, no_of_dropout_tests=5)
    np.testing.assert_array_equal(nets[0].wih, nets[1].wih)
    other = NeuralNetwork(6, 3, 8, 0.1, seed=10)
    assert not np.array_equal(other.wih, NeuralNetwork(6, 3, 8, 0.1, seed=9).wih)


def test_init_chapter_reproduces_the_published_draw():
    nn = NeuralNetwork(784, 10, 100, 0.1, init="chapter", seed=0)
    assert nn.wih.min() >= -0.5 and nn.wih.max() <= 0.5 and nn.wih.mean() > 0.1
    scaled = NeuralNetwork(784, 10, 100, 0.1, seed=0)
    assert np.abs(scaled.wih).max() <= 1 / np.sqrt(784)


def test_verbose_prints_the_epochs(capsys):
    data, _, targets = blobs(n=20)
    NeuralNetwork(6, 3, 4, 0.1, seed=0).train(data, targets, epochs=2, verbose=True)
    assert capsys.readouterr().out == "epoch: 1\nepoch: 2\n"
    NeuralNetwork(6, 3, 4, 0.1, seed=0).train(data, targets, epochs=2)
    assert capsys.readouterr().out == ""


def test_save_and_load_round_trip(tmp_path):
    data, _, targets = blobs()
    nn = NeuralNetwork(6, 3, 8, 0.1, bias=1, init="chapter", backprop="gradient", seed=0)
    nn.train(data, targets, epochs=1)
    loaded = NeuralNetwork.load(nn.save(tmp_path / "nn.npz"))
    assert repr(loaded) == repr(nn)
    np.testing.assert_array_equal(loaded.predict_proba(data), nn.predict_proba(data))


def test_save_refuses_a_thinned_network(tmp_path):
    nn = NeuralNetwork(6, 3, 8, 0.1, seed=0)
    nn.dropout_weight_matrices()
    with pytest.raises(RuntimeError, match="call weight_matrices_reset first"):
        nn.save(tmp_path / "nn.npz")


def test_load_rejects_shapes_that_do_not_match_the_settings(tmp_path):
    nn = NeuralNetwork(6, 3, 8, 0.1, seed=0)
    nn.who = np.zeros((3, 9))
    with pytest.raises(
        ValueError, match="parameter 'who' has shape \\(3, 9\\), expected \\(3, 8\\)"
    ):
        NeuralNetwork.load(nn.save(tmp_path / "nn.npz"))


ARGS = (6, 3, 4, 0.1)


@pytest.mark.parametrize(
    ("args", "kwargs", "message"),
    [
        ((0, 3, 4, 0.1), {}, "no_of_in_nodes must be a positive integer, got 0"),
        ((6, 3.5, 4, 0.1), {}, "no_of_out_nodes must be a positive integer, got 3.5"),
        ((6, 3, -2, 0.1), {}, "no_of_hidden_nodes must be a positive integer, got -2"),
        ((6, 3, 4, 0), {}, "learning_rate must be a positive number, got 0"),
        ((6, 3, 4, float("nan")), {}, "learning_rate must be a positive number, got nan"),
        ((*ARGS, "1"), {}, "bias must be None or a finite number, got '1'"),
        (ARGS, {"init": "zeros"}, "init must be one of 'scaled', 'chapter', 'he', got 'zeros'"),
        (ARGS, {"backprop": "rprop"}, "backprop must be one of 'chapter', 'gradient', got 'rprop'"),
    ],
)
def test_constructor_rejects(args, kwargs, message):
    with pytest.raises(ValueError, match=f"^{message}$"):
        NeuralNetwork(*args, **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"epochs": 0}, "epochs must be a positive integer, got 0"),
        ({"active_input_percentage": 0}, "active_input_percentage must be in \\(0, 1\\], got 0"),
        (
            {"active_hidden_percentage": 1.5},
            "active_hidden_percentage must be in \\(0, 1\\], got 1.5",
        ),
        ({"no_of_dropout_tests": 0}, "no_of_dropout_tests must be a positive integer, got 0"),
        (
            {"no_of_dropout_tests": 21},
            "no_of_dropout_tests must be at most the number of samples \\(20\\), got 21",
        ),
    ],
)
def test_train_rejects(kwargs, message):
    data, _, targets = blobs(n=20)
    with pytest.raises(ValueError, match=f"^{message}$"):
        NeuralNetwork(*ARGS, seed=0).train(data, targets, **kwargs)


@pytest.mark.parametrize(
    ("data", "targets", "message"),
    [
        (np.ones((5, 7)), np.ones((5, 3)), "data_array must have shape \\(n, 6\\) with n >= 1"),
        (np.ones(6), np.ones((1, 3)), "data_array must have shape \\(n, 6\\) with n >= 1"),
        (np.ones((5, 6)), np.ones((5, 2)), "labels_one_hot_array must have shape \\(n, 3\\)"),
        (np.ones((5, 6)), np.ones((4, 3)), "data_array has 5 rows but labels_one_hot_array has 4"),
    ],
)
def test_train_rejects_shape_mismatches(data, targets, message):
    with pytest.raises(ValueError, match=message):
        NeuralNetwork(*ARGS, seed=0).train(data, targets)


def test_single_sample_methods_reject_wrong_lengths():
    nn = NeuralNetwork(*ARGS, seed=0)
    with pytest.raises(ValueError, match="^input_vector has 5 values, expected 6$"):
        nn.train_single(np.ones(5), np.ones(3))
    with pytest.raises(ValueError, match="^target_vector has 2 values, expected 3$"):
        nn.train_single(np.ones(6), np.ones(2))
    with pytest.raises(ValueError, match="^input_vector has 7 values, expected 6$"):
        nn.run(np.ones(7))
    with pytest.raises(ValueError, match="labels must have shape \\(4,\\) or \\(4, 1\\)"):
        nn.evaluate(np.ones((4, 6)), np.ones(3))


def test_dropout_calls_must_alternate():
    nn = NeuralNetwork(*ARGS, seed=0)
    with pytest.raises(RuntimeError, match="no thinned network is active"):
        nn.weight_matrices_reset(np.arange(6), np.arange(4))
    _, hidden = nn.dropout_weight_matrices()
    with pytest.raises(RuntimeError, match="a thinned network is already active"):
        nn.dropout_weight_matrices()
    with pytest.raises(ValueError, match="expected 4 input and 2 hidden indices"):
        nn.weight_matrices_reset(np.arange(6), hidden)
