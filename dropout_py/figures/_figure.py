"""The :class:`Figure` every drawing function returns, and the parts every builder shares.

A builder draws its body, puts :func:`title_block` above it and :func:`note` lines in it, and
ends with :func:`finish`, which makes the accessible SVG document and the :class:`Figure`.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from dropout_py._files import replacing

from ._svg import document, esc, text


def title_block(title: str | None, width: float) -> tuple[list[str], float]:
    """The heading above a figure, and the y at which the figure's body starts.

    Parameters
    ----------
    title : str or None
        The heading; nothing is drawn for ``None`` or ``""``.
    width : float
        Width of the figure in CSS pixels (the heading is centred).

    Returns
    -------
    elements : list of str
        The heading's ``<text>`` (empty without a title).
    top : float
        Where the body starts: below the heading, or a small margin without one.
    """
    if not title:
        return [], 8.0
    return [text(width / 2, 22, title, text_anchor="middle", font_size=14, font_weight="600")], 34.0


def listing(items: Iterable[object], limit: int = 24, sep: str = ", ") -> str:
    """``"a, b, c"``, cut after ``limit`` items with ``"..."`` (for titles and descriptions)."""
    shown = [str(item) for item in items]
    return sep.join(shown[:limit] + (["..."] if len(shown) > limit else []))


def note(x: float, y: float, content: object, anchor: str | None = None) -> str:
    """A small muted line of text at (x, y): legends, footers, hints (``anchor``: text-anchor)."""
    return text(x, y, content, text_anchor=anchor, font_size=10.5, class_="dpf-muted")


class Figure:
    """A finished figure: SVG text plus what Jupyter, the site and the command line need.

    Jupyter and the site's live cells call :meth:`_repr_html_` (or :meth:`_repr_svg_`), the
    command line calls :meth:`save`. The text is fixed at construction: the same input always
    gives the same :attr:`svg`.

    Parameters
    ----------
    svg : str
        The complete ``<svg>`` document.
    kind : str
        What was drawn (``"network"``, ``"learning_curves"``...).
    title : str
        The figure's accessible name (its ``<title>``).
    width, height : float
        Size in CSS pixels.
    caption : str, optional
        A sentence shown under the figure in HTML output.
    """

    def __init__(
        self,
        svg: str,
        *,
        kind: str,
        title: str,
        width: float,
        height: float,
        caption: str | None = None,
    ) -> None:
        self._svg = svg
        self.kind = kind
        self.title = title
        self.width = width
        self.height = height
        self.caption = caption

    @property
    def svg(self) -> str:
        """The SVG document as text."""
        return self._svg

    def _repr_svg_(self) -> str:
        return self._svg

    def _repr_html_(self) -> str:
        caption = f"<figcaption>{esc(self.caption)}</figcaption>" if self.caption else ""
        return (
            f'<figure class="dpf-figure" style="margin:0;max-width:100%;overflow-x:auto">'
            f"{self._svg}{caption}</figure>"
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the SVG to ``path`` (UTF-8) and return the path.

        The text goes to a temporary file of its own next to ``path`` first and then replaces
        it, so a reader never sees half a file and two writers never share a temporary file.

        Parameters
        ----------
        path : str or os.PathLike
            Where to write, usually ending in ``.svg``; an existing file is replaced.

        Returns
        -------
        pathlib.Path
        """
        target = Path(path)
        with replacing(target) as tmp:
            tmp.write_text(self._svg, encoding="utf-8")
        return target

    def __repr__(self) -> str:
        size = len(self._svg.encode("utf-8")) / 1024
        return (
            f"<Figure {self.kind} {self.title!r}: {self.width:g}x{self.height:g} px, "
            f"{size:.1f} KiB SVG; .save(path) writes it>"
        )


def finish(
    body: Iterable[str], *, kind: str, title: str, desc: str, width: float, height: float
) -> Figure:
    """Wrap a builder's elements into the SVG document and the :class:`Figure` that shows it.

    Every builder ends here, so every figure has the same root (``role="img"``, its ``<title>``
    and ``<desc>``, the style sheet) and the description doubles as the HTML caption.

    Parameters
    ----------
    body : iterable of str
        The figure's elements, top to bottom.
    kind : str
        The figure kind (``"network"``, ``"learning_curves"``...): :attr:`Figure.kind` and the
        root's class ``dpf-<kind>``.
    title : str
        Accessible name (``<title>``).
    desc : str
        What the figure shows, with the numbers a reader who cannot see it needs (``<desc>``,
        and the caption under the figure in HTML).
    width, height : float
        Size in CSS pixels.

    Returns
    -------
    Figure
    """
    svg = document(body, width=width, height=height, title=title, desc=desc, kind=kind)
    return Figure(svg, kind=kind, title=title, width=width, height=height, caption=desc)
