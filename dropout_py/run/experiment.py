"""One training run on MNIST, from settings to results, as ``dropout-py train`` does it.

The benchmark and the pages use it too. The data flows one way: :class:`RunSettings` and an
:class:`~dropout_py.data.mnist.MNIST` → :func:`build_model` → :func:`run` (training, scoring after
every epoch) → :class:`RunResult`, which the caller prints, saves or draws.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from dropout_py.data.mnist import MNIST
from dropout_py.nn.engine import DivergenceError, Engine
from dropout_py.nn.events import TrainingEvent
from dropout_py.nn.metrics import Evaluation
from dropout_py.nn.mlp import DropoutMLP
from dropout_py.nn.tutorial import NeuralNetwork
from dropout_py.run import checks
from dropout_py.run.checks import ENGINES, FAST_ONLY, TUTORIAL_ONLY

__all__ = [
    "ENGINES",
    "FAST_ONLY",
    "PRESETS",
    "TUTORIAL_ONLY",
    "RunResult",
    "RunSettings",
    "build_model",
    "check_settings",
    "run",
    "score",
]


@dataclass(frozen=True)
class RunSettings:
    """Everything that defines a run. Fields marked "fast" or "tutorial" apply to that engine."""

    engine: str = "fast"
    hidden: tuple[int, ...] = (100,)
    epochs: int = 10
    learning_rate: float = 0.1
    keep_input: float = 1.0
    keep_hidden: float = 1.0
    init: str = "auto"  # "auto" = "he" for ReLU, else "scaled"
    seed: int = 1
    train_size: int | None = None  # first N training images; the test set stays whole
    partitions: int = 10  # tutorial: no_of_dropout_tests; fast: parts for mask="partition"
    bias: float | None = None  # tutorial
    backprop: str = "chapter"  # tutorial: "chapter" or "gradient"
    activation: str = "sigmoid"  # fast
    loss: str = "cross_entropy"  # fast
    batch_size: int = 100  # fast
    momentum: float = 0.9  # fast
    lr_decay: float = 1.0  # fast
    max_norm: float | None = None  # fast
    dropout: str = "inverted"  # fast: named pair, "inverted" (example/train) or "chapter"
    mask: str | None = None  # fast: replaces the pair's mask: "example" or "partition"
    scale: str | None = None  # fast: replaces the pair's scale: "train", "test" or "none"
    dtype: str = "float32"  # fast

    def replace(self, **changes: Any) -> RunSettings:
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


# The chapter's MNIST run: 784-100-10, learning rate 0.1, 3 epochs, 100 partitions, no dropout.
PRESETS: dict[str, RunSettings] = {
    "chapter": RunSettings(
        engine="tutorial",
        hidden=(100,),
        epochs=3,
        learning_rate=0.1,
        keep_input=1.0,
        keep_hidden=1.0,
        partitions=100,
        init="scaled",
    ),
}


@dataclass
class RunResult:
    """What a run produced.

    Attributes
    ----------
    model : Engine
        The trained :class:`~dropout_py.NeuralNetwork` or :class:`~dropout_py.DropoutMLP`.
    history : list of dict
        Per epoch: ``epoch``, ``seconds`` (training only), ``train_loss``, ``train_accuracy``,
        ``test_loss``, ``test_accuracy`` (full network, after the epoch).
    train, test : Evaluation
        Scores of the final model.
    seconds_total : float
        Wall-clock time of training and per-epoch scoring.
    stopped_early : bool
        True if Ctrl-C, ``on_event`` or divergence ended the run before its last epoch (the
        model is what was trained until then).
    diverged : DivergenceError or None
        Set if training diverged (the loss or the weights became infinite or nan): the model is
        unusable and was not scored (``train`` and ``test`` hold nan and no counts).
    """

    settings: RunSettings
    model: Engine
    history: list[dict[str, float]]
    train: Evaluation
    test: Evaluation
    seconds_total: float
    stopped_early: bool
    diverged: DivergenceError | None = None

    @property
    def seconds_per_epoch(self) -> float:
        """Mean training time of the completed epochs (scoring excluded)."""
        return float(np.mean([h["seconds"] for h in self.history])) if self.history else 0.0

    def summary(self) -> dict[str, Any]:
        """A JSON-friendly digest: accuracies, timings, settings and the per-epoch history.

        After a divergence the scores are nan: write it with
        :func:`~dropout_py.run.results.strict_json`, which makes them ``null``.
        """
        return {
            "engine": self.settings.engine,
            "train_accuracy": self.train.accuracy,
            "test_accuracy": self.test.accuracy,
            "train_loss": self.train.loss,
            "test_loss": self.test.loss,
            "epochs": len(self.history),
            "seconds_per_epoch": self.seconds_per_epoch,
            "seconds_total": self.seconds_total,
            "stopped_early": self.stopped_early,
            "diverged": None if self.diverged is None else str(self.diverged),
            "settings": dataclasses.asdict(self.settings),
            "history": self.history,
        }


def check_settings(settings: RunSettings) -> None:
    """Raise ``ValueError`` for settings the engines cannot run (before any data loads).

    The messages name the :class:`RunSettings` fields; see :mod:`dropout_py.run.checks` for
    naming them otherwise and for settings a run would leave unused.
    """
    checks.check_settings(settings)


def build_model(settings: RunSettings, *, n_inputs: int = 784, n_classes: int = 10) -> Engine:
    """Construct the untrained model that ``settings`` describe (raises ``ValueError`` early)."""
    check_settings(settings)
    if settings.engine == "tutorial":
        return NeuralNetwork(
            n_inputs,
            n_classes,
            settings.hidden[0],
            settings.learning_rate,
            settings.bias,
            init="scaled" if settings.init == "auto" else settings.init,
            backprop=settings.backprop,
            seed=settings.seed,
            keep_input=settings.keep_input,
            keep_hidden=settings.keep_hidden,
            partitions=settings.partitions,
        )
    return DropoutMLP(
        (n_inputs, *settings.hidden, n_classes),
        activation=settings.activation,
        loss=settings.loss,
        keep_input=settings.keep_input,
        keep_hidden=settings.keep_hidden,
        dropout=settings.dropout,
        mask=settings.mask,
        scale=settings.scale,
        partitions=settings.partitions,
        learning_rate=settings.learning_rate,
        momentum=settings.momentum,
        lr_decay=settings.lr_decay,
        max_norm=settings.max_norm,
        batch_size=settings.batch_size,
        init=settings.init,
        dtype=settings.dtype,
        seed=settings.seed,
    )


def run(
    settings: RunSettings,
    data: MNIST,
    *,
    model: Engine | None = None,
    on_event: Callable[[TrainingEvent], bool | None] | None = None,
    score_train: bool = True,
) -> RunResult:
    """Train the model ``settings`` describe on ``data``, scoring train and test every epoch.

    Parameters
    ----------
    settings : RunSettings
    data : MNIST
        Flat uint8 images (N, 784) and uint8 labels, as :func:`~dropout_py.load_mnist` returns.
    model : Engine, optional
        The untrained model, if the caller built it already with :func:`build_model`.
    on_event : callable, optional
        Receives every step and epoch event (epoch events carry the epoch's record); returning
        ``True`` stops the run after that event.
    score_train : bool
        Score the whole training set after every epoch too (``train_loss``,
        ``train_accuracy`` in the history); the final model is scored on both sets either way.

    Returns
    -------
    RunResult
        Ctrl-C during training, or ``on_event`` asking to stop, ends the run early with
        ``stopped_early=True``; the model and history so far are kept and scored. A divergence
        ends it too, with ``diverged`` set and nothing scored.
    """
    n = settings.train_size or len(data.train_images)
    model = model if model is not None else build_model(settings)
    train_x, train_y = model.prepare(data.train_images[:n]), data.train_labels[:n]
    test_x, test_y = model.prepare(data.test_images), data.test_labels
    events = model.fit_iter(
        train_x,
        train_y,
        epochs=settings.epochs,
        validation_data=(test_x, test_y),
        score_train=score_train,
    )
    history: list[dict[str, float]] = []
    diverged = None
    started = time.perf_counter()
    try:
        for event in events:
            if event.kind == "epoch":
                history.append(event.metrics)
            if on_event is not None and on_event(event):
                break
    except KeyboardInterrupt:
        pass
    except DivergenceError as exc:
        diverged = exc
    seconds = time.perf_counter() - started
    if diverged is None:
        try:
            model.check_finite()  # the steps since the last check, if the loop was left early
        except DivergenceError as exc:
            diverged = exc
    if diverged is None:
        train, test = model.score(train_x, train_y), model.score(test_x, test_y)
    else:
        train = test = _unscored(model.layer_sizes[-1])
    stopped_early = len(history) < settings.epochs
    return RunResult(settings, model, history, train, test, seconds, stopped_early, diverged)


def _unscored(n_classes: int) -> Evaluation:
    """The scores of a diverged model: none (nan, and no counts)."""
    return Evaluation(float("nan"), float("nan"), np.zeros((n_classes, n_classes), np.int64))


def score(model: Engine, images: np.ndarray, labels: np.ndarray) -> Evaluation:
    """Evaluate a model on uint8 images, prepared the way that model trains on them."""
    return model.score(model.prepare(images), labels)
