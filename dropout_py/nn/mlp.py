"""The fast trainer: vectorised mini-batch SGD for multi-layer perceptrons with dropout.

:class:`DropoutMLP` trains the same kind of network as the chapter's class, but a whole
mini-batch at a time, with any number of hidden layers, momentum and max-norm. Dropout is two
independent settings:

* ``mask``: which units drop. ``"example"``: every example of a batch gets its own random mask,
  each unit kept with probability p (Srivastava et al. 2014). ``"partition"``: the chapter's
  scheme, the epoch is cut into ``partitions`` parts and each part trains one thinned network
  that keeps exactly ``int(n * p)`` units of every layer.
* ``scale``: what makes up for the dropped units. ``"train"``: kept units are divided by p while
  training ("inverted" dropout), the trained network is used as is. ``"test"``: the paper's
  recipe, training leaves the kept units alone and prediction multiplies the outgoing weights of
  every layer with dropout by its p. ``"none"``: neither, as in the chapter.

``dropout="inverted"`` (the default) is ``mask="example", scale="train"``; ``dropout="chapter"``
is ``mask="partition", scale="none"``; ``mask`` or ``scale``, when given, replace a part of the
named pair (``dropout="chapter", scale="train"``: the chapter's masks, 1/p in training).

Layout: the public :attr:`DropoutMLP.weights_` follow the chapter, ``weights_[l]`` is ``(units
of l+1, units of l)``. Inside, every matrix is kept transposed, ``(units of l, units of l+1)``, in
one flat buffer together with the biases (``weights_``/``biases_`` are views into it): every
product is then a plain ``a @ W``, and a momentum step is three vector operations over all
parameters at once. Model files store the chapter's layout.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import numpy as np

from dropout_py._random import SeedLike, resolve_rng
from dropout_py.nn import _validation as check
from dropout_py.nn import products
from dropout_py.nn._threads import limit_blas_threads
from dropout_py.nn.activations import ACTIVATIONS, DERIVATIVES
from dropout_py.nn.engine import Engine, EpochPosition
from dropout_py.nn.initializers import INITIALIZERS, initial_weights
from dropout_py.nn.losses import LOSSES
from dropout_py.nn.thinning import (
    check_keep_fraction,
    keep_mask,
    partition_bounds,
    sample_active_indices,
)

_DTYPES = ("float32", "float64")
MASKS = ("example", "partition")
SCALES = ("train", "test", "none")
#: The named schemes: ``dropout=name`` is short for this ``(mask, scale)``.
DROPOUT_SCHEMES = {"inverted": ("example", "train"), "chapter": ("partition", "none")}

Masks = list[Any] | None  # per weight layer: what multiplies its inputs (array or None)
Scales = list[Any] | None  # per weight layer: a number multiplying its summed inputs, or None


def dropout_mode(
    dropout: str = "inverted", mask: str | None = None, scale: str | None = None
) -> tuple[str, str]:
    """Resolve the dropout settings to ``(mask, scale)``.

    Parameters
    ----------
    dropout : {"inverted", "chapter"}
        A named pair (see :data:`DROPOUT_SCHEMES`) to start from.
    mask : {"example", "partition"}, optional
        Replaces the named pair's mask.
    scale : {"train", "test", "none"}, optional
        Replaces the named pair's scale.

    Examples
    --------
    >>> dropout_mode("chapter")
    ('partition', 'none')
    >>> dropout_mode("chapter", scale="train")  # the chapter's masks, 1/p in training
    ('partition', 'train')
    >>> dropout_mode(scale="test")  # per-example masks, weights x p at test: the 2014 paper
    ('example', 'test')
    """
    named_mask, named_scale = DROPOUT_SCHEMES[
        check.choice(dropout, "dropout", tuple(DROPOUT_SCHEMES))
    ]
    return (
        check.choice(named_mask if mask is None else mask, "mask", MASKS),
        check.choice(named_scale if scale is None else scale, "scale", SCALES),
    )


class ParameterViews(list[np.ndarray]):
    """The model's weight matrices or bias vectors as views: assigning an item copies into them.

    So ``model.weights_[1] = W`` and ``model.weights_[1] *= 2`` both change the model, as they
    would with a plain list of its arrays.
    """

    def __setitem__(self, index: Any, value: Any) -> None:
        if not isinstance(index, int):
            raise TypeError("assign one parameter array at a time, e.g. weights_[1] = W")
        target = self[index]
        array = np.asarray(value)
        if array.shape != target.shape:
            raise ValueError(f"parameter {index} must have shape {target.shape}, got {array.shape}")
        target[...] = array

    def assign(self, values: Sequence[Any]) -> None:
        """Copy one array per item into the model (a whole new list of parameters)."""
        if len(values) != len(self):
            raise ValueError(f"expected {len(self)} parameter arrays, got {len(values)}")
        for index, value in enumerate(values):
            self[index] = value


@dataclass(frozen=True)
class Gradients:
    """The loss of one batch and its gradients.

    Attributes
    ----------
    loss : float
        Mean loss over the batch.
    weights : list of numpy.ndarray
        ``weights[l]`` has the shape of ``weights_[l]``, (layer_sizes[l + 1], layer_sizes[l]).
    biases : list of numpy.ndarray
        ``biases[l]`` has the shape of ``biases_[l]``, (layer_sizes[l + 1],).
    """

    loss: float
    weights: list[np.ndarray]
    biases: list[np.ndarray]


class DropoutMLP(Engine):
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
        A named pair: ``"inverted"`` = ``mask="example", scale="train"`` (the default),
        ``"chapter"`` = ``mask="partition", scale="none"``; ``mask`` and ``scale``, when given,
        replace its parts (``dropout="chapter", scale="test"``: the chapter's masks with the
        weights times keep at test).
    mask : {"example", "partition"}, optional
        A fresh mask per example and layer, or one thinned network (``int(n * keep)`` kept units
        per layer) for each of ``partitions`` parts of every epoch.
    scale : {"train", "test", "none"}, optional
        Kept units times ``1 / keep`` in training, or outgoing weights times ``keep`` when
        predicting, or neither.
    partitions : int
        Parts per epoch for ``mask="partition"`` (the chapter's ``no_of_dropout_tests``).
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
        ``weights_[l]`` has shape ``(layer_sizes[l + 1], layer_sizes[l])``: views into the
        model's parameters, so writing into them, assigning ``weights_[l] = W`` or a whole new
        list all change the model.
    biases_ : list of numpy.ndarray
        ``biases_[l]`` has shape ``(layer_sizes[l + 1],)`` (views, like ``weights_``).
    epochs_trained_, history_, epoch_position_
        Training progress, as for every engine (see :class:`~dropout_py.nn.engine.Engine`).

    Examples
    --------
    >>> X = np.random.default_rng(0).random((200, 4))
    >>> y = (X[:, 0] > 0.5).astype(int)
    >>> model = DropoutMLP((4, 8, 2), learning_rate=0.5, seed=0)
    >>> history = model.fit(X, y, epochs=20)
    >>> model.score(X, y).accuracy > 0.9
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
        mask: str | None = None,
        scale: str | None = None,
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
        self._sizes = _checked_layer_sizes(layer_sizes)
        self.activation = check.choice(activation, "activation", tuple(ACTIVATIONS))
        self._loss = LOSSES[check.choice(loss, "loss", tuple(LOSSES))]
        self.keep_input = check_keep_fraction(keep_input, "keep_input")
        self.keep_hidden = check_keep_fraction(keep_hidden, "keep_hidden")
        self.mask, self.scale = dropout_mode(dropout, mask, scale)
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
        self._params, self._W, self._b = self._buffer()
        self._grads, self._gW, self._gb = self._buffer()
        for (n_in, n_out), W in zip(self._shapes(), self._W, strict=True):
            W[...] = initial_weights(init, self.rng, n_out, n_in).T
        self._velocity = np.zeros_like(self._params)
        self._reset_progress()

    def _shapes(self) -> list[tuple[int, int]]:
        """(inputs, outputs) of every layer: the internal shape of its weight matrix."""
        return list(zip(self._sizes[:-1], self._sizes[1:], strict=True))

    def _buffer(self) -> tuple[np.ndarray, list[np.ndarray], list[np.ndarray]]:
        """A zeroed flat buffer of all parameters and its views: matrices (in, out), biases."""
        flat = np.zeros(sum(n_in * n_out + n_out for n_in, n_out in self._shapes()), self.dtype)
        matrices, biases, start = [], [], 0
        for n_in, n_out in self._shapes():
            matrices.append(flat[start : start + n_in * n_out].reshape(n_in, n_out))
            start += n_in * n_out
            biases.append(flat[start : start + n_out])
            start += n_out
        return flat, matrices, biases

    @property
    def layer_sizes(self) -> tuple[int, ...]:
        """Units per layer, input first."""
        return self._sizes

    @property
    def loss(self) -> str:
        """The loss setting, ``"cross_entropy"`` or ``"squared_error"``."""
        return self._loss.name

    @property
    def dropout(self) -> str | None:
        """The named scheme that ``(mask, scale)`` amount to, or None for the other pairs."""
        for name, mode in DROPOUT_SCHEMES.items():
            if mode == (self.mask, self.scale):
                return name
        return None

    @property
    def weights_(self) -> ParameterViews:
        """Weight matrices in the chapter's layout, ``(layer_sizes[l + 1], layer_sizes[l])``."""
        return ParameterViews(W.T for W in self._W)

    @weights_.setter
    def weights_(self, matrices: Sequence[np.ndarray]) -> None:
        self.weights_.assign(matrices)

    @property
    def biases_(self) -> ParameterViews:
        """Bias vectors, ``(layer_sizes[l + 1],)``."""
        return ParameterViews(self._b)

    @biases_.setter
    def biases_(self, vectors: Sequence[np.ndarray]) -> None:
        self.biases_.assign(vectors)

    def __repr__(self) -> str:
        sizes = "-".join(map(str, self._sizes))
        return (
            f"DropoutMLP({sizes}, activation={self.activation!r}, loss={self.loss!r}, "
            f"keep_input={self.keep_input}, keep_hidden={self.keep_hidden}, "
            f"mask={self.mask!r}, scale={self.scale!r}, dtype={self.dtype!r})"
        )

    # --- the network ----------------------------------------------------------------------

    def _forward(
        self, x: np.ndarray, masks: Masks = None, scales: Scales = None
    ) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        """Run a batch through the network, for training and prediction alike.

        Parameters
        ----------
        x : numpy.ndarray, shape (n, layer_sizes[0])
            Inputs as floats of the model's dtype.
        masks : list or None
            ``masks[l]`` multiplies what enters weight layer ``l`` (``l = 0``: the inputs): an
            array broadcasting against (n, units) (0/1 or bool, or carrying a scale), or None.
        scales : list or None
            ``scales[l]``, a number or None, multiplies ``inputs @ W`` of layer ``l``: the same
            as scaling its inputs or its weights, at a fraction of the cost. Dropout uses it for
            ``1 / keep`` in training (``scale="train"``) and ``keep`` when predicting
            (``scale="test"``).

        Returns
        -------
        (inputs, hidden, outputs)
            What entered each weight layer (masked), each hidden layer's output (unmasked), and
            the output layer, (n, layer_sizes[-1]).
        """
        activation = ACTIVATIONS[self.activation]
        inputs: list[np.ndarray] = []
        hidden: list[np.ndarray] = []
        a, last = x, len(self._W) - 1
        for layer, (W, b) in enumerate(zip(self._W, self._b, strict=True)):
            mask = None if masks is None else masks[layer]
            if mask is not None:
                a = a * mask
            inputs.append(a)
            z = products.matmul(a, W)
            scale = None if scales is None else scales[layer]
            if scale is not None:
                z *= scale
            z += b
            if layer == last:
                return inputs, hidden, self._loss.output(z, out=z)
            a = activation(z, out=z)
            hidden.append(a)
        raise AssertionError("unreachable: a network has at least one weight layer")

    def _backward(
        self,
        inputs: list[np.ndarray],
        hidden: list[np.ndarray],
        delta: np.ndarray,
        masks: Masks,
        scales: Scales = None,
    ) -> None:
        """Write the gradients of the batch's summed loss into the gradient buffer.

        ``delta`` is dLoss/dz of the output layer, (n, layer_sizes[-1]); the other arguments
        as :meth:`_forward` used and returned them.
        """
        slope = DERIVATIVES[self.activation]
        for layer in range(len(self._W) - 1, -1, -1):
            np.add.reduce(delta, axis=0, out=self._gb[layer])
            scale = None if scales is None else scales[layer]
            if scale is not None:  # z = scale * (inputs @ W) + b
                delta = delta * scale
            products.matmul(inputs[layer].T, delta, out=self._gW[layer])
            if layer:
                delta = products.matmul(delta, self._W[layer].T)
                mask = None if masks is None else masks[layer]
                if mask is not None:
                    delta *= mask
                delta *= slope(hidden[layer - 1])

    def gradients(
        self, x: np.ndarray, targets: np.ndarray, masks: Sequence[np.ndarray | None]
    ) -> Gradients:
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
        Gradients
            The batch's mean loss and the gradients of that mean.
        """
        x = self._as_input(np.asarray(x))
        inputs, hidden, outputs = self._forward(x, list(masks))
        loss = self._loss.value(targets, outputs)
        self._backward(inputs, hidden, self._loss.delta(targets, outputs), list(masks))
        n = len(x)
        return Gradients(loss, [g.T / n for g in self._gW], [g / n for g in self._gb])

    # --- training -------------------------------------------------------------------------

    def _compute_context(self) -> AbstractContextManager[None]:
        return limit_blas_threads(self.blas_threads)

    def _plan_epoch(self, rows: int, **plan: Any) -> EpochPosition:
        """A new epoch: a shuffled order, mini-batches (within partitions), the decayed rate."""
        order = self.rng.permutation(rows)
        if self.mask == "partition":
            parts = partition_bounds(rows, min(self.partitions, rows))
        else:
            parts = [(0, rows)]
        steps: list[tuple[int, int]] = []
        new_masks: set[int] = set()
        for part_start, end in parts:
            new_masks.add(len(steps))
            steps += [
                (s, min(s + self.batch_size, end)) for s in range(part_start, end, self.batch_size)
            ]
        learning_rate = self.learning_rate * self.lr_decay**self.epochs_trained_
        position = EpochPosition(rows, steps, learning_rate, order)
        dropping = any(keep < 1 for keep in self._keep_fractions())
        position.state.update(
            dropping=dropping, new_masks=new_masks, masks=None, scales=self._layer_scales("train")
        )
        return position

    def _train_step(self, X: np.ndarray, targets: np.ndarray, position: EpochPosition) -> float:
        """Forward, backward and update on the step's mini-batch; return the batch's mean loss."""
        start, end = position.steps[position.step]
        rows = position.order[start:end]  # type: ignore[index]
        x, t = self._as_input(X[rows]), targets[rows]
        masks = self._training_masks(position, len(rows))
        scales = position.state["scales"]
        inputs, hidden, outputs = self._forward(x, masks, scales)
        loss = self._loss.value(t, outputs)
        self._backward(inputs, hidden, self._loss.delta(t, outputs), masks, scales)
        self._update(position.learning_rate / len(rows))
        return loss

    def _update(self, step: float) -> None:
        """Momentum SGD on all parameters at once (``step`` = learning rate / batch size)."""
        grads = self._grads
        grads *= -step
        if self.momentum:
            self._velocity *= self.momentum
            self._velocity += grads
            self._params += self._velocity
        else:
            self._params += grads
        if self.max_norm is not None:
            for W in self._W:  # a unit's incoming weights are a column here
                norms = np.sqrt(np.einsum("ij,ij->j", W, W))
                W *= np.minimum(1, self.max_norm / np.maximum(norms, 1e-12))

    # --- dropout masks --------------------------------------------------------------------

    def _keep_fractions(self) -> list[float]:
        """Keep probability of the units entering each weight layer (inputs, then hidden)."""
        return [self.keep_input] + [self.keep_hidden] * (len(self._sizes) - 2)

    def _training_masks(self, position: EpochPosition, n_rows: int) -> Masks:
        if not position.state["dropping"]:
            return None
        if self.mask == "example":
            return self._example_masks(n_rows)
        if position.step in position.state["new_masks"]:
            position.state["masks"] = self._partition_masks()
        masks: Masks = position.state["masks"]
        return masks

    def _example_masks(self, n_rows: int) -> Masks:
        """A fresh Bernoulli(keep) mask per example and layer: bool, shape (n_rows, units)."""
        masks: list[np.ndarray | None] = []
        for units, keep in zip(self._sizes[:-1], self._keep_fractions(), strict=True):
            kept = None if keep == 1 else self.rng.random((n_rows, units), self._float) < keep
            masks.append(kept)
        return masks

    def _partition_masks(self) -> Masks:
        """The chapter's thinned network: ``int(n * keep)`` kept units per layer, 0/1 (units,)."""
        masks: list[np.ndarray | None] = []
        for units, keep in zip(self._sizes[:-1], self._keep_fractions(), strict=True):
            if keep == 1:
                masks.append(None)
                continue
            kept = sample_active_indices(self.rng, units, keep)
            masks.append(keep_mask(units, kept, self._float))
        return masks

    @property
    def _float(self) -> type[np.float32] | type[np.float64]:
        return np.float32 if self.dtype == "float32" else np.float64

    def _layer_scales(self, when: str) -> Scales:
        """What makes up for dropped units, as a factor per weight layer (see :meth:`_forward`).

        ``when="train"``: ``1 / keep`` with ``scale="train"``; ``when="predict"``: ``keep`` with
        ``scale="test"``; layers without dropout, and every other case, get None.
        """
        keeps = self._keep_fractions()
        if all(keep == 1 for keep in keeps):
            return None
        if when == "train" and self.scale == "train":
            return [None if keep == 1 else self._float(1 / keep) for keep in keeps]
        if when == "predict" and self.scale == "test":
            return [None if keep == 1 else self._float(keep) for keep in keeps]
        return None

    # --- data -----------------------------------------------------------------------------

    def _from_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """Pixels stay uint8; each batch is divided by 255 when used (no float copy of the set)."""
        return pixels

    def _check_inputs(self, X: Any) -> np.ndarray:
        X = check.matrix(X, "X", self._sizes[0])
        if X.dtype.kind not in "fiub":
            raise ValueError(f"X must hold numbers, got dtype {X.dtype}")
        return X

    def _check_data(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Inputs as given (integers are pixels 0..255) and target rows of the model's dtype."""
        X = self._check_inputs(X)
        y = np.asarray(y)
        n_out = self._sizes[-1]
        if y.ndim == 1:
            if y.dtype.kind not in "iu" or (len(y) and (y.min() < 0 or y.max() >= n_out)):
                raise ValueError(f"class labels y must be integers in [0, {n_out}), got {y[:5]}...")
        elif y.ndim != 2 or y.shape[1] != n_out:
            raise ValueError(f"y must have shape (n,) or (n, {n_out}), got {y.shape}")
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}")
        if y.ndim == 1:
            return X, self._loss.targets(y, n_out, self.dtype)
        return X, y.astype(self.dtype, copy=False)

    def _as_input(self, x: np.ndarray) -> np.ndarray:
        """A batch of inputs as floats of the model's dtype (integers scaled by 1/255)."""
        if x.dtype == self._float:
            return x
        if x.dtype.kind in "iub":
            out = x.astype(self.dtype)
            out *= np.asarray(1 / 255, dtype=self.dtype)
            return out
        return x.astype(self.dtype, copy=False)

    def _outputs(self, x: np.ndarray) -> np.ndarray:
        return self._forward(self._as_input(x), None, self._layer_scales("predict"))[2]

    # --- model files ----------------------------------------------------------------------

    def config(self) -> dict[str, Any]:
        """The constructor settings as a JSON-friendly dict (seed and threads excluded)."""
        return {
            "layer_sizes": list(self._sizes),
            "activation": self.activation,
            "loss": self.loss,
            "keep_input": self.keep_input,
            "keep_hidden": self.keep_hidden,
            "mask": self.mask,
            "scale": self.scale,
            "partitions": self.partitions,
            "learning_rate": self.learning_rate,
            "momentum": self.momentum,
            "lr_decay": self.lr_decay,
            "max_norm": self.max_norm,
            "batch_size": self.batch_size,
            "init": self.init,
            "dtype": self.dtype,
        }

    def _arrays(self) -> dict[str, np.ndarray]:
        """``W{l}`` in the chapter's layout (out, in), ``b{l}``: the model file's arrays."""
        arrays = {f"W{i}": np.ascontiguousarray(W.T) for i, W in enumerate(self._W)}
        arrays.update({f"b{i}": b.copy() for i, b in enumerate(self._b)})
        return arrays

    @staticmethod
    def parameter_shapes(settings: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        """Shape of every saved parameter (``W0``, ``b0``, ...) for constructor ``settings``.

        Computed from ``settings["layer_sizes"]`` alone, without allocating anything, so that a
        model file's arrays can be checked before the model is built.
        """
        pairs = list(itertools.pairwise(_checked_layer_sizes(settings["layer_sizes"])))
        shapes: dict[str, tuple[int, ...]] = {
            f"W{i}": (n_out, n_in) for i, (n_in, n_out) in enumerate(pairs)
        }
        shapes.update({f"b{i}": (n_out,) for i, (_, n_out) in enumerate(pairs)})
        return shapes

    def _nonfinite_parameter(self) -> str | None:
        """One pass over the flat buffer; only when it finds inf or nan, which array holds it."""
        if np.isfinite(self._params).all():
            return None
        for name, array in self._arrays().items():
            if not np.isfinite(array).all():
                return name
        return "of the model"  # pragma: no cover - the buffer holds nothing else

    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        self.weights_ = [arrays[f"W{i}"] for i in range(len(self._W))]
        self.biases_ = [arrays[f"b{i}"] for i in range(len(self._b))]
        self._velocity[...] = 0


def _checked_layer_sizes(layer_sizes: object) -> tuple[int, ...]:
    """Return ``layer_sizes`` as a tuple of at least two positive ints."""
    if isinstance(layer_sizes, str) or not isinstance(layer_sizes, Sequence):
        raise ValueError(f"layer_sizes must be a sequence of layer sizes, got {layer_sizes!r}")
    if len(layer_sizes) < 2:
        raise ValueError(
            f"layer_sizes needs at least an input and an output size, got {list(layer_sizes)}"
        )
    return tuple(check.positive_int(n, "each layer size") for n in layer_sizes)
