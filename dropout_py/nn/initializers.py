"""Initial weights: truncated normal draws with the chapter's two settings, and He's for ReLU.

The chapter draws weights with ``scipy.stats.truncnorm``. We sample the same distribution with
numpy alone (exact rejection sampling from a uniform proposal), so the package needs no scipy and
gives identical numbers natively and in Pyodide for the same seed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def truncated_normal(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    *,
    mean: float,
    sd: float,
    low: float,
    high: float,
) -> np.ndarray:
    """Draw from a normal distribution restricted to ``[low, high]``.

    Proposals are uniform on ``[low, high]``, each accepted with probability
    ``pdf(x) / max(pdf)`` over the interval, which gives exactly the truncated normal. Narrow
    intervals (the usual case for weights) accept almost every proposal.

    Parameters
    ----------
    rng : numpy.random.Generator
    shape : tuple of int
        Shape of the returned array.
    mean, sd : float
        Parameters of the normal distribution before truncation (``sd > 0``).
    low, high : float
        Finite bounds, ``low < high``.

    Returns
    -------
    numpy.ndarray of float64, shape ``shape``
    """
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(f"bounds must be finite with low < high, got low={low}, high={high}")
    if not sd > 0:
        raise ValueError(f"sd must be positive, got {sd}")
    size = int(np.prod(shape))
    peak = min(max(mean, low), high)  # where the density is largest inside [low, high]
    out = np.empty(size)
    filled = 0
    while filled < size:
        need = size - filled
        x = rng.uniform(low, high, size=2 * need + 16)
        accept = rng.random(x.size) < np.exp(((peak - mean) ** 2 - (x - mean) ** 2) / (2 * sd * sd))
        taken = x[accept][:need]
        out[filled : filled + taken.size] = taken
        filled += taken.size
    return out.reshape(shape)


def scaled_weights(rng: np.random.Generator, fan_out: int, fan_in: int) -> np.ndarray:
    """Mean 0, sd 1, truncated to ``+-1/sqrt(fan_in)``; shape (fan_out, fan_in).

    The choice of the tutorial's earlier chapters, and this package's default.
    """
    bound = 1 / np.sqrt(fan_in)
    return truncated_normal(rng, (fan_out, fan_in), mean=0.0, sd=1.0, low=-bound, high=bound)


def chapter_weights(rng: np.random.Generator, fan_out: int, fan_in: int) -> np.ndarray:
    """Mean 2, sd 1, truncated to ``[-0.5, 0.5]``: the dropout chapter's published draw.

    Kept to reproduce its numbers. The density rises about 7-fold from -0.5 to +0.5, so the
    weights average about +0.15 instead of 0, and the range ignores the fan-in: with 784 inputs
    the hidden sigmoids start deep in saturation. Training recovers, but less well.
    """
    return truncated_normal(rng, (fan_out, fan_in), mean=2.0, sd=1.0, low=-0.5, high=0.5)


def he_weights(rng: np.random.Generator, fan_out: int, fan_in: int) -> np.ndarray:
    """Normal with sd ``sqrt(2 / fan_in)`` (He et al. 2015), suited to ReLU layers."""
    return rng.normal(0.0, np.sqrt(2.0 / fan_in), size=(fan_out, fan_in))


INITIALIZERS: dict[str, Callable[[np.random.Generator, int, int], np.ndarray]] = {
    "scaled": scaled_weights,
    "chapter": chapter_weights,
    "he": he_weights,
}


def initial_weights(name: str, rng: np.random.Generator, fan_out: int, fan_in: int) -> np.ndarray:
    """Return a (fan_out, fan_in) float64 matrix from the initializer called ``name``."""
    try:
        init = INITIALIZERS[name]
    except KeyError:
        choices = ", ".join(repr(k) for k in INITIALIZERS)
        raise ValueError(f"init must be one of {choices}, got {name!r}") from None
    return init(rng, fan_out, fan_in)
