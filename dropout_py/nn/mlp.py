"""The fast trainer: vectorised mini-batch SGD for multi-layer perceptrons with dropout.

:class:`DropoutMLP` trains the same kind of network as the chapter's class, but a whole
mini-batch at a time, with any number of hidden layers, and with the dropout of Srivastava et al.
(2014): a fresh random mask for every example and layer, "inverted" so that the kept activations
are divided by the keep probability during training and the trained network is used as is.
For comparison it can also train with the chapter's scheme (one thinned network per partition of
the data, no rescaling).

Shapes follow the chapter: the weight matrix of layer ``l`` is ``(units of l+1, units of l)``,
and a batch is ``(n, units)``, so a layer computes ``a @ W.T + b``.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from dropout_py._random import SeedLike, resolve_rng
from dropout_py.nn import _validation as check
from dropout_py.nn._threads import limit_blas_threads
from dropout_py.nn.activations import (
    ACTIVATIONS,
    DERIVATIVES,
    LOSSES,
    OUTPUT_ACTIVATION,
    OUTPUT_DELTAS,
)
from dropout_py.nn.events import TrainingEvent
from dropout_py.nn.initializers import INITIALIZERS, initial_weights
from dropout_py.nn.metrics import Evaluation, confusion_counts
from dropout_py.nn.serialization import load_model_file, save_npz
from dropout_py.nn.thinning import (
    check_keep_fraction,
    keep_mask,
    partition_bounds,
    sample_active_indices,
)

_EVAL_CHUNK = 10_000  # rows per forward pass when predicting
_DTYPES = ("float32", "float64")
_SCHEMES = ("inverted", "chapter")


class DropoutMLP:
    """A multi-layer perceptron trained with mini-batch SGD, momentum and dropout.

    Parameters
    ----------
    layer_sizes : sequence of int
        Units per layer, input first, e.g. ``(784, 100, 10)``; any number of hidden layers.
    activation : {"sigmoid", "relu"}
        Hidden-layer activation.
    loss : {"cross_entropy", "squared_error"}
        ``"cross_entropy"`` pairs a softmax output with cross-entropy; ``"squared_error"`` is the
        chapter's sigmoid output with half the squared error.
    keep_input, keep_hidden : float
        Probability that an input / hidden unit is kept, in (0, 1]; 1 means no dropout.
    dropout : {"inverted", "chapter"}
        ``"inverted"``: a new mask per example and layer, kept units scaled by ``1 / keep``.
        ``"chapter"``: one thinned network (``int(n * keep)`` kept units per layer) for each of
        ``partitions`` parts of every epoch, no scaling, as the tutorial does.
    partitions : int
        Parts per epoch for ``dropout="chapter"`` (the chapter's ``no_of_dropout_tests``).
    learning_rate : float
        Step size; the gradient is the mean over the batch.
    momentum : float
        Classical momentum in [0, 1).
    lr_decay : float
        The learning rate is multiplied by this after every epoch, in (0, 1].
    max_norm : float or None
        If set, each unit's incoming weight vector is scaled back to this L2 norm after every
        update when it grows longer (Srivastava et al. use 3 to 4 with dropout).
    batch_size : int
    init : {"auto", "scaled", "chapter", "he"}
        First weights (biases start at 0); ``"auto"`` is ``"he"`` for ReLU, else ``"scaled"``.
    dtype : {"float32", "float64"}
        Precision of weights and arithmetic.
    seed : int, numpy.random.Generator or None
        Source of all randomness: weights, shuffling, masks.
    blas_threads : int or None
        BLAS threads during training and prediction (native only); 1 is fastest for small
        batches. ``None`` leaves BLAS alone.

    Attributes
    ----------
    weights_ : list of numpy.ndarray
        ``weights_[l]`` has shape ``(layer_sizes[l + 1], layer_sizes[l])``.
    biases_ : list of numpy.ndarray
        ``biases_[l]`` has shape ``(layer_sizes[l + 1],)``.
    epochs_trained_ : int
    history_ : list of dict
        One record per trained epoch (see :meth:`fit`).

    Examples
    --------
    >>> X = np.random.default_rng(0).random((200, 4))
    >>> y = (X[:, 0] > 0.5).astype(int)
    >>> model = DropoutMLP((4, 8, 2), learning_rate=0.5, seed=0)
    >>> history = model.fit(X, y, epochs=20)
    >>> model.evaluate(X, y).accuracy > 0.9
    True
    """

    def __init__(
        self,
        layer_sizes: Sequence[int] = (784, 100, 10),
        *,
        activation: str = "sigmoid",
        loss: str = "cross_entropy",
        keep_input: float = 1.0,
        keep_hidden: float = 1.0,
        dropout: str = "inverted",
        partitions: int = 10,
        learning_rate: float = 0.1,
        momentum: float = 0.9,
        lr_decay: float = 1.0,
        max_norm: float | None = None,
        batch_size: int = 100,
        init: str = "auto",
        dtype: str = "float32",
        seed: SeedLike = None,
        blas_threads: int | None = 1,
    ) -> None:
        self.layer_sizes = _checked_layer_sizes(layer_sizes)
        self.activation = check.choice(activation, "activation", tuple(ACTIVATIONS))
        self.loss = check.choice(loss, "loss", tuple(LOSSES))
        self.keep_input = check_keep_fraction(keep_input, "keep_input")
        self.keep_hidden = check_keep_fraction(keep_hidden, "keep_hidden")
        self.dropout = check.choice(dropout, "dropout", _SCHEMES)
        self.partitions = check.positive_int(partitions, "partitions")
        self.learning_rate = check.positive_float(learning_rate, "learning_rate")
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum!r}")
        self.momentum = float(momentum)
        if not 0 < lr_decay <= 1:
            raise ValueError(f"lr_decay must be in (0, 1], got {lr_decay!r}")
        self.lr_decay = float(lr_decay)
        self.max_norm = None if max_norm is None else check.positive_float(max_norm, "max_norm")
        self.batch_size = check.positive_int(batch_size, "batch_size")
        self.init = check.choice(init, "init", ("auto", *INITIALIZERS))
        self.dtype = check.choice(dtype, "dtype", _DTYPES)
        if blas_threads is not None:
            check.positive_int(blas_threads, "blas_threads")
        self.blas_threads = blas_threads
        self.rng = resolve_rng(seed)
        self._initialize()

    def _initialize(self) -> None:
        init = self.init
        if init == "auto":
            init = "he" if self.activation == "relu" else "scaled"
        dtype = np.dtype(self.dtype)
        pairs = zip(self.layer_sizes[:-1], self.layer_sizes[1:], strict=True)
        self.weights_ = [
            initial_weights(init, self.rng, n_out, n_in).astype(dtype) for n_in, n_out in pairs
        ]
        self.biases_ = [np.zeros(n, dtype=dtype) for n in self.layer_sizes[1:]]
        self._velocities = [np.zeros_like(p) for p in (*self.weights_, *self.biases_)]
        self.epochs_trained_ = 0
        self.history_: list[dict[str, float]] = []

    def __repr__(self) -> str:
        sizes = "-".join(map(str, self.layer_sizes))
        return (
            f"DropoutMLP({sizes}, activation={self.activation!r}, loss={self.loss!r}, "
            f"keep_input={self.keep_input}, keep_hidden={self.keep_hidden}, "
            f"dropout={self.dropout!r}, dtype={self.dtype!r})"
        )

    # --- training ------------------------------------------------------------------------

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        epochs: int = 1,
        validation_data: tuple[np.ndarray, np.ndarray] | None = None,
        score_train: bool = True,
        callback: Callable[[TrainingEvent], bool | None] | None = None,
    ) -> list[dict[str, float]]:
        """Train for ``epochs`` more epochs; return the records of these epochs.

        Parameters
        ----------
        X : numpy.ndarray, shape (n, layer_sizes[0])
            Inputs. Integer arrays (e.g. MNIST's uint8 pixels) are read as intensities 0..255
            and divided by 255 one batch at a time, so the data set is never copied as floats.
        y : numpy.ndarray, shape (n,) or (n, k)
            Class indices, or target rows (e.g. one-hot).
        epochs : int
        validation_data : (X_test, y_test), optional
            Scored after every epoch (``test_loss``, ``test_accuracy``).
        score_train : bool
            Also score the whole training set after every epoch (``train_accuracy``).
        callback : callable, optional
            Called with every :class:`~dropout_py.nn.events.TrainingEvent`; returning ``True``
            stops training cleanly after that step.

        Returns
        -------
        list of dict
            Per epoch: ``epoch``, ``seconds`` (training time, scoring excluded), ``batch_loss``
            (mean loss of the epoch's batches, on the thinned networks), and where scored with
            the full network ``train_loss``, ``train_accuracy``, ``test_loss``,
            ``test_accuracy``. Also appended to :attr:`history_`.
        """
        records = []
        for event in self.fit_iter(
            X, y, epochs=epochs, validation_data=validation_data, score_train=score_train
        ):
            if event.kind == "epoch":
                records.append(self.history_[-1])
            if callback is not None and callback(event):
                break
        return records

    def fit_iter(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        epochs: int = 1,
        validation_data: tuple[np.ndarray, np.ndarray] | None = None,
        score_train: bool = False,
    ) -> Iterator[TrainingEvent]:
        """Train step by step, yielding a :class:`~dropout_py.nn.events.TrainingEvent` each time.

        Events come after every mini-batch (``kind="step"``, ``metrics={"loss": batch loss}``) and
        every epoch (``kind="epoch"``, ``metrics`` = the epoch's record, also appended to
        :attr:`history_`). Leaving the loop early stops training cleanly: the weights are those
        after the last completed step. Arguments as for :meth:`fit`. While the generator is
        suspended, native BLAS stays limited to ``blas_threads``.
        """
        X, targets = self._check_data(X, y)
        epochs = check.positive_int(epochs, "epochs")
        if validation_data is not None:
            validation_data = self._check_data(*validation_data)
        with limit_blas_threads(self.blas_threads):
            for epoch in range(1, epochs + 1):
                started = time.perf_counter()
                losses = []
                for event in self._epoch(X, targets, epoch, epochs, started):
                    losses.append(event.metrics["loss"])
                    yield event
                record = {
                    "epoch": float(self.epochs_trained_ + 1),
                    "seconds": time.perf_counter() - started,
                    "batch_loss": float(np.mean(losses)),
                }
                if score_train:
                    scored = self._score(X, targets)
                    record.update(train_loss=scored.loss, train_accuracy=scored.accuracy)
                if validation_data is not None:
                    scored = self._score(*validation_data)
                    record.update(test_loss=scored.loss, test_accuracy=scored.accuracy)
                self.epochs_trained_ += 1
                self.history_.append(record)
                steps = event.steps
                yield TrainingEvent("epoch", epoch, epochs, steps, steps, record["seconds"], record)

    def _epoch(
        self, X: np.ndarray, targets: np.ndarray, epoch: int, epochs: int, started: float
    ) -> Iterator[TrainingEvent]:
        """One pass over the shuffled data; yields a step event per mini-batch."""
        order = self.rng.permutation(len(X))
        lr = self.learning_rate * self.lr_decay**self.epochs_trained_
        if self.dropout == "chapter":
            parts = partition_bounds(len(X), min(self.partitions, len(X)))
        else:
            parts = [(0, len(X))]
        batches = [
            (start, min(start + self.batch_size, end), part_start == start)
            for part_start, end in parts
            for start in range(part_start, end, self.batch_size)
        ]
        masks = None
        for step, (start, end, new_part) in enumerate(batches, 1):
            if self.dropout == "chapter" and new_part:
                masks = self._partition_masks()
            rows = order[start:end]
            xb = self._as_input(X[rows])
            tb = self._as_targets(targets[rows])
            if self.dropout == "inverted":
                masks = self._example_masks(len(rows))
            loss = self._train_batch(xb, tb, lr, masks)
            elapsed = time.perf_counter() - started
            yield TrainingEvent("step", epoch, epochs, step, len(batches), elapsed, {"loss": loss})

    def _partition_masks(self) -> list[np.ndarray | None]:
        """The chapter's scheme: one 0/1 mask per layer (output excluded), shared by a partition."""
        keeps = self._keep_fractions()
        return [
            None
            if keep == 1
            else keep_mask(n, sample_active_indices(self.rng, n, keep), dtype=self.dtype)
            for n, keep in zip(self.layer_sizes[:-1], keeps, strict=True)
        ]

    def _example_masks(self, n_rows: int) -> list[np.ndarray | None]:
        """Inverted dropout: a fresh mask per example and layer, kept units scaled by 1/keep."""
        masks: list[np.ndarray | None] = []
        for units, keep in zip(self.layer_sizes[:-1], self._keep_fractions(), strict=True):
            if keep == 1:
                masks.append(None)
                continue
            mask = self.rng.random((n_rows, units), dtype=self.dtype) < keep
            masks.append(mask * np.asarray(1 / keep, dtype=self.dtype))
        return masks

    def _keep_fractions(self) -> list[float]:
        return [self.keep_input] + [self.keep_hidden] * (len(self.layer_sizes) - 2)

    def _train_batch(
        self, x: np.ndarray, targets: np.ndarray, lr: float, masks: list | None
    ) -> float:
        """Forward, backward and update for one batch; return the batch's mean loss.

        ``masks[l]`` (or None) multiplies the output of layer ``l`` (``l = 0`` is the input).
        """
        masks = masks or [None] * (len(self.layer_sizes) - 1)
        gradients = self.gradients(x, targets, masks)
        self._apply(gradients[1:], lr)
        return gradients[0]

    def gradients(
        self, x: np.ndarray, targets: np.ndarray, masks: Sequence[np.ndarray | None]
    ) -> tuple:
        """Loss and gradients of one batch for fixed dropout masks.

        Parameters
        ----------
        x : numpy.ndarray, shape (n, layer_sizes[0])
            Inputs as floats of the model's dtype.
        targets : numpy.ndarray, shape (n, layer_sizes[-1])
        masks : sequence of (numpy.ndarray or None)
            One per non-output layer; each broadcasts against that layer's output, shape
            (n, units) or (units,). Kept units carry their scale (1/keep for inverted dropout).

        Returns
        -------
        (loss, weight_gradients, bias_gradients)
            ``loss`` is the mean over the batch; gradients have the shapes of ``weights_`` and
            ``biases_``.
        """
        hidden_f = ACTIVATIONS[self.activation]
        derivative = DERIVATIVES[self.activation]
        last = len(self.weights_) - 1
        a = x if masks[0] is None else x * masks[0]
        inputs, outputs = [a], []  # what enters each layer; each hidden layer's unmasked output
        for layer, (W, b) in enumerate(zip(self.weights_, self.biases_, strict=True)):
            z = a @ W.T
            z += b
            if layer == last:
                a = OUTPUT_ACTIVATION[self.loss](z, out=z)
                break
            a = hidden_f(z, out=z)
            outputs.append(a)
            mask = masks[layer + 1]
            a = a if mask is None else a * mask
            inputs.append(a)
        loss = LOSSES[self.loss](targets, a)

        delta = OUTPUT_DELTAS[self.loss](targets, a) / len(x)  # dLoss/dz of the output layer
        weight_grads, bias_grads = [], []
        for layer in range(last, -1, -1):
            weight_grads.append(delta.T @ inputs[layer])
            bias_grads.append(delta.sum(axis=0))
            if layer > 0:
                delta = delta @ self.weights_[layer]
                if masks[layer] is not None:
                    delta *= masks[layer]
                delta *= derivative(outputs[layer - 1])
        return loss, weight_grads[::-1], bias_grads[::-1]

    def _apply(self, gradients: tuple, lr: float) -> None:
        """Momentum SGD step on every parameter, then the max-norm constraint."""
        params = (*self.weights_, *self.biases_)
        grads = (*gradients[0], *gradients[1])
        for param, grad, velocity in zip(params, grads, self._velocities, strict=True):
            if self.momentum:
                velocity *= self.momentum
                velocity -= lr * grad
                param += velocity
            else:
                param -= lr * grad
        if self.max_norm is not None:
            for W in self.weights_:
                norms = np.sqrt(np.einsum("ij,ij->i", W, W))
                W *= np.minimum(1, self.max_norm / np.maximum(norms, 1e-12))[:, None]

    # --- data handling -------------------------------------------------------------------

    def _check_data(self, X: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        X = check.matrix(X, "X", self.layer_sizes[0])
        if X.dtype.kind not in "fiub":
            raise ValueError(f"X must hold numbers, got dtype {X.dtype}")
        y = np.asarray(y)
        n_out = self.layer_sizes[-1]
        if y.ndim == 1:
            if y.dtype.kind not in "iu" or (len(y) and (y.min() < 0 or y.max() >= n_out)):
                raise ValueError(f"class labels y must be integers in [0, {n_out}), got {y[:5]}...")
        elif y.ndim != 2 or y.shape[1] != n_out:
            raise ValueError(f"y must have shape (n,) or (n, {n_out}), got {y.shape}")
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        return X, y

    def _as_input(self, x: np.ndarray) -> np.ndarray:
        """A batch of inputs as floats of the model's dtype (integers scaled by 1/255)."""
        if x.dtype.kind in "iub":
            out = x.astype(self.dtype)
            out *= np.asarray(1 / 255, dtype=self.dtype)
            return out
        return x.astype(self.dtype, copy=False)

    def _as_targets(self, y: np.ndarray) -> np.ndarray:
        if y.ndim == 1:
            out = np.zeros((len(y), self.layer_sizes[-1]), dtype=self.dtype)
            out[np.arange(len(y)), y] = 1
            return out
        return y.astype(self.dtype, copy=False)

    # --- using the model -----------------------------------------------------------------

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Output-layer values for each row of ``X``, shape (n, layer_sizes[-1]).

        The full network, no dropout: with inverted dropout the weights need no rescaling;
        with the chapter's scheme they get none either (as in the chapter).
        """
        X = check.matrix(X, "X", self.layer_sizes[0])
        with limit_blas_threads(self.blas_threads):
            chunks = [self._forward(X[i : i + _EVAL_CHUNK]) for i in range(0, len(X), _EVAL_CHUNK)]
        return np.concatenate(chunks)

    def _forward(self, x: np.ndarray) -> np.ndarray:
        a = self._as_input(x)
        last = len(self.weights_) - 1
        for layer, (W, b) in enumerate(zip(self.weights_, self.biases_, strict=True)):
            z = a @ W.T
            z += b
            f = OUTPUT_ACTIVATION[self.loss] if layer == last else ACTIVATIONS[self.activation]
            a = f(z, out=z)
        return a

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class index for each row of ``X``, shape (n,)."""
        return np.argmax(self.predict_proba(X), axis=1)

    def evaluate(self, X: np.ndarray, y: np.ndarray) -> Evaluation:
        """Accuracy, mean loss and confusion matrix on ``(X, y)``."""
        return self._score(*self._check_data(X, y))

    def _score(self, X: np.ndarray, y: np.ndarray) -> Evaluation:
        outputs = self.predict_proba(X)
        targets = self._as_targets(y)
        labels = y if y.ndim == 1 else np.argmax(y, axis=1)
        counts = confusion_counts(labels, np.argmax(outputs, axis=1), self.layer_sizes[-1])
        accuracy = float(np.trace(counts) / len(labels))
        return Evaluation(accuracy, LOSSES[self.loss](targets, outputs), counts)

    # --- saving --------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """The constructor settings as a JSON-friendly dict (seed and threads excluded)."""
        return {
            "layer_sizes": list(self.layer_sizes),
            "activation": self.activation,
            "loss": self.loss,
            "keep_input": self.keep_input,
            "keep_hidden": self.keep_hidden,
            "dropout": self.dropout,
            "partitions": self.partitions,
            "learning_rate": self.learning_rate,
            "momentum": self.momentum,
            "lr_decay": self.lr_decay,
            "max_norm": self.max_norm,
            "batch_size": self.batch_size,
            "init": self.init,
            "dtype": self.dtype,
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write settings, weights, epochs trained and history to ``path`` (atomically).

        Momentum velocities are not saved: training resumed after :meth:`load` starts them at 0.
        """
        config = {**self.config(), "epochs_trained": self.epochs_trained_, "history": self.history_}
        return save_npz(path, kind=type(self).__name__, config=config, arrays=self._arrays())

    def _arrays(self) -> dict[str, np.ndarray]:
        arrays = {f"W{i}": W for i, W in enumerate(self.weights_)}
        arrays.update({f"b{i}": b for i, b in enumerate(self.biases_)})
        return arrays

    @staticmethod
    def parameter_shapes(settings: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        """Shape of every saved parameter (``W0``, ``b0``, ...) for constructor ``settings``.

        Computed from ``settings["layer_sizes"]`` alone, without allocating anything, so that a
        model file's arrays can be checked before the model is built.
        """
        sizes = _checked_layer_sizes(settings["layer_sizes"])
        pairs = list(itertools.pairwise(sizes))
        shapes: dict[str, tuple[int, ...]] = {
            f"W{i}": (n_out, n_in) for i, (n_in, n_out) in enumerate(pairs)
        }
        shapes.update({f"b{i}": (n_out,) for i, (_, n_out) in enumerate(pairs)})
        return shapes

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> DropoutMLP:
        """Read a model written by :meth:`save`, checking every array before reading it."""
        model, arrays, state = load_model_file(path, cls)
        model.weights_ = [arrays[f"W{i}"].astype(model.dtype) for i in range(len(model.weights_))]
        model.biases_ = [arrays[f"b{i}"].astype(model.dtype) for i in range(len(model.biases_))]
        model._velocities = [np.zeros_like(p) for p in (*model.weights_, *model.biases_)]
        model.epochs_trained_, model.history_ = state.epochs_trained, state.history
        return model


def _checked_layer_sizes(layer_sizes: object) -> tuple[int, ...]:
    """Return ``layer_sizes`` as a tuple of at least two positive ints."""
    if isinstance(layer_sizes, str) or not isinstance(layer_sizes, Sequence):
        raise ValueError(f"layer_sizes must be a sequence of layer sizes, got {layer_sizes!r}")
    if len(layer_sizes) < 2:
        raise ValueError(
            f"layer_sizes needs at least an input and an output size, got {list(layer_sizes)}"
        )
    return tuple(check.positive_int(n, "each layer size") for n in layer_sizes)
