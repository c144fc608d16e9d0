"""Confusion matrices: counts in cells, rows = true label, columns = predicted label.

Correct predictions (the diagonal) are blue with a bold outline and bold numbers; mistakes are
orange. Each group is shaded on its own scale (the diagonal by its largest count, the mistakes
by theirs), so a handful of confusions stays visible next to a thousand hits. Empty cells stay
blank. Cells are ``<rect class="dpf-cell">`` (``dpf-cell dpf-diag`` on the diagonal) with
``data-true``, ``data-pred`` and ``data-count``.
"""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from . import _checks as checks
from . import _svg
from ._figure import Figure, finish, listing, title_block
from ._svg import el, group, text

_MAX_CLASSES = 50


def _from_dict(cm: Mapping[object, object]) -> np.ndarray:
    """The chapter's ``{(target, predicted): count}`` as a square array."""
    pairs = []
    for key, count in cm.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise ValueError(f"confusion dict keys must be (true, predicted) pairs, got {key!r}")
        labels = []
        for value in key:
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(f"confusion dict key {key!r} must hold class numbers")
            number = float(value)
            if not number.is_integer() or number < 0:
                raise ValueError(
                    f"confusion dict key {key!r} must hold non-negative whole class numbers"
                )
            labels.append(int(number))
        pairs.append((labels[0], labels[1], count))
    if not pairs:
        raise ValueError("the confusion dict is empty")
    k = max(max(t, p) for t, p, _ in pairs) + 1
    array = np.zeros((k, k), dtype=object)
    for t, p, count in pairs:
        array[t, p] = count
    return array


def _counts(cm: object) -> np.ndarray:
    """The confusion counts as an int array, shape (K, K)."""
    array = checks.matrix(_from_dict(cm) if isinstance(cm, Mapping) else cm, "cm")
    if array.shape[0] != array.shape[1]:
        raise ValueError(f"cm must be square (K, K), got shape {array.shape}")
    if array.shape[0] > _MAX_CLASSES:
        raise ValueError(f"cm has {array.shape[0]} classes; at most {_MAX_CLASSES} fit a figure")
    if np.any(array < 0) or np.any(array != np.round(array)):
        raise ValueError("cm must hold non-negative whole counts")
    return array.astype(np.int64)


def _shades(counts: np.ndarray, normalize: bool) -> tuple[np.ndarray, np.ndarray]:
    """Values to print and fill opacities (diagonal and mistakes on separate scales)."""
    values = counts.astype(float)
    if normalize:
        totals = values.sum(axis=1, keepdims=True)
        values = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)
    diag = np.eye(len(values), dtype=bool)
    opacity = np.zeros_like(values)
    for part in (diag, ~diag):
        top = values[part].max(initial=0.0)
        if top > 0:
            opacity[part] = 0.1 + 0.45 * values[part] / top
    opacity[values == 0] = 0.0
    return values, opacity


def _cell_text(value: float, normalize: bool) -> str:
    if value == 0:
        return ""
    return f"{value:.2f}" if normalize else f"{value:.0f}"


def _cells(
    values: np.ndarray,
    opacity: np.ndarray,
    counts: np.ndarray,
    normalize: bool,
    x0: float,
    y0: float,
    size: float,
) -> list[str]:
    k = len(values)
    rects: dict[str, list[str]] = {"good": [], "bad": []}
    labels = []
    font = min(12.0, max(7.0, size * (0.3 if normalize else 0.32)))
    for i in range(k):
        for j in range(k):
            diag = i == j
            x, y = x0 + j * size, y0 + i * size
            cls = "dpf-cell dpf-diag" if diag else "dpf-cell"
            box = {"x": x, "y": y, "width": size, "height": size}
            data = {"data_true": i, "data_pred": j, "data_count": int(counts[i, j])}
            shade = f"{opacity[i, j]:.2f}"
            rects["good" if diag else "bad"].append(
                el("rect", class_=cls, **box, fill_opacity=shade, **data)
            )
            label = _cell_text(values[i, j], normalize)
            if label:
                bold = "700" if diag else None
                labels.append(text(x + size / 2, y + size / 2, label, dy=".35em", font_weight=bold))
    outline = "".join(
        f"M{_svg.num(x0 + i * size + 1)} {_svg.num(y0 + i * size + 1)}h{_svg.num(size - 2)}"
        f"v{_svg.num(size - 2)}h{_svg.num(2 - size)}z"
        for i in range(k)
    )
    grid = {"stroke": "currentColor", "stroke_opacity": ".15"}
    pen = {"fill": "none", "stroke": "currentColor", "stroke_width": "1.6", "stroke_opacity": ".8"}
    return [
        *(group(rects[role], **grid, **_svg.paint(fill=role)) for role in ("good", "bad")),
        el("path", d=outline, **pen, class_="dpf-diag-outline"),
        group(labels, text_anchor="middle", font_size=font, class_="dpf-values"),
    ]


def _axes(labels: list[str], x0: float, y0: float, size: float) -> list[str]:
    k = len(labels)
    side = k * size
    out = [text(x0 + (j + 0.5) * size, y0 - 6, labels[j], text_anchor="middle") for j in range(k)]
    out += [
        text(x0 - 6, y0 + (i + 0.5) * size, labels[i], dy=".35em", text_anchor="end")
        for i in range(k)
    ]
    out.append(
        text(x0 + side / 2, y0 - 24, "predicted label", text_anchor="middle", font_weight="600")
    )
    tx, ty = x0 - 36, y0 + side / 2
    turn = f"rotate(-90 {_svg.num(tx)} {_svg.num(ty)})"
    out.append(text(tx, ty, "true label", text_anchor="middle", font_weight="600", transform=turn))
    return [group(out, class_="dpf-axes")]


def _legend(x: float, y: float, normalize: bool) -> list[str]:
    what = "fraction of the row" if normalize else "count"

    def swatch(dy: float, role: str, **edge: str) -> str:
        box = {"x": x, "y": y + dy, "width": 14, "height": 14, "fill_opacity": ".6"}
        return el("rect", **box, stroke="currentColor", **edge, **_svg.paint(fill=role))

    items = [
        swatch(0, "good", stroke_width="1.6"),
        text(x + 20, y + 7, f"correct (diagonal, bold): {what}", dy=".35em"),
        swatch(20, "bad", stroke_opacity=".15"),
        text(x + 20, y + 27, f"mistakes: {what}; each group shaded on its own scale", dy=".35em"),
    ]
    return [group(items, font_size=10.5, class_="dpf-legend")]


def _describe(counts: np.ndarray, names: list[str], most: int = 5) -> str:
    """Totals, each class's hits, and the most frequent mistakes."""
    k, total, correct = len(counts), int(counts.sum()), int(np.trace(counts))
    accuracy = correct / total if total else 0.0
    hits = listing(
        (f"{name}: {counts[i, i]} of {counts[i].sum()}" for i, name in enumerate(names)), 20
    )
    mistakes = sorted(
        ((-int(counts[i, j]), i, j) for i in range(k) for j in range(k) if i != j and counts[i, j]),
    )[:most]
    worst = "; ".join(
        f"{names[i]} predicted as {names[j]}, {'once' if c == -1 else f'{-c} times'}"
        for c, i, j in mistakes
    )
    return (
        f"Confusion matrix of {total} predictions over {k} classes (rows true, columns "
        f"predicted): {correct} correct, accuracy {accuracy:.4f}. Correct per class: {hits}."
        + (f" Most frequent mistakes: {worst}." if worst else " No mistakes.")
    )


def confusion_matrix(
    cm: np.ndarray | Mapping[tuple[int, int], int],
    *,
    labels: Sequence[object] | None = None,
    title: str | None = None,
    normalize: bool = False,
) -> Figure:
    """Draw a confusion matrix with counts, shading and a distinct diagonal.

    Parameters
    ----------
    cm : array_like of int, shape (K, K), or dict
        Rows are true labels, columns predicted labels; or the chapter's
        ``{(target, predicted): count}`` (K is then the largest label + 1, or ``len(labels)``).
    labels : sequence, length K, optional
        Class names; ``0 .. K-1`` by default.
    title : str, optional
        Shown above the matrix.
    normalize : bool
        Print and shade each row's fractions instead of counts.

    Returns
    -------
    Figure

    Raises
    ------
    ValueError
        If ``cm`` is not square, holds negative or fractional counts, or ``labels`` has the
        wrong length.
    """
    counts = _counts(cm)
    k = len(counts)
    if labels is not None and isinstance(cm, Mapping) and len(labels) > k:
        counts = np.pad(counts, (0, len(labels) - k))
        k = len(counts)
    names = checks.texts(labels, k, "labels", "class")
    values, opacity = _shades(counts, normalize)
    size = float(min(48.0, max(16.0, 460.0 / k)))
    label_w = max(_svg.text_width(name) for name in names) + 12
    x0 = 46 + label_w
    side = k * size
    width = max(x0 + side + 20, 400.0)
    body, top = title_block(title, width)
    y0 = top + 38
    height = y0 + side + 16 + 40
    body += _axes(names, x0, y0, size)
    body += _cells(values, opacity, counts, normalize, x0, y0, size)
    body += _legend(x0 - label_w - 30, y0 + side + 14, normalize)
    name = title or f"Confusion matrix, {k} classes"
    desc = _describe(counts, names)
    return finish(body, kind="confusion_matrix", title=name, desc=desc, width=width, height=height)
