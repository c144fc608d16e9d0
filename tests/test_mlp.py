"""The fast trainer: gradients, dropout schemes, training control, determinism, model files."""

import re

import numpy as np
import pytest

from dropout_py import DropoutMLP, load_model
from dropout_py.nn.mlp import DROPOUT_SCHEMES
from dropout_py.nn.serialization import save_npz
from dropout_py.nn.thinning import keep_mask


def blobs(n=400, n_in=8, n_out=3, seed=0):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, n_out, n)
    data = rng.random((n, n_in)) * 0.4
    data[np.arange(n), labels] += 0.6
    return data, labels


# --- gradients -----------------------------------------------------------------------------


def numeric_gradient(model, x, targets, masks, param, h=1e-6):
    grad = np.zeros_like(param)
    for i in np.ndindex(param.shape):
        keep = param[i]
        param[i] = keep + h
        plus = model.gradients(x, targets, masks).loss
        param[i] = keep - h
        minus = model.gradients(x, targets, masks).loss
        param[i] = keep
        grad[i] = (plus - minus) / (2 * h)
    return grad


@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
@pytest.mark.parametrize("loss", ["squared_error", "cross_entropy"])
@pytest.mark.parametrize("per_example", [True, False])
def test_gradients_match_finite_differences_with_fixed_dropout_masks(activation, loss, per_example):
    rng = np.random.default_rng(1)
    model = DropoutMLP((5, 4, 3, 2), activation=activation, loss=loss, dtype="float64", seed=2)
    for b in model.biases_:
        b += rng.normal(0, 0.3, b.shape)  # nonzero biases so their gradients are exercised
    x = rng.random((6, 5))
    targets = np.eye(2)[rng.integers(0, 2, 6)]
    if per_example:  # inverted dropout: per-example masks carrying the 1/keep scale
        masks = [(rng.random((6, n)) < 0.7) / 0.7 for n in (5, 4, 3)]
    else:  # the chapter's scheme: one 0/1 mask for the whole batch
        masks = [keep_mask(n, rng.choice(n, n - 1, replace=False)) for n in (5, 4, 3)]
    grads = model.gradients(x, targets, masks)
    params = [*model.weights_, *model.biases_]
    for param, analytic in zip(params, [*grads.weights, *grads.biases], strict=True):
        numeric = numeric_gradient(model, x, targets, masks, param)
        np.testing.assert_allclose(analytic, numeric, rtol=1e-5, atol=1e-8)


def test_dropped_units_get_no_gradient():
    model = DropoutMLP((4, 5, 2), dtype="float64", seed=0)
    x = np.random.default_rng(0).random((3, 4))
    masks = [keep_mask(4, np.array([0, 2])), keep_mask(5, np.array([1, 3, 4]))]
    grads = model.gradients(x, np.eye(2)[[0, 1, 0]], masks)
    (g_in, g_out), g_hidden_bias = grads.weights, grads.biases[0]
    assert np.all(g_in[:, [1, 3]] == 0)  # weights leaving dropped inputs
    assert np.all(g_in[[0, 2]] == 0) and np.all(g_hidden_bias[[0, 2]] == 0)  # into dropped hidden
    assert np.all(g_out[:, [0, 2]] == 0)  # weights leaving dropped hidden units


# --- the two engines agree where the maths coincide ----------------------------------------


@pytest.mark.parametrize("bias", [1, None])
def test_one_step_equals_the_tutorial_update_on_the_same_thinned_network(bias):
    """Same weights, same mask, same sample: slicing (tutorial) and masking (fast) agree."""
    from dropout_py import NeuralNetwork

    rng = np.random.default_rng(5)
    nn = NeuralNetwork(10, 4, 6, 0.3, bias=bias, backprop="gradient", seed=3)
    fast = DropoutMLP(
        (10, 6, 4),
        loss="squared_error",
        keep_input=0.6,
        keep_hidden=0.5,
        mask="partition",
        scale="none",
        momentum=0,
        batch_size=1,
        dtype="float64",
        seed=0,
    )
    fast.weights_ = [nn.wih[:, :10].copy(), nn.who[:, :6].copy()]
    if bias:
        fast.biases_ = [nn.wih[:, 10] * bias, nn.who[:, 6] * bias]
    x, t = rng.random(10), np.array([0.01, 0.99, 0.01, 0.01])

    inputs, hidden = nn.dropout_weight_matrices(0.6, 0.5)
    nn.train_single(x[inputs], t)
    nn.weight_matrices_reset(inputs, hidden)
    step = fast._plan_epoch(1)  # one row, one step; its masks are set to the tutorial's
    step.learning_rate = 0.3
    step.state.update(new_masks=set(), masks=[keep_mask(10, inputs), keep_mask(6, hidden)])
    fast._train_step(x[None, :], t[None, :], step)  # one training step on that thinned network

    np.testing.assert_allclose(fast.weights_[0], nn.wih[:, :10], rtol=1e-12)
    np.testing.assert_allclose(fast.weights_[1], nn.who[:, :6], rtol=1e-12)
    if bias:  # the bias node's weights are the fast engine's biases
        np.testing.assert_allclose(fast.biases_[0], nn.wih[:, 10] * bias, rtol=1e-12)
        np.testing.assert_allclose(fast.biases_[1], nn.who[:, 6] * bias, rtol=1e-12)
        np.testing.assert_allclose(fast.predict_proba(x[None, :]), nn.run(x).T, rtol=1e-12)


# --- training ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sizes", "settings", "bound"),
    [
        ((8, 32, 3), {}, 0.95),
        ((8, 16, 16, 3), {"activation": "relu"}, 0.95),
        ((8, 32, 3), {"loss": "squared_error", "learning_rate": 0.5}, 0.95),
        ((8, 32, 3), {"keep_input": 0.8, "keep_hidden": 0.5}, 0.95),
        ((8, 32, 3), {"keep_input": 0.8, "keep_hidden": 0.5, "dropout": "chapter"}, 0.8),
        ((8, 32, 3), {"max_norm": 2.0, "lr_decay": 0.9, "dtype": "float64"}, 0.95),
    ],
)
def test_training_learns_a_simple_problem(sizes, settings, bound):
    X, y = blobs()
    model = DropoutMLP(sizes, batch_size=20, seed=0, **settings)
    history = model.fit(X, y, epochs=15, validation_data=blobs(seed=1))
    assert [h["epoch"] for h in history] == list(range(1, 16))
    assert history[-1]["test_accuracy"] > bound
    assert history[-1]["train_loss"] < history[0]["train_loss"]
    assert history[-1]["batch_loss"] < history[0]["batch_loss"]
    assert model.epochs_trained_ == 15 and model.history_ == history


def test_weights_and_biases_are_the_model_parameters_item_by_item():
    model = DropoutMLP((4, 3, 2), dtype="float64", seed=0)
    X = np.random.default_rng(0).random((5, 4))
    model.weights_[1] = np.zeros((2, 3))
    model.biases_[1] = np.array([1.0, -1.0])
    np.testing.assert_allclose(
        model.predict_proba(X), np.tile(np.exp([1, -1]) / np.exp([1, -1]).sum(), (5, 1)), rtol=1e-4
    )
    before = model.weights_[0].copy()
    model.weights_[0] *= 2
    np.testing.assert_array_equal(model.weights_[0], 2 * before)
    with pytest.raises(ValueError, match=r"parameter 0 must have shape \(3, 4\), got \(4, 3\)"):
        model.weights_[0] = np.zeros((4, 3))


def test_float32_model_computes_in_float32():
    X, y = blobs()
    model = DropoutMLP((8, 16, 3), dtype="float32", seed=0)
    model.fit(X, y, epochs=1)
    assert all(w.dtype == np.float32 for w in model.weights_)
    assert model.predict_proba(X).dtype == np.float32


def test_uint8_inputs_are_pixels_scaled_by_255():
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (60, 8), dtype=np.uint8)
    y = rng.integers(0, 3, 60)
    a = DropoutMLP((8, 5, 3), dtype="float64", seed=1)
    b = DropoutMLP((8, 5, 3), dtype="float64", seed=1)
    a.fit(pixels, y, epochs=2)
    b.fit(pixels / 255, y, epochs=2)
    np.testing.assert_allclose(a.weights_[0], b.weights_[0], rtol=1e-10)


def test_one_hot_targets_and_labels_train_the_same():
    X, y = blobs(n=50)
    a = DropoutMLP((8, 5, 3), dtype="float64", seed=1)
    b = DropoutMLP((8, 5, 3), dtype="float64", seed=1)
    a.fit(X, y, epochs=2)
    b.fit(X, np.eye(3)[y], epochs=2)
    np.testing.assert_array_equal(a.weights_[1], b.weights_[1])


def test_same_seed_same_run():
    X, y = blobs()
    runs = []
    for _ in range(2):
        model = DropoutMLP((8, 16, 3), keep_input=0.8, keep_hidden=0.5, seed=11)
        runs.append((model.fit(X, y, epochs=3), model.weights_[0]))
    assert [h["batch_loss"] for h in runs[0][0]] == [h["batch_loss"] for h in runs[1][0]]
    np.testing.assert_array_equal(runs[0][1], runs[1][1])


def test_inverted_dropout_masks_are_fresh_per_example_and_scaled():
    model = DropoutMLP((1000, 50, 2), keep_input=0.8, keep_hidden=0.5, seed=0)
    input_mask, hidden_mask = model._example_masks(30)
    assert input_mask.shape == (30, 1000) and hidden_mask.shape == (30, 50)
    assert input_mask.dtype == bool and abs(input_mask.mean() - 0.8) < 0.01
    assert not np.array_equal(input_mask[0], input_mask[1])
    # kept units count 1/keep in training, folded into each layer's sums
    assert model._layer_scales("train") == [np.float32(1 / 0.8), np.float32(2)]
    assert model._layer_scales("predict") is None


@pytest.mark.parametrize("mask", ["example", "partition"])
def test_scaling_the_sums_is_scaling_the_masks(mask):
    """1/keep on ``inputs @ W`` (cheap) gives the gradients of masks that carry 1/keep."""
    rng = np.random.default_rng(3)
    model = DropoutMLP(
        (6, 5, 4, 3), keep_input=0.8, keep_hidden=0.5, mask=mask, dtype="float64", seed=0
    )
    for b in model.biases_:
        b += rng.normal(0, 0.3, b.shape)
    x, t = rng.random((7, 6)), np.eye(3)[rng.integers(0, 3, 7)]
    masks = model._example_masks(7) if mask == "example" else model._partition_masks()
    scales = model._layer_scales("train")
    inputs, hidden, outputs = model._forward(x, masks, scales)
    model._backward(inputs, hidden, model._loss.delta(t, outputs), masks, scales)
    folded_w, folded_b = [g.T / 7 for g in model._gW], [g / 7 for g in model._gb]
    carried = model.gradients(x, t, [m * s for m, s in zip(masks, scales, strict=True)])
    for got, expected in zip(
        [*folded_w, *folded_b], [*carried.weights, *carried.biases], strict=True
    ):
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_chapter_scheme_uses_one_unscaled_mask_per_partition():
    model = DropoutMLP((10, 6, 2), keep_input=0.7, keep_hidden=0.5, dropout="chapter", seed=0)
    input_mask, hidden_mask = model._partition_masks()
    assert input_mask.shape == (10,) and input_mask.sum() == 7
    assert hidden_mask.shape == (6,) and hidden_mask.sum() == 3
    assert set(np.unique(input_mask)) == {0, 1}


def test_chapter_scheme_draws_a_new_network_per_partition(monkeypatch):
    X, y = blobs(n=100)
    model = DropoutMLP((8, 6, 3), keep_hidden=0.5, dropout="chapter", partitions=4, batch_size=7)
    drawn = []
    real = model._partition_masks
    monkeypatch.setattr(model, "_partition_masks", lambda: drawn.append(1) or real())
    events = list(model.fit_iter(X, y, epochs=2))
    assert len(drawn) == 2 * 4
    assert events[0].steps == 4 * 4  # 25 rows per partition -> 4 batches of <= 7


def test_no_dropout_is_the_same_for_both_schemes():
    X, y = blobs()
    a = DropoutMLP((8, 6, 3), dropout="chapter", partitions=1, seed=4)
    b = DropoutMLP((8, 6, 3), dropout="inverted", seed=4)
    a.fit(X, y, epochs=2)
    b.fit(X, y, epochs=2)
    np.testing.assert_array_equal(a.weights_[0], b.weights_[0])


def test_max_norm_caps_every_incoming_weight_vector():
    X, y = blobs()
    model = DropoutMLP((8, 16, 3), learning_rate=2.0, max_norm=0.5, seed=0)
    model.fit(X, y, epochs=3)
    for W in model.weights_:
        assert np.linalg.norm(W, axis=1).max() <= 0.5 + 1e-6


def test_fit_iter_reports_steps_and_epochs_and_can_stop_early():
    X, y = blobs(n=95)
    model = DropoutMLP((8, 6, 3), batch_size=10, seed=0)
    before = model.weights_[0].copy()
    events = []
    for event in model.fit_iter(X, y, epochs=3):
        events.append(event)
        if len(events) == 4:
            break
    assert [e.kind for e in events] == ["step"] * 4
    assert [e.step for e in events] == [1, 2, 3, 4] and events[0].steps == 10
    assert events[3].fraction == pytest.approx(4 / 30)
    assert model.epochs_trained_ == 0 and model.history_ == []
    assert not np.array_equal(model.weights_[0], before)


def test_callback_returning_true_stops_fit():
    X, y = blobs()
    model = DropoutMLP((8, 6, 3), batch_size=10, seed=0)
    seen = []
    history = model.fit(X, y, epochs=5, callback=lambda e: seen.append(e) or e.kind == "epoch")
    assert len(history) == 1 and model.epochs_trained_ == 1
    assert seen[-1].kind == "epoch" and seen[-1].metrics is history[0]


def test_learning_rate_decays_per_epoch():
    X, y = blobs(n=20)
    model = DropoutMLP((8, 6, 3), batch_size=20, learning_rate=0.4, lr_decay=0.5, seed=0)
    rates = [
        model.epoch_position_.learning_rate
        for event in model.fit_iter(X, y, epochs=3)
        if event.kind == "step"
    ]
    assert rates == [0.4, 0.2, 0.1]


def test_score_reports_accuracy_loss_and_confusion():
    X, y = blobs()
    model = DropoutMLP((8, 16, 3), seed=0)
    model.fit(X, y, epochs=10)
    result = model.score(X, y)
    assert result.confusion.shape == (3, 3) and result.n_samples == len(X)
    assert result.accuracy == pytest.approx(np.mean(model.predict(X) == y))
    assert result.loss > 0


# --- dropout modes: which units drop (mask) x what makes up for them (scale) --------------

# The six variants of the ablation (issue #9), as settings of the fast trainer.
ABLATION = {
    "no dropout": ({"keep_input": 1, "keep_hidden": 1}, ("example", "train")),
    "chapter as published": ({"dropout": "chapter"}, ("partition", "none")),
    "chapter + weights x p at test": ({"mask": "partition", "scale": "test"}, None),
    "chapter masks + 1/p in training": ({"mask": "partition", "scale": "train"}, None),
    "per-example + 1/p in training": ({"dropout": "inverted"}, ("example", "train")),
    "per-example + weights x p at test": ({"mask": "example", "scale": "test"}, None),
}


@pytest.mark.parametrize("variant", list(ABLATION))
def test_every_ablation_variant_is_a_setting_that_trains(variant):
    from dropout_py.run.experiment import RunSettings, build_model

    options, mode = ABLATION[variant]
    keeps = {"keep_input": 0.8, "keep_hidden": 0.5}
    model = DropoutMLP((8, 32, 3), batch_size=20, partitions=4, seed=0, **{**keeps, **options})
    expected = mode or (options["mask"], options["scale"])
    assert (model.mask, model.scale) == expected
    X, y = blobs()
    history = model.fit(X, y, epochs=15, validation_data=blobs(seed=1))
    assert history[-1]["test_accuracy"] > 0.8
    built = build_model(RunSettings(hidden=(32,), **{**keeps, **options}), n_inputs=8, n_classes=3)
    assert (built.mask, built.scale) == expected


def mean_training_mask(model, draws=4000):
    """Per layer and unit, E[mask] (estimated) times the layer's training scale."""
    if model.mask == "example":
        means = [m.mean(axis=0) for m in model._example_masks(draws)]
    else:
        drawn = [model._partition_masks() for _ in range(draws)]
        means = [np.mean(layer, axis=0) for layer in zip(*drawn, strict=True)]
    scales = model._layer_scales("train") or [None] * len(means)
    return [m if s is None else m * s for m, s in zip(means, scales, strict=True)]


@pytest.mark.parametrize("mask", ["example", "partition"])
@pytest.mark.parametrize("scale", ["train", "test", "none"])
def test_expected_input_in_training_is_what_prediction_feeds_in(mask, scale):
    """E[x * mask] = x * E[mask]: 1/p scaling makes it x, test-time scaling matches p * x."""
    keeps = (0.8, 0.5)  # 10 inputs keep 8, 8 hidden units keep 4 (exact for the chapter's count)
    model = DropoutMLP(
        (10, 8, 2), keep_input=keeps[0], keep_hidden=keeps[1], mask=mask, scale=scale, seed=0
    )
    at_prediction = model._layer_scales("predict") or [None, None]
    for layer, (mean, keep) in enumerate(zip(mean_training_mask(model), keeps, strict=True)):
        expected = 1.0 if scale == "train" else keep
        np.testing.assert_allclose(mean, expected, atol=0.06, err_msg=f"layer {layer}")
        factor = 1.0 if at_prediction[layer] is None else at_prediction[layer]
        if scale == "none":  # the chapter: training sees p * x, prediction x
            assert factor == 1.0
        else:
            assert factor == pytest.approx(expected)


@pytest.mark.parametrize("keeps", [(0.8, 0.5), (1.0, 0.5), (0.8, 1.0)])
def test_test_time_scaling_multiplies_outgoing_weights_of_dropped_layers_by_p(keeps):
    X, y = blobs()
    sizes = (8, 6, 5, 3)
    model = DropoutMLP(
        sizes, keep_input=keeps[0], keep_hidden=keeps[1], scale="test", dtype="float64", seed=0
    )
    model.fit(X, y, epochs=2)
    plain = DropoutMLP(sizes, dtype="float64", seed=1)
    factors = (keeps[0], keeps[1], keeps[1])  # what enters weight layer 0, 1, 2
    plain.weights_ = [W * p for W, p in zip(model.weights_, factors, strict=True)]
    plain.biases_ = model.biases_
    np.testing.assert_allclose(model.predict_proba(X), plain.predict_proba(X), rtol=1e-12)
    unscaled = DropoutMLP(sizes, dtype="float64", seed=1)
    unscaled.weights_, unscaled.biases_ = model.weights_, model.biases_
    for scale in ("train", "none"):  # these predict with the weights as they are
        model.scale = scale
        np.testing.assert_array_equal(model.predict_proba(X), unscaled.predict_proba(X))


def test_partition_masks_scaled_in_training_count_one_over_p():
    model = DropoutMLP((10, 6, 2), keep_input=0.7, keep_hidden=0.5, mask="partition", seed=0)
    input_mask, hidden_mask = model._partition_masks()
    assert set(np.unique(input_mask)) == {0, 1} and input_mask.sum() == 7
    assert set(np.unique(hidden_mask)) == {0, 1} and hidden_mask.sum() == 3
    assert model._layer_scales("train") == [np.float32(1 / 0.7), np.float32(2)]


@pytest.mark.parametrize(
    ("kwargs", "mode"),
    [
        ({}, ("example", "train")),
        ({"dropout": "chapter"}, ("partition", "none")),
        ({"dropout": "chapter", "scale": "train"}, ("partition", "train")),
        ({"dropout": "chapter", "scale": "test"}, ("partition", "test")),
        ({"scale": "test"}, ("example", "test")),
        ({"dropout": "inverted", "mask": "partition"}, ("partition", "train")),
    ],
)
def test_mask_and_scale_replace_the_parts_of_the_named_pair(kwargs, mode):
    model = DropoutMLP(**kwargs)
    assert (model.mask, model.scale) == mode
    assert model.dropout == {v: k for k, v in DROPOUT_SCHEMES.items()}.get(mode)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"dropout": "gaussian"}, "dropout must be one of 'inverted', 'chapter', got 'gaussian'"),
        ({"mask": "batch"}, "mask must be one of 'example', 'partition', got 'batch'"),
        ({"scale": "both"}, "scale must be one of 'train', 'test', 'none', got 'both'"),
    ],
)
def test_dropout_settings_reject(kwargs, message):
    with pytest.raises(ValueError, match=f"^{re.escape(message)}"):
        DropoutMLP(**kwargs)


def test_dropout_names_and_pairs_are_the_same_model():
    assert (
        DropoutMLP(dropout="chapter").config()
        == DropoutMLP(mask="partition", scale="none").config()
    )


def test_a_model_file_naming_the_old_dropout_setting_still_loads(tmp_path):
    model = DropoutMLP((8, 5, 3), dropout="chapter", seed=0)
    config = {k: v for k, v in model.config().items() if k not in ("mask", "scale")}
    config["dropout"] = "chapter"  # how files written before mask/scale existed say it
    path = save_npz(tmp_path / "old.npz", kind="DropoutMLP", config=config, arrays=model._arrays())
    loaded = DropoutMLP.load(path)
    assert (loaded.mask, loaded.scale) == ("partition", "none")


# --- model files ---------------------------------------------------------------------------


def test_save_load_round_trip_keeps_predictions_and_history(tmp_path):
    X, y = blobs()
    model = DropoutMLP((8, 7, 5, 3), activation="relu", keep_hidden=0.5, max_norm=3.0, seed=0)
    model.fit(X, y, epochs=2, validation_data=(X, y))
    path = model.save(tmp_path / "model.npz")
    for loaded in (DropoutMLP.load(path), load_model(path)):
        assert repr(loaded) == repr(model) and loaded.config() == model.config()
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
        assert loaded.epochs_trained_ == 2 and loaded.history_ == model.history_
    loaded.fit(X, y, epochs=1)  # training can go on
    assert loaded.epochs_trained_ == 3


def test_load_model_rejects_a_file_of_the_other_engine(tmp_path):
    from dropout_py import NeuralNetwork

    path = NeuralNetwork(3, 2, 4, 0.1, seed=0).save(tmp_path / "nn.npz")
    assert isinstance(load_model(path), NeuralNetwork)
    with pytest.raises(ValueError, match="holds a NeuralNetwork, not a DropoutMLP"):
        DropoutMLP.load(path)


def test_load_rejects_weights_that_do_not_fit_the_settings(tmp_path):
    model = DropoutMLP((8, 7, 3), seed=0)
    arrays = {**model._arrays(), "W1": np.zeros((3, 6), dtype=np.float32)}
    path = save_npz(tmp_path / "model.npz", kind="DropoutMLP", config=model.config(), arrays=arrays)
    with pytest.raises(
        ValueError, match="parameter 'W1' has shape \\(3, 6\\), expected \\(3, 7\\)"
    ):
        DropoutMLP.load(path)


# --- invalid arguments ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"layer_sizes": (784,)}, "layer_sizes needs at least an input and an output size"),
        ({"layer_sizes": (784, 0, 10)}, "each layer size must be a positive integer, got 0"),
        ({"activation": "tanh"}, "activation must be one of 'sigmoid', 'relu', got 'tanh'"),
        ({"loss": "mse"}, "loss must be one of 'squared_error', 'cross_entropy', got 'mse'"),
        ({"keep_input": 0}, "keep_input must be in \\(0, 1\\], got 0"),
        ({"keep_hidden": 1.1}, "keep_hidden must be in \\(0, 1\\], got 1.1"),
        ({"dropout": "gaussian"}, "dropout must be one of 'inverted', 'chapter', got 'gaussian'"),
        ({"partitions": 0}, "partitions must be a positive integer, got 0"),
        ({"learning_rate": -1}, "learning_rate must be a positive number, got -1"),
        ({"momentum": 1}, "momentum must be in \\[0, 1\\), got 1"),
        ({"lr_decay": 0}, "lr_decay must be in \\(0, 1\\], got 0"),
        ({"max_norm": 0}, "max_norm must be a positive number, got 0"),
        ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
        ({"init": "zeros"}, "init must be one of 'auto', 'scaled', 'chapter', 'he', got 'zeros'"),
        ({"dtype": "float16"}, "dtype must be one of 'float32', 'float64', got 'float16'"),
        ({"blas_threads": 0}, "blas_threads must be a positive integer, got 0"),
    ],
)
def test_constructor_rejects(kwargs, message):
    with pytest.raises(ValueError, match=f"^{message}"):
        DropoutMLP(**kwargs)


@pytest.mark.parametrize(
    ("X", "y", "message"),
    [
        (np.ones((5, 7)), np.zeros(5, int), "X must have shape \\(n, 8\\) with n >= 1"),
        (np.ones((0, 8)), np.zeros(0, int), "X must have shape \\(n, 8\\) with n >= 1"),
        (np.ones((5, 8)), np.zeros(4, int), "X has 5 rows but y has 4"),
        (np.ones((5, 8)), np.full(5, 3), "class labels y must be integers in \\[0, 3\\)"),
        (np.ones((5, 8)), np.zeros(5), "class labels y must be integers in \\[0, 3\\)"),
        (np.ones((5, 8)), np.zeros((5, 2)), "y must have shape \\(n,\\) or \\(n, 3\\)"),
        (np.full((5, 8), "a"), np.zeros(5, int), "X must hold numbers, got dtype <U1"),
    ],
)
def test_fit_rejects(X, y, message):
    with pytest.raises(ValueError, match=message):
        DropoutMLP((8, 4, 3), seed=0).fit(X, y)


def test_fit_rejects_bad_epochs_and_validation_data():
    X, y = blobs()
    model = DropoutMLP((8, 4, 3), seed=0)
    with pytest.raises(ValueError, match="^epochs must be a positive integer, got 0$"):
        model.fit(X, y, epochs=0)
    with pytest.raises(ValueError, match="X must have shape \\(n, 8\\)"):
        model.fit(X, y, validation_data=(np.ones((3, 2)), np.zeros(3, int)))
