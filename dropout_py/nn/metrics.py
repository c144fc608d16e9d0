"""Scoring a classifier: accuracy, the confusion matrix, and an :class:`Evaluation` record."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def confusion_counts(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """Count every (true, predicted) pair.

    Parameters
    ----------
    true, predicted : array of int, shape (n,)
        Class indices in ``[0, n_classes)``.
    n_classes : int

    Returns
    -------
    numpy.ndarray of int, shape (n_classes, n_classes)
        Row = true class, column = predicted class.
    """
    # np.intp, not int64: bincount only takes the platform's index type (32 bits in Pyodide)
    true = np.asarray(true).astype(np.intp).ravel()
    predicted = np.asarray(predicted).astype(np.intp).ravel()
    if true.shape != predicted.shape:
        raise ValueError(f"{true.size} true labels but {predicted.size} predictions")
    flat = np.bincount(true * n_classes + predicted, minlength=n_classes * n_classes)
    return flat.reshape(n_classes, n_classes)


@dataclass(frozen=True)
class Evaluation:
    """How a model did on one data set.

    Attributes
    ----------
    accuracy : float
        Fraction of correctly classified samples.
    loss : float
        Mean loss per sample (the model's own loss function).
    confusion : numpy.ndarray, shape (k, k)
        Counts, row = true class, column = predicted class.
    """

    accuracy: float
    loss: float
    confusion: np.ndarray

    @property
    def n_samples(self) -> int:
        """Number of samples evaluated."""
        return int(self.confusion.sum())

    def __repr__(self) -> str:
        return (
            f"Evaluation(accuracy={self.accuracy:.4f}, loss={self.loss:.4f}, "
            f"n_samples={self.n_samples})"
        )
