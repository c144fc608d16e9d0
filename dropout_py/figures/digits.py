"""A grid of digit images with their true and predicted labels; wrong predictions stand out.

Each image is a small grayscale PNG embedded as a data URI (dark ink on a light tile, scaled up
with crisp pixels), far lighter than one ``<rect>`` per pixel. A wrong prediction gets a thick
dashed frame, a corner flag and the caption ``true → predicted``; correct ones show the label
alone. Every tile is a ``<g class="dpf-digit">`` with ``data-index``, ``data-label``,
``data-prediction`` and ``data-wrong``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from . import _checks as checks
from . import _svg
from ._figure import Figure, finish, listing, note, title_block
from ._png import pixel_digest, png_data_uri
from ._svg import el, group, text

_CELL = 66.0
_IMAGE = 56.0
_ROW = 80.0


def _check_images(images: object) -> np.ndarray:
    """Images as uint8 ink levels, shape (N, H, W)."""
    array = np.asarray(images)
    if array.ndim == 2:
        side = math.isqrt(array.shape[1])
        if side * side != array.shape[1] or side == 0:
            raise ValueError(
                f"images of shape (N, P) need P = side * side pixels (784 for MNIST), "
                f"got shape {array.shape}"
            )
        array = array.reshape(len(array), side, side)
    if array.ndim != 3 or 0 in array.shape:
        raise ValueError(f"images must have shape (N, 784) or (N, H, W), got {array.shape}")
    if array.dtype == np.uint8:
        return array
    if array.dtype.kind not in "iuf":
        raise ValueError(f"images must be numbers, got dtype {array.dtype}")
    values = array.astype(float)
    if not np.all(np.isfinite(values)) or values.min() < 0:
        raise ValueError("images must be uint8 0..255 or floats in [0, 1]")
    if values.max() <= 1.0:
        return np.round(values * 255).astype(np.uint8)
    if array.dtype.kind in "iu" and values.max() <= 255:
        return array.astype(np.uint8)
    raise ValueError(
        f"float images must lie in [0, 1], got values up to {values.max():g} "
        "(divide by 255, or pass uint8)"
    )


def _tile(
    k: int, image: np.ndarray, x: float, y: float, label: int | None, prediction: int | None
) -> str:
    wrong = label is not None and prediction is not None and label != prediction
    ix, iy = x + (_CELL - _IMAGE) / 2, y + 4
    ink = 255 - image  # dark ink on a light tile
    box = {"x": ix, "y": iy, "width": _IMAGE, "height": _IMAGE}
    png = {"href": png_data_uri(ink), "data_pixels": pixel_digest(ink)}
    parts = [
        el("image", **box, preserveAspectRatio="none", **png),
        el("rect", **box, fill="none", stroke="currentColor", stroke_opacity=".15"),
    ]
    if wrong:
        frame = {"x": ix - 3, "y": iy - 3, "width": _IMAGE + 6, "height": _IMAGE + 6}
        dashes = {"fill": "none", "stroke_width": "2.5", "stroke_dasharray": "5 2.5"}
        parts.append(el("rect", **frame, **dashes, **_svg.paint(stroke="bad")))
        flag = f"M{_svg.num(ix + _IMAGE + 3)} {_svg.num(iy - 3)}h-14l14 14z"
        parts.append(el("path", d=flag, **_svg.paint(fill="bad")))
    if label is not None or prediction is not None:
        if wrong:
            caption = f"{label} \u2192 {prediction}"
        else:
            caption = str(label if label is not None else prediction)
        bold = "700" if wrong else None
        parts.append(
            text(x + _CELL / 2, iy + _IMAGE + 16, caption, text_anchor="middle", font_weight=bold)
        )
    return group(
        parts,
        class_="dpf-digit dpf-wrong" if wrong else "dpf-digit",
        data_index=k,
        data_label=label,
        data_prediction=prediction,
        data_wrong=int(wrong),
    )


def _legend_lines(labels: bool, predictions: bool) -> list[str]:
    if labels and predictions:
        return [
            "caption: the true label",
            "wrong prediction: dashed frame, corner flag, true \u2192 predicted",
        ]
    if labels:
        return ["caption: the true label"]
    if predictions:
        return ["caption: the predicted label"]
    return []


def _describe(
    shown: int, n: int, columns: int, true: np.ndarray | None, pred: np.ndarray | None
) -> str:
    """How many images, their labels, and every wrong prediction (image number, true, predicted)."""
    parts = [f"{shown} of {n} images in a grid of {columns} columns."]
    labels, what = (true, "True") if true is not None else (pred, "Predicted")
    if labels is not None:
        parts.append(f"{what} labels in reading order: {listing(labels[:shown].tolist(), 30)}.")
    if true is not None and pred is not None:
        wrong = np.flatnonzero(true[:shown] != pred[:shown])
        each = (f"image {k + 1}: true {true[k]}, predicted {pred[k]}" for k in wrong)
        cases = listing(each, 20, "; ")
        parts.append(
            f"{len(wrong)} wrong predictions highlighted" + (f": {cases}." if cases else ".")
        )
    return " ".join(parts)


def digit_grid(
    images: np.ndarray,
    labels: Sequence[int] | np.ndarray | None = None,
    predictions: Sequence[int] | np.ndarray | None = None,
    *,
    columns: int = 10,
    limit: int = 100,
    title: str | None = None,
) -> Figure:
    """Draw digit images in a grid, captioned with true and predicted labels.

    Parameters
    ----------
    images : array_like, shape (N, 784) or (N, H, W)
        uint8 ink levels 0..255 or floats in [0, 1] (the chapter's scaled pixels fit too).
    labels, predictions : array_like of int, shape (N,) or (N, 1), optional
        True and predicted classes; where both are given and differ, the tile is highlighted.
    columns : int
        Tiles per row.
    limit : int
        Draw at most this many images (the first ones).
    title : str, optional
        Shown above the grid.

    Returns
    -------
    Figure

    Raises
    ------
    ValueError
        For images of another shape or range, label arrays of the wrong length, or a
        non-positive ``columns`` or ``limit``.
    """
    pixels = _check_images(images)
    n = len(pixels)
    true = checks.classes(labels, n, "labels", "image")
    pred = checks.classes(predictions, n, "predictions", "image")
    columns = checks.count(columns, "columns")
    shown = min(n, checks.count(limit, "limit"))
    columns = min(columns, shown)
    rows = -(-shown // columns)
    notes = _legend_lines(true is not None, pred is not None)
    widest = max((_svg.text_width(line, 10.5) for line in notes), default=0.0)
    width = max(columns * _CELL + 12, widest + 16, 200.0)
    x0 = (width - columns * _CELL) / 2
    body, top = title_block(title, width)
    tiles = []
    for k in range(shown):
        x, y = x0 + (k % columns) * _CELL, top + (k // columns) * _ROW
        label = None if true is None else int(true[k])
        prediction = None if pred is None else int(pred[k])
        tiles.append(_tile(k, pixels[k], x, y, label, prediction))
    body.append(group(tiles, class_="dpf-digits"))
    legend_y = top + rows * _ROW + 8
    note_x = min(x0, width - widest - 8)
    for k, line in enumerate(notes):
        body.append(note(note_x, legend_y + 14 * k, line))
    height = legend_y + 14 * len(notes) + 2
    name = title or f"{shown} digit images"
    desc = _describe(shown, n, columns, true, pred)
    return finish(body, kind="digit_grid", title=name, desc=desc, width=width, height=height)
