"""Sweep rows summed up over seeds: mean ± std, mean learning curves, what beats a baseline.

A sweep (:mod:`dropout_py.run.sweep`) writes one row per grid point and seed. The pages ask
questions of many rows at once: what is the mean test accuracy of a variant over its seeds, and
how far does it spread; what does its learning curve look like on average; is it better than no
dropout by more than the seeds' spread. The answers are here, as plain functions of rows, so the
build-time hooks, the tests and a reader's notebook compute them the same way.

Examples
--------
>>> rows = [
...     {"label": "a", "seed": s, "final": {"test_accuracy": v}}
...     for s, v in ((1, 0.90), (2, 0.92), (3, 0.91))
... ]
>>> spread(finals(rows))
Spread(mean=0.91, std=0.01, n=3)
>>> f"{spread(finals(rows)):.3f}"
'0.910 ± 0.010'
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

Row = Mapping[str, Any]


@dataclass(frozen=True)
class Spread:
    """Mean and sample standard deviation of ``n`` values (one per seed).

    Formatting with a float format gives ``"mean ± std"``: ``f"{s:.3f}"`` is ``"0.910 ± 0.010"``.
    """

    mean: float
    std: float
    n: int

    def __format__(self, spec: str) -> str:
        if not spec:
            return repr(self)
        return f"{format(self.mean, spec)} ± {format(self.std, spec)}"

    def __repr__(self) -> str:
        return f"Spread(mean={self.mean:.4g}, std={self.std:.4g}, n={self.n})"


def spread(values: Iterable[float]) -> Spread:
    """Mean and sample standard deviation (n - 1 in the denominator) of at least two values.

    Raises
    ------
    ValueError
        If fewer than two values are given (one value has no spread).
    """
    data = [float(v) for v in values]
    if len(data) < 2:
        raise ValueError(f"a spread needs at least two values (seeds), got {len(data)}")
    return Spread(statistics.mean(data), statistics.stdev(data), len(data))


def field(row: Row, path: str) -> Any:
    """The value at a dotted ``path`` of a row: ``field(row, "settings.train_size")``.

    Raises
    ------
    KeyError
        If a part of the path is missing; the message names the path.
    """
    value: Any = row
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            raise KeyError(f"row has no {path!r}")
        value = value[part]
    return value


def select(rows: Iterable[Row], **where: Any) -> list[Row]:
    """The rows whose fields equal ``where``, sorted by seed.

    ``settings__train_size=1000`` reads the dotted path ``settings.train_size``; lists compare
    equal to tuples (``settings__hidden=(800,)``).
    """

    def matches(row: Row) -> bool:
        for key, wanted in where.items():
            try:
                value = field(row, key.replace("__", "."))
            except KeyError:
                return False
            if isinstance(value, list):
                value = tuple(value)
            if isinstance(wanted, list):
                wanted = tuple(wanted)
            if value != wanted:
                return False
        return True

    return sorted((r for r in rows if matches(r)), key=lambda r: r.get("seed", 0))


def finals(rows: Iterable[Row], key: str = "test_accuracy") -> list[float]:
    """The final value of ``key`` of each row, in the rows' order."""
    return [float(field(r, f"final.{key}")) for r in rows]


def mean_history(
    rows: Sequence[Row], keys: Sequence[str] = ("train_accuracy", "test_accuracy")
) -> list[dict[str, float]]:
    """The per-epoch mean over rows (seeds) of each of ``keys``: a mean learning curve.

    Parameters
    ----------
    rows : sequence of row
        Rows of the same setting, each with a ``history`` of the same number of epochs.
    keys : sequence of str
        The history fields to average.

    Returns
    -------
    list of dict
        One ``{"epoch": e, key: mean, ...}`` per epoch, as
        :func:`~dropout_py.figures.learning_curves` draws it.

    Raises
    ------
    ValueError
        If there are no rows, or their histories differ in length.
    """
    if not rows:
        raise ValueError("no rows to average")
    lengths = {len(r["history"]) for r in rows}
    if len(lengths) != 1:
        raise ValueError(f"the rows' histories differ in length: {sorted(lengths)} epochs")
    curve = []
    for epoch, records in enumerate(zip(*(r["history"] for r in rows), strict=True), start=1):
        point = {"epoch": float(epoch)}
        for key in keys:
            point[key] = statistics.mean(float(record[key]) for record in records)
        curve.append(point)
    return curve


def margin(candidate: Spread, baseline: Spread) -> float:
    """How many standard deviations ``candidate``'s mean lies above ``baseline``'s.

    The gap between the means is divided by the larger of the two standard deviations (the
    seed-to-seed spread a reader sees in a table of mean ± std); ``inf`` or ``-inf`` when both
    spreads are zero and the means differ.
    """
    gap = candidate.mean - baseline.mean
    scale = max(candidate.std, baseline.std)
    if scale == 0:
        return 0.0 if gap == 0 else math.copysign(math.inf, gap)
    return gap / scale


def beats(candidate: Spread, baseline: Spread, sigmas: float = 2.0) -> bool:
    """Whether ``candidate`` is above ``baseline`` by more than ``sigmas`` standard deviations.

    The larger of the two spreads counts, as in :func:`margin`.

    Examples
    --------
    >>> beats(Spread(0.90, 0.004, 5), Spread(0.88, 0.005, 5))
    True
    >>> beats(Spread(0.89, 0.006, 5), Spread(0.88, 0.005, 5))
    False
    """
    return margin(candidate, baseline) > sigmas


def by(rows: Iterable[Row], *paths: str) -> dict[tuple[Any, ...], list[Row]]:
    """Group rows by the values at dotted ``paths`` (lists become tuples), each group by seed."""
    groups: dict[tuple[Any, ...], list[Row]] = {}
    for row in rows:
        values = tuple(_hashable(field(row, p)) for p in paths)
        groups.setdefault(values, []).append(row)
    return {k: sorted(v, key=lambda r: r.get("seed", 0)) for k, v in groups.items()}


def _hashable(value: Any) -> Any:
    return tuple(value) if isinstance(value, list) else value
