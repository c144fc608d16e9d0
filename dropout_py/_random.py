"""One place that turns a user's ``seed`` argument into a random generator.

Every public entry point of :mod:`dropout_py` that draws random numbers takes a ``seed`` (an
``int``, ``None`` or an existing :class:`numpy.random.Generator`) and resolves it here, so no code
in the package ever touches the global ``np.random`` or ``random`` state.
"""

from __future__ import annotations

import numbers

import numpy as np

SeedLike = int | np.random.Generator | None


def resolve_rng(seed: SeedLike) -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` for ``seed``.

    Parameters
    ----------
    seed : int, numpy.random.Generator or None
        An integer gives a reproducible generator, ``None`` a fresh unpredictable one, and a
        generator is returned as is (so callers can share one stream).

    Raises
    ------
    ValueError
        If ``seed`` is a negative integer or something else entirely.

    Examples
    --------
    >>> bool(resolve_rng(1).integers(10) == resolve_rng(1).integers(10))
    True
    """
    if isinstance(seed, np.random.Generator):
        return seed
    if seed is None:
        return np.random.default_rng()
    if isinstance(seed, numbers.Integral) and not isinstance(seed, bool):
        if seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed}")
        return np.random.default_rng(int(seed))
    raise ValueError(
        f"seed must be an int, None or a numpy.random.Generator, got {type(seed).__name__} {seed!r}"
    )
