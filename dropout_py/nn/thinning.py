"""Thinning a network: sample which nodes stay active, slice the weight matrices, write back.

These are the chapter's NumPy steps as functions, shared by the tutorial class
(:class:`dropout_py.NeuralNetwork`, which slices) and the fast trainer (which masks). A weight
matrix has shape ``(nodes of the next layer, nodes of this layer [+ 1 bias column])``, so dropping
node ``j`` of a layer removes column ``j`` of the matrix that leaves the layer and row ``j`` of the
matrix that enters it.
"""

from __future__ import annotations

import numbers

import numpy as np


def check_keep_fraction(value: float, name: str) -> float:
    """Return ``value`` as a float if it lies in (0, 1], else raise ``ValueError`` naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number in (0, 1], got {value!r}")
    if not 0.0 < float(value) <= 1.0:
        raise ValueError(f"{name} must be in (0, 1], got {value}")
    return float(value)


def sample_active_indices(rng: np.random.Generator, n: int, keep_fraction: float) -> np.ndarray:
    """Draw the nodes of one layer that stay active.

    Parameters
    ----------
    rng : numpy.random.Generator
        Source of randomness.
    n : int
        Number of nodes in the layer.
    keep_fraction : float
        Fraction of nodes kept, in (0, 1]. The chapter's ``active_*_percentage``.

    Returns
    -------
    numpy.ndarray of int, shape (k,)
        ``k = max(1, int(n * keep_fraction))`` distinct indices in ascending order.

    Examples
    --------
    >>> idx = sample_active_indices(np.random.default_rng(0), 10, 0.7)
    >>> len(idx), bool(np.all(np.diff(idx) > 0))
    (7, True)
    """
    keep_fraction = check_keep_fraction(keep_fraction, "keep_fraction")
    if n < 1:
        raise ValueError(f"a layer needs at least one node, got n={n}")
    k = max(1, int(n * keep_fraction))
    if k == n:
        return np.arange(n)
    return np.sort(rng.choice(n, size=k, replace=False))


def with_bias_index(indices: np.ndarray, n: int, bias_node: int) -> np.ndarray:
    """Append the bias position ``n`` to ``indices`` when the layer has a bias node.

    The bias node is the last column of a weight matrix and is never dropped.
    """
    return np.append(indices, n) if bias_node else np.asarray(indices)


def thin(matrix: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> np.ndarray:
    """Return ``matrix[rows][:, cols]`` as a new array, shape (len(rows), len(cols))."""
    return matrix[np.ix_(rows, cols)]


def write_back(matrix: np.ndarray, rows: np.ndarray, cols: np.ndarray, sub: np.ndarray) -> None:
    """Store the trained sub-matrix ``sub`` at ``rows`` x ``cols`` of ``matrix`` (in place)."""
    matrix[np.ix_(rows, cols)] = sub


def keep_mask(n: int, indices: np.ndarray, dtype: np.dtype | type = np.float64) -> np.ndarray:
    """Return a vector of length ``n`` with 1 at ``indices`` and 0 elsewhere.

    Multiplying a layer's activations by this mask is the same as removing the dropped nodes.
    """
    mask = np.zeros(n, dtype=dtype)
    mask[indices] = 1
    return mask


def partition_bounds(n: int, parts: int) -> list[tuple[int, int]]:
    """Cut ``range(n)`` into ``parts`` slices of ``n // parts`` plus a shorter remainder slice.

    Examples
    --------
    >>> partition_bounds(10, 3)
    [(0, 3), (3, 6), (6, 9), (9, 10)]
    """
    length = n // parts
    return [(start, min(start + length, n)) for start in range(0, n, length)]
