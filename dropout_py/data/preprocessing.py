"""The chapter's preprocessing of MNIST, and the fast trainer's.

Pixels are mapped to [0.01, 1.0] by ``x * (0.99 / 255) + 0.01``, targets are one-hot rows of
0.01 ("no") and 0.99 ("yes") (:data:`CHAPTER_TARGETS`), labels are kept as a float column; the
fast trainer uses plain [0, 1] floats instead (:func:`to_unit_interval`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

N_CLASSES = 10
#: The chapter's target values: ``(low, high)`` = ("no", "yes") in one-hot rows.
CHAPTER_TARGETS = (0.01, 0.99)
_CHAPTER_FACTOR = 0.99 / 255  # the chapter multiplies by this precomputed factor


def chapter_scale(images: np.ndarray) -> np.ndarray:
    """Map pixels 0..255 to [0.01, 1.0] as the chapter does: ``x * (0.99 / 255) + 0.01``.

    Parameters
    ----------
    images : numpy.ndarray
        Pixels 0..255, any shape, e.g. (N, 784) uint8.

    Returns
    -------
    numpy.ndarray
        float64, same shape; bit-identical to the chapter's arrays.
    """
    out = np.multiply(images, _CHAPTER_FACTOR, dtype=np.float64)
    out += 0.01
    return out


def to_unit_interval(images: np.ndarray, dtype: Any = np.float32) -> np.ndarray:
    """Map pixels 0..255 to [0, 1] (``x / 255``) in a floating ``dtype`` (fast trainer).

    Parameters
    ----------
    images : numpy.ndarray
        Pixels 0..255, any shape.
    dtype : numpy dtype
        float32 (default) or float64.

    Returns
    -------
    numpy.ndarray
        Same shape, ``dtype``.
    """
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise ValueError(f"dtype must be a floating type, got {np.dtype(dtype)}")
    return np.divide(images, 255, dtype=dtype)


def one_hot(
    labels: np.ndarray,
    n_classes: int = N_CLASSES,
    *,
    low: float = CHAPTER_TARGETS[0],
    high: float = CHAPTER_TARGETS[1],
    dtype: Any = np.float64,
) -> np.ndarray:
    """Return one-hot targets: ``high`` at each sample's class, ``low`` elsewhere.

    Parameters
    ----------
    labels : numpy.ndarray
        Class numbers 0..n_classes-1, shape (N,) or a column (N, 1) (integers or integral
        floats).
    n_classes : int
        Number of classes (columns).
    low, high : float
        The "no" and "yes" values; the chapter uses 0.01 and 0.99.

    Returns
    -------
    numpy.ndarray
        Shape (N, n_classes), ``dtype``.

    Raises
    ------
    ValueError
        If the labels are not integral values in ``[0, n_classes)``.
    """
    classes = _class_numbers(labels, n_classes)
    out = np.full((len(classes), n_classes), low, dtype=dtype)
    out[np.arange(len(classes)), classes] = high
    return out


def labels_as_column(labels: np.ndarray) -> np.ndarray:
    """Return labels as the chapter keeps them: a float64 column of shape (N, 1)."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (N,), got {labels.shape}")
    return labels.astype(np.float64).reshape(-1, 1)


def _class_numbers(labels: np.ndarray, n_classes: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (N,) or (N, 1), got {labels.shape}")
    classes = labels.astype(np.int64)
    bad = (classes != labels) | (classes < 0) | (classes >= n_classes)
    if bad.any():
        value = labels[np.argmax(bad)].item()
        raise ValueError(f"label {value!r} is not a class number in [0, {n_classes})")
    return classes
