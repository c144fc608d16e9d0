"""Argument checks shared by the engines; each error names the argument and the bad value."""

from __future__ import annotations

import math
import numbers

import numpy as np


def positive_int(value: object, name: str) -> int:
    """Return ``value`` as an int if it is a whole number >= 1."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def positive_float(value: object, name: str) -> float:
    """Return ``value`` as a float if it is a finite number > 0."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return float(value)


def choice(value: object, name: str, options: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``options``."""
    if value not in options:
        allowed = ", ".join(repr(o) for o in options)
        raise ValueError(f"{name} must be one of {allowed}, got {value!r}")
    return str(value)


def matrix(value: object, name: str, columns: int, dtype: type | None = None) -> np.ndarray:
    """Return ``value`` as a 2-d array with ``columns`` columns and at least one row."""
    array = np.asarray(value, dtype=dtype)
    if array.ndim != 2 or array.shape[1] != columns or array.shape[0] < 1:
        raise ValueError(f"{name} must have shape (n, {columns}) with n >= 1, got {array.shape}")
    return array
