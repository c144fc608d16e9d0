"""The sweep runner: a declared grid of settings × seeds, trained point by point into one file.

``dropout-py sweep GRID.toml`` reads a grid, skips the points its results file already holds,
trains the others (in parallel processes through joblib, or on a Dask cluster) and appends one
row per finished point to ``results/<name>.jsonl`` (see :mod:`dropout_py.run.results`). A grid file:

.. code-block:: toml

    name = "schemes-1k"        # optional; the results file is results/<name>.jsonl
    seeds = [1, 2, 3]          # every point runs once per seed
    subset = "full"            # optional: "full" (default) or "small"

    [settings]                 # the same for every point: RunSettings fields
    hidden = [200]
    epochs = 20
    train_size = 1000

    [vary]                     # optional: every combination of these lists
    batch_size = [20, 100]

    [[variant]]                # optional: named alternatives, each crossed with [vary]
    label = "no dropout"

    [[variant]]
    label = "dropout"
    keep_input = 0.8
    keep_hidden = 0.5

A grid is checked completely before anything runs: an unknown setting, a value of the wrong type
or out of range, a setting no point of the grid uses (``dtype`` for the tutorial engine,
``partitions`` with per-example masks), or an empty grid raises :class:`GridError` naming the
file, line and field. The checks are those of the command line
(:mod:`dropout_py.run.checks`); nothing is allocated to make them.

A point that diverges (its loss or weights become inf or nan) is recorded like any other, with
its history so far, ``final.diverged`` saying what happened and ``null`` for its scores. If its
results file cannot be written, rows go to a file in the cache's ``rescued`` folder instead
(:attr:`SweepOutcome.rescued`), so no finished point is lost.

Joblib and Dask are optional extras (``pip install dropout_py[sweep]`` / ``[cluster]``) and are
imported only when a sweep needs them; nothing here is used in the browser.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
import itertools
import json
import os
import re
import tomllib
import types
import typing
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from dropout_py.nn._threads import limit_blas_threads
from dropout_py.run.checks import SettingError, check_settings, unused_because
from dropout_py.run.experiment import RunSettings, run
from dropout_py.run.outputs import OutputWarning, rescue_path
from dropout_py.run.results import append_row, git_commit, machine, now, read_rows, run_row

SUBSETS = ("full", "small")
_TOP_KEYS = ("name", "seeds", "subset", "settings", "vary", "variant")
_NOT_SETTINGS = ("seed",)  # given by the grid's `seeds`


class GridError(ValueError):
    """A grid file that cannot run; the message names the file, the line and the field."""


@dataclass(frozen=True)
class Point:
    """One run of a grid: a variant label and complete settings (seed included)."""

    label: str
    settings: RunSettings
    key: str  # identifies the point in the results file (settings, seed and data subset)


@dataclass(frozen=True)
class Grid:
    """A checked grid file: its name, data subset and every point to run."""

    path: Path
    name: str
    subset: str
    points: tuple[Point, ...]

    def results_path(self, folder: str | os.PathLike[str]) -> Path:
        """The grid's results file in ``folder``."""
        return Path(folder) / f"{self.name}.jsonl"


# --- reading a grid ------------------------------------------------------------------------


def load_grid(path: str | os.PathLike[str]) -> Grid:
    """Read and check a grid file; raise :class:`GridError` before anything runs.

    Parameters
    ----------
    path : path-like
        A TOML file as described in the module docstring.

    Returns
    -------
    Grid
        Every point, in the order of the file: variants, then combinations of ``[vary]``, then
        seeds.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise GridError(f"{path}: cannot read the grid file ({exc.strerror})") from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise GridError(f"{path}: not valid TOML: {exc}") from None
    lines = _Lines(path, text)
    for key in doc:
        if key not in _TOP_KEYS:
            raise lines.error("", key, f"unknown key (a grid has {', '.join(_TOP_KEYS)})")
    name = doc.get("name", path.stem)
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise lines.error("", "name", f"expected letters, digits, '.', '_' or '-', got {name!r}")
    subset = doc.get("subset", "full")
    if subset not in SUBSETS:
        raise lines.error("", "subset", f"expected one of {', '.join(SUBSETS)}, got {subset!r}")
    seeds = _seeds(doc.get("seeds"), lines)
    fixed = _table(doc, "settings", lines)
    vary = _table(doc, "vary", lines)
    variants = doc.get("variant", [{}])
    if not isinstance(variants, list) or not all(isinstance(v, dict) for v in variants):
        raise lines.error("", "variant", "expected [[variant]] tables")
    hints = typing.get_type_hints(RunSettings)
    base = {k: _value(k, v, hints, lines, "settings") for k, v in fixed.items()}
    axes = {}
    for key, values in vary.items():
        if not isinstance(values, list):
            raise lines.error("vary", key, f"expected a list of values to try, got {values!r}")
        if not values:
            raise lines.error("vary", key, "the grid is empty: this list has no values")
        if key in base:
            raise lines.error("vary", key, "is also set in [settings]; keep it in one place")
        axes[key] = [_value(key, v, hints, lines, "vary") for v in values]
    points: list[Point] = []
    seen_labels: set[str] = set()
    labels_of: dict[str, str] = {}
    unused: dict[tuple[str, str], str | None] = {}  # (table, field) -> why no point used it
    for index, variant in enumerate(variants):
        where = f"variant.{index}"
        label = variant.get("label", "" if len(variants) == 1 else f"variant {index + 1}")
        if not isinstance(label, str):
            raise lines.error(where, "label", f"expected a string, got {label!r}")
        if label in seen_labels:
            raise lines.error(where, "label", f"{label!r} names two variants")
        seen_labels.add(label)
        own = {}
        for key, value in variant.items():
            if key == "label":
                continue
            if key in axes:
                raise lines.error(where, key, "is also varied in [vary]; keep it in one place")
            own[key] = _value(key, value, hints, lines, where)
        sources = {k: "settings" for k in base} | {k: where for k in own}
        for combination in itertools.product(*axes.values()):
            chosen = dict(zip(axes, combination, strict=True))
            fields = {**base, **own, **chosen}
            sources |= {k: "vary" for k in chosen}
            for seed in seeds:
                settings = _checked_settings(fields, seed, lines, sources, where)
                for field in fields:
                    given = (sources[field], field)
                    if unused.get(given, "") is not None:  # not yet known to be used
                        unused[given] = unused_because(settings, field)
                key = point_key(settings, subset)
                if key in labels_of:
                    other = labels_of[key]
                    raise lines.error(where, "label", f"runs the same settings as {other!r}")
                labels_of[key] = label
                points.append(Point(label, settings, key))
    for (table, field), reason in unused.items():
        if reason is not None:
            raise lines.error(table, field, f"{field} does not apply to {reason}")
    return Grid(path, name, subset, tuple(points))


# RunSettings fields added after results files existed (None = the behaviour from before).
_ADDED_LATER = ("mask", "scale")


def point_key(settings: RunSettings, subset: str) -> str:
    """A short stable identifier of a run: a digest of its settings, seed and data subset."""
    fields = dataclasses.asdict(settings)
    for name in _ADDED_LATER:  # left unset, they keep the keys of rows written before them
        if fields[name] is None:
            del fields[name]
    payload = json.dumps({"settings": fields, "subset": subset}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class _Lines:
    """Finds the line of a key in the grid text, for error messages (tomllib gives none)."""

    _HEADER = re.compile(r"^\s*\[(\[)?\s*([A-Za-z0-9_.-]+)\s*\]")

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text.splitlines()

    def line_of(self, table: str, key: str) -> int | None:
        """1-based line of ``key = ...`` in ``table`` ("" = top level, "variant.2" = third)."""
        name, _, index = table.partition(".")
        current, seen = "", dict[str, int]()
        for number, line in enumerate(self.text, start=1):
            header = self._HEADER.match(line)
            if header:
                current = header.group(2)
                seen[current] = seen.get(current, -1) + 1
                continue
            at = current if current != "variant" else f"variant.{seen['variant']}"
            if at == (f"{name}.{index}" if index else name) and re.match(
                rf"^\s*[\"']?{re.escape(key)}[\"']?\s*=", line
            ):
                return number
        if key == "" or not table:
            return None
        return self.line_of_table(table)

    def line_of_table(self, table: str) -> int | None:
        name, _, index = table.partition(".")
        count = -1
        for number, line in enumerate(self.text, start=1):
            header = self._HEADER.match(line)
            if header and header.group(2) == name:
                count += 1
                if not index or count == int(index):
                    return number
        return None

    def error(self, table: str, key: str, message: str) -> GridError:
        line = self.line_of(table, key)
        where = f"{self.path}:{line}" if line else str(self.path)
        field = ".".join(filter(None, (table.split(".")[0] if table else "", key)))
        return GridError(f"{where}: {field}: {message}")


def _seeds(seeds: object, lines: _Lines) -> list[int]:
    if seeds is None:
        raise GridError(f"{lines.path}: seeds: missing; add e.g. seeds = [1, 2, 3]")
    if not isinstance(seeds, list) or not all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in seeds
    ):
        raise lines.error("", "seeds", f"expected a list of whole numbers >= 0, got {seeds!r}")
    if not seeds:
        raise lines.error("", "seeds", "the grid is empty: seeds = [] has no seed to run")
    if len(set(seeds)) != len(seeds):
        raise lines.error("", "seeds", f"a seed appears twice in {seeds}")
    return seeds


def _table(doc: dict, name: str, lines: _Lines) -> dict:
    table = doc.get(name, {})
    if not isinstance(table, dict):
        raise lines.error("", name, f"expected a [{name}] table, got {table!r}")
    return table


def _value(key: str, value: object, hints: dict, lines: _Lines, table: str) -> object:
    """Check one setting's name and type; return it as RunSettings stores it."""
    if key in _NOT_SETTINGS:
        raise lines.error(table, key, "set seeds with `seeds = [...]` at the top of the grid")
    if key not in hints:
        known = [f.name for f in dataclasses.fields(RunSettings) if f.name not in _NOT_SETTINGS]
        close = difflib.get_close_matches(key, known, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else f" (known: {', '.join(known)})"
        raise lines.error(table, key, f"unknown setting{hint}")
    converted = _convert(value, hints[key])
    if converted is _BAD:
        raise lines.error(table, key, f"expected {_describe(hints[key])}, got {value!r}")
    return converted


_BAD = object()


def _convert(value: object, hint: object) -> object:
    """``value`` as type ``hint`` (int, float, str, tuple[int, ...] or X | None), or _BAD."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        for arg in (a for a in args if a is not type(None)):
            converted = _convert(value, arg)
            if converted is not _BAD:
                return converted
        return _BAD
    if origin is tuple:
        if not isinstance(value, list) or not value:
            return _BAD
        items = [_convert(v, args[0]) for v in value]
        return _BAD if any(i is _BAD for i in items) else tuple(items)
    if isinstance(value, bool):
        return _BAD
    if hint is int:
        return value if isinstance(value, int) else _BAD
    if hint is float:
        return float(value) if isinstance(value, int | float) else _BAD
    if hint is str:
        return value if isinstance(value, str) else _BAD
    return _BAD  # pragma: no cover - a RunSettings field of a type the grid cannot express


def _describe(hint: object) -> str:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(a) for a in args if a is not type(None))
    if origin is tuple:
        return f"a non-empty list of {_describe(args[0])}"
    names: dict[object, str] = {int: "a whole number", float: "a number", str: "a string"}
    return names.get(hint, str(hint))


def _checked_settings(
    fields: dict, seed: int, lines: _Lines, sources: dict[str, str], variant: str
) -> RunSettings:
    """The point's settings, checked (nothing allocated), so a bad value fails before any run."""
    settings = RunSettings(**fields, seed=seed)
    try:
        check_settings(settings)
    except SettingError as exc:
        raise lines.error(sources.get(exc.field, variant), exc.field, str(exc)) from None
    return settings


# --- running a grid ------------------------------------------------------------------------

Progress = Callable[[int, int, dict[str, Any] | None], None]


@dataclass
class SweepOutcome:
    """What :func:`run_sweep` did: the file, points already there and points run now.

    ``diverged`` counts the points run now whose training diverged (recorded all the same);
    ``rescued`` is where rows went when the results file could not be written (else None).
    """

    path: Path
    total: int
    skipped: int
    ran: int = 0
    diverged: int = 0
    rescued: Path | None = None


def pending(grid: Grid, results: str | os.PathLike[str]) -> list[Point]:
    """The grid's points without a row in its results file (duplicates of a point run once)."""
    done = {row.get("key") for row in read_rows(grid.results_path(results))}  # torn rows: not done
    todo, queued = [], set()
    for point in grid.points:
        if point.key not in done and point.key not in queued:
            todo.append(point)
            queued.add(point.key)
    return todo


def run_sweep(
    grid: Grid,
    *,
    results: str | os.PathLike[str] = "results",
    jobs: int = 1,
    scheduler: str | None = None,
    data_dir: str | os.PathLike[str] | None = None,
    progress: Progress | None = None,
) -> SweepOutcome:
    """Train every point of ``grid`` that its results file does not hold yet.

    Parameters
    ----------
    grid : Grid
    results : path-like
        Folder of the results file ``<grid name>.jsonl``.
    jobs : int
        Parallel worker processes on this machine (joblib); 1 runs in this process.
    scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``); the points then run on its workers
        (``jobs`` is ignored). The data is sent to the workers, so they need only the package.
    data_dir : path-like, optional
        Where MNIST is (as for :func:`~dropout_py.load_mnist`); loaded once, here.
    progress : callable, optional
        ``progress(done, total, row)`` after every finished point (``row`` None at the start).

    Returns
    -------
    SweepOutcome
        A row is appended as soon as its point finishes, so an interrupted sweep keeps every
        finished point; running it again runs only the rest.
    """
    from dropout_py.data.mnist import load_mnist

    if jobs < 1:
        raise ValueError(f"jobs must be at least 1, got {jobs}")
    path = grid.results_path(results)
    todo = pending(grid, results)
    outcome = SweepOutcome(path, len(grid.points), len(grid.points) - len(todo))
    if progress is not None:
        progress(0, len(todo), None)
    if not todo:
        return outcome
    data = load_mnist(
        subset=typing.cast(typing.Literal["full", "small"], grid.subset), data_dir=data_dir
    )
    commit = git_commit()
    labels = {point.key: point.label for point in todo}
    if scheduler:
        finished = _on_dask(scheduler, todo, data)
    elif jobs > 1:
        finished = _on_joblib(jobs, todo, data)
    else:
        finished = (measure_point(point, data) for point in todo)
    for key, measured in finished:
        row = {"grid": grid.name, "key": key, "label": labels[key], "subset": grid.subset}
        _append_or_rescue(outcome, {**row, **measured, "commit": commit})
        outcome.ran += 1
        outcome.diverged += "diverged" in measured["final"]
        if progress is not None:
            progress(outcome.ran, len(todo), measured)
    return outcome


def _append_or_rescue(outcome: SweepOutcome, row: dict[str, Any]) -> None:
    """Append ``row`` to the results file; if that fails, to a rescue file (and warn once)."""
    if outcome.rescued is None:
        try:
            append_row(outcome.path, row)
            return
        except OSError as exc:
            outcome.rescued = rescue_path(outcome.path.name)
            warnings.warn(
                f"cannot append to {outcome.path} ({exc.strerror or exc}); this and the next "
                f"rows go to {outcome.rescued}",
                OutputWarning,
                stacklevel=2,
            )
    append_row(outcome.rescued, row)


def measure_point(point: Point, data: Any) -> tuple[str, dict[str, Any]]:
    """Train one point (in whatever process runs it); return its key and measured row part.

    BLAS runs on one thread, so a point gives the same numbers to the last digit in this
    process, in a joblib worker or on a Dask worker (sums of many threads come in varying order).
    """
    with limit_blas_threads(1), np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        result = run(point.settings, data)  # a divergence is recorded in the row, not warned
    if result.stopped_early and result.diverged is None:  # Ctrl-C: never record half a point
        raise KeyboardInterrupt
    return point.key, {**run_row(result), "machine": machine(), "finished": now()}


def _on_joblib(jobs: int, todo: Sequence[Point], data: Any) -> Iterator[tuple[str, dict]]:
    try:
        from joblib import Parallel, delayed
    except ImportError:
        raise ImportError(
            "running points in parallel needs joblib: pip install 'dropout_py[sweep]'"
        ) from None
    parallel = Parallel(n_jobs=jobs, return_as="generator_unordered")
    yield from parallel(delayed(measure_point)(point, data) for point in todo)


def _on_dask(scheduler: str, todo: Sequence[Point], data: Any) -> Iterator[tuple[str, dict]]:
    try:
        from distributed import Client, as_completed
    except ImportError:
        raise ImportError(
            "running on a Dask cluster needs dask.distributed: pip install 'dropout_py[cluster]'"
        ) from None
    with Client(scheduler, set_as_default=False) as client:
        [shared] = client.scatter([data], broadcast=True)
        futures = [
            client.submit(measure_point, point, shared, key=f"dropout-py-{point.key}", pure=False)
            for point in todo
        ]
        try:
            for future in as_completed(futures, loop=client.loop):
                yield future.result()
        finally:
            client.cancel(futures)
