"""Activation functions and their derivatives (the losses are in :mod:`dropout_py.nn.losses`).

Plain functions in lookup tables (as scikit-learn does), so both engines and the tests share one
implementation of every formula. Derivatives are written in terms of the activation's *output*
``a = f(z)``, which is what back-propagation has at hand: the sigmoid's slope ``a * (1 - a)`` is
written here once, and both engines and the squared-error loss use it.

Shapes: every function works element-wise on arrays of any shape; ``softmax`` on rows of (n, k).
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
    """Derivative of the sigmoid at the point where it output ``a``: ``a * (1 - a)``.

    Examples
    --------
    >>> float(sigmoid_derivative(np.float64(0.5)))
    0.25
    """
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
