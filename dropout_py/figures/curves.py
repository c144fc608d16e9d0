"""Learning curves: a panel per metric, train solid and test dashed, a colour and marker per run.

A history is a sequence of per-epoch mappings such as
``{"epoch": 3, "train_loss": 0.21, "test_loss": 0.25, "train_accuracy": 0.93, ...}``; a metric
``m`` reads the keys ``train_m`` and ``test_m``. Missing, ``None`` or non-finite values are
skipped (the line joins the points on either side). Each line is a single ``<path>`` with
coordinates rounded to 0.1 px, and markers (filled for train, hollow for test) sit on about ten
points per line, so a hundred epochs of four runs stay small.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import cast

import numpy as np

from . import _checks as checks
from . import _svg
from ._figure import Figure, finish, title_block
from ._svg import el, group, text

_SPLITS = (("train", None), ("test", "5 3"))
_MARKERS = 10
_PANEL_H = 210.0
_MARGIN = {"left": 50.0, "right": 14.0, "top": 26.0, "bottom": 38.0}

History = Sequence[Mapping[str, object]]
#: The lines of one panel: (run index, run name, split) -> (epochs, values), shapes (n,), (n,).
Series = dict[tuple[int, str, str], tuple[np.ndarray, np.ndarray]]


def _marker(shape: int, x: float, y: float) -> str:
    """Path commands for marker ``shape`` (0..7) centred on (x, y)."""
    n = _svg.num
    at = f"M{n(x)} {n(y)}"
    return [
        f"M{n(x - 3.2)} {n(y)}a3.2 3.2 0 1 0 6.4 0a3.2 3.2 0 1 0 -6.4 0",
        f"M{n(x - 3)} {n(y - 3)}h6v6h-6z",
        f"M{n(x)} {n(y - 3.8)}l3.6 6.3h-7.2z",
        f"M{n(x)} {n(y - 4)}l4 4l-4 4l-4 -4z",
        f"M{n(x)} {n(y + 3.8)}l3.6 -6.3h-7.2z",
        f"{at}m-4 0h8{at}m0 -4v8",
        f"{at}m-3 -3l6 6{at}m3 -3l-6 6",
        f"M{n(x - 3.6)} {n(y)}l1.8 -3.1h3.6l1.8 3.1l-1.8 3.1h-3.6z",
    ][shape]


# --- reading the arguments --------------------------------------------------------------------


def _runs(runs: object) -> dict[str, list[Mapping[str, object]]]:
    """``{name: history}`` with every history a list of per-epoch mappings."""
    one = "a sequence of per-epoch mappings"
    if isinstance(runs, Mapping):
        given = dict(runs)
    else:
        given = {"run": checks.sequence(runs, "runs", f"a mapping name -> history or {one}")}
    if not given:
        raise ValueError("runs is empty: give at least one history")
    if len(given) > len(_svg.RUN_ROLES):
        raise ValueError(f"at most {len(_svg.RUN_ROLES)} runs fit one figure, got {len(given)}")
    named = {str(name): checks.sequence(h, f"run {name!r}", one) for name, h in given.items()}
    for name, history in named.items():
        for k, entry in enumerate(history):
            if not isinstance(entry, Mapping):
                raise ValueError(
                    f"entry {k} of run {name!r} must be a mapping like {{'epoch': 1, "
                    f"'train_loss': 0.3}}, got {type(entry).__name__}"
                )
    return cast(dict[str, list[Mapping[str, object]]], named)


def _metrics(metrics: Sequence[str] | str) -> tuple[str, ...]:
    names = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    if not names or not all(isinstance(m, str) and m for m in names):
        raise ValueError(f"metrics must be one or more names like 'loss', got {metrics!r}")
    return names


def _series(
    history: list[Mapping[str, object]], key: str, x_key: str = "epoch"
) -> tuple[np.ndarray, np.ndarray]:
    """Positions (``x_key``, epochs by default) and finite values of one key."""
    xs, ys = [], []
    for k, entry in enumerate(history):
        value = entry.get(key)
        if value is None:
            continue
        try:
            y = float(value)  # type: ignore[arg-type]
            x = float(entry.get(x_key, k + 1))  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise ValueError(
                f"{key!r} and {x_key!r} must be numbers, got {value!r} in {x_key} entry {k}"
            ) from None
        if math.isfinite(y) and math.isfinite(x):
            xs.append(x)
            ys.append(y)
    return np.asarray(xs), np.asarray(ys)


# --- scales ----------------------------------------------------------------------------------


def nice_ticks(lo: float, hi: float, count: int = 5, integer: bool = False) -> np.ndarray:
    """Round tick values (1, 2 or 5 times a power of ten) covering ``[lo, hi]``.

    Parameters
    ----------
    lo, hi : float
        The data range.
    count : int
        About how many ticks.
    integer : bool
        Use whole-number steps only (epochs).

    Returns
    -------
    numpy.ndarray, shape (k,)
        Ascending ticks; the first is <= ``lo`` and the last >= ``hi``.

    Examples
    --------
    >>> nice_ticks(0.12, 0.97).tolist()
    [0.0, 0.25, 0.5, 0.75, 1.0]
    """
    if hi <= lo:
        pad = abs(lo) * 0.1 or 1.0
        lo, hi = lo - pad, hi + pad
    raw = (hi - lo) / max(count - 1, 1)
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    if integer:
        step = max(1.0, round(step))
    start, stop = math.floor(lo / step + 1e-9), math.ceil(hi / step - 1e-9)
    return np.round(np.arange(start, stop + 1) * step, 12)


def _tick_text(values: np.ndarray) -> list[str]:
    """Tick labels with the fewest decimals that still tell every tick exactly."""
    decimals = next(
        (d for d in range(7) if np.allclose(np.round(values, d), values, rtol=0, atol=1e-9)), 6
    )
    return [f"{v:.{decimals}f}".replace("-", "\u2212") for v in values]


# --- drawing ---------------------------------------------------------------------------------


def _points(xs: np.ndarray, ys: np.ndarray) -> str:
    return "M" + "L".join(f"{x:.1f} {y:.1f}" for x, y in zip(xs.tolist(), ys.tolist(), strict=True))


def _axes(
    box: tuple[float, float, float, float],
    xt: np.ndarray,
    yt: np.ndarray,
    metric: str,
    x_key: str = "epoch",
) -> tuple[list[str], Callable[[np.ndarray], np.ndarray], Callable[[np.ndarray], np.ndarray]]:
    """Grid, axes, tick labels and titles of one panel; returns elements and the two scales."""
    x0, y0, w, h = box

    def sx(v: np.ndarray) -> np.ndarray:
        return x0 + (v - xt[0]) / (xt[-1] - xt[0]) * w

    def sy(v: np.ndarray) -> np.ndarray:
        return y0 + h - (v - yt[0]) / (yt[-1] - yt[0]) * h

    n = _svg.num
    grid = "".join(f"M{n(x0)} {n(y)}h{n(w)}" for y in sy(yt)[1:])
    frame = f"M{n(x0)} {n(y0)}V{n(y0 + h)}H{n(x0 + w)}"
    out = [
        el("path", d=grid, stroke="currentColor", stroke_opacity=".12", fill="none"),
        el("path", d=frame, stroke="currentColor", stroke_opacity=".6", fill="none"),
    ]
    ticks = [
        text(x0 - 6, y, t, dy=".35em", text_anchor="end")
        for y, t in zip(sy(yt), _tick_text(yt), strict=True)
    ]
    ticks += [
        text(x, y0 + h + 15, t, text_anchor="middle")
        for x, t in zip(sx(xt), _tick_text(xt), strict=True)
    ]
    out.append(group(ticks, font_size=10.5, class_="dpf-ticks"))
    out.append(text(x0 + w / 2, y0 + h + 32, x_key, text_anchor="middle", class_="dpf-muted"))
    out.append(text(x0, y0 - 10, metric, font_weight="600"))
    return out, sx, sy


def _line(xs: np.ndarray, ys: np.ndarray, run: int, name: str, split: str, metric: str) -> str:
    dash = dict(_SPLITS)[split]
    role = _svg.RUN_ROLES[run]
    n = len(xs)
    step = max(1, n // _MARKERS)
    offset = (run * step) // len(_svg.RUN_ROLES) if n > _MARKERS else 0
    picked = zip(xs[offset::step].tolist(), ys[offset::step].tolist(), strict=True)
    shapes = "".join(_marker(run, x, y) for x, y in picked)
    if split == "test":
        marker_paint = {**_svg.paint(stroke=role), "fill": "none"}
    else:
        marker_paint = _svg.paint(fill=role, stroke=role)
    pen = {"fill": "none", "stroke_width": "1.8", "stroke_dasharray": dash}
    line = el("path", d=_points(xs, ys), **pen, stroke_linejoin="round", **_svg.paint(stroke=role))
    marks = el("path", d=shapes, stroke_width="1.2", **marker_paint)
    data = {"data_run": name, "data_split": split, "data_metric": metric, "data_points": n}
    return group([line, marks], class_="dpf-line", **data)


def _collect(
    runs: dict[str, list[Mapping[str, object]]], metrics: tuple[str, ...], x_key: str = "epoch"
) -> dict[str, Series]:
    """``{metric: {(run index, run name, split): (epochs, values)}}``, non-empty series only.

    Metrics without any value are left out.
    """
    panels: dict[str, Series] = {}
    for metric in metrics:
        series = {
            (k, name, split): _series(history, f"{split}_{metric}", x_key)
            for k, (name, history) in enumerate(runs.items())
            for split, _ in _SPLITS
        }
        series = {key: xy for key, xy in series.items() if len(xy[0])}
        if series:
            panels[metric] = series
    return panels


def _lower_is_better(metric: str) -> bool:
    return "loss" in metric or "error" in metric


def _best(metric: str, ys: np.ndarray) -> int:
    """Index of the best value: the lowest loss or error, the highest of anything else."""
    return int(np.argmin(ys) if _lower_is_better(metric) else np.argmax(ys))


def _best_mark(x: float, y: float, bottom: float, run: int, name: str, metric: str) -> str:
    """A ring on the best test point and a dotted line down to the epoch axis."""
    paint = _svg.paint(stroke=_svg.RUN_ROLES[run], cls="dpf-best")
    drop = f"M{_svg.num(x)} {_svg.num(y + 5.5)}V{_svg.num(bottom)}"
    parts = [el("circle", cx=x, cy=y, r=5.5), el("path", d=drop, stroke_dasharray="1.5 2.5")]
    return group(parts, fill="none", stroke_width="1.5", **paint, data_run=name, data_metric=metric)


def _panel(
    metric: str,
    series: Series,
    box: tuple[float, float, float, float],
    mark_best: bool,
    x_key: str = "epoch",
) -> list[str]:
    all_x = np.concatenate([xy[0] for xy in series.values()])
    all_y = np.concatenate([xy[1] for xy in series.values()])
    xt = nice_ticks(all_x.min(), all_x.max(), 6, integer=x_key == "epoch")
    yt = nice_ticks(all_y.min(), all_y.max(), 5)
    out, sx, sy = _axes(box, xt, yt, metric, x_key)
    for (k, name, split), (xs, ys) in series.items():
        out.append(_line(sx(xs), sy(ys), k, name, split, metric))
    if mark_best:
        for (k, name, split), (xs, ys) in series.items():
            if split == "test":
                b = _best(metric, ys)
                x, y = float(sx(xs[b])), float(sy(ys[b]))
                out.append(_best_mark(x, y, box[1] + box[3], k, name, metric))
    return [group(out, class_="dpf-panel", data_metric=metric)]


def _legend(
    names: list[str],
    splits: set[str],
    best: bool,
    x: float,
    y: float,
    width: float,
    x_key: str = "epoch",
) -> tuple[list[str], float]:
    """Run swatches (colour + marker), the line styles drawn and the best-epoch mark, wrapped."""
    items: list[tuple[float, str]] = []
    for k, name in enumerate(names):
        role = _svg.RUN_ROLES[k]
        sample = el("path", d="M0 0h22", stroke_width="1.8", **_svg.paint(stroke=role))
        marker_paint = _svg.paint(fill=role, stroke=role)
        mark = el("path", d=_marker(k, 11, 0), stroke_width="1.2", **marker_paint)
        items.append((30 + _svg.text_width(name), sample + mark + text(28, 0, name, dy=".35em")))
    for split, dash in _SPLITS:
        if split not in splits:
            continue
        pen = {"stroke": "currentColor", "stroke_width": "1.8", "stroke_dasharray": dash}
        label = f"{split} ({'solid' if dash is None else 'dashed'})"
        sample = el("path", d="M0 0h22", **pen)
        items.append((30 + _svg.text_width(label), sample + text(28, 0, label, dy=".35em")))
    if best:
        label = f"best test {x_key} (ring)"
        ring = el("circle", cx=11, cy=0, r=5.5, fill="none", stroke="currentColor")
        items.append((30 + _svg.text_width(label), ring + text(28, 0, label, dy=".35em")))
    out, cx, cy = [], x, y
    for w, content in items:
        if cx + w > x + width and cx > x:
            cx, cy = x, cy + 20
        out.append(el("g", content, transform=f"translate({_svg.num(cx)} {_svg.num(cy)})"))
        cx += w + 18
    return [group(out, class_="dpf-legend")], cy - y + 20


def _g(value: float) -> str:
    return f"{value:.4g}"


def _describe(
    runs: dict[str, list[Mapping[str, object]]],
    panels: dict[str, Series],
    splits: set[str],
    x_key: str = "epoch",
) -> str:
    """Runs, panels, line styles, and per run each line's first and last value and best epoch."""
    count = max(len(h) for h in runs.values())
    span = f"{count} epochs" if x_key == "epoch" else f"{count} values of {x_key}"
    styles = " and ".join(
        f"{split} {'solid' if dash is None else 'dashed'}"
        for split, dash in _SPLITS
        if split in splits
    )
    parts = [
        f"Learning curves of {len(runs)} run(s) ({', '.join(runs)}) over up to {span}; "
        f"one panel per metric ({', '.join(panels)}); {styles}."
    ]
    for k, name in enumerate(runs):
        facts = []
        for metric, series in panels.items():
            for split, _ in _SPLITS:
                if (k, name, split) not in series:
                    continue
                xs, ys = series[(k, name, split)]
                facts.append(f"{split} {metric} {_g(ys[0])} to {_g(ys[-1])}")
                b = _best(metric, ys)
                if split == "test" and ys[b] != ys[-1]:
                    word = "lowest" if _lower_is_better(metric) else "highest"
                    facts[-1] += f" ({word} {_g(ys[b])} at {x_key} {_g(xs[b])})"
        parts.append(f"{name}: {'; '.join(facts) or 'no values'}.")
    return " ".join(parts)


def learning_curves(
    runs: Mapping[str, History] | History,
    *,
    metrics: Sequence[str] | str = ("loss", "accuracy"),
    title: str | None = None,
    mark_best: bool = False,
    x: str = "epoch",
) -> Figure:
    """Draw loss and accuracy per epoch for one or several training runs.

    Panels sit side by side, one per metric: ``metrics=("accuracy", "loss")`` puts the train
    and test loss beside the accuracy, where overfitting shows as a test loss that turns up
    again while the train loss keeps falling (``mark_best`` rings the turning point).

    Parameters
    ----------
    runs : mapping of str to history, or one history
        ``{"no dropout": history, "dropout 0.7": history}``; a history is a sequence of
        per-epoch mappings with ``"epoch"`` and any of ``train_<metric>``, ``test_<metric>``.
        A single history is drawn as the run ``"run"``. At most eight runs.
    metrics : sequence of str or str
        One panel per metric that has at least one value; others are left out.
    title : str, optional
        Shown above the panels.
    mark_best : bool
        Ring each run's best test value in every panel (the lowest of a metric whose name
        contains ``loss`` or ``error``, the highest of any other) with a dotted line down to
        its epoch.
    x : str
        The entry key along the horizontal axis, and its label: ``"epoch"`` by default, or any
        other number the entries carry, e.g. ``x="keep probability"`` to draw the final train
        and test accuracy of a sweep against the setting it varied (one entry per value).

    Returns
    -------
    Figure
        The description names, per run and line, the first and last value and, where the test
        line ends worse than its best, the best value and its epoch.

    Raises
    ------
    ValueError
        If ``runs`` has the wrong structure, more than eight runs, a value that is not a
        number, or no value at all for the requested metrics.

    Examples
    --------
    >>> history = [{"epoch": e, "train_loss": 1 / e, "test_loss": 1.2 / e} for e in (1, 2, 3)]
    >>> learning_curves({"baseline": history}).svg.count('class="dpf-line"')
    2
    """
    checked = _runs(runs)
    wanted = _metrics(metrics)
    if not isinstance(x, str) or not x:
        raise ValueError(f"x must be the name of an entry key, like 'epoch', got {x!r}")
    panels = _collect(checked, wanted, x)
    if not panels:
        keys = ", ".join(f"{s}_{m}" for m in wanted for s, _ in _SPLITS)
        raise ValueError(f"no values to plot: no epoch entry has any of {keys}")
    splits = {split for series in panels.values() for _, _, split in series}
    width = 700.0 if len(panels) > 1 else 460.0
    panel_w = width / len(panels)
    body, top = title_block(title, width)
    m = _MARGIN
    for p, (metric, series) in enumerate(panels.items()):
        box = (p * panel_w + m["left"], top + m["top"], panel_w - m["left"] - m["right"], _PANEL_H)
        body += _panel(metric, series, box, mark_best, x)
    legend_y = top + m["top"] + _PANEL_H + m["bottom"] + 16
    best = mark_best and "test" in splits
    legend, legend_h = _legend(list(checked), splits, best, m["left"], legend_y, width - 60, x)
    body += legend
    height = legend_y + legend_h
    name = title or f"Learning curves: {', '.join(panels)} per {x}"
    desc = _describe(checked, panels, splits, x)
    return finish(body, kind="learning_curves", title=name, desc=desc, width=width, height=height)
