"""Argument checks shared by every figure: each returns the clean value or raises ``ValueError``.

Messages name the argument, the value found and what was expected, so a reader can fix the call.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable, Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def sequence(values: object, name: str, what: str) -> list[object]:
    """Return ``values`` as a list; any iterable but a string will do (``what`` names it)."""
    if isinstance(values, str | bytes) or not isinstance(values, Iterable):
        raise ValueError(f"{name} must be {what}, got {values!r}")
    return list(values)


def count(value: object, name: str, *, most: int | None = None) -> int:
    """Return ``value`` as an int in ``1..most`` (no upper bound when ``most`` is ``None``)."""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        number = int(value)
        if number >= 1 and (most is None or number <= most):
            return number
    span = "a positive integer" if most is None else f"an integer from 1 to {most}"
    raise ValueError(f"{name} must be {span}, got {value!r}")


def indices(values: object, n: int, name: str) -> list[int]:
    """Return distinct indices in ``range(n)``, in the order given.

    Parameters
    ----------
    values : iterable of int
        Python or NumPy integers (a NumPy array of any shape is read flat).
    n : int
        Length of the axis the indices point into.
    name : str
        The argument's name, for the message.

    Returns
    -------
    list of int
    """
    items = sequence(values, name, "a sequence of integer indices")
    result: list[int] = []
    for value in np.asarray(items, dtype=object).ravel():
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Integral):
            raise ValueError(f"{name} must hold integer indices, got {value!r}")
        index = int(value)
        if not 0 <= index < n:
            raise ValueError(f"{name} contains {index}, but only 0..{n - 1} exist")
        result.append(index)
    if len(set(result)) != len(result):
        twice = next(i for k, i in enumerate(result) if i in result[:k])
        raise ValueError(f"{name} contains {twice} twice")
    return result


def texts(values: Sequence[object] | None, n: int, name: str, per: str) -> list[str]:
    """Return one text per item (``"0" .. "n-1"`` by default); ``per`` names an item."""
    if values is None:
        return [str(i) for i in range(n)]
    result = [str(value) for value in values]
    if len(result) != n:
        raise ValueError(f"{name} must have {n} entries (one per {per}), got {len(result)}")
    return result


def matrix(value: object, name: str) -> np.ndarray:
    """Return ``value`` as a non-empty 2-D float array of finite numbers, shape (rows, cols)."""
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be a 2-D array of numbers, got {type(value).__name__}"
        ) from None
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(f"{name} must be a non-empty 2-D array, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold finite numbers only (found NaN or inf)")
    return array


def choice(value: object, options: tuple[T, ...], name: str) -> T:
    """Return the option equal to ``value`` (``True`` is not ``1``)."""
    for option in options:
        if type(value) is type(option) and value == option:
            return option
    *head, last = (repr(option) for option in options)
    raise ValueError(f"{name} must be {', '.join(head)} or {last}, got {value!r}")


def classes(values: object, n: int, name: str, per: str) -> np.ndarray | None:
    """Return whole class numbers, one per item, shape (n,); a column (n, 1) is read flat."""
    if values is None:
        return None
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] == 1:
        array = array[:, 0]
    if array.ndim != 1 or len(array) != n:
        raise ValueError(f"{name} must have one entry per {per} ({n}), got shape {array.shape}")
    if array.dtype.kind not in "iuf" or np.any(array != np.round(array)):
        raise ValueError(f"{name} must hold whole class numbers")
    return array.astype(np.int64)
