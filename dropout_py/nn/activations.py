"""Activation functions, their derivatives, and the two output/loss pairs.

Plain functions in lookup tables (as scikit-learn does), so both engines and the tests share one
implementation of every formula. Derivatives are written in terms of the activation's *output*
``a = f(z)``, which is what back-propagation has at hand.

Shapes: every function works element-wise on arrays of any shape; losses take ``(n, k)`` targets
and outputs and return the mean over the ``n`` rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Array = np.ndarray


def sigmoid(z: Array, out: Array | None = None) -> Array:
    """Logistic function ``1 / (1 + exp(-z))``, computed as ``0.5 * (1 + tanh(z / 2))``.

    The tanh form never overflows (``exp(-z)`` does for ``z < -710`` in float64) and is a single
    fast ufunc. It matches :func:`scipy.special.expit` to absolute rounding error (about 1e-16);
    outputs below that round to exactly 0 or 1, which no gradient here can tell apart.
    """
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1
    out *= 0.5
    return out


def sigmoid_derivative(a: Array) -> Array:
    """Derivative of the sigmoid at the point where it output ``a``: ``a * (1 - a)``."""
    return a * (1 - a)


def relu(z: Array, out: Array | None = None) -> Array:
    """Rectified linear unit ``max(z, 0)``."""
    return np.maximum(z, 0, out=out)


def relu_derivative(a: Array) -> Array:
    """Derivative of ReLU at the point where it output ``a``: 1 where ``a > 0``, else 0."""
    return (a > 0).astype(a.dtype)


def softmax(z: Array, out: Array | None = None) -> Array:
    """Row-wise softmax of ``z``, shape (n, k); subtracts the row maximum first, for stability."""
    out = np.subtract(z, z.max(axis=1, keepdims=True), out=out)
    np.exp(out, out=out)
    out /= out.sum(axis=1, keepdims=True)
    return out


ACTIVATIONS: dict[str, Callable[..., Array]] = {"sigmoid": sigmoid, "relu": relu}
DERIVATIVES: dict[str, Callable[[Array], Array]] = {
    "sigmoid": sigmoid_derivative,
    "relu": relu_derivative,
}


def squared_error(targets: Array, outputs: Array) -> float:
    """Mean over rows of ``0.5 * sum((t - o) ** 2)`` — the chapter's error measure."""
    diff = targets - outputs
    return float(0.5 * np.einsum("ij,ij->", diff, diff) / len(targets))


def cross_entropy(targets: Array, outputs: Array) -> float:
    """Mean over rows of ``-sum(t * log(o))``; outputs are clipped away from 0 first."""
    eps = np.finfo(outputs.dtype).tiny if outputs.dtype.kind == "f" else 1e-300
    return float(-np.einsum("ij,ij->", targets, np.log(np.maximum(outputs, eps))) / len(targets))


def squared_error_delta(targets: Array, outputs: Array) -> Array:
    """dLoss/dz of a sigmoid output layer under squared error: ``(o - t) * o * (1 - o)``."""
    return (outputs - targets) * outputs * (1 - outputs)


def cross_entropy_delta(targets: Array, outputs: Array) -> Array:
    """dLoss/dz of a softmax output layer under cross-entropy: ``o - t``."""
    return outputs - targets


OUTPUT_ACTIVATION: dict[str, Callable[..., Array]] = {
    "squared_error": sigmoid,
    "cross_entropy": softmax,
}
LOSSES: dict[str, Callable[[Array, Array], float]] = {
    "squared_error": squared_error,
    "cross_entropy": cross_entropy,
}
OUTPUT_DELTAS: dict[str, Callable[[Array, Array], Array]] = {
    "squared_error": squared_error_delta,
    "cross_entropy": cross_entropy_delta,
}
