"""Weight matrices as heat maps, and the chapter's slicing steps made visible.

A cell's colour says the sign (orange positive, blue negative: a pair colour-blind readers can
tell apart) and its strength the magnitude. The sign never depends on colour alone: small
matrices print the numbers, larger ones hatch the negative cells. Removed rows and columns are
cross-hatched and struck through. Matrices with more than 1600 cells are drawn as one embedded
PNG (one pixel per cell) instead of one ``<rect>`` per cell.

Cells are ``<rect class="dpf-cell">`` (``dpf-cell dpf-removed`` when their row or column is
removed), removed rows/columns carry an overlay ``<rect class="dpf-strike">`` with ``data-row`` or
``data-col``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from . import _checks as checks
from . import _svg
from ._figure import Figure, finish, listing, note, title_block
from ._png import pixel_digest, png_data_uri
from ._svg import el, group, text, uid, url

_VALUES: tuple[str | bool, ...] = ("auto", True, False)
_MAX_RECTS = 1600
_MAX_WIDTH = 700.0
_MONO = "ui-monospace, SFMono-Regular, Menlo, Consolas, monospace"
_LEGEND_H = 12 + 28 + 6.0
_VALUE_SIZE = 11.0
_LABEL_SIZE = 10.5
_DESCRIBED_CELLS = 60  # matrices this small list their numbers in the description
_NICE_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)


# --- layout ----------------------------------------------------------------------------------


def _format_values(matrix: np.ndarray) -> list[list[str]]:
    """Numbers as printed in the cells: integers as such, else 1-3 decimals by magnitude."""
    vmax = float(np.max(np.abs(matrix)))
    if np.all(matrix == np.round(matrix)) and vmax < 1e6:
        decimals = 0
    else:
        decimals = 3 if vmax < 1 else 2 if vmax < 10 else 1 if vmax < 100 else 0
    fmt = f"{{:.{decimals}f}}"
    return [[fmt.format(v).replace("-", "\u2212") for v in row] for row in matrix.tolist()]


def _label_step(cell: float, needed: float) -> int:
    return next((s for s in _NICE_STEPS if s * cell >= needed), _NICE_STEPS[-1])


@dataclass(frozen=True)
class _Grid:
    """Size and placement of one heat map: label column/row, then the cells."""

    rows: int
    cols: int
    cell_w: float
    cell_h: float
    label_w: float
    label_h: float
    values: list[list[str]] | None
    row_step: int
    col_step: int

    @property
    def width(self) -> float:
        return self.label_w + self.cols * self.cell_w

    @property
    def height(self) -> float:
        return self.label_h + self.rows * self.cell_h

    def cells_box(self, x: float, y: float) -> dict[str, float]:
        """Position and size of the cells (labels excluded) when the grid is drawn at (x, y)."""
        w, h = self.cols * self.cell_w, self.rows * self.cell_h
        return {"x": x + self.label_w, "y": y + self.label_h, "width": w, "height": h}


def _grid(
    shape: tuple[int, int],
    values: list[list[str]] | None,
    row_labels: list[str],
    col_labels: list[str],
    cell: tuple[float, float],
) -> _Grid:
    rows, cols = shape
    if values is not None:
        widest = max(len(v) for row in values for v in row)
        cell_w, cell_h = max(26.0, _svg.text_width("0" * widest, _VALUE_SIZE) + 10), 22.0
    else:
        cell_w, cell_h = cell
    col_need = max(_svg.text_width(label, _LABEL_SIZE) for label in col_labels) + 6
    row_step = _label_step(cell_h, _LABEL_SIZE + 2)
    col_step = _label_step(cell_w, col_need)
    shown = row_labels[::row_step]
    label_w = max(_svg.text_width(label, _LABEL_SIZE) for label in shown) + 10
    return _Grid(rows, cols, cell_w, cell_h, label_w, 18.0, values, row_step, col_step)


def _pick_cell(shapes: list[tuple[int, int]], free_width: float) -> tuple[float, float]:
    """Cell width and height so that all ``shapes`` side by side fit ``free_width``.

    Cells are square up to 26 px; very wide matrices get cells taller than wide, so the
    picture keeps a readable height.
    """
    total_cols = sum(c for _, c in shapes)
    most_rows = max(r for r, _ in shapes)
    width = max(0.5, min(26.0, free_width / total_cols, 380.0 / most_rows))
    height = min(26.0, max(width, 240.0 / most_rows))
    return float(width), float(height)


def _cell_texts(
    values: str | bool, matrices: list[np.ndarray], free: float
) -> list[list[list[str]]] | None:
    """The printed numbers of every matrix, or ``None`` when numbers are not shown.

    ``"auto"`` shows them for at most 400 cells in all, and only if the columns fit ``free``.
    """
    if values is False or (values == "auto" and sum(m.size for m in matrices) > 400):
        return None
    texts = [_format_values(m) for m in matrices]
    if values is True:
        return texts
    widest = max(len(v) for t in texts for row in t for v in row)
    cols = sum(m.shape[1] for m in matrices)
    fits = cols * max(26.0, _svg.text_width("0" * widest, _VALUE_SIZE) + 10) <= free
    return texts if fits else None


# --- drawing ---------------------------------------------------------------------------------


def _pattern(name: str, size: str, d: str, opacity: str) -> str:
    line = el("path", d=d, stroke="currentColor", stroke_width=".8", opacity=opacity)
    return el("pattern", line, id=uid(name), width=size, height=size, patternUnits="userSpaceOnUse")


def _defs(hatch_negatives: bool) -> str:
    """Patterns: cross-hatching for removed rows/columns, diagonal lines for negative cells."""
    removed = _pattern("removed", "6", "M0 0L6 6M6 0L0 6", ".15")
    negative = _pattern("neg", "4", "M-1 5L5 -1", ".5") if hatch_negatives else ""
    return el("defs", removed + negative)


def _strength(fraction: float | np.ndarray) -> float | np.ndarray:
    """Fill opacity for ``|value| / vmax``: never quite empty, never too dark for the text."""
    return 0.06 + 0.49 * fraction


def _cells(
    matrix: np.ndarray, g: _Grid, x: float, y: float, vmax: float, removed: np.ndarray
) -> list[str]:
    """One rect per cell, grouped by sign so the colour is set once per group."""
    groups: dict[str, list[str]] = {"pos": [], "neg": []}
    hatch: list[str] = []
    x0, y0 = x + g.label_w, y + g.label_h
    for i in range(g.rows):
        for j in range(g.cols):
            v = matrix[i, j]
            box = {"x": x0 + j * g.cell_w, "y": y0 + i * g.cell_h}
            size = {"width": g.cell_w, "height": g.cell_h}
            strength = _strength(abs(v) / vmax) * (0.3 if removed[i, j] else 1.0)
            cls = "dpf-cell dpf-removed" if removed[i, j] else "dpf-cell"
            rect = el("rect", class_=cls, **box, **size, fill_opacity=f"{strength:.2f}")
            groups["neg" if v < 0 else "pos"].append(rect)
            if v < 0 and g.values is None:
                hatch.append(el("rect", **box, **size))
    out = [
        group(cells, stroke="currentColor", stroke_opacity=".15", **_svg.paint(fill=role))
        for role, cells in groups.items()
        if cells
    ]
    if hatch:
        out.append(group(hatch, fill=url("neg"), class_="dpf-neg-hatch"))
    return out


def _image(
    matrix: np.ndarray, g: _Grid, x: float, y: float, vmax: float, removed: np.ndarray
) -> list[str]:
    """All cells as one RGBA PNG, one pixel per cell (for large matrices)."""
    pos = np.array([0xD5, 0x5E, 0x00], dtype=np.uint8)
    neg = np.array([0x00, 0x72, 0xB2], dtype=np.uint8)
    rgb = np.where((matrix < 0)[:, :, None], neg, pos)
    strength = _strength(np.abs(matrix) / vmax) * np.where(removed, 0.3, 1.0)
    alpha = np.round(255 * strength).astype(np.uint8)
    pixels = np.concatenate([rgb, alpha[:, :, None]], axis=2)
    png = {"href": png_data_uri(pixels), "data_pixels": pixel_digest(pixels)}
    return [el("image", class_="dpf-cells", **g.cells_box(x, y), preserveAspectRatio="none", **png)]


def _values(g: _Grid, x: float, y: float, removed: np.ndarray) -> list[str]:
    assert g.values is not None
    out = []
    for i, row in enumerate(g.values):
        for j, value in enumerate(row):
            cx = x + g.label_w + (j + 0.5) * g.cell_w
            cy = y + g.label_h + (i + 0.5) * g.cell_h
            fade = ".9" if removed[i, j] else None
            out.append(text(cx, cy, value, dy=".35em", opacity=fade))
    return [group(out, text_anchor="middle", font_size=_VALUE_SIZE, class_="dpf-values")]


def _labels(
    g: _Grid, x: float, y: float, row_labels: list[str], col_labels: list[str], rm: tuple
) -> list[str]:
    removed_rows, removed_cols = rm
    out = []
    for i in range(0, g.rows, g.row_step):
        cy = y + g.label_h + (i + 0.5) * g.cell_h
        fade = ".8" if i in removed_rows else None
        out.append(
            text(x + g.label_w - 5, cy, row_labels[i], dy=".35em", text_anchor="end", opacity=fade)
        )
    for j in range(0, g.cols, g.col_step):
        cx = x + g.label_w + (j + 0.5) * g.cell_w
        fade = ".8" if j in removed_cols else None
        out.append(text(cx, y + g.label_h - 5, col_labels[j], text_anchor="middle", opacity=fade))
    return [group(out, font_size=_LABEL_SIZE, class_="dpf-labels")]


def _strikes(g: _Grid, x: float, y: float, rows: list[int], cols: list[int]) -> list[str]:
    """Mark every removed row and column: hatched and struck through, label included.

    Cells too small to hatch get a bar in the margin instead (their fill is already faded).
    """
    x0, y0 = x + g.label_w, y + g.label_h
    right, bottom = x0 + g.cols * g.cell_w, y0 + g.rows * g.cell_h
    fine = _removed_style(g, True) == "hatch"
    bands, lines = [], []
    n = _svg.num
    for i in rows:
        top = y0 + i * g.cell_h
        box = (x0, top, g.cols * g.cell_w, g.cell_h) if fine else (x0 - 4, top, 3, g.cell_h)
        bands.append(_band(box, data_row=i))
        lines.append(f"M{n(x + 4)} {n(top + g.cell_h / 2)}H{n(right)}")
    for j in cols:
        left = x0 + j * g.cell_w
        box = (left, y0, g.cell_w, g.rows * g.cell_h) if fine else (left, y0 - 4, g.cell_w, 3)
        bands.append(_band(box, data_col=j))
        lines.append(f"M{n(left + g.cell_w / 2)} {n(y + 4)}V{n(bottom)}")
    if not bands:
        return []
    if not fine:
        return [group(bands, **_svg.paint(fill="drop"))]
    width = max(1.0, min(1.6, min(g.cell_w, g.cell_h) / 5))
    pen = {"stroke_width": width, "stroke_linecap": "round", "opacity": ".85"}
    strike = el("path", d="".join(lines), **pen, **_svg.paint(stroke="drop"))
    return [group(bands, fill=url("removed")), strike]


def _removed_style(g: _Grid, any_removed: bool) -> str | None:
    if not any_removed:
        return None
    return "hatch" if min(g.cell_w, g.cell_h) >= 5 else "bar"


def _band(box: tuple[float, float, float, float], **data: int) -> str:
    x, y, w, h = box
    return el("rect", class_="dpf-strike", x=x, y=y, width=w, height=h, **data)


def _heatmap(
    matrix: np.ndarray,
    g: _Grid,
    at: tuple[float, float],
    vmax: float,
    labels: tuple[list[str], list[str]],
    removed: tuple[list[int], list[int]],
) -> list[str]:
    x, y = at
    rows, cols = removed
    mask = np.zeros(matrix.shape, dtype=bool)
    mask[rows, :] = True
    mask[:, cols] = True
    out = [
        el("rect", **g.cells_box(x, y), fill="none", stroke="currentColor", stroke_opacity=".55")
    ]
    if matrix.size > _MAX_RECTS:
        out += _image(matrix, g, x, y, vmax, mask)
    else:
        out += _cells(matrix, g, x, y, vmax, mask)
    if g.values is not None:
        out += _values(g, x, y, mask)
    out += _labels(g, x, y, labels[0], labels[1], (set(rows), set(cols)))
    out += _strikes(g, x, y, rows, cols)
    return [group(out, class_="dpf-matrix", data_rows=g.rows, data_cols=g.cols)]


def _legend(x: float, bottom: float, vmax: float, hatch: bool, removed: str | None) -> list[str]:
    """Colour scale from -vmax to +vmax, and how removed rows/columns look, below ``bottom``.

    It takes :data:`_LEGEND_H` pixels below ``bottom``, margins included.

    ``hatch`` says whether negative cells are hatched; ``removed`` is ``None`` (nothing removed),
    ``"hatch"`` (hatched and struck through) or ``"bar"`` (a bar in the margin).
    """
    out, steps, w, y = [], 9, 16.0, bottom + 12
    for k in range(steps):
        v = (k - steps // 2) / (steps // 2) * vmax
        role = "neg" if v < 0 else "pos"
        box = {"x": x + k * w, "y": y, "width": w, "height": 10.0}
        shade = f"{_strength(abs(v) / vmax):.2f}"
        out.append(el("rect", **box, fill_opacity=shade, **_svg.paint(fill=role)))
        if v < 0 and hatch:
            out.append(el("rect", **box, fill=url("neg")))
    for k, v in ((0, -vmax), (steps // 2, 0.0), (steps - 1, vmax)):
        txt = (_svg.num(v) if vmax >= 10 else f"{v:.2g}").replace("-", "\u2212") if v else "0"
        out.append(text(x + (k + 0.5) * w, y + 22, txt, text_anchor="middle", font_size=10))
    end = x + steps * w + 12
    scale = "negative \u2190 \u2192 positive" + ("  (hatched = negative)" if hatch else "")
    out.append(note(end, y + 9, scale))
    if removed == "hatch":
        key = {"x": end, "y": y + 14, "width": 16.0, "height": 10.0}
        out.append(
            el("rect", **key, fill=url("removed"), stroke="currentColor", stroke_opacity=".55")
        )
        out.append(note(end + 22, y + 23, "removed row / column"))
    elif removed == "bar":
        out.append(el("rect", x=end, y=y + 17, width=16.0, height=3.0, **_svg.paint(fill="drop")))
        out.append(note(end + 22, y + 23, "removed row / column (faded, marked in the margin)"))
    return [group(out, class_="dpf-legend")]


# --- public figures --------------------------------------------------------------------------


def weight_matrix(
    matrix: object,
    *,
    removed_rows: Iterable[int] = (),
    removed_cols: Iterable[int] = (),
    values: str | bool = "auto",
    title: str | None = None,
    row_labels: Sequence[object] | None = None,
    col_labels: Sequence[object] | None = None,
) -> Figure:
    """Draw a matrix as a heat map, with removed rows and columns struck through.

    Parameters
    ----------
    matrix : array_like, shape (rows, cols)
        Finite numbers, e.g. ``wih`` (hidden, input) or ``who`` (output, hidden).
    removed_rows, removed_cols : iterable of int
        0-based indices to mark as removed (dropped hidden nodes are rows of ``wih``, dropped
        input nodes are columns of ``wih``).
    values : {"auto", True, False}
        Print the numbers in the cells; ``"auto"`` does so when they fit (at most 400 cells).
    title : str, optional
        Shown above the matrix.
    row_labels, col_labels : sequence, optional
        Text per row / column; the 0-based indices by default.

    Returns
    -------
    Figure

    Raises
    ------
    ValueError
        For a matrix that is not 2-D, empty or not finite, an index out of range or repeated,
        labels of the wrong length, or an unknown ``values``.
    """
    array = checks.matrix(matrix, "matrix")
    rows = checks.indices(removed_rows, array.shape[0], "removed_rows")
    cols = checks.indices(removed_cols, array.shape[1], "removed_cols")
    rlabels = checks.texts(row_labels, array.shape[0], "row_labels", "row")
    clabels = checks.texts(col_labels, array.shape[1], "col_labels", "column")
    shown = checks.choice(values, _VALUES, "values")
    texts = _cell_texts(shown, [array], _MAX_WIDTH - 60)
    show = texts is not None
    cell = _pick_cell([array.shape], _MAX_WIDTH - 60)
    g = _grid(array.shape, texts[0] if texts else None, rlabels, clabels, cell)
    vmax = float(np.max(np.abs(array))) or 1.0
    width = max(g.width + 20, 330.0)
    head, top = title_block(title, width)
    hatch = not show and array.size <= _MAX_RECTS
    body = [_defs(hatch), *head]
    body += _heatmap(array, g, ((width - g.width) / 2, top), vmax, (rlabels, clabels), (rows, cols))
    marks = _removed_style(g, bool(rows or cols))
    body += _legend(10, top + g.height, vmax, hatch, marks)
    height = top + g.height + _LEGEND_H
    name = title or f"{array.shape[0]} x {array.shape[1]} weight matrix"
    desc = _describe_matrix(array, rows, cols, texts[0] if texts else None, rlabels, hatch)
    return finish(body, kind="weight_matrix", title=name, desc=desc, width=width, height=height)


def _rows_text(texts: list[list[str]] | None, labels: list[str]) -> str:
    """The printed numbers row by row, for a matrix of at most ``_DESCRIBED_CELLS`` cells."""
    if texts is None or len(texts) * len(texts[0]) > _DESCRIBED_CELLS:
        return ""
    return " " + " ".join(
        f"Row {i}: {', '.join(row)}." for i, row in zip(labels, texts, strict=True)
    )


def _describe_matrix(
    array: np.ndarray,
    rows: list[int],
    cols: list[int],
    texts: list[list[str]] | None,
    row_labels: list[str],
    hatch: bool,
) -> str:
    sign = "numbers printed" if texts else "negative cells hatched" if hatch else "shaded only"
    parts = [
        f"A {array.shape[0]} x {array.shape[1]} matrix, values from {array.min():.3g} to "
        f"{array.max():.3g}; orange cells are positive, blue negative, {sign}."
        + _rows_text(texts, row_labels)
    ]
    if rows:
        parts.append(f"Removed rows: {listing(rows)}.")
    if cols:
        parts.append(f"Removed columns: {listing(cols)}.")
    return " ".join(parts)


def _keep(keep: Iterable[int] | None, n: int, what: str) -> list[int]:
    if keep is None:
        return list(range(n))
    kept = checks.indices(keep, n, what)
    if not kept:
        raise ValueError(f"{what} must keep at least one index")
    return kept


def _wrap_indices(indices: list[int], width: int = 14, max_lines: int = 4) -> list[str]:
    """Index list as short lines of text, cut with an ellipsis after ``max_lines``."""
    lines = [""]
    for i in indices:
        item = f"{lines[-1]} {i}".strip()
        if len(item) > width:
            lines.append(str(i))
        else:
            lines[-1] = item
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], lines[max_lines - 1] + " \u2026"]
    return lines


def _arrow(
    x: float, y: float, length: float, rows: list[int] | None, cols: list[int] | None
) -> tuple[list[str], float]:
    """Arrow from the full matrix to the thinned one, with the indexing written over it.

    Returns the elements and the lowest y used.
    """
    expression = {
        (True, True): "[rows][:, cols]",
        (False, True): "[:, cols]",
        (True, False): "[rows]",
        (False, False): "[:, :]",
    }[(rows is not None, cols is not None)]
    n, mid = _svg.num, x + length / 2
    shaft = f"M{n(x)} {n(y)}H{n(x + length - 2)}"
    out = [
        text(mid, y - 8, expression, text_anchor="middle", font_family=_MONO, font_size=11.5),
        el("path", d=shaft, stroke="currentColor", stroke_width="1.5"),
        el("path", d=f"M{n(x + length)} {n(y)}l-8 -4.5v9z"),
    ]
    line_y = y + 18
    for label, kept in (("rows", rows), ("cols", cols)):
        if kept is None:
            continue
        out.append(note(mid, line_y, f"{label} kept:", "middle"))
        for line in _wrap_indices(kept):
            line_y += 13
            mono = {"text_anchor": "middle", "font_size": 10.5, "font_family": _MONO}
            out.append(text(mid, line_y, line, **mono))
        line_y += 17
    return [group(out, class_="dpf-arrow")], line_y


def thinning_steps(
    matrix: object,
    keep_rows: Iterable[int] | None = None,
    keep_cols: Iterable[int] | None = None,
    *,
    title: str | None = None,
) -> Figure:
    """Draw a matrix with the removed rows/columns marked, an arrow, and the sliced result.

    The chapter's slicing steps made visible: ``wih[:, active_input_indices]`` keeps columns,
    ``who[:, active_hidden_indices]`` keeps columns and ``wih[active_hidden_indices]`` keeps
    rows. The result is labelled with the original indices, so one can see which survived.

    Parameters
    ----------
    matrix : array_like, shape (rows, cols)
        The full matrix.
    keep_rows, keep_cols : iterable of int, optional
        Indices kept (all when ``None``), in the order the result should have them.
    title : str, optional
        Shown above the figure.

    Returns
    -------
    Figure

    Raises
    ------
    ValueError
        For an invalid matrix or an index out of range, repeated, or an empty keep list.
    """
    array = checks.matrix(matrix, "matrix")
    n_rows, n_cols = array.shape
    rows = _keep(keep_rows, n_rows, "keep_rows")
    cols = _keep(keep_cols, n_cols, "keep_cols")
    result = array[np.ix_(rows, cols)]
    removed = (
        [i for i in range(n_rows) if i not in rows],
        [j for j in range(n_cols) if j not in cols],
    )
    arrow_w = 120.0
    free = _MAX_WIDTH - arrow_w - 80
    texts = _cell_texts("auto", [array, result], free)
    show = texts is not None
    cell = _pick_cell([array.shape, result.shape], free)
    full_labels = ([str(i) for i in range(n_rows)], [str(j) for j in range(n_cols)])
    kept_labels = ([str(i) for i in rows], [str(j) for j in cols])
    g1 = _grid(array.shape, texts[0] if texts else None, *full_labels, cell)
    g2 = _grid(result.shape, texts[1] if texts else None, *kept_labels, cell)
    width = 20 + g1.width + arrow_w + g2.width + 20
    head, top = title_block(title, width)
    top += 18
    vmax = float(np.max(np.abs(array))) or 1.0
    x2 = 20 + g1.width + arrow_w
    hatch = not show and array.size <= _MAX_RECTS
    body = [_defs(hatch), *head]
    for g, x, caption in ((g1, 20.0, "full"), (g2, x2, "thinned")):
        label, cx = f"{caption}: {g.rows} \u00d7 {g.cols}", x + g.label_w + g.cols * g.cell_w / 2
        body.append(text(cx, top - 8, label, text_anchor="middle", font_weight="600"))
    body += _heatmap(array, g1, (20, top), vmax, full_labels, removed)
    mid_y = top + g1.label_h + min(g1.rows * g1.cell_h, 60) / 2
    sliced = (None if keep_rows is None else rows, None if keep_cols is None else cols)
    arrow, arrow_bottom = _arrow(20 + g1.width + 14, mid_y, arrow_w - 28, *sliced)
    body += arrow
    body += _heatmap(result, g2, (x2, top), vmax, kept_labels, ([], []))
    bottom = max(top + g1.height, top + g2.height, arrow_bottom - 10)
    marks = _removed_style(g1, bool(removed[0] or removed[1]))
    body += _legend(20, bottom, vmax, hatch, marks)
    height = bottom + _LEGEND_H
    name = title or f"Thinning a {n_rows} x {n_cols} matrix to {len(rows)} x {len(cols)}"
    desc = (
        f"Left: the full {n_rows} x {n_cols} matrix with removed rows "
        f"{listing(removed[0]) or 'none'} and removed columns "
        f"{listing(removed[1]) or 'none'} struck through. Right: the "
        f"{len(rows)} x {len(cols)} result, labelled with the original indices."
        + _rows_text(texts[1] if texts else None, kept_labels[0])
    )
    return finish(body, kind="thinning_steps", title=name, desc=desc, width=width, height=height)
