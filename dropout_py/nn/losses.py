"""The output layer and its loss as one object: activation, loss value, delta, target encoding.

Both engines train against a :class:`Loss`: the fast trainer with :data:`CROSS_ENTROPY` (softmax
output) or :data:`SQUARED_ERROR` (sigmoid output), the chapter's network with
:data:`CHAPTER_SQUARED_ERROR`, the squared error against the chapter's 0.01 / 0.99 targets.

Shapes: targets and outputs are (n, k); values are the mean over the n rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from dropout_py.data.preprocessing import CHAPTER_TARGETS, one_hot
from dropout_py.nn.activations import sigmoid, sigmoid_derivative, softmax

Array = np.ndarray


def squared_error(targets: Array, outputs: Array) -> float:
    """Mean over rows of ``0.5 * sum((t - o) ** 2)``: the chapter's error measure."""
    diff = np.ascontiguousarray(targets - outputs)
    return float(0.5 * np.vdot(diff, diff) / len(targets))


def cross_entropy(targets: Array, outputs: Array) -> float:
    """Mean over rows of ``-sum(t * log(o))``; outputs are clipped away from 0 first."""
    eps = np.finfo(outputs.dtype).tiny
    logs = np.log(np.maximum(outputs, eps))
    return float(-np.vdot(np.ascontiguousarray(targets), logs) / len(targets))


def squared_error_delta(targets: Array, outputs: Array) -> Array:
    """dLoss/dz of a sigmoid output layer under squared error: ``(o - t) * o * (1 - o)``."""
    return (outputs - targets) * sigmoid_derivative(outputs)


def cross_entropy_delta(targets: Array, outputs: Array) -> Array:
    """dLoss/dz of a softmax output layer under cross-entropy: ``o - t``."""
    return outputs - targets


@dataclass(frozen=True)
class Loss:
    """An output activation, the loss measured on it, its gradient and the target encoding.

    Attributes
    ----------
    name : str
        ``"cross_entropy"`` or ``"squared_error"`` (the settings' name).
    output : callable
        ``output(z, out=None)``: the output layer's activation of (n, k) sums ``z``.
    value : callable
        ``value(targets, outputs) -> float``: the mean loss per row.
    delta : callable
        ``delta(targets, outputs) -> (n, k) array``: dLoss/dz of the output layer, per row.
    low, high : float
        The target rows this loss is trained against: ``high`` at the class, ``low`` elsewhere.

    Examples
    --------
    >>> CHAPTER_SQUARED_ERROR.targets(np.array([1, 0]), 3)
    array([[0.01, 0.99, 0.01],
           [0.99, 0.01, 0.01]])
    """

    name: str
    output: Callable[..., Array]
    value: Callable[[Array, Array], float]
    delta: Callable[[Array, Array], Array]
    low: float = 0.0
    high: float = 1.0

    def targets(self, labels: Array, n_classes: int, dtype: Any = np.float64) -> Array:
        """Target rows for class ``labels`` (shape (n,) or a column (n, 1)), shape (n, k)."""
        return one_hot(labels, n_classes, low=self.low, high=self.high, dtype=dtype)


CROSS_ENTROPY = Loss("cross_entropy", softmax, cross_entropy, cross_entropy_delta)
SQUARED_ERROR = Loss("squared_error", sigmoid, squared_error, squared_error_delta)
#: The chapter's network: sigmoid outputs, squared error, targets of 0.01 and 0.99.
CHAPTER_SQUARED_ERROR = replace(SQUARED_ERROR, low=CHAPTER_TARGETS[0], high=CHAPTER_TARGETS[1])

LOSSES: dict[str, Loss] = {loss.name: loss for loss in (SQUARED_ERROR, CROSS_ENTROPY)}
