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

Besides the chapter's methods it has the interface both engines share
(:class:`dropout_py.nn.engine.Engine`): ``prepare``, ``fit_iter`` (an event per partition and per
epoch; training can stop between partitions and resume), ``fit``, ``predict``, ``score``,
``save``/``load``; ``train`` is built on the same epoch loop. The dropout of ``fit_iter`` comes
from the constructor's ``keep_input``, ``keep_hidden`` and ``partitions``; ``train`` takes them
per call, as in the chapter. Figures read the network through :attr:`NeuralNetwork.layer_sizes`
and :attr:`NeuralNetwork.active_indices`.

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
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np

from dropout_py._random import SeedLike, resolve_rng
from dropout_py.data.preprocessing import chapter_scale
from dropout_py.nn import _validation as check
from dropout_py.nn import products
from dropout_py.nn.activations import sigmoid, sigmoid_derivative
from dropout_py.nn.engine import Engine, EpochPosition, _Run
from dropout_py.nn.events import TrainingEvent
from dropout_py.nn.initializers import INITIALIZERS, initial_weights
from dropout_py.nn.losses import CHAPTER_SQUARED_ERROR
from dropout_py.nn.metrics import confusion_counts
from dropout_py.nn.thinning import (
    check_keep_fraction,
    partition_bounds,
    sample_active_indices,
    thin,
    with_bias_index,
    write_back,
)

BACKPROP_RULES = ("chapter", "gradient")


class NeuralNetwork(Engine):
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
    keep_input, keep_hidden : float
        Fractions of input and hidden nodes :meth:`fit_iter` keeps in each thinned network, in
        (0, 1]; 1 (the default) means no dropout. :meth:`train` takes its own.
    partitions : int
        Thinned networks per epoch in :meth:`fit_iter` (at most one per sample).

    Attributes
    ----------
    wih : numpy.ndarray, shape (no_of_hidden_nodes, no_of_in_nodes + bias_node)
        Weights from the input to the hidden layer (row = hidden node).
    who : numpy.ndarray, shape (no_of_out_nodes, no_of_hidden_nodes + bias_node)
        Weights from the hidden to the output layer (row = output node).
    active_input_indices, active_hidden_indices : numpy.ndarray or None
        The kept nodes while a thinned network is active, else ``None``.
    epochs_trained_, history_, epoch_position_
        Training progress, as for every engine (see :class:`~dropout_py.nn.engine.Engine`).

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
        keep_input: float = 1.0,
        keep_hidden: float = 1.0,
        partitions: int = 10,
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
        self.keep_input = check_keep_fraction(keep_input, "keep_input")
        self.keep_hidden = check_keep_fraction(keep_hidden, "keep_hidden")
        self.partitions = check.positive_int(partitions, "partitions")
        self.rng = resolve_rng(seed)
        self._loss = CHAPTER_SQUARED_ERROR
        self.active_input_indices: np.ndarray | None = None
        self.active_hidden_indices: np.ndarray | None = None
        self.create_weight_matrices()
        self._reset_progress()

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
            f"backprop={self.backprop!r}, keep_input={self.keep_input}, "
            f"keep_hidden={self.keep_hidden}, partitions={self.partitions})"
        )

    @property
    def layer_sizes(self) -> tuple[int, int, int]:
        """Nodes of the full network per layer (bias nodes not counted), input first.

        The same while a thinned network is active (``no_of_*_nodes`` then count its nodes).
        """
        if self.active_input_indices is None:
            return (self.no_of_in_nodes, self.no_of_hidden_nodes, self.no_of_out_nodes)
        return (self.no_of_in_nodes_orig, self.no_of_hidden_nodes_orig, self.no_of_out_nodes)

    @property
    def active_indices(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The nodes of each layer (input, hidden, output) that take part now, sorted.

        All of them for the full network; between :meth:`dropout_weight_matrices` and
        :meth:`weight_matrices_reset` the thinned network's (output nodes are never dropped,
        nor is a bias node, which is not counted here). Copies: changing them changes nothing.
        """
        n_in, n_hidden, n_out = self.layer_sizes
        if self.active_input_indices is None or self.active_hidden_indices is None:
            return np.arange(n_in), np.arange(n_hidden), np.arange(n_out)
        return self.active_input_indices.copy(), self.active_hidden_indices.copy(), np.arange(n_out)

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
        """The update itself: the forward pass, the chapter's loss, one step downhill."""
        x, hidden, output = self._forward(x)
        output_delta = self._loss.delta(t, output)  # dE/dz at the output
        sent_back = output - t if self.backprop == "chapter" else output_delta
        hidden_error = products.matmul(self.who.T, sent_back)  # through who as the forward used it
        products.add_outer(self.who, -self.learning_rate * output_delta, hidden)
        if self.bias_node:
            hidden, hidden_error = hidden[:-1], hidden_error[:-1]
        hidden_delta = hidden_error * sigmoid_derivative(hidden)
        products.add_outer(self.wih, -self.learning_rate * hidden_delta, x)

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
        It runs the same epoch loop as :meth:`fit_iter`, so an epoch that an earlier call left
        unfinished is finished first.

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
            (``kind="step"``) and after every epoch (``kind="epoch"``, with the epoch's record).
            Scoring is left to the caller (see :meth:`score`), so training time stays pure.
        """
        n_in = self.no_of_in_nodes
        data = check.matrix(data_array, "data_array", n_in, float)
        targets = check.matrix(labels_one_hot_array, "labels_one_hot_array", self.no_of_out_nodes)
        if len(targets) != len(data):
            raise ValueError(
                f"data_array has {len(data)} rows but labels_one_hot_array has {len(targets)}"
            )
        epochs = check.positive_int(epochs, "epochs")
        keeps = (
            check_keep_fraction(active_input_percentage, "active_input_percentage"),
            check_keep_fraction(active_hidden_percentage, "active_hidden_percentage"),
        )
        tests = check.positive_int(no_of_dropout_tests, "no_of_dropout_tests")
        if tests > len(data):
            raise ValueError(
                f"no_of_dropout_tests must be at most the number of samples ({len(data)}), "
                f"got {tests}"
            )
        plan = {"keeps": keeps, "partitions": tests}
        if verbose:
            print("epoch:", 1)
        run = _Run(data, targets, epochs, None, False, plan, callback)
        for event in self._epochs(run):
            if callback is not None:
                callback(event)
            if verbose and event.kind == "epoch" and event.epoch < epochs:
                print("epoch:", event.epoch + 1)

    def _plan_epoch(
        self,
        rows: int,
        keeps: tuple[float, float] | None = None,
        partitions: int | None = None,
        **plan: Any,
    ) -> EpochPosition:
        """A new epoch: the data in its own order, cut into partitions, one step each."""
        parts = min(self.partitions, rows) if partitions is None else partitions
        position = EpochPosition(rows, partition_bounds(rows, parts), self.learning_rate)
        position.state["keeps"] = keeps or (self.keep_input, self.keep_hidden)
        return position

    def _train_step(self, X: np.ndarray, targets: np.ndarray, position: EpochPosition) -> None:
        """One partition: draw a thinned network, train it sample by sample, write it back."""
        start, end = position.steps[position.step]
        inputs, hidden = self.dropout_weight_matrices(*position.state["keeps"])
        try:
            for x, t in zip(X[start:end, inputs], targets[start:end], strict=True):
                self._train_sample(x, t)
        finally:  # even on Ctrl-C, keep what was learned and the full network
            self.weight_matrices_reset(inputs, hidden)

    # --- using the network ---------------------------------------------------------------

    def _forward(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The forward pass, for training (one sample) and prediction (rows) alike.

        Parameters
        ----------
        x : numpy.ndarray, shape (no_of_in_nodes,) or (n, no_of_in_nodes)

        Returns
        -------
        (inputs, hidden, outputs)
            The inputs and the hidden layer with their bias node appended (if any), and the
            output layer, shape (no_of_out_nodes,) or (n, no_of_out_nodes).
        """
        x = self._with_bias(x)
        hidden = self._with_bias(sigmoid(products.matmul(x, self.wih.T)))
        return x, hidden, sigmoid(products.matmul(hidden, self.who.T))

    def _with_bias(self, a: np.ndarray) -> np.ndarray:
        if not self.bias_node:
            return a
        return np.concatenate([a, np.full((*a.shape[:-1], 1), self.bias, dtype=a.dtype)], axis=-1)

    def _outputs(self, x: np.ndarray) -> np.ndarray:
        return self._forward(x)[2]

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
        return self._forward(x)[2][:, np.newaxis]

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

    # --- data ----------------------------------------------------------------------------

    def _from_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """The chapter's inputs: pixels mapped to [0.01, 1.0], float64."""
        return chapter_scale(pixels)

    def _check_inputs(self, X: Any) -> np.ndarray:
        return check.matrix(X, "data", self.no_of_in_nodes, float)

    def _check_data(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Inputs as floats; targets from labels (0.01 / 0.99, as the chapter) or as given."""
        X = self._check_inputs(X)
        y = np.asarray(y)
        n_out = self.no_of_out_nodes
        if y.ndim == 2 and y.shape[1] == n_out and n_out > 1:
            if len(y) != len(X):
                raise ValueError(f"data has {len(X)} rows but the targets have {len(y)}")
            return X, y.astype(float)
        return X, self._loss.targets(_label_vector(y, len(X)), n_out)

    # --- saving --------------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """The constructor settings as a JSON-friendly dict."""
        return {
            "no_of_in_nodes": self.no_of_in_nodes,
            "no_of_out_nodes": self.no_of_out_nodes,
            "no_of_hidden_nodes": self.no_of_hidden_nodes,
            "learning_rate": self.learning_rate,
            "bias": self.bias,
            "init": self.init,
            "backprop": self.backprop,
            "keep_input": self.keep_input,
            "keep_hidden": self.keep_hidden,
            "partitions": self.partitions,
        }

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the network to an ``.npz`` file (atomically); return its path."""
        if self.active_input_indices is not None:
            raise RuntimeError("a thinned network is active: call weight_matrices_reset first")
        return super().save(path)

    def _arrays(self) -> dict[str, np.ndarray]:
        return {"wih": self.wih, "who": self.who}

    @staticmethod
    def parameter_shapes(settings: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        """Shapes of ``wih`` and ``who`` for constructor ``settings``, allocating nothing.

        Lets a model file's arrays be checked before the network is built.
        """
        n_in = check.positive_int(settings["no_of_in_nodes"], "no_of_in_nodes")
        n_out = check.positive_int(settings["no_of_out_nodes"], "no_of_out_nodes")
        n_hidden = check.positive_int(settings["no_of_hidden_nodes"], "no_of_hidden_nodes")
        bias_node = 1 if settings.get("bias") else 0
        return {"wih": (n_hidden, n_in + bias_node), "who": (n_out, n_hidden + bias_node)}

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.wih, self.who = arrays["wih"].astype(float), arrays["who"].astype(float)


def _label_vector(labels: np.ndarray, n: int) -> np.ndarray:
    """Class indices as an int vector of length ``n`` (accepts the chapter's float column)."""
    array = np.asarray(labels)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) or ({n}, 1), got {np.shape(labels)}")
    return array.astype(np.int64)
