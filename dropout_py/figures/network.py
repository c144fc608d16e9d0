"""Network diagrams: layers of nodes joined by edges, with dropped nodes crossed out.

Nodes are labelled like the chapter: ``i1, i2, ...`` for inputs, ``h1, h2, ...`` for the hidden
layer (``h1.1, h1.2, ..., h2.1, ...`` when there are several: hidden layer, then node) and
``o1, o2, ...`` for outputs. A dropped node is drawn dashed, faded and crossed out; its edges are
dashed and faded. A bias node is a square labelled ``b`` and is never dropped. Layers with more
than ten nodes show the first six and the last three around a gap.

Every node is a ``<g class="dpf-node">`` with ``data-layer``, ``data-index``, ``data-label`` and
``data-dropped``; every edge a ``<line class="dpf-edge">`` with ``data-src``, ``data-dst`` and
``data-dropped``, so a test (or a curious reader) can count them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from dropout_py._random import SeedLike, resolve_rng
from dropout_py.nn.thinning import check_keep_fraction, sample_active_indices

from . import _checks as checks
from . import _svg
from ._figure import Figure, finish, listing, note, title_block
from ._svg import el, group, text

_MAX_SHOWN = 10
_HEAD, _TAIL = 6, 3
_MAX_WIDTH = 700.0
_KEPT_DISC = {
    "stroke": "currentColor",
    "stroke_width": "1.5",
    "fill_opacity": ".16",
    **_svg.paint(fill="accent"),
}
_DROPPED_DISC = {
    "fill": "none",
    "stroke": "currentColor",
    "stroke_width": "1.3",
    "stroke_dasharray": "3 2.5",
    "opacity": ".6",
}


@dataclass(frozen=True)
class _Layer:
    heading: str
    prefix: str
    size: int
    dropped: frozenset[int]
    bias: bool = False

    def label(self, index: int) -> str:
        return f"{self.prefix}{index + 1}"


# --- reading the arguments --------------------------------------------------------------------


def _layer_sizes(layer_sizes: Sequence[int]) -> tuple[int, ...]:
    sizes = checks.sequence(layer_sizes, "layer_sizes", "a sequence of node counts")
    if len(sizes) < 2:
        raise ValueError(
            f"layer_sizes needs at least 2 layers (input and output), got {len(sizes)}"
        )
    return tuple(checks.count(size, f"layer_sizes[{k}]") for k, size in enumerate(sizes))


def _dropped(dropped: Sequence[Any] | None, sizes: tuple[int, ...]) -> list[frozenset[int]]:
    if dropped is None:
        return [frozenset()] * len(sizes)
    entries = checks.sequence(dropped, "dropped", "a sequence with one entry per layer")
    if len(entries) != len(sizes):
        raise ValueError(
            f"dropped must have one entry per layer ({len(sizes)}), got {len(entries)}"
        )
    result = []
    for k, (entry, size) in enumerate(zip(entries, sizes, strict=True)):
        indices = frozenset(() if entry is None else checks.indices(entry, size, f"dropped[{k}]"))
        if len(indices) == size:
            raise ValueError(f"dropped[{k}] drops all {size} nodes of layer {k}; keep at least one")
        result.append(indices)
    return result


def _make_layers(
    sizes: tuple[int, ...],
    dropped: list[frozenset[int]],
    bias: bool,
    layer_names: Sequence[str] | None = None,
) -> list[_Layer]:
    """The layers to draw, named ``input, hidden (1, 2...), output`` unless names are given."""
    last = len(sizes) - 1
    hidden = [("hidden", "h")] if last == 2 else [(f"hidden {k}", f"h{k}.") for k in range(1, last)]
    names = ["input", *(name for name, _ in hidden), "output"]
    if layer_names is not None:
        names = checks.texts(layer_names, len(sizes), "layer_names", "layer")
    prefixes = ["i", *(prefix for _, prefix in hidden), "o"]
    return [
        _Layer(names[k], prefixes[k], sizes[k], dropped[k], bias=bias and k < last)
        for k in range(len(sizes))
    ]


# --- layout and drawing ----------------------------------------------------------------------


def _slots(layer: _Layer) -> list[tuple[str, int]]:
    """Return what one column shows, top to bottom: ("node", i), ("gap", hidden), ("bias", 0)."""
    n = layer.size
    if n <= _MAX_SHOWN:
        slots = [("node", i) for i in range(n)]
    else:
        slots = [("node", i) for i in range(_HEAD)]
        slots.append(("gap", n - _HEAD - _TAIL))
        slots += [("node", i) for i in range(n - _TAIL, n)]
    if layer.bias:
        slots.append(("bias", 0))
    return slots


def _positions(
    layers: list[_Layer], box: tuple[float, float, float, float], r: float
) -> list[dict[tuple[str, int], tuple[float, float]]]:
    """Centre of every slot, per layer, keyed like :func:`_slots`."""
    x0, y0, w, h = box
    inset = max(r + 4, 34.0)
    step_x = (w - 2 * inset) / (len(layers) - 1)
    most = max(len(_slots(layer)) for layer in layers)
    step_y = min(2.8 * r, h / most)
    result = []
    for k, layer in enumerate(layers):
        slots = _slots(layer)
        cx = x0 + inset + k * step_x
        top = y0 + (h - step_y * len(slots)) / 2 + step_y / 2
        result.append({slot: (cx, top + j * step_y) for j, slot in enumerate(slots)})
    return result


def _trimmed(a: tuple[float, float], b: tuple[float, float], r: float) -> dict[str, float]:
    """Line from circle ``a`` to circle ``b`` (both radius ``r``), touching their rims."""
    dx, dy = b[0] - a[0], b[1] - a[1]
    length = max((dx * dx + dy * dy) ** 0.5, 1e-9)
    ux, uy = dx / length * r, dy / length * r
    return {"x1": a[0] + ux, "y1": a[1] + uy, "x2": b[0] - ux, "y2": b[1] - uy}


def _edges(layers: list[_Layer], pos: list[dict], r: float) -> list[str]:
    active: list[str] = []
    dropped: list[str] = []
    for k in range(len(layers) - 1):
        src_layer, dst_layer = layers[k], layers[k + 1]
        for (kind, i), a in pos[k].items():
            if kind == "gap":
                continue
            src = "b" if kind == "bias" else src_layer.label(i)
            src_dropped = kind == "node" and i in src_layer.dropped
            for (dst_kind, j), b in pos[k + 1].items():
                if dst_kind != "node":
                    continue
                off = src_dropped or j in dst_layer.dropped
                ends = {"data_src": src, "data_dst": dst_layer.label(j), "data_dropped": int(off)}
                cls = "dpf-edge dpf-dropped" if off else "dpf-edge"
                line = el("line", class_=cls, data_layer=k, **ends, **_trimmed(a, b, r))
                (dropped if off else active).append(line)
    return [
        group(dropped, stroke="currentColor", stroke_opacity=".5", stroke_dasharray="4 3"),
        group(active, stroke="currentColor", stroke_opacity=".75", stroke_width="1.2"),
    ]


def _cross(x: float, y: float, r: float) -> str:
    """An X over a node whose arms stop short of the centre, so the label stays readable."""
    n = _svg.num
    arms = []
    for sx, sy in ((-1, -1), (1, 1), (1, -1), (-1, 1)):
        a, b = 0.42 * r, 0.95 * r
        arms.append(f"M{n(x + sx * a)} {n(y + sy * a)}L{n(x + sx * b)} {n(y + sy * b)}")
    pen = {"stroke_width": "2.2", "stroke_linecap": "round"}
    return el("path", d="".join(arms), **pen, **_svg.paint(stroke="drop"))


def _node(layer: _Layer, k: int, i: int, c: tuple[float, float], r: float) -> str:
    x, y = c
    is_dropped = i in layer.dropped
    label = layer.label(i)
    size = max(8.0, min(12.0, r * (0.78 if len(label) < 4 else 0.6)))
    fade = ".7" if is_dropped else None
    parts = [
        el("circle", cx=x, cy=y, r=float(r), **(_DROPPED_DISC if is_dropped else _KEPT_DISC)),
        text(x, y, label, dy=".35em", text_anchor="middle", font_size=size, opacity=fade),
    ]
    if is_dropped:
        parts.append(_cross(x, y, r))
    return group(
        parts,
        class_="dpf-node dpf-dropped" if is_dropped else "dpf-node",
        data_layer=k,
        data_index=i,
        data_label=label,
        data_dropped=int(is_dropped),
    )


def _bias_node(k: int, c: tuple[float, float], r: float) -> str:
    x, y = c
    s = r * 0.9
    square = {"x": x - s, "y": y - s, "width": 2 * s, "height": 2 * s, "rx": "3"}
    pen = {"stroke": "currentColor", "stroke_width": "1.5", "fill_opacity": ".2"}
    box = el("rect", **square, **pen, **_svg.paint(fill="bias"))
    label = text(x, y, "b", dy=".35em", text_anchor="middle", font_size=max(8.0, r * 0.8))
    return group([box, label], class_="dpf-bias", data_layer=k, data_label="b")


def _gap(c: tuple[float, float], r: float, count: int) -> str:
    x, y = c
    dots = [el("circle", cx=x, cy=y + dy * r * 0.55, r=max(1.5, r * 0.12)) for dy in (-1, 0, 1)]
    return group(dots, class_="dpf-gap", data_hidden=count, opacity=".7")


def _footer(layer: _Layer) -> str | None:
    if layer.dropped:
        return f"{layer.size - len(layer.dropped)} of {layer.size} kept"
    if layer.size > _MAX_SHOWN:
        return f"{layer.size} nodes"
    return None


def _draw(layers: list[_Layer], box: tuple[float, float, float, float], r: float) -> list[str]:
    """Draw one network into ``box`` = (x, y, width, height), headings and footers included."""
    x0, y0, w, h = box
    head, foot = 20.0, 18.0 if any(_footer(layer) for layer in layers) else 4.0
    pos = _positions(layers, (x0, y0 + head, w, h - head - foot), r)
    out = _edges(layers, pos, r)
    for k, layer in enumerate(layers):
        for (kind, i), c in pos[k].items():
            if kind == "node":
                out.append(_node(layer, k, i, c, r))
            elif kind == "bias":
                out.append(_bias_node(k, c, r))
            else:
                out.append(_gap(c, r, i))
        cx = next(iter(pos[k].values()))[0]
        out.append(text(cx, y0 + 13, layer.heading, text_anchor="middle", font_weight="600"))
        footer = _footer(layer)
        if footer:
            out.append(note(cx, y0 + h - 4, footer, "middle"))
    return out


# --- descriptions ----------------------------------------------------------------------------


def _shape(layers: list[_Layer]) -> str:
    return "-".join(str(layer.size) for layer in layers)


def _dropped_labels(layers: list[_Layer]) -> list[str]:
    return [layer.label(i) for layer in layers for i in sorted(layer.dropped)]


def _count_edges(layers: list[_Layer]) -> tuple[int, int]:
    """Total and dropped edges of the whole network (elided nodes included)."""
    total = dropped = 0
    for a, b in itertools.pairwise(layers):
        total += (a.size + a.bias) * b.size
        kept_b = b.size - len(b.dropped)
        dropped += (a.size + a.bias) * b.size - (a.size - len(a.dropped) + a.bias) * kept_b
    return total, dropped


def _describe(layers: list[_Layer]) -> str:
    counts = ", ".join(f"{layer.size} {layer.heading}" for layer in layers)
    total, n_dropped = _count_edges(layers)
    bias = " A bias node (square, b) feeds the next layer." if layers[0].bias else ""
    labels = _dropped_labels(layers)
    if not labels:
        return f"A {_shape(layers)} network: {counts} nodes, {total} edges.{bias}"
    return (
        f"A {_shape(layers)} network: {counts} nodes, {total} edges.{bias} "
        f"Dropped (crossed out, dashed): {listing(labels, 20)}; {n_dropped} of {total} edges "
        "are inactive."
    )


def _title(layers: list[_Layer]) -> str:
    labels = _dropped_labels(layers)
    if not labels:
        return f"{_shape(layers)} network"
    return f"{_shape(layers)} network with {listing(labels, 6)} dropped"


# --- public figures --------------------------------------------------------------------------


def _single(layers: list[_Layer], title: str | None) -> Figure:
    n = len(layers)
    r = 16.0
    gap = min(150.0, (_MAX_WIDTH - 108) / (n - 1))
    width = 108 + gap * (n - 1)
    most = max(len(_slots(layer)) for layer in layers)
    body, top = title_block(title, width)
    height = top + 20 + most * 2.8 * r + 24
    body += _draw(layers, (20, top, width - 40, height - top - 4), r)
    desc = _describe(layers)
    name = title or _title(layers)
    return finish(body, kind="network", title=name, desc=desc, width=width, height=height)


def network_diagram(
    layer_sizes: Sequence[int],
    dropped: Sequence[Iterable[int] | None] | None = None,
    *,
    layer_names: Sequence[str] | None = None,
    title: str | None = None,
    bias: bool = False,
) -> Figure:
    """Draw a fully connected network, optionally with dropped nodes.

    Parameters
    ----------
    layer_sizes : sequence of int, length L >= 2
        Nodes per layer, input first, e.g. ``(3, 4, 2)``.
    dropped : sequence of length L, optional
        For each layer an iterable of 0-based indices of dropped nodes (or ``None``).
        ``[[1], None, None]`` drops ``i2``.
    layer_names : sequence of str, length L, optional
        Column headings; ``input``, ``hidden``, ``output`` by default.
    title : str, optional
        Shown above the diagram; an automatic title still names the figure for screen readers.
    bias : bool
        Append a bias node (never dropped) to every layer but the last.

    Returns
    -------
    Figure

    Raises
    ------
    ValueError
        For fewer than two layers, a non-positive size, a dropped index out of range, a layer
        with every node dropped, or lengths that do not match ``layer_sizes``.

    Examples
    --------
    >>> fig = network_diagram((3, 4, 2), [[1], [], []])
    >>> fig.svg.count('class="dpf-node dpf-dropped"')
    1
    """
    sizes = _layer_sizes(layer_sizes)
    layers = _make_layers(sizes, _dropped(dropped, sizes), bias, layer_names)
    return _single(layers, title)


def _attribute(nn: object, name: str) -> Any:
    try:
        return getattr(nn, name)
    except AttributeError:
        raise TypeError(
            f"{type(nn).__name__} has no attribute {name!r}; expected a NeuralNetwork "
            "(layer_sizes, active_indices, bias)"
        ) from None


def _from_network(nn: object) -> tuple[tuple[int, ...], list[frozenset[int]], bool]:
    """Return layer sizes, dropped indices and the bias flag from a network's public structure."""
    sizes = _layer_sizes(_attribute(nn, "layer_sizes"))
    active = checks.sequence(_attribute(nn, "active_indices"), "nn.active_indices", "a sequence")
    if len(active) != len(sizes):
        raise ValueError(
            f"nn.active_indices has {len(active)} entries, expected one per layer ({len(sizes)})"
        )
    dropped = [
        frozenset(range(size)) - frozenset(checks.indices(kept, size, f"nn.active_indices[{k}]"))
        for k, (kept, size) in enumerate(zip(active, sizes, strict=True))
    ]
    return sizes, dropped, bool(_attribute(nn, "bias"))


def network_diagram_from(nn: object, *, title: str | None = None) -> Figure:
    """Draw a :class:`~dropout_py.NeuralNetwork` as it is now, full or thinned.

    The network is read through its public structure: ``layer_sizes`` (nodes of the full
    network per layer), ``active_indices`` (the nodes of each layer taking part now: all of
    them, or between ``dropout_weight_matrices()`` and ``weight_matrices_reset()`` the thinned
    network's) and ``bias``. Nodes not active are drawn as dropped; a bias node, when ``bias``
    is set, is drawn as a square and never dropped.

    Parameters
    ----------
    nn : NeuralNetwork, or any object with those three attributes
    title : str, optional
        Shown above the diagram.

    Returns
    -------
    Figure

    Raises
    ------
    TypeError
        If ``nn`` lacks one of the attributes above.
    ValueError
        If the active indices do not fit the layer sizes.
    """
    sizes, dropped, bias = _from_network(nn)
    layers = _make_layers(sizes, dropped, bias)
    return _single(layers, title)


def _keep_fractions(keep_fractions: float | Sequence[float], n: int) -> list[float]:
    if not isinstance(keep_fractions, Iterable):
        return [check_keep_fraction(keep_fractions, "keep_fractions")] * n
    fractions = list(keep_fractions)
    if len(fractions) != n:
        raise ValueError(
            f"keep_fractions must be one number or one per layer except the output ({n}), "
            f"got {len(fractions)}"
        )
    return [check_keep_fraction(f, f"keep_fractions[{k}]") for k, f in enumerate(fractions)]


def thinned_networks(
    layer_sizes: Sequence[int],
    keep_fractions: float | Sequence[float],
    *,
    count: int = 3,
    seed: SeedLike = None,
) -> Figure:
    """Draw ``count`` randomly thinned versions of one network side by side.

    Each panel keeps ``max(1, int(n * keep))`` random nodes of every layer but the output, drawn
    with :func:`dropout_py.nn.thinning.sample_active_indices` (the same sampling the networks use).

    Parameters
    ----------
    layer_sizes : sequence of int, length L >= 2
        Nodes per layer, input first.
    keep_fractions : float or sequence of float, length L - 1
        Fraction of nodes kept in (0, 1], one number for all layers or one per layer except
        the output (the chapter's ``active_input_percentage``, ``active_hidden_percentage``).
    count : int
        Number of thinned networks, 1 to 12 (three per row).
    seed : int, numpy.random.Generator or None
        Randomness; the same seed gives the same figure.

    Returns
    -------
    Figure

    Raises
    ------
    ValueError
        For invalid sizes, fractions or count.
    """
    sizes = _layer_sizes(layer_sizes)
    fractions = _keep_fractions(keep_fractions, len(sizes) - 1)
    count = checks.count(count, "count", most=12)
    rng = resolve_rng(seed)
    networks = []
    for _ in range(count):
        dropped = [
            frozenset(range(n)) - {int(i) for i in sample_active_indices(rng, n, f)}
            for n, f in zip(sizes, fractions, strict=False)
        ]
        networks.append(_make_layers(sizes, [*dropped, frozenset()], False))
    return _panels(networks, sizes, fractions)


def _panels(networks: list[list[_Layer]], sizes: tuple[int, ...], fractions: list[float]) -> Figure:
    columns = min(len(networks), 3)
    rows = -(-len(networks) // columns)
    r = 12.0
    panel_w = min(_MAX_WIDTH / columns, 40 + 110 * (len(sizes) - 1))
    most = max(len(_slots(layer)) for layer in networks[0])
    panel_h = 20 + 20 + most * 2.8 * r + 20
    width, height = panel_w * columns, panel_h * rows + 8
    body = []
    for p, layers in enumerate(networks):
        x, y = (p % columns) * panel_w, (p // columns) * panel_h + 4
        heading = f"thinned network {p + 1}"
        body.append(
            text(x + panel_w / 2, y + 14, heading, text_anchor="middle", font_style="italic")
        )
        inner = _draw(layers, (x + 10, y + 22, panel_w - 20, panel_h - 26), r)
        body.append(group(inner, class_="dpf-panel", data_panel=p))
        if p % columns:
            rule = {"x1": x, "y1": y + 6, "x2": x, "y2": y + panel_h - 6}
            body.append(el("line", **rule, stroke="currentColor", stroke_opacity=".15"))
    keep = ", ".join(f"{f:g}" for f in fractions)
    name = f"{len(networks)} random thinned versions of a {_shape(networks[0])} network"
    desc = f"{name}, keep fractions {keep} (input and hidden layers). " + " ".join(
        f"Network {p + 1} drops {', '.join(_dropped_labels(layers)) or 'nothing'}."
        for p, layers in enumerate(networks)
    )
    return finish(body, kind="thinned_networks", title=name, desc=desc, width=width, height=height)
