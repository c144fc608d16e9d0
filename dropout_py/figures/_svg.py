"""A tiny SVG writer shared by every figure: escaping, numbers, elements, colours, the document.

Figures are built as strings: each drawing function returns a list of element strings made with
:func:`el` and :func:`text`, and :func:`document` wraps them in an ``<svg>`` root with a title, a
description and a small style sheet. Colours are CSS classes (``dpf-f-<role>`` for fill,
``dpf-s-<role>`` for stroke) that read ``var(--dp-<role>)`` and switch to a lighter default in dark
mode, with the light colour repeated as a presentation attribute for renderers without CSS.

Ids (patterns, the description) start with :data:`UID`, a placeholder that :func:`document`
replaces by a hash of the content, so two figures inlined in one page never share an id and the
same input always gives the same text.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterable

XMLNS = "http://www.w3.org/2000/svg"
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"

#: Placeholder for the per-figure id prefix. Escaped user text can never contain it, because
#: :func:`esc` turns every ``&`` into ``&amp;``.
UID = "&uid;"

#: Colour roles: (light default, dark default). Okabe-Ito hues, safe for colour-blind readers.
PALETTE: dict[str, tuple[str, str]] = {
    "accent": ("#3f51b5", "#8c9eff"),
    "bias": ("#009e73", "#2fc59a"),
    "drop": ("#d55e00", "#ff8a3d"),
    "pos": ("#d55e00", "#cc5200"),
    "neg": ("#0072b2", "#007ad1"),
    "good": ("#0072b2", "#007ad1"),
    "bad": ("#d55e00", "#cc5200"),
    "c0": ("#0072b2", "#4aa3df"),
    "c1": ("#d55e00", "#ff8a3d"),
    "c2": ("#009e73", "#2fc59a"),
    "c3": ("#cc79a7", "#e7a3cb"),
    "c4": ("#b07d00", "#f5c04a"),
    "c5": ("#2f8fc8", "#9ad4f5"),
    "c6": ("#7a5195", "#b58ad6"),
    "c7": ("#8c6d31", "#c9a55f"),
}
RUN_ROLES = tuple(f"c{i}" for i in range(8))

_DARK_BG = "#1e2027"
_DARK_FG = "#e4e4e7"
_PNG_PAYLOAD = re.compile(r"base64,[A-Za-z0-9+/=]*")
_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class Raw(str):
    """A string that :func:`el` writes into an attribute without escaping (internal ids)."""

    __slots__ = ()


def esc(value: object) -> str:
    """Escape ``value`` for XML text and attributes, dropping characters XML cannot hold."""
    text = _INVALID_XML.sub("", str(value))
    return (
        text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def num(x: float) -> str:
    """Format a coordinate with at most one decimal: ``12``, ``12.5``, never ``-0``."""
    r = round(float(x), 1)
    if r == int(r):
        return str(int(r))
    return f"{r:.1f}"


def uid(name: str) -> Raw:
    """Return the id ``name`` made unique per figure (see :data:`UID`)."""
    return Raw(UID + name)


def url(name: str) -> Raw:
    """Return ``url(#id)`` for an id made by :func:`uid`."""
    return Raw(f"url(#{UID}{name})")


def el(name: str, body: str | None = None, /, **attrs: object) -> str:
    """Return one element as text.

    Keyword names map to attributes: a trailing ``_`` is dropped (``class_``) and other ``_``
    become ``-`` (``stroke_width``, ``data_index``). ``None`` values are left out, floats are
    rounded by :func:`num`. ``body`` is inserted as is (already markup); ``None`` closes the tag.
    """
    parts = [name]
    for key, value in attrs.items():
        if value is None:
            continue
        key = key.rstrip("_").replace("_", "-")
        if isinstance(value, Raw):
            parts.append(f'{key}="{value}"')
            continue
        if isinstance(value, float):
            value = num(value)
        parts.append(f'{key}="{esc(value)}"')
    head = " ".join(parts)
    return f"<{head}/>" if body is None else f"<{head}>{body}</{name}>"


def text(x: float, y: float, content: object, **attrs: object) -> str:
    """Return a ``<text>`` element at (x, y) with escaped ``content``."""
    return el("text", esc(content), x=float(x), y=float(y), **attrs)


def group(children: Iterable[str], **attrs: object) -> str:
    """Return a ``<g>`` around ``children``."""
    return el("g", "".join(children), **attrs)


def paint(fill: str | None = None, stroke: str | None = None, cls: str = "") -> dict[str, object]:
    """Attributes that paint fill and/or stroke in palette roles (``paint(fill="accent")``).

    The light colour is the presentation attribute (for renderers without CSS); the class lets
    the style sheet use ``var(--dp-<role>)`` and the dark-mode colour. ``cls`` adds classes.
    """
    attrs: dict[str, object] = {}
    classes = [cls] if cls else []
    if fill:
        attrs["fill"] = PALETTE[fill][0]
        classes.append(f"dpf-f-{fill}")
    if stroke:
        attrs["stroke"] = PALETTE[stroke][0]
        classes.append(f"dpf-s-{stroke}")
    attrs["class_"] = " ".join(classes)
    return attrs


def text_width(content: str, size: float = 12.0) -> float:
    """Estimate the rendered width of ``content`` in pixels (no font metrics available)."""
    return 0.58 * size * len(content)


def _style(body: str) -> str:
    """Return the style sheet, with only the colour roles that ``body`` uses."""
    rules = [
        ".dpf-fig .dpf-muted{opacity:.75}",
        ".dpf-fig image{image-rendering:pixelated;image-rendering:crisp-edges}",
    ]
    dark = [f"color:{_DARK_FG}"]
    for role, (light, dark_value) in PALETTE.items():
        for kind, prop in (("f", "fill"), ("s", "stroke")):
            if f"dpf-{kind}-{role}" in body:
                rules.append(f".dpf-fig .dpf-{kind}-{role}{{{prop}:var(--dp-{role},{light})}}")
        if f"dpf-f-{role}" in body or f"dpf-s-{role}" in body:
            dark.append(f"--dp-{role}:{dark_value}")
    dark_vars = ";".join(dark[1:])
    rules.append(
        "@media (prefers-color-scheme:dark){svg.dpf-fig:root{"
        f"background:{_DARK_BG};{';'.join(dark)}}}}}"
    )
    if dark_vars:
        rules.append(
            "[data-md-color-scheme=slate] .dpf-fig,[data-jp-theme-light=false] .dpf-fig"
            f"{{{dark_vars}}}"
        )
    return el("style", "".join(rules))


def document(
    body: Iterable[str], *, width: float, height: float, title: str, desc: str, kind: str
) -> str:
    """Wrap ``body`` in an accessible ``<svg>`` root and resolve the per-figure ids.

    Parameters
    ----------
    body : iterable of str
        Elements made with :func:`el`.
    width, height : float
        Size in CSS pixels (also the ``viewBox``).
    title, desc : str
        Short name and a description with the numbers a reader who cannot see the figure
        needs. They become ``<title>`` and ``<desc>``, the first children of the root, which
        has ``role="img"`` and names them with ``aria-labelledby`` and ``aria-describedby``.
    kind : str
        Figure kind, added as the class ``dpf-<kind>``.
    """
    content = "".join(body)
    w, h = num(width), num(height)
    label = el("title", esc(title), id=uid("title")) + el("desc", esc(desc), id=uid("desc"))
    inner = label + _style(content) + content
    root = el(
        "svg",
        inner,
        xmlns=XMLNS,
        class_=f"dpf-fig dpf-{kind}",
        width=w,
        height=h,
        viewBox=f"0 0 {w} {h}",
        role="img",
        aria_labelledby=uid("title"),
        aria_describedby=uid("desc"),
        font_family=FONT,
        font_size=12,
        fill="currentColor",
    )
    # Embedded PNGs carry a data-pixels digest; their compressed bytes (which vary with the zlib
    # build) are left out of the hash, so the ids are the same on every platform.
    hashed = _PNG_PAYLOAD.sub("base64,", root)
    prefix = f"dp{zlib.crc32(hashed.encode('utf-8')):08x}-"
    return root.replace(UID, prefix) + "\n"
