"""The interface both engines share, one suite for both (dropout_py.nn.engine).

Every test runs on the chapter's NeuralNetwork and on DropoutMLP in both mask modes, each with
dropout switched on, so that the random generator matters wherever the order of events does.
"""

import signal

import numpy as np
import pytest

from dropout_py import DropoutMLP, NeuralNetwork, load_model
from dropout_py.data.preprocessing import chapter_scale
from dropout_py.nn.engine import Engine, observe_training
from dropout_py.nn.metrics import Evaluation

N_PIXELS, N_CLASSES = 12, 3

ENGINES = {
    "tutorial": lambda seed: NeuralNetwork(
        N_PIXELS, N_CLASSES, 7, 0.3, bias=1, seed=seed, keep_input=0.8, keep_hidden=0.6,
        partitions=5,
    ),
    "fast": lambda seed: DropoutMLP(
        (N_PIXELS, 7, N_CLASSES), keep_input=0.8, keep_hidden=0.6, batch_size=8, lr_decay=0.9,
        seed=seed,
    ),
    "fast, chapter's masks": lambda seed: DropoutMLP(
        (N_PIXELS, 7, N_CLASSES), keep_input=0.8, keep_hidden=0.6, mask="partition",
        scale="train", partitions=3, batch_size=8, dtype="float64", seed=seed,
    ),
}  # fmt: skip


@pytest.fixture(params=list(ENGINES))
def make(request):
    return ENGINES[request.param]


def pixels(n=60, seed=0):
    """uint8 images whose brightest third tells the class."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, N_CLASSES, n)
    images = rng.integers(0, 90, (n, N_PIXELS))
    third = N_PIXELS // N_CLASSES
    for i, label in enumerate(labels):
        images[i, label * third : (label + 1) * third] += 160
    return images.astype(np.uint8), labels


def state(model):
    """Everything the model has learned, as the model file stores it."""
    return model._arrays()


def assert_same_state(a, b):
    for (name, x), (other, y) in zip(state(a).items(), state(b).items(), strict=True):
        assert name == other
        np.testing.assert_array_equal(x, y, err_msg=name)


def test_both_engines_are_engines(make):
    assert isinstance(make(0), Engine)


def test_prepare_takes_uint8_images_flat_or_square(make):
    model = make(0)
    images, _ = pixels(5)
    X = model.prepare(images)
    assert X.shape == (5, N_PIXELS)
    np.testing.assert_array_equal(model.prepare(images.reshape(5, 3, 4)), X)
    if isinstance(model, NeuralNetwork):
        np.testing.assert_array_equal(X, chapter_scale(images))  # the chapter's [0.01, 1]
    else:  # the fast trainer scales each batch by 1/255 when it uses it
        np.testing.assert_allclose(
            model.predict_proba(X), model.predict_proba(images / 255), rtol=1e-6
        )


@pytest.mark.parametrize(
    ("images", "message"),
    [
        (np.zeros((2, N_PIXELS)), "images must be uint8 pixels 0..255, got dtype float64"),
        (np.zeros((2, 5), np.uint8), "images of 12 pixels each, got shape (2, 5)"),
        (np.zeros(N_PIXELS, np.uint8), "images of 12 pixels each, got shape (12,)"),
    ],
)
def test_prepare_rejects(make, images, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        make(0).prepare(images)


def test_events_stream_steps_then_the_epoch_record(make):
    model = make(1)
    images, labels = pixels()
    X = model.prepare(images)
    events = list(model.fit_iter(X, labels, epochs=2, validation_data=(X, labels)))
    steps = events[0].steps
    assert [e.kind for e in events] == (["step"] * steps + ["epoch"]) * 2
    assert [e.step for e in events[:steps]] == list(range(1, steps + 1))
    assert [e.epoch for e in events] == [1] * (steps + 1) + [2] * (steps + 1)
    assert all(e.epochs == 2 for e in events)
    seconds = [e.seconds for e in events[:steps]]
    assert seconds == sorted(seconds) and events[steps].seconds == seconds[-1]
    assert events[-1].fraction == 1
    records = [e.metrics for e in events if e.kind == "epoch"]
    assert records == model.history_ and records[1] is model.history_[1]
    assert [r["epoch"] for r in records] == [1, 2] and model.epochs_trained_ == 2
    assert {"seconds", "test_loss", "test_accuracy"} <= set(records[0])
    assert model.epoch_position_ is None


def test_fit_returns_the_records_and_scores_the_training_set(make):
    model = make(2)
    images, labels = pixels()
    X = model.prepare(images)
    records = model.fit(X, labels, epochs=3)
    assert records == model.history_ and len(records) == 3
    assert records[-1]["train_accuracy"] == model.score(X, labels).accuracy


STOPS = {
    "mid-epoch": lambda events: 3,  # after the third step
    "before the epoch record": lambda events: events[0].steps,
    "after an epoch": lambda events: events[0].steps + 1,
    "in the second epoch": lambda events: events[0].steps + 3,
}


@pytest.mark.parametrize("stop", list(STOPS))
def test_stopping_and_resuming_gives_the_uninterrupted_run(make, stop):
    images, labels = pixels()
    whole = make(7)
    X = whole.prepare(images)
    expected = list(whole.fit_iter(X, labels, epochs=3, score_train=True))

    model = make(7)
    cut = STOPS[stop](expected)
    first = []
    for event in model.fit_iter(X, labels, epochs=3, score_train=True):
        first.append(event)
        if len(first) == cut:
            break  # leave the loop: training stops here
    if expected[cut - 1].kind == "step":
        assert model.epoch_position_.step == expected[cut - 1].step
    rest = list(model.fit_iter(X, labels, epochs=3 - model.epochs_trained_, score_train=True))

    assert_same_state(model, whole)
    assert model.history_ == [
        {**r, "seconds": h["seconds"]} for r, h in zip(whole.history_, model.history_, strict=True)
    ]
    steps_then = [(e.kind, e.step) for e in first + rest]
    assert steps_then == [(e.kind, e.step) for e in expected]


def test_data_of_another_length_starts_a_fresh_epoch(make):
    model = make(3)
    images, labels = pixels()
    X = model.prepare(images)
    for _ in zip(range(2), model.fit_iter(X, labels, epochs=1), strict=False):
        pass
    assert model.epoch_position_.rows == len(X)
    events = list(model.fit_iter(X[:30], labels[:30], epochs=1))
    assert events[0].step == 1 and model.epochs_trained_ == 1


def test_predictions_are_the_engines_own_forward_pass(make):
    model = make(4)
    images, labels = pixels()
    X = model.prepare(images)
    model.fit(X, labels, epochs=2)
    proba = model.predict_proba(X)
    assert proba.shape == (len(X), N_CLASSES)
    np.testing.assert_array_equal(proba, model._outputs(X))
    np.testing.assert_array_equal(model.predict(X), proba.argmax(axis=1))
    result = model.score(X, labels)
    assert isinstance(result, Evaluation) and result.n_samples == len(X)
    assert result.accuracy == pytest.approx(np.mean(model.predict(X) == labels))
    assert result.confusion.shape == (N_CLASSES, N_CLASSES)
    np.testing.assert_array_equal(result.confusion.sum(axis=1), np.bincount(labels, minlength=3))


def test_save_and_load_round_trip(make, tmp_path):
    model = make(5)
    images, labels = pixels()
    X = model.prepare(images)
    model.fit(X, labels, epochs=2, validation_data=(X, labels))
    path = model.save(tmp_path / "model.npz")
    for loaded in (type(model).load(path), load_model(path)):
        assert type(loaded) is type(model) and repr(loaded) == repr(model)
        assert loaded.config() == model.config()
        assert_same_state(loaded, model)
        np.testing.assert_array_equal(loaded.predict_proba(X), model.predict_proba(X))
        assert loaded.epochs_trained_ == 2 and loaded.history_ == model.history_
    loaded.fit(X, labels, epochs=1)  # and training goes on
    assert loaded.epochs_trained_ == 3 and len(loaded.history_) == 3


def test_fit_iter_checks_its_arguments_before_the_first_event(make):
    model = make(6)
    images, labels = pixels()
    X = model.prepare(images)
    with pytest.raises(ValueError, match="epochs must be a positive integer, got 0"):
        model.fit_iter(X, labels, epochs=0)
    with pytest.raises(ValueError):
        model.fit_iter(X[:, :5], labels)
    with pytest.raises(ValueError):
        model.fit_iter(X, labels[:10])


def test_resume_finishes_the_run_that_was_left(make):
    images, labels = pixels()
    whole = make(7)
    X = whole.prepare(images)
    expected = list(whole.fit_iter(X, labels, epochs=3, validation_data=(X[:20], labels[:20])))

    model = make(7)
    events = model.fit_iter(X, labels, epochs=3, validation_data=(X[:20], labels[:20]))
    first = [event for _, event in zip(range(len(expected) // 2), events, strict=False)]
    assert model.unfinished_epochs == 3 - model.epochs_trained_
    rest = list(model.resume_iter())

    assert_same_state(model, whole)
    assert [(e.kind, e.epoch, e.epochs, e.step) for e in first + rest] == [
        (e.kind, e.epoch, e.epochs, e.step) for e in expected
    ]
    assert [r["test_accuracy"] for r in model.history_] == [
        r["test_accuracy"] for r in whole.history_
    ]
    assert model.unfinished_epochs == 0
    with pytest.raises(RuntimeError, match="nothing to resume"):
        model.resume()


class StopInside:
    """Wraps a model's method: on call number ``at`` it runs, then Ctrl+C arrives inside it."""

    def __init__(self, model, method: str, at: int, before: bool = False):
        self.original = getattr(model, method)
        self.at, self.calls, self.before = at, 0, before
        setattr(model, method, self)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.at and self.before:
            signal.raise_signal(signal.SIGINT)
        result = self.original(*args, **kwargs)
        if self.calls == self.at and not self.before:
            signal.raise_signal(signal.SIGINT)  # as if Stop were pressed before it returned
        return result


@pytest.mark.parametrize("at", [1, 5, 9])
def test_ctrl_c_during_a_step_lands_after_it_and_resume_continues(make, at):
    images, labels = pixels()
    whole = make(5)
    X = whole.prepare(images)
    whole.fit(X, labels, epochs=2, score_train=False)

    model = make(5)
    seen = []
    StopInside(model, "_train_step", at)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, labels, epochs=2, score_train=False, callback=seen.append)
    steps = len(model.epoch_position_.steps) if model.epoch_position_ else None
    done = model.epochs_trained_ * (steps or 0) + (model.epoch_position_.step or 0)
    assert done == at  # the step the signal came in was finished and counted
    model.resume()  # the callback of the interrupted fit goes on
    assert_same_state(model, whole)
    assert [e.kind for e in seen].count("epoch") == 2
    assert model.unfinished_epochs == 0


def test_ctrl_c_while_scoring_leaves_the_epoch_to_finish_again(make):
    images, labels = pixels()
    whole = make(2)
    X = whole.prepare(images)
    whole.fit(X, labels, epochs=2, validation_data=(X, labels))

    model = make(2)
    StopInside(model, "_evaluate", 1, before=True)
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, labels, epochs=2, validation_data=(X, labels))
    assert model.epochs_trained_ == 0 and model.unfinished_epochs == 2
    model.resume()
    assert_same_state(model, whole)
    assert len(model.history_) == 2
    assert model.history_[0]["test_accuracy"] == whole.history_[0]["test_accuracy"]


def test_observers_see_every_event_of_every_run(make):
    images, labels = pixels()
    model = make(1)
    seen = []
    stop = observe_training(lambda engine, event: seen.append((engine, event.kind)))
    try:
        events = list(model.fit_iter(model.prepare(images), labels, epochs=1))
    finally:
        stop()
    assert [kind for _, kind in seen] == [e.kind for e in events]
    assert all(engine is model for engine, _ in seen)
    list(model.fit_iter(model.prepare(images), labels, epochs=1))
    assert len(seen) == len(events)  # stopped observing
