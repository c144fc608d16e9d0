"""The chapter's network, written fresh: one hidden layer, per-sample training, dropout by slicing.

:class:`NeuralNetwork` keeps the chapter's constructor, method names, return values and attribute
names (``wih``, ``who``, ``no_of_*_nodes``), so code written for the chapter runs unchanged. Its
point is to be read: a thinned network is literally a smaller pair of matrices, and every sample
is one forward and one backward pass in plain NumPy.

What differs from the chapter, on purpose (each is a fix):

* With ``bias`` set, the bias column of each matrix is never dropped, so dropout works with a
  bias (the chapter's slicing dropped it and broke the shapes).
* ``train`` covers every sample: when the data length is not a multiple of
  ``no_of_dropout_tests``, a last, shorter partition takes the remainder (no overrun).
* The hidden layer's error goes back through ``who`` as the forward pass used it, *before* the
  update (the chapter uses the already updated ``who``).
* ``init`` chooses the first weights: ``"scaled"`` (default; the earlier chapters' choice) or
  ``"chapter"`` (the dropout chapter's published draw, to reproduce its numbers).
* Randomness comes from ``seed`` (an int or a :class:`numpy.random.Generator`), never from the
  global state, so runs repeat exactly.
* Progress goes to ``callback`` (or ``verbose=True`` prints the chapter's ``epoch: N`` lines).
* Bad arguments raise :class:`ValueError` naming the value.

How the output error reaches the hidden layer is a choice, ``backprop``: ``"chapter"`` (default)
sends the output error ``t - o`` back through ``who``, as the tutorial series teaches; this skips
the output sigmoid's slope, so it is not the exact gradient of the squared error, but it keeps
learning when the outputs saturate (which the chapter's published initial weights cause).
``"gradient"`` sends back the exact gradient ``(t - o) * o * (1 - o)``, the same update as
:class:`dropout_py.DropoutMLP` with ``loss="squared_error"``.

Like the chapter, nothing rescales the weights after dropout training; see
:class:`dropout_py.DropoutMLP` for the scheme of Srivastava et al. (2014).
"""

from __future__ import annotations

import numbers
import os
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from dropout_py._random import SeedLike, resolve_rng
from dropout_py.nn import _validation as check
from dropout_py.nn.activations import sigmoid, squared_error
from dropout_py.nn.events import TrainingEvent
from dropout_py.nn.initializers import INITIALIZERS, initial_weights
from dropout_py.nn.metrics import Evaluation, confusion_counts
from dropout_py.nn.serialization import load_model_file, save_npz
from dropout_py.nn.thinning import (
    check_keep_fraction,
    partition_bounds,
    sample_active_indices,
    thin,
    with_bias_index,
    write_back,
)

_EVAL_CHUNK = 10_000  # rows per batched forward pass when scoring
BACKPROP_RULES = ("chapter", "gradient")


class NeuralNetwork:
    """A 1-hidden-layer sigmoid network trained sample by sample, with the chapter's dropout.

    Parameters
    ----------
    no_of_in_nodes, no_of_out_nodes, no_of_hidden_nodes : int
        Layer sizes (784, 10 and e.g. 100 for MNIST).
    learning_rate : float
        Step size of each per-sample update.
    bias : float or None
        If set (and non-zero), a constant node with this value is appended to the input and the
        hidden layer; its weights are the last column of ``wih`` and ``who``.
    init : {"scaled", "chapter"}
        How the first weights are drawn (see :mod:`dropout_py.nn.initializers`).
    backprop : {"chapter", "gradient"}
        What the hidden layer learns from: the output error (the chapter's rule) or the exact
        gradient of the squared error.
    seed : int, numpy.random.Generator or None
        Source of all randomness: initial weights and the choice of dropped nodes.

    Attributes
    ----------
    wih : numpy.ndarray, shape (no_of_hidden_nodes, no_of_in_nodes + bias_node)
        Weights from the input to the hidden layer (row = hidden node).
    who : numpy.ndarray, shape (no_of_out_nodes, no_of_hidden_nodes + bias_node)
        Weights from the hidden to the output layer (row = output node).
    active_input_indices, active_hidden_indices : numpy.ndarray or None
        The kept nodes while a thinned network is active, else ``None``.

    Examples
    --------
    >>> nn = NeuralNetwork(3, 2, 4, 0.1, seed=0)
    >>> nn.wih.shape, nn.who.shape
    ((4, 3), (2, 4))
    >>> inputs, hidden = nn.dropout_weight_matrices(0.67, 0.5)
    >>> nn.wih.shape, nn.who.shape
    ((2, 2), (2, 2))
    >>> nn.weight_matrices_reset(inputs, hidden)
    >>> nn.wih.shape
    (4, 3)
    """

    def __init__(
        self,
        no_of_in_nodes: int,
        no_of_out_nodes: int,
        no_of_hidden_nodes: int,
        learning_rate: float,
        bias: float | None = None,
        *,
        init: str = "scaled",
        backprop: str = "chapter",
        seed: SeedLike = None,
    ) -> None:
        self.no_of_in_nodes = check.positive_int(no_of_in_nodes, "no_of_in_nodes")
        self.no_of_out_nodes = check.positive_int(no_of_out_nodes, "no_of_out_nodes")
        self.no_of_hidden_nodes = check.positive_int(no_of_hidden_nodes, "no_of_hidden_nodes")
        self.learning_rate = check.positive_float(learning_rate, "learning_rate")
        if bias is not None and (
            isinstance(bias, bool) or not isinstance(bias, numbers.Real) or not np.isfinite(bias)
        ):
            raise ValueError(f"bias must be None or a finite number, got {bias!r}")
        self.bias = bias
        self.init = check.choice(init, "init", tuple(INITIALIZERS))
        self.backprop = check.choice(backprop, "backprop", BACKPROP_RULES)
        self.rng = resolve_rng(seed)
        self.active_input_indices: np.ndarray | None = None
        self.active_hidden_indices: np.ndarray | None = None
        self.create_weight_matrices()

    @property
    def bias_node(self) -> int:
        """1 if a bias node is appended to the input and hidden layers, else 0."""
        return 1 if self.bias else 0

    def __repr__(self) -> str:
        return (
            f"NeuralNetwork(no_of_in_nodes={self.no_of_in_nodes}, "
            f"no_of_out_nodes={self.no_of_out_nodes}, "
            f"no_of_hidden_nodes={self.no_of_hidden_nodes}, "
            f"learning_rate={self.learning_rate}, bias={self.bias}, init={self.init!r}, "
            f"backprop={self.backprop!r})"
        )

    # --- weights and dropout -------------------------------------------------------------

    def create_weight_matrices(self) -> None:
        """Draw fresh ``wih`` and ``who`` with the chosen initializer."""
        self.wih = initial_weights(
            self.init, self.rng, self.no_of_hidden_nodes, self.no_of_in_nodes + self.bias_node
        )
        self.who = initial_weights(
            self.init, self.rng, self.no_of_out_nodes, self.no_of_hidden_nodes + self.bias_node
        )

    def dropout_weight_matrices(
        self, active_input_percentage: float = 0.70, active_hidden_percentage: float = 0.70
    ) -> tuple[np.ndarray, np.ndarray]:
        """Switch to a random thinned network.

        Keeps copies of the full matrices (``wih_orig``, ``who_orig``) and node counts, draws the
        input and hidden nodes that stay active, and replaces ``wih`` and ``who`` by the rows and
        columns of those nodes (bias columns always stay).

        Parameters
        ----------
        active_input_percentage, active_hidden_percentage : float
            Fractions of input and hidden nodes kept, in (0, 1].

        Returns
        -------
        (active_input_indices, active_hidden_indices) : tuple of numpy.ndarray of int
            Sorted indices of the kept nodes; pass them to :meth:`weight_matrices_reset`.
        """
        check_keep_fraction(active_input_percentage, "active_input_percentage")
        check_keep_fraction(active_hidden_percentage, "active_hidden_percentage")
        if self.active_input_indices is not None:
            raise RuntimeError("a thinned network is already active: call weight_matrices_reset")
        self.wih_orig, self.who_orig = self.wih.copy(), self.who.copy()
        self.no_of_in_nodes_orig = self.no_of_in_nodes
        self.no_of_hidden_nodes_orig = self.no_of_hidden_nodes

        inputs = sample_active_indices(self.rng, self.no_of_in_nodes, active_input_percentage)
        hidden = sample_active_indices(self.rng, self.no_of_hidden_nodes, active_hidden_percentage)
        self.wih = thin(self.wih, hidden, self._input_columns(inputs))
        self.who = thin(self.who, np.arange(self.no_of_out_nodes), self._hidden_columns(hidden))
        self.no_of_in_nodes, self.no_of_hidden_nodes = len(inputs), len(hidden)
        self.active_input_indices, self.active_hidden_indices = inputs, hidden
        return inputs, hidden

    def weight_matrices_reset(
        self, active_input_indices: np.ndarray, active_hidden_indices: np.ndarray
    ) -> None:
        """Write the trained thinned matrices back into the full ones and reactivate all nodes.

        Parameters
        ----------
        active_input_indices, active_hidden_indices : numpy.ndarray of int
            The indices :meth:`dropout_weight_matrices` returned.
        """
        if self.active_input_indices is None:
            raise RuntimeError("no thinned network is active: call dropout_weight_matrices first")
        inputs = np.asarray(active_input_indices)
        hidden = np.asarray(active_hidden_indices)
        if len(inputs) != self.no_of_in_nodes or len(hidden) != self.no_of_hidden_nodes:
            raise ValueError(
                f"expected {self.no_of_in_nodes} input and {self.no_of_hidden_nodes} hidden "
                f"indices (the thinned network's size), got {len(inputs)} and {len(hidden)}"
            )
        self.no_of_in_nodes = self.no_of_in_nodes_orig
        self.no_of_hidden_nodes = self.no_of_hidden_nodes_orig
        write_back(self.wih_orig, hidden, self._input_columns(inputs), self.wih)
        write_back(
            self.who_orig, np.arange(self.no_of_out_nodes), self._hidden_columns(hidden), self.who
        )
        self.wih, self.who = self.wih_orig, self.who_orig
        self.active_input_indices = self.active_hidden_indices = None

    def _input_columns(self, inputs: np.ndarray) -> np.ndarray:
        return with_bias_index(inputs, self.no_of_in_nodes, self.bias_node)

    def _hidden_columns(self, hidden: np.ndarray) -> np.ndarray:
        return with_bias_index(hidden, self.no_of_hidden_nodes, self.bias_node)

    # --- training ------------------------------------------------------------------------

    def train_single(self, input_vector: np.ndarray, target_vector: np.ndarray) -> None:
        """One forward and backward pass for one sample; updates ``wih`` and ``who`` in place.

        Parameters
        ----------
        input_vector : array-like, shape (no_of_in_nodes,)
            For a thinned network: the values of the active input nodes only.
        target_vector : array-like, shape (no_of_out_nodes,)
        """
        x = np.asarray(input_vector, dtype=float).ravel()
        t = np.asarray(target_vector, dtype=float).ravel()
        if x.size != self.no_of_in_nodes:
            raise ValueError(f"input_vector has {x.size} values, expected {self.no_of_in_nodes}")
        if t.size != self.no_of_out_nodes:
            raise ValueError(f"target_vector has {t.size} values, expected {self.no_of_out_nodes}")
        self._train_sample(x, t)

    def _train_sample(self, x: np.ndarray, t: np.ndarray) -> None:
        """The update itself: sigmoid layers, squared error, one step downhill."""
        if self.bias_node:
            x = np.append(x, self.bias)
        hidden = sigmoid(self.wih @ x)
        if self.bias_node:
            hidden = np.append(hidden, self.bias)
        output = sigmoid(self.who @ hidden)

        output_error = t - output
        output_delta = output_error * output * (1.0 - output)  # minus dE/dz at the output
        sent_back = output_error if self.backprop == "chapter" else output_delta
        hidden_error = self.who.T @ sent_back  # through who as the forward pass used it
        self.who += np.outer(self.learning_rate * output_delta, hidden)
        if self.bias_node:
            hidden, hidden_error = hidden[:-1], hidden_error[:-1]
        hidden_delta = hidden_error * hidden * (1.0 - hidden)
        self.wih += np.outer(self.learning_rate * hidden_delta, x)

    def train(
        self,
        data_array: np.ndarray,
        labels_one_hot_array: np.ndarray,
        epochs: int = 1,
        active_input_percentage: float = 0.70,
        active_hidden_percentage: float = 0.70,
        no_of_dropout_tests: int = 10,
        *,
        verbose: bool = False,
        callback: Callable[[TrainingEvent], None] | None = None,
    ) -> None:
        """Train with dropout: a new thinned network for every partition of the data.

        The data is cut into ``no_of_dropout_tests`` partitions of
        ``len(data_array) // no_of_dropout_tests`` samples (plus a shorter last one for any
        remainder). For every epoch and partition a thinned network is drawn, each sample of the
        partition trains it (inputs sliced to the active nodes), and the trained weights are
        written back. With both percentages at 1 this is plain per-sample gradient descent.

        Parameters
        ----------
        data_array : numpy.ndarray, shape (n, no_of_in_nodes)
        labels_one_hot_array : numpy.ndarray, shape (n, no_of_out_nodes)
            Targets, e.g. the chapter's one-hot rows of 0.01 / 0.99.
        epochs : int
        active_input_percentage, active_hidden_percentage : float
            Keep fractions in (0, 1].
        no_of_dropout_tests : int
            Number of partitions per epoch, between 1 and n.
        verbose : bool
            Print ``epoch: N`` at the start of every epoch, as the chapter does.
        callback : callable, optional
            Called with a :class:`~dropout_py.nn.events.TrainingEvent` after every partition
            (``kind="step"``) and after every epoch (``kind="epoch"``). Its ``metrics`` are empty:
            scoring is left to the caller (see :meth:`score`), so training time stays pure.
        """
        n_in = self.no_of_in_nodes
        data = check.matrix(data_array, "data_array", n_in, float)
        targets = check.matrix(labels_one_hot_array, "labels_one_hot_array", self.no_of_out_nodes)
        if len(targets) != len(data):
            raise ValueError(
                f"data_array has {len(data)} rows but labels_one_hot_array has {len(targets)}"
            )
        epochs = check.positive_int(epochs, "epochs")
        check_keep_fraction(active_input_percentage, "active_input_percentage")
        check_keep_fraction(active_hidden_percentage, "active_hidden_percentage")
        tests = check.positive_int(no_of_dropout_tests, "no_of_dropout_tests")
        if tests > len(data):
            raise ValueError(
                f"no_of_dropout_tests must be at most the number of samples ({len(data)}), "
                f"got {tests}"
            )
        bounds = partition_bounds(len(data), tests)
        for epoch in range(1, epochs + 1):
            if verbose:
                print("epoch:", epoch)
            started = time.perf_counter()
            for step, (start, end) in enumerate(bounds, 1):
                inputs, hidden = self.dropout_weight_matrices(
                    active_input_percentage, active_hidden_percentage
                )
                try:
                    for x, t in zip(data[start:end, inputs], targets[start:end], strict=True):
                        self._train_sample(x, t)
                finally:  # even on Ctrl-C, keep what was learned and the full network
                    self.weight_matrices_reset(inputs, hidden)
                if callback is not None:
                    elapsed = time.perf_counter() - started
                    callback(TrainingEvent("step", epoch, epochs, step, len(bounds), elapsed))
            if callback is not None:
                elapsed = time.perf_counter() - started
                callback(TrainingEvent("epoch", epoch, epochs, len(bounds), len(bounds), elapsed))

    # --- using the network ---------------------------------------------------------------

    def run(self, input_vector: np.ndarray) -> np.ndarray:
        """Forward pass of one sample through the current network.

        Returns
        -------
        numpy.ndarray, shape (no_of_out_nodes, 1)
            The output layer as a column vector, as in the chapter.
        """
        x = np.asarray(input_vector, dtype=float).ravel()
        if x.size != self.no_of_in_nodes:
            raise ValueError(f"input_vector has {x.size} values, expected {self.no_of_in_nodes}")
        return self.predict_proba(x[np.newaxis, :]).T

    def predict_proba(self, data: np.ndarray) -> np.ndarray:
        """Outputs of the network for many samples at once, shape (n, no_of_out_nodes).

        The same arithmetic as :meth:`run`, a chunk of rows at a time.
        """
        data = check.matrix(data, "data", self.no_of_in_nodes, float)
        return np.concatenate(
            [self._forward(data[i : i + _EVAL_CHUNK]) for i in range(0, len(data), _EVAL_CHUNK)]
        )

    def _forward(self, x: np.ndarray) -> np.ndarray:
        if self.bias_node:
            x = np.hstack([x, np.full((len(x), 1), self.bias)])
        hidden = sigmoid(x @ self.wih.T)
        if self.bias_node:
            hidden = np.hstack([hidden, np.full((len(x), 1), self.bias)])
        return sigmoid(hidden @ self.who.T)

    def predict(self, data: np.ndarray) -> np.ndarray:
        """Predicted class (argmax of the outputs) for each row, shape (n,)."""
        return np.argmax(self.predict_proba(data), axis=1)

    def evaluate(self, data: np.ndarray, labels: np.ndarray) -> tuple[int, int]:
        """Count correct and wrong predictions.

        Parameters
        ----------
        data : numpy.ndarray, shape (n, no_of_in_nodes)
        labels : array-like, shape (n,) or (n, 1)
            Class indices (the chapter keeps them as a float column).

        Returns
        -------
        (corrects, wrongs) : tuple of int
        """
        labels = _label_vector(labels, len(data))
        corrects = int(np.sum(self.predict(data) == labels))
        return corrects, len(labels) - corrects

    def confusion_matrix(self, data_array: np.ndarray, labels: np.ndarray) -> dict:
        """Count (target, predicted) pairs, as the chapter's dict ``{(target, predicted): n}``.

        Only pairs that occur are keys. For the array form see :meth:`score`.
        """
        labels = _label_vector(labels, len(data_array))
        counts = confusion_counts(labels, self.predict(data_array), self.no_of_out_nodes)
        pairs = np.argwhere(counts)
        return {(int(t), int(p)): int(counts[t, p]) for t, p in pairs}

    def score(self, data: np.ndarray, labels: np.ndarray) -> Evaluation:
        """Accuracy, mean squared error against 0.01/0.99 targets, and the confusion matrix."""
        labels = _label_vector(labels, len(data))
        outputs = self.predict_proba(data)
        targets = np.full(outputs.shape, 0.01)
        targets[np.arange(len(labels)), labels] = 0.99
        counts = confusion_counts(labels, outputs.argmax(axis=1), self.no_of_out_nodes)
        accuracy = float(np.trace(counts) / len(labels))
        return Evaluation(accuracy, squared_error(targets, outputs), counts)

    # --- saving --------------------------------------------------------------------------

    def config(self) -> dict:
        """The constructor settings as a JSON-friendly dict."""
        return {
            "no_of_in_nodes": self.no_of_in_nodes,
            "no_of_out_nodes": self.no_of_out_nodes,
            "no_of_hidden_nodes": self.no_of_hidden_nodes,
            "learning_rate": self.learning_rate,
            "bias": self.bias,
            "init": self.init,
            "backprop": self.backprop,
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the network to an ``.npz`` file (atomically); return its path."""
        if self.active_input_indices is not None:
            raise RuntimeError("a thinned network is active: call weight_matrices_reset first")
        return save_npz(path, kind=type(self).__name__, config=self.config(), arrays=self._arrays())

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"wih": self.wih, "who": self.who}

    @staticmethod
    def parameter_shapes(settings: Mapping[str, Any]) -> dict[str, tuple[int, int]]:
        """Shapes of ``wih`` and ``who`` for constructor ``settings``, allocating nothing.

        Lets a model file's arrays be checked before the network is built.
        """
        n_in = check.positive_int(settings["no_of_in_nodes"], "no_of_in_nodes")
        n_out = check.positive_int(settings["no_of_out_nodes"], "no_of_out_nodes")
        n_hidden = check.positive_int(settings["no_of_hidden_nodes"], "no_of_hidden_nodes")
        bias_node = 1 if settings.get("bias") else 0
        return {"wih": (n_hidden, n_in + bias_node), "who": (n_out, n_hidden + bias_node)}

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> NeuralNetwork:
        """Read a network written by :meth:`save`, checking every array before reading it."""
        network, arrays, _ = load_model_file(path, cls)
        network.wih, network.who = arrays["wih"].astype(float), arrays["who"].astype(float)
        return network


def _label_vector(labels: np.ndarray, n: int) -> np.ndarray:
    """Class indices as an int vector of length ``n`` (accepts the chapter's float column)."""
    array = np.asarray(labels)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) or ({n}, 1), got {np.shape(labels)}")
    return array.astype(np.int64)
