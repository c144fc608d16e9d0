"""Checking a run's settings before any work: every value, and every setting that would go unused.

The command line and the sweep's grid files both describe runs as
:class:`~dropout_py.run.experiment.RunSettings`; both check them here, once, before any data
loads or any array is allocated. A problem is a :class:`SettingError` naming the setting the way
its author wrote it: ``name`` turns a field into that name (``"keep_hidden"`` →
``"--keep-hidden"`` for the command line; grid files use the field names as they are).

The engines check their constructor arguments too (for the Python API); these checks use the same
rules, and a test holds both to the same verdicts.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from dropout_py.nn import _validation as check
from dropout_py.nn.activations import ACTIVATIONS
from dropout_py.nn.initializers import INITIALIZERS
from dropout_py.nn.losses import LOSSES
from dropout_py.nn.mlp import DROPOUT_SCHEMES, MASKS, SCALES, dropout_mode
from dropout_py.nn.thinning import check_keep_fraction
from dropout_py.nn.tutorial import BACKPROP_RULES

if TYPE_CHECKING:
    from dropout_py.run.experiment import RunSettings

ENGINES = ("fast", "tutorial")
DTYPES = ("float32", "float64")
MNIST_TRAIN_IMAGES = 60_000
#: Settings only one engine reads; the other engine leaves them unused.
FAST_ONLY = (
    "activation",
    "loss",
    "batch_size",
    "momentum",
    "lr_decay",
    "max_norm",
    "dropout",
    "mask",
    "scale",
    "dtype",
)
TUTORIAL_ONLY = ("bias", "backprop")

Namer = Callable[[str], str]


class SettingError(ValueError):
    """A setting a run cannot use; ``field`` is the :class:`RunSettings` field it concerns."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def check_settings(settings: RunSettings, *, name: Namer = str) -> None:
    """Raise :class:`SettingError` for the first value the engines cannot run.

    Parameters
    ----------
    settings : RunSettings
    name : callable, optional
        ``name(field)`` is how the message names a field (default: the field name itself).
    """
    for field, rule in _RULES.items():
        try:
            rule(settings, name(field))
        except SettingError:
            raise
        except ValueError as exc:
            raise SettingError(field, str(exc)) from None


def unused_settings(settings: RunSettings, given: Iterable[str], *, name: Namer = str) -> None:
    """Raise :class:`SettingError` if a field in ``given`` does nothing in this run.

    A tutorial-engine run reads no fast-engine field (``dtype``, ``batch_size``...) and the other
    way round; the fast engine reads ``partitions`` only with ``mask="partition"``.
    """
    for field in given:
        reason = unused_because(settings, field)
        if reason:
            raise SettingError(field, f"{name(field)} does not apply to {reason}")


def unused_because(settings: RunSettings, field: str) -> str | None:
    """Why ``field`` does nothing in a run with ``settings`` (None: the run uses it)."""
    if settings.engine == "tutorial" and field in FAST_ONLY:
        return "the tutorial engine"
    if settings.engine == "fast" and field in TUTORIAL_ONLY:
        return "the fast engine"
    if settings.engine == "fast" and field == "partitions":
        mask, _ = dropout_mode(settings.dropout, settings.mask, settings.scale)
        if mask == "example":
            return "per-example masks (it counts the thinned networks of mask 'partition')"
    return None


# --- the rules, one per field ------------------------------------------------------------


def _engine(s: RunSettings, name: str) -> None:
    check.choice(s.engine, name, ENGINES)


def _hidden(s: RunSettings, name: str) -> None:
    sizes = s.hidden
    if (
        not isinstance(sizes, tuple | list)
        or not sizes
        or any(isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1 for n in sizes)
    ):
        raise ValueError(f"{name} must be one or more positive whole numbers, got {_show(sizes)}")
    if s.engine == "tutorial" and len(sizes) != 1:
        raise ValueError(
            f"{name}: the tutorial engine has exactly one hidden layer, got {_show(sizes)}"
        )


def _epochs(s: RunSettings, name: str) -> None:
    check.positive_int(s.epochs, name)


def _learning_rate(s: RunSettings, name: str) -> None:
    check.positive_float(s.learning_rate, name)


def _keep_input(s: RunSettings, name: str) -> None:
    check_keep_fraction(s.keep_input, name)


def _keep_hidden(s: RunSettings, name: str) -> None:
    check_keep_fraction(s.keep_hidden, name)


def _init(s: RunSettings, name: str) -> None:
    check.choice(s.init, name, ("auto", *INITIALIZERS))


def _seed(s: RunSettings, name: str) -> None:
    seed = s.seed
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise ValueError(f"{name} must be a whole number >= 0, got {seed!r}")


def _train_size(s: RunSettings, name: str) -> None:
    n = s.train_size
    if n is None:
        return
    whole = isinstance(n, numbers.Integral) and not isinstance(n, bool)
    if not whole or not 1 <= n <= MNIST_TRAIN_IMAGES:
        raise ValueError(f"{name} must be between 1 and {MNIST_TRAIN_IMAGES}, got {n!r}")


def _partitions(s: RunSettings, name: str) -> None:
    check.positive_int(s.partitions, name)


def _bias(s: RunSettings, name: str) -> None:
    bias = s.bias
    if bias is not None and (
        isinstance(bias, bool) or not isinstance(bias, numbers.Real) or not math.isfinite(bias)
    ):
        raise ValueError(f"{name} must be a finite number, got {bias!r}")


def _backprop(s: RunSettings, name: str) -> None:
    check.choice(s.backprop, name, BACKPROP_RULES)


def _activation(s: RunSettings, name: str) -> None:
    check.choice(s.activation, name, tuple(ACTIVATIONS))


def _loss(s: RunSettings, name: str) -> None:
    check.choice(s.loss, name, tuple(LOSSES))


def _batch_size(s: RunSettings, name: str) -> None:
    check.positive_int(s.batch_size, name)


def _in_range(value: object, name: str, low: float, high: float, interval: str) -> None:
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if ok and interval == "[)":
        ok = low <= value < high  # type: ignore[operator]
    elif ok:
        ok = low < value <= high  # type: ignore[operator]
    if not ok:
        brackets = f"[{low}, {high})" if interval == "[)" else f"({low}, {high}]"
        raise ValueError(f"{name} must be in {brackets}, got {value!r}")


def _momentum(s: RunSettings, name: str) -> None:
    _in_range(s.momentum, name, 0, 1, "[)")


def _lr_decay(s: RunSettings, name: str) -> None:
    _in_range(s.lr_decay, name, 0, 1, "(]")


def _max_norm(s: RunSettings, name: str) -> None:
    if s.max_norm is not None:
        check.positive_float(s.max_norm, name)


def _dropout(s: RunSettings, name: str) -> None:
    check.choice(s.dropout, name, tuple(DROPOUT_SCHEMES))


def _mask(s: RunSettings, name: str) -> None:
    if s.mask is not None:
        check.choice(s.mask, name, MASKS)


def _scale(s: RunSettings, name: str) -> None:
    if s.scale is not None:
        check.choice(s.scale, name, SCALES)


def _dtype(s: RunSettings, name: str) -> None:
    check.choice(s.dtype, name, DTYPES)


def _show(value: object) -> str:
    if isinstance(value, tuple | list):
        return " ".join(map(repr, value)) if value else "none"
    return repr(value)


_RULES: dict[str, Callable[[RunSettings, str], None]] = {
    "engine": _engine,
    "hidden": _hidden,
    "epochs": _epochs,
    "learning_rate": _learning_rate,
    "keep_input": _keep_input,
    "keep_hidden": _keep_hidden,
    "init": _init,
    "seed": _seed,
    "train_size": _train_size,
    "partitions": _partitions,
    "bias": _bias,
    "backprop": _backprop,
    "activation": _activation,
    "loss": _loss,
    "batch_size": _batch_size,
    "momentum": _momentum,
    "lr_decay": _lr_decay,
    "max_norm": _max_norm,
    "dropout": _dropout,
    "mask": _mask,
    "scale": _scale,
    "dtype": _dtype,
}
