"""A line chart of y against x for a few named series, on linear or logarithmic axes.

Made for measurements that are not per epoch: seconds per epoch against the hidden width or the
batch size, accuracy against a keep probability, test error against elapsed time. Each series is
a ``<path>`` with markers (colour and marker shape per series, as in the learning curves) on
every point, or on about a dozen of them for long series. The description lists every point of
a short series, so a reader who cannot see the chart still gets all the numbers, and the first,
last, lowest and highest point of a long one.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from . import _checks as checks
from . import _svg
from ._figure import Figure, finish, title_block
from ._svg import el, group, text
from .curves import _marker, _tick_text, nice_ticks

_WIDTH, _HEIGHT = 460.0, 230.0
_LISTED = 12  # a series with more points gets markers on about this many, and a summary
_MARGIN = {"left": 58.0, "right": 16.0, "top": 26.0, "bottom": 40.0}

Points = tuple[np.ndarray, np.ndarray]


def _series(series: object, log_x: bool, log_y: bool) -> dict[str, Points]:
    """``{name: (xs, ys)}`` as float arrays sorted by x; equal lengths, finite, > 0 on log axes."""
    if not isinstance(series, Mapping) or not series:
        raise ValueError(f"series must be a non-empty mapping name -> (xs, ys), got {series!r}")
    if len(series) > len(_svg.RUN_ROLES):
        raise ValueError(f"at most {len(_svg.RUN_ROLES)} series fit one chart, got {len(series)}")
    checked = {}
    for name, pair in series.items():
        xy = checks.sequence(pair, f"series {name!r}", "a pair (xs, ys)")
        if len(xy) != 2:
            raise ValueError(f"series {name!r} must be a pair (xs, ys), got {len(xy)} items")
        try:
            xs, ys = (np.asarray(v, dtype=float).ravel() for v in xy)
        except (TypeError, ValueError):
            raise ValueError(f"series {name!r} must hold numbers") from None
        if len(xs) != len(ys) or not len(xs):
            raise ValueError(
                f"series {name!r} needs as many x as y values (at least one), "
                f"got {len(xs)} and {len(ys)}"
            )
        if not (np.isfinite(xs).all() and np.isfinite(ys).all()):
            raise ValueError(f"series {name!r} must hold finite numbers only")
        for values, axis, log in ((xs, "x", log_x), (ys, "y", log_y)):
            if log and (values <= 0).any():
                raise ValueError(f"series {name!r}: a logarithmic {axis} axis needs values > 0")
        order = np.argsort(xs, kind="stable")
        checked[str(name)] = (xs[order], ys[order])
    return checked


def log_ticks(lo: float, hi: float) -> np.ndarray:
    """Ticks at 1, 2 and 5 times powers of ten covering ``[lo, hi]`` (both > 0), at least two.

    Examples
    --------
    >>> log_ticks(0.3, 4).tolist()
    [0.2, 0.5, 1.0, 2.0, 5.0]
    """
    candidates = [
        m * 10.0**p
        for p in range(math.floor(math.log10(lo)) - 1, math.ceil(math.log10(hi)) + 1)
        for m in (1, 2, 5)
    ]
    below = max(c for c in candidates if c <= lo * (1 + 1e-9))
    above = min(c for c in candidates if c >= hi * (1 - 1e-9))
    if above == below:  # one value: the axis still needs two ends
        above = min(c for c in candidates if c > below)
    return np.array([c for c in candidates if below <= c <= above])


def _scale(
    ticks: np.ndarray, log: bool, start: float, length: float, flip: bool
) -> Callable[[np.ndarray], np.ndarray]:
    """Data -> pixels along one axis whose ends are the first and last tick."""
    f: Callable[[np.ndarray], np.ndarray] = np.log10 if log else np.asarray
    lo, hi = float(f(ticks[0])), float(f(ticks[-1]))

    def to_pixels(values: np.ndarray) -> np.ndarray:
        share = (f(np.asarray(values, dtype=float)) - lo) / (hi - lo)
        return start + (1 - share) * length if flip else start + share * length

    return to_pixels


def _ticks(values: np.ndarray, log: bool, given: Sequence[float] | None) -> np.ndarray:
    """Tick values of one axis; the first and the last are its ends and cover every value."""
    if given is None:
        if log:
            return log_ticks(float(values.min()), float(values.max()))
        return nice_ticks(float(values.min()), float(values.max()), 5)
    ticks = np.unique(np.asarray(given, dtype=float))
    if len(ticks) < 2 or not np.isfinite(ticks).all() or (log and (ticks <= 0).any()):
        raise ValueError(
            f"x_ticks must hold at least two distinct finite values (> 0 on a log axis), "
            f"got {list(given)}"
        )
    return np.unique(np.concatenate([ticks, [min(ticks[0], values.min())],
                                     [max(ticks[-1], values.max())]]))  # fmt: skip


def _tick_labels(ticks: np.ndarray, log: bool) -> list[str]:
    """``0.2, 0.5, 1, 2`` on a log axis; the fewest decimals that tell the ticks apart else."""
    if log:
        return [f"{v:g}" for v in ticks]
    return _tick_text(ticks)


def _axes(
    box: tuple[float, float, float, float],
    xt: np.ndarray,
    yt: np.ndarray,
    sx: Callable[[np.ndarray], np.ndarray],
    sy: Callable[[np.ndarray], np.ndarray],
    labels: tuple[str, str],
    logs: tuple[bool, bool],
) -> list[str]:
    x0, y0, w, h = box
    n = _svg.num
    grid = "".join(f"M{n(x0)} {n(y)}h{n(w)}" for y in sy(yt)[1:])
    grid += "".join(f"M{n(x)} {n(y0)}v{n(h)}" for x in sx(xt)[1:])
    frame = f"M{n(x0)} {n(y0)}V{n(y0 + h)}H{n(x0 + w)}"
    ticks = [
        text(x0 - 6, y, t, dy=".35em", text_anchor="end")
        for y, t in zip(sy(yt), _tick_labels(yt, logs[1]), strict=True)
    ]
    ticks += [
        text(x, y0 + h + 15, t, text_anchor="middle")
        for x, t in zip(sx(xt), _tick_labels(xt, logs[0]), strict=True)
    ]
    return [
        el("path", d=grid, stroke="currentColor", stroke_opacity=".12", fill="none"),
        el("path", d=frame, stroke="currentColor", stroke_opacity=".6", fill="none"),
        group(ticks, font_size=10.5, class_="dpf-ticks"),
        text(x0 + w / 2, y0 + h + 33, labels[0], text_anchor="middle", class_="dpf-muted"),
        text(x0 - _MARGIN["left"] + 4, y0 - 12, labels[1], font_weight="600"),
    ]


def _line(xs: np.ndarray, ys: np.ndarray, k: int, name: str) -> str:
    role = _svg.RUN_ROLES[k]
    d = "M" + "L".join(f"{_svg.num(x)} {_svg.num(y)}" for x, y in zip(xs, ys, strict=True))
    step = max(1, -(-len(xs) // _LISTED))
    picked = zip(xs[::step], ys[::step], strict=True)
    marks = "".join(_marker(k, float(x), float(y)) for x, y in picked)
    pen = {"fill": "none", "stroke_width": "1.8", "stroke_linejoin": "round"}
    line = el("path", d=d, **pen, **_svg.paint(stroke=role))
    dots = el("path", d=marks, stroke_width="1.2", **_svg.paint(fill=role, stroke=role))
    return group([line, dots], class_="dpf-line", data_series=name, data_points=len(xs))


def _legend(names: list[str], x: float, y: float, width: float) -> tuple[list[str], float]:
    out, cx, cy = [], x, y
    for k, name in enumerate(names):
        role = _svg.RUN_ROLES[k]
        sample = el("path", d="M0 0h22", stroke_width="1.8", **_svg.paint(stroke=role))
        mark = el("path", d=_marker(k, 11, 0), **_svg.paint(fill=role, stroke=role))
        w = 30 + _svg.text_width(name)
        if cx + w > x + width and cx > x:
            cx, cy = x, cy + 20
        content = sample + mark + text(28, 0, name, dy=".35em")
        out.append(el("g", content, transform=f"translate({_svg.num(cx)} {_svg.num(cy)})"))
        cx += w + 18
    return [group(out, class_="dpf-legend")], cy - y + 20


def _describe(series: dict[str, Points], labels: tuple[str, str], logs: tuple[bool, bool]) -> str:
    scales = [
        f"{'logarithmic' if log else 'linear'} {axis}" for axis, log in zip("xy", logs, strict=True)
    ]
    parts = [
        f"{labels[1]} against {labels[0]} for {len(series)} series ({', '.join(series)}); "
        f"{' and '.join(scales)} axis."
    ]
    for name, (xs, ys) in series.items():
        if len(xs) <= _LISTED:
            points = ", ".join(f"{x:.4g}: {y:.4g}" for x, y in zip(xs, ys, strict=True))
            parts.append(f"{name}: {points}.")
            continue
        low, high = int(np.argmin(ys)), int(np.argmax(ys))
        parts.append(
            f"{name}: {len(xs)} points from {xs[0]:.4g}: {ys[0]:.4g} to {xs[-1]:.4g}: "
            f"{ys[-1]:.4g}; lowest {ys[low]:.4g} at {xs[low]:.4g}, highest {ys[high]:.4g} at "
            f"{xs[high]:.4g}."
        )
    return " ".join(parts)


def line_chart(
    series: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    x_label: str,
    y_label: str,
    log_x: bool = False,
    log_y: bool = False,
    x_ticks: Sequence[float] | None = None,
    title: str | None = None,
) -> Figure:
    """Draw y against x for each named series, points joined in order of x.

    Parameters
    ----------
    series : mapping of str to (xs, ys)
        ``{"fast float32": ([50, 100, 200], [0.2, 0.3, 0.5])}``; xs and ys of equal length.
        At most eight series.
    x_label, y_label : str
        What the axes measure, with units (``"hidden units"``, ``"seconds per epoch"``).
    log_x, log_y : bool
        Logarithmic axes (every value must then be positive); ticks at 1, 2, 5 times powers of
        ten unless ``x_ticks`` gives them.
    x_ticks : sequence of float, optional
        Tick values for the x axis (e.g. the measured widths 50, 100, ..., 1600).
    title : str, optional
        Shown above the chart.

    Returns
    -------
    Figure
        Its description lists every point of a series of up to twelve points, and the first,
        last, lowest and highest point of a longer one.

    Raises
    ------
    ValueError
        If ``series`` is empty or has more than eight entries, a series is not a pair of equally
        long number sequences, a value is not finite, or a value on a log axis is not positive.

    Examples
    --------
    >>> fig = line_chart({"a": ([1, 2, 4], [1.0, 1.5, 3.2])}, x_label="n", y_label="s", log_x=True)
    >>> fig.svg.count('class="dpf-line"')
    1
    """
    checked = _series(series, log_x, log_y)
    all_x = np.concatenate([xy[0] for xy in checked.values()])
    all_y = np.concatenate([xy[1] for xy in checked.values()])
    xt = _ticks(all_x, log_x, x_ticks)
    yt = _ticks(all_y, log_y, None)
    body, top = title_block(title, _WIDTH)
    m = _MARGIN
    box = (m["left"], top + m["top"], _WIDTH - m["left"] - m["right"], _HEIGHT)
    sx = _scale(xt, log_x, box[0], box[2], flip=False)
    sy = _scale(yt, log_y, box[1], box[3], flip=True)
    labels = (x_label, y_label)
    body += _axes(box, xt, yt, sx, sy, labels, (log_x, log_y))
    body += [_line(sx(xs), sy(ys), k, name) for k, (name, (xs, ys)) in enumerate(checked.items())]
    legend_y = box[1] + box[3] + m["bottom"] + 14
    legend, legend_h = _legend(list(checked), m["left"], legend_y, _WIDTH - m["left"])
    body += legend
    name = title or f"{y_label} against {x_label}"
    desc = _describe(checked, labels, (log_x, log_y))
    return finish(
        body, kind="line_chart", title=name, desc=desc, width=_WIDTH, height=legend_y + legend_h
    )
