"""Train several settings of the fast trainer on the same data and draw their curves together.

:func:`compare_runs` is the loop the pages would otherwise repeat: one :class:`DropoutMLP` per
setting (and seed), trained epoch by epoch on the same data, each scored after every epoch, the
learning curves of all runs in one figure, redrawn while they train if asked to.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from dropout_py.figures import Figure, learning_curves
from dropout_py.nn.mlp import DropoutMLP
from dropout_py.run.progress import TrainingProgress

#: Most runs one figure can tell apart (a colour and a marker each).
MOST_RUNS = 8

History = list[dict[str, float]]
_display_ids = itertools.count(1)


@dataclass(frozen=True)
class Comparison:
    """What :func:`compare_runs` returns.

    Attributes
    ----------
    runs : dict of str to list of dict
        Each run's per-epoch records (``epoch``, ``train_loss``, ``test_accuracy``...), by name.
    models : dict of str to DropoutMLP
        The trained networks, by the same names.
    figure : Figure
        The learning curves of all runs.
    """

    runs: dict[str, History]
    models: dict[str, DropoutMLP]
    figure: Figure

    def final(self, key: str = "test_accuracy") -> dict[str, float]:
        """Return each run's value of ``key`` after its last epoch.

        Raises
        ------
        KeyError
            If a run's last record has no ``key``; the message lists the keys it has.
        """
        finals = {}
        for name, history in self.runs.items():
            last = history[-1]
            if key not in last:
                raise KeyError(f"run {name!r} has no {key!r}; its records have {sorted(last)}")
            finals[name] = last[key]
        return finals


def compare_runs(
    configs: Mapping[str, Mapping[str, Any]],
    train: tuple[np.ndarray, np.ndarray],
    test: tuple[np.ndarray, np.ndarray] | None = None,
    *,
    layers: Sequence[int] = (784, 100, 10),
    epochs: int = 10,
    seeds: int | Sequence[int] = 1,
    score_train: bool = True,
    metrics: Sequence[str] | str = ("accuracy", "loss"),
    mark_best: bool = False,
    title: str | None = None,
    show: Callable[..., object] | None = None,
    progress: bool = True,
    **options: Any,
) -> Comparison:
    """Train one :class:`DropoutMLP` per setting and seed; return the runs and their curves.

    Parameters
    ----------
    configs : mapping of str to mapping
        ``{"no dropout": {}, "dropout": {"keep_input": 0.8, "keep_hidden": 0.5}}``: a name and
        the :class:`DropoutMLP` options of each setting, on top of ``options``.
    train : (X, y)
        Training inputs, shape (n, layers[0]), and labels, shape (n,).
    test : (X, y), optional
        Scored after every epoch (``test_loss``, ``test_accuracy``).
    layers : sequence of int
        Layer sizes, the same for every run unless a setting gives ``layer_sizes``.
    epochs : int
    seeds : int or sequence of int
        One seed, or several: each setting then trains once per seed, named
        ``"<name>, seed <s>"``.
    score_train : bool
        Score the whole training set after every epoch (``train_loss``, ``train_accuracy``).
    metrics, mark_best, title
        Passed to :func:`~dropout_py.figures.learning_curves`. The default puts the loss beside
        the accuracy: overfitting shows as a test loss that turns up again.
    show : callable, optional
        A function with the signature of IPython's ``display`` (``display`` in Jupyter and in
        the site's cells). It is called after every epoch with the curves so far, a
        ``display_id`` and ``update``, so the figure is redrawn in place while the runs train.
    progress : bool
        Draw a progress line per run on stdout (see
        :class:`~dropout_py.run.progress.TrainingProgress`); with ``show`` it moves once per epoch,
        so it stays below the figure.
    **options
        :class:`DropoutMLP` options shared by all runs (``batch_size=20``...).

    Returns
    -------
    Comparison
        ``runs`` (the records), ``models`` (the trained networks) and ``figure``.

    Raises
    ------
    ValueError
        If there is no setting, more runs than a figure can tell apart (8), or ``seed`` among
        the options (use ``seeds``).
    TypeError
        If a setting has an option :class:`DropoutMLP` does not know; the message names it.

    Examples
    --------
    >>> X = np.random.default_rng(0).random((40, 4))
    >>> y = (X[:, 0] > 0.5).astype(int)
    >>> result = compare_runs(
    ...     {"plain": {}, "dropout": {"keep_hidden": 0.5}}, (X, y), layers=(4, 8, 2), epochs=3,
    ...     progress=False,
    ... )
    >>> [len(history) for history in result.runs.values()]
    [3, 3]
    >>> result.figure.kind
    'learning_curves'
    """
    plan = _plan(configs, seeds, options, layers)
    display_id = f"compare-runs-{next(_display_ids)}"
    runs: dict[str, History] = {}
    models: dict[str, DropoutMLP] = {}

    def curves() -> Figure:
        return learning_curves(runs, metrics=metrics, mark_best=mark_best, title=title)

    width = max(len(name) for name in plan)
    for name, settings in plan.items():
        try:
            model = DropoutMLP(**settings)
        except TypeError as error:
            raise TypeError(f"setting {name!r}: {error}") from error
        models[name], runs[name] = model, []
        bar = TrainingProgress(name.ljust(width)) if progress else None
        for event in model.fit_iter(
            *train, epochs=epochs, validation_data=test, score_train=score_train
        ):
            if event.kind == "epoch":
                runs[name].append(event.metrics)
                if show is not None:
                    first = len(runs) == 1 and len(runs[name]) == 1
                    show(curves(), display_id=display_id, update=not first)
            # With a live figure the bar moves once per epoch, below the figure; without one
            # it moves during epochs too.
            if bar is not None and (event.kind == "epoch" or show is None):
                bar(event)
    return Comparison(runs=runs, models=models, figure=curves())


def _plan(
    configs: Mapping[str, Mapping[str, Any]],
    seeds: int | Sequence[int],
    options: Mapping[str, Any],
    layers: Sequence[int],
) -> dict[str, dict[str, Any]]:
    """The :class:`DropoutMLP` keyword arguments of every run, by run name."""
    if "seed" in options:
        raise ValueError("give the seed as seeds=... (one seed or several), not seed=...")
    if not isinstance(configs, Mapping) or not configs:
        raise ValueError(
            f"configs must map names to options, like {{'dropout': {{}}}}; got {configs!r}"
        )
    seed_list = [seeds] if isinstance(seeds, int) else list(seeds)
    if not seed_list:
        raise ValueError("seeds is empty: give one seed or several")
    plan = {}
    for (name, config), seed in itertools.product(configs.items(), seed_list):
        if not isinstance(config, Mapping):
            raise ValueError(f"setting {name!r} must be a mapping of options, got {config!r}")
        if "seed" in config:
            raise ValueError(f"setting {name!r} has a seed; give seeds=... to compare_runs")
        run = f"{name}, seed {seed}" if len(seed_list) > 1 else str(name)
        plan[run] = {"layer_sizes": tuple(layers), **options, **config, "seed": seed}
    if len(plan) > MOST_RUNS:
        raise ValueError(
            f"{len(plan)} runs ({len(configs)} settings x {len(seed_list)} seeds); "
            f"one figure tells at most {MOST_RUNS} apart"
        )
    return plan
