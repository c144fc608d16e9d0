"""SVG figures: valid XML, right counts, exactly the dropped parts marked, deterministic, golden.

Golden files live in tests/golden/; regenerate them with ``UPDATE_GOLDEN=1 pytest
tests/test_figures.py`` after a deliberate change to the drawing, and look at the diff. They are
compared byte for byte, except that embedded PNGs are compared by their decoded pixels.
"""

from __future__ import annotations

import base64
import itertools
import os
import re
import struct
import xml.etree.ElementTree as ET
import zlib
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from dropout_py import figures
from dropout_py.figures import (
    Figure,
    confusion_matrix,
    digit_grid,
    learning_curves,
    line_chart,
    network_diagram,
    network_diagram_from,
    thinned_networks,
    thinning_steps,
    weight_matrix,
)
from dropout_py.figures._png import encode_png
from dropout_py.nn.thinning import sample_active_indices

NS = "{http://www.w3.org/2000/svg}"
GOLDEN = Path(__file__).parent / "golden"


# --- helpers ---------------------------------------------------------------------------------


def parse(fig: Figure) -> ET.Element:
    return ET.fromstring(fig.svg)


def with_class(root: ET.Element, cls: str, tag: str | None = None) -> list[ET.Element]:
    return [
        e
        for e in root.iter()
        if cls in e.get("class", "").split() and (tag is None or e.tag == NS + tag)
    ]


def history(n: int = 5, shift: float = 0.0, *, test: bool = True) -> list[dict]:
    rows = []
    for e in range(1, n + 1):
        row = {
            "epoch": e,
            "train_loss": 1.0 / (e + shift),
            "train_accuracy": 1 - 0.5 / (e + shift),
        }
        if test:
            row["test_loss"] = 1.1 / (e + shift)
            row["test_accuracy"] = 1 - 0.6 / (e + shift)
        rows.append(row)
    return rows


def digits(n: int = 6, side: int = 28, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (n, side, side), dtype=np.uint8)


def decode_png(data: bytes) -> np.ndarray:
    """A strict little PNG reader for 8-bit, unfiltered images (what encode_png writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks = 8, []
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body) & 0xFFFFFFFF, kind
        chunks.append((kind, body))
        pos += 12 + length
    assert chunks[0][0] == b"IHDR" and chunks[-1] == (b"IEND", b"")
    width, height, depth, colour, comp, filt, interlace = struct.unpack(">IIBBBBB", chunks[0][1])
    assert (depth, comp, filt, interlace) == (8, 0, 0, 0)
    channels = {0: 1, 2: 3, 6: 4}[colour]
    raw = zlib.decompress(b"".join(body for kind, body in chunks if kind == b"IDAT"))
    rows = np.frombuffer(raw, dtype=np.uint8).reshape(height, 1 + width * channels)
    assert np.all(rows[:, 0] == 0)  # filter type "none" on every row
    pixels = rows[:, 1:].reshape(height, width, channels)
    return pixels[:, :, 0] if channels == 1 else pixels


def png_of(image: ET.Element) -> np.ndarray:
    href = image.get("href")
    prefix = "data:image/png;base64,"
    assert href.startswith(prefix)
    return decode_png(base64.b64decode(href[len(prefix) :]))


class FakeNetwork(SimpleNamespace):
    """The public structure network_diagram_from reads from a NeuralNetwork."""

    @classmethod
    def make(cls, n_in=3, n_hidden=4, n_out=2, bias=None, active=None):
        kept = (np.arange(n_in), np.arange(n_hidden)) if active is None else active
        return cls(
            layer_sizes=(n_in, n_hidden, n_out),
            active_indices=(*map(np.asarray, kept), np.arange(n_out)),
            bias=bias,
        )


RUNS = {"no dropout": history(6), "dropout": history(6, 0.5)}
CM = np.array([[5, 1, 0], [2, 7, 1], [0, 0, 9]])
WIDTHS = [50, 100, 200, 400, 800, 1600]
COSTS = {"fast": (WIDTHS, [0.2, 0.3, 0.5, 1, 2, 4.1]), "peer": (WIDTHS, [0.5, 0.6, 0.9, 1.5, 3, 6])}

BUILDERS = {
    "network": lambda: network_diagram((3, 4, 2), [[1], None, None]),
    "network_bias": lambda: network_diagram((2, 3, 1), None, bias=True, title="bias"),
    "network_deep": lambda: network_diagram((4, 5, 5, 3), [[0], [1, 2], [4], None]),
    "network_big": lambda: network_diagram((784, 100, 10), [range(0, 784, 2), [5], None]),
    "network_from": lambda: network_diagram_from(FakeNetwork.make(bias=1, active=([0, 2], [1, 3]))),
    "thinned": lambda: thinned_networks((3, 4, 2), (0.7, 0.5), count=3, seed=1),
    "matrix": lambda: weight_matrix(np.arange(-6, 6).reshape(3, 4), removed_cols=[1]),
    "matrix_hatched": lambda: weight_matrix(np.linspace(-1, 1, 30 * 20).reshape(30, 20)),
    "matrix_image": lambda: weight_matrix(np.linspace(-1, 1, 50 * 60).reshape(50, 60)),
    "steps": lambda: thinning_steps(np.arange(50).reshape(5, 10) - 25, [0, 2], [1, 3, 4]),
    "curves": lambda: learning_curves(RUNS, title="MNIST"),
    "confusion": lambda: confusion_matrix(CM, labels=["a", "b", "c"]),
    "confusion_normalized": lambda: confusion_matrix(CM, normalize=True),
    "digits": lambda: digit_grid(digits(), [1, 2, 3, 4, 5, 6], [1, 2, 0, 4, 5, 0]),
    "lines": lambda: line_chart(COSTS, x_label="width", y_label="s", log_x=True, log_y=True),
    "lines_linear": lambda: line_chart({"a": ([0.3, 1.0, 0.5], [0.9, 0.95, 0.97])},
                                       x_label="keep", y_label="accuracy", title="keep"),
}  # fmt: skip


# --- every figure ----------------------------------------------------------------------------


def test_the_cases_cover_every_public_figure_function():
    used = {name for build in BUILDERS.values() for name in build.__code__.co_names}
    assert set(figures.__all__) - {"Figure"} <= used


@pytest.mark.parametrize("name", BUILDERS)
def test_every_figure_is_accessible_svg(name):
    """Issue #13: role="img", named by its <title> and described by its <desc>."""
    fig = BUILDERS[name]()
    root = parse(fig)
    assert root.tag == NS + "svg"
    assert root.get("role") == "img"
    title, desc = root[0], root[1]  # first children, where assistive technology looks
    assert (title.tag, desc.tag) == (NS + "title", NS + "desc")
    assert root.get("aria-labelledby") == title.get("id") and title.text == fig.title
    assert root.get("aria-describedby") == desc.get("id") and desc.text
    width, height = float(root.get("width")), float(root.get("height"))
    assert root.get("viewBox") == f"0 0 {root.get('width')} {root.get('height')}"
    assert 0 < width <= 700 and 0 < height < 1500
    assert (fig.width, fig.height) == pytest.approx((width, height), abs=0.05)
    assert root.get("class").split() == ["dpf-fig", f"dpf-{fig.kind}"]
    assert fig.caption == desc.text  # every figure has a caption: its description
    assert f"<figcaption>{fig.caption}</figcaption>" in fig._repr_html_()
    assert "currentColor" in fig.svg and "prefers-color-scheme:dark" in fig.svg


# What a reader who cannot see the figure needs, per case: the numbers the picture shows.
DESCRIBED = {
    "network": ["3 input, 4 hidden, 2 output nodes", "Dropped (crossed out, dashed): i2;",
                "4 of 20 edges are inactive"],
    "network_bias": ["13 edges", "A bias node (square, b)"],
    "network_big": ["784 input, 100 hidden, 10 output", "39602 of 79400 edges are inactive"],
    "network_from": ["Dropped (crossed out, dashed): i2, h1, h3;"],
    "thinned": ["keep fractions 0.7, 0.5", "Network 1 drops i3, h2, h4."],
    "matrix": ["values from -6 to 5", "Row 0: \u22126, \u22125, \u22124, \u22123.",
               "Row 2: 2, 3, 4, 5.", "Removed columns: 1."],
    "matrix_hatched": ["30 x 20 matrix", "negative cells hatched"],
    "matrix_image": ["50 x 60 matrix", "shaded only"],
    "steps": ["removed rows 1, 3, 4", "Row 0: \u221224, \u221222, \u221221.",
              "Row 2: \u22124, \u22122, \u22121."],
    "curves": ["no dropout: train loss 1 to 0.1667; test loss 1.1 to 0.1833",
               "test accuracy 0.6 to 0.9077"],
    "network_deep": ["5 hidden 1, 5 hidden 2", "i1, h1.2, h1.3, h2.5;", "27 of 60 edges"],
    "confusion_normalized": ["21 correct, accuracy 0.8400", "1 predicted as 0, 2 times"],
    "confusion": ["21 correct, accuracy 0.8400", "a: 5 of 6, b: 7 of 10, c: 9 of 9",
                  "b predicted as a, 2 times; a predicted as b, once"],
    "digits": ["True labels in reading order: 1, 2, 3, 4, 5, 6.",
               "2 wrong predictions highlighted: image 3: true 3, predicted 0; image 6"],
    "lines": ["s against width for 2 series (fast, peer); logarithmic x and logarithmic y",
              "fast: 50: 0.2, 100: 0.3, 200: 0.5, 400: 1, 800: 2, 1600: 4.1.",
              "peer: 50: 0.5,"],
    "lines_linear": ["linear x and linear y axis", "a: 0.3: 0.9, 0.5: 0.97, 1: 0.95."],
}  # fmt: skip


@pytest.mark.parametrize("name", BUILDERS)
def test_every_description_carries_the_numbers(name):
    fig = BUILDERS[name]()
    desc = parse(fig)[1].text
    for fact in DESCRIBED[name]:
        assert fact in desc


@pytest.mark.parametrize("name", BUILDERS)
def test_every_figure_is_deterministic_and_shows_itself(name):
    """Jupyter shows _repr_svg_ (image/svg+xml) or _repr_html_: both must be the whole figure."""
    fig = BUILDERS[name]()
    assert BUILDERS[name]().svg == fig.svg
    svg = fig._repr_svg_()
    assert svg == fig.svg and svg.startswith("<svg xmlns=") and svg.endswith("</svg>\n")
    assert ET.fromstring(svg).tag == NS + "svg"  # a complete document, no prolog needed
    assert fig.svg in fig._repr_html_()
    assert fig.kind in repr(fig) and "KiB" in repr(fig)


@pytest.mark.parametrize("name", BUILDERS)
def test_ids_are_unique_and_every_reference_resolves(name):
    root = parse(BUILDERS[name]())
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    refs = set(re.findall(r"url\(#([^)]+)\)", ET.tostring(root, encoding="unicode")))
    assert refs <= set(ids)


def test_two_figures_on_one_page_never_share_an_id():
    a = parse(weight_matrix([[1, -2]], removed_cols=[0]))
    b = parse(weight_matrix([[3, -4]], removed_cols=[0]))
    ids_a = {e.get("id") for e in a.iter() if e.get("id")}
    ids_b = {e.get("id") for e in b.iter() if e.get("id")}
    assert ids_a and not ids_a & ids_b


def test_user_text_is_escaped():
    title = 'a < b & "c" > d\x01'
    fig = network_diagram((2, 1), title=title, layer_names=["<in>", "&out"])
    root = parse(fig)
    assert root.find(NS + "title").text == 'a < b & "c" > d'
    texts = [t.text for t in root.iter(NS + "text")]
    assert "<in>" in texts and "&out" in texts


def test_save_writes_utf8_and_replaces(tmp_path):
    fig = BUILDERS["curves"]()
    target = tmp_path / "curves.svg"
    target.write_text("old")
    assert fig.save(target) == target
    assert target.read_text(encoding="utf-8") == fig.svg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.svg"]
    fig.save(str(tmp_path / "again.svg"))
    assert (tmp_path / "again.svg").read_bytes() == fig.svg.encode("utf-8")


# --- network diagrams ------------------------------------------------------------------------


def check_network(root, sizes, dropped, bias=False):
    """Nodes, edges and exactly the dropped ones, for layers small enough to draw in full."""
    nodes = with_class(root, "dpf-node")
    assert len(nodes) == sum(sizes)
    marked = {
        (int(n.get("data-layer")), int(n.get("data-index")))
        for n in nodes
        if n.get("data-dropped") == "1"
    }
    assert marked == {(k, i) for k, layer in enumerate(dropped) for i in layer}
    assert {
        (int(n.get("data-layer")), int(n.get("data-index")))
        for n in with_class(root, "dpf-dropped", "g")
    } == marked
    assert len(with_class(root, "dpf-bias")) == (len(sizes) - 1 if bias else 0)
    labels = {
        n.get("data-label"): (int(n.get("data-layer")), int(n.get("data-index"))) for n in nodes
    }
    edges = with_class(root, "dpf-edge", "line")
    expected = sum((a + bias) * b for a, b in itertools.pairwise(sizes))
    assert len(edges) == expected
    for edge in edges:
        ends = [labels.get(edge.get("data-src")), labels[edge.get("data-dst")]]
        should = any(end in marked for end in ends if end is not None)
        assert edge.get("data-dropped") == str(int(should))
        assert ("dpf-dropped" in edge.get("class").split()) == should
    return nodes, edges


@pytest.mark.parametrize(
    ("sizes", "dropped"),
    [
        ((3, 4, 2), [[1], [], []]),  # the chapter: input node i2 dropped
        ((3, 4, 2), [None, [0], None]),  # hidden node h1 dropped
        ((3, 4, 2), None),
        ((5, 3), [[0, 4], [2]]),
        ((4, 5, 5, 3), [[0, 3], [1, 2], [4], [1]]),
        ((1, 1), [[], []]),
    ],
)
def test_network_marks_exactly_the_dropped_nodes_and_edges(sizes, dropped):
    fig = network_diagram(sizes, dropped)
    dropped = dropped or [[]] * len(sizes)
    check_network(parse(fig), sizes, [d or [] for d in dropped])


def test_network_labels_follow_the_chapter():
    root = parse(network_diagram((3, 4, 2)))
    assert [n.get("data-label") for n in with_class(root, "dpf-node")] == [
        *("i1", "i2", "i3"),
        *("h1", "h2", "h3", "h4"),
        *("o1", "o2"),
    ]
    deep = parse(network_diagram((1, 2, 1, 1)))
    assert [n.get("data-label") for n in with_class(deep, "dpf-node")] == [
        "i1",
        "h1.1",
        "h1.2",
        "h2.1",
        "o1",
    ]


def test_network_bias_nodes_are_never_dropped():
    root = parse(network_diagram((3, 4, 2), [[0], [3], None], bias=True))
    check_network(root, (3, 4, 2), [[0], [3], []], bias=True)
    bias_edges = [e for e in with_class(root, "dpf-edge") if e.get("data-src") == "b"]
    assert len(bias_edges) == 4 + 2
    assert sum(e.get("data-dropped") == "1" for e in bias_edges) == 1  # the one into h4


def test_large_layers_are_elided_with_a_count():
    fig = network_diagram((784, 100, 10), [range(0, 784, 2), [5], None])
    root = parse(fig)
    nodes = with_class(root, "dpf-node")
    assert len(nodes) == 9 + 9 + 10  # 6 first, a gap, 3 last
    assert [g.get("data-hidden") for g in with_class(root, "dpf-gap")] == ["775", "91"]
    shown = {int(n.get("data-index")) for n in nodes if n.get("data-layer") == "0"}
    assert shown == {0, 1, 2, 3, 4, 5, 781, 782, 783}
    for node in nodes:
        layer, index = int(node.get("data-layer")), int(node.get("data-index"))
        expected = (layer == 0 and index % 2 == 0) or (layer == 1 and index == 5)
        assert node.get("data-dropped") == str(int(expected))
    assert "392 of 784 kept" in [t.text for t in root.iter(NS + "text")]
    assert f"{784 * 100 + 100 * 10} edges" in fig.caption


def test_network_from_a_full_and_a_thinned_network():
    full = parse(network_diagram_from(FakeNetwork.make()))
    check_network(full, (3, 4, 2), [[], [], []])
    thinned = parse(network_diagram_from(FakeNetwork.make(active=([0, 2], [1, 2, 3]))))
    check_network(thinned, (3, 4, 2), [[1], [0], []])
    with_bias = parse(network_diagram_from(FakeNetwork.make(bias=0.5, active=([1], [0, 3]))))
    check_network(with_bias, (3, 4, 2), [[0, 2], [1, 2], []], bias=True)


def test_network_from_the_tutorial_class_during_dropout():
    from dropout_py.nn.tutorial import NeuralNetwork

    nn = NeuralNetwork(6, 2, 5, 0.1, bias=1, seed=3)
    inputs, hidden = nn.dropout_weight_matrices(0.5, 0.6)
    root = parse(network_diagram_from(nn))
    dropped = [sorted(set(range(6)) - set(inputs)), sorted(set(range(5)) - set(hidden)), []]
    check_network(root, (6, 5, 2), dropped, bias=True)
    nn.weight_matrices_reset(inputs, hidden)
    check_network(parse(network_diagram_from(nn)), (6, 5, 2), [[], [], []], bias=True)


def test_thinned_networks_use_the_shared_sampler():
    sizes, keep, seed = (10, 5, 3), (0.7, 0.6), 42
    root = parse(thinned_networks(sizes, keep, count=4, seed=seed))
    panels = with_class(root, "dpf-panel")
    assert len(panels) == 4
    rng = np.random.default_rng(seed)
    for panel in panels:
        kept = [
            set(sample_active_indices(rng, n, k).tolist())
            for n, k in zip(sizes, keep, strict=False)
        ]
        dropped = [set(range(n)) - s for n, s in zip(sizes, kept, strict=False)] + [set()]
        check_network(panel, sizes, dropped)
        assert [len(s) for s in kept] == [7, 3]


def test_thinned_networks_depend_on_the_seed_only():
    a = thinned_networks((6, 6, 2), 0.5, seed=np.random.default_rng(7))
    assert a.svg == thinned_networks((6, 6, 2), 0.5, seed=7).svg
    assert a.svg != thinned_networks((6, 6, 2), 0.5, seed=8).svg


# --- weight matrices -------------------------------------------------------------------------


def test_weight_matrix_cells_values_and_removed_marks():
    m = np.arange(-10, 10).reshape(4, 5)
    root = parse(weight_matrix(m, removed_rows=[2], removed_cols=[0, 3]))
    cells = with_class(root, "dpf-cell", "rect")
    assert len(cells) == 20
    assert len(with_class(root, "dpf-removed")) == 5 + 4 + 4 - 2  # a row, two columns
    strikes = with_class(root, "dpf-strike")
    assert sorted(s.get("data-row") for s in strikes if s.get("data-row")) == ["2"]
    assert sorted(s.get("data-col") for s in strikes if s.get("data-col")) == ["0", "3"]
    values = [t.text for t in with_class(root, "dpf-values")[0]]
    assert values == [str(v).replace("-", "\u2212") for v in m.ravel()]
    (negative,) = with_class(root, "dpf-f-neg", "g")
    (positive,) = with_class(root, "dpf-f-pos", "g")
    assert len(negative) == int(np.sum(m < 0)) and len(positive) == int(np.sum(m >= 0))


def test_weight_matrix_hides_numbers_when_large_and_hatches_negatives():
    m = np.linspace(-1, 1, 30 * 20).reshape(30, 20)
    root = parse(weight_matrix(m))
    assert not with_class(root, "dpf-values")
    assert len(with_class(root, "dpf-cell")) == 600
    assert len(with_class(root, "dpf-neg-hatch")[0]) == int(np.sum(m < 0))
    shown = parse(weight_matrix(m[:2, :3], values=False))
    assert not with_class(shown, "dpf-values")
    forced = parse(weight_matrix(m, values=True))
    assert len(with_class(forced, "dpf-values")[0]) == 600


def test_large_weight_matrix_becomes_one_image():
    m = np.linspace(-1, 1, 50 * 60).reshape(50, 60)
    root = parse(weight_matrix(m, removed_cols=[3]))
    assert not with_class(root, "dpf-cell")
    (image,) = with_class(root, "dpf-cells", "image")
    pixels = png_of(image)
    assert pixels.shape == (50, 60, 4)
    assert np.all(pixels[m < 0, 2] == 0xB2) and np.all(pixels[m > 0, 0] == 0xD5)
    assert np.all(pixels[:, 3, 3] < pixels[:, 4, 3] + 1)  # removed column faded
    assert [s.get("data-col") for s in with_class(root, "dpf-strike")] == ["3"]


def test_thinning_steps_show_full_and_sliced_matrix():
    m = np.arange(50).reshape(5, 10) - 25
    rows, cols = [0, 2, 4], [1, 2, 5, 6, 9]
    root = parse(thinning_steps(m, rows, cols))
    full, thin = with_class(root, "dpf-matrix")
    assert (full.get("data-rows"), full.get("data-cols")) == ("5", "10")
    assert (thin.get("data-rows"), thin.get("data-cols")) == ("3", "5")
    assert len(with_class(full, "dpf-cell")) == 50 and len(with_class(thin, "dpf-cell")) == 15
    assert len(with_class(full, "dpf-removed")) == 50 - 15
    values = [t.text for t in with_class(thin, "dpf-values")[0]]
    assert values == [str(v).replace("-", "\u2212") for v in m[np.ix_(rows, cols)].ravel()]
    labels = [t.text for t in with_class(thin, "dpf-labels")[0]]
    assert labels == ["0", "2", "4", "1", "2", "5", "6", "9"]
    arrow = " ".join(t.text for t in with_class(root, "dpf-arrow")[0].iter(NS + "text"))
    assert "[rows][:, cols]" in arrow and "1 2 5 6 9" in arrow


@pytest.mark.parametrize(
    ("rows", "cols", "expression"),
    [(None, [0, 3], "[:, cols]"), ([1], None, "[rows]"), (None, None, "[:, :]")],
)
def test_thinning_steps_write_the_chapter_slicing(rows, cols, expression):
    root = parse(thinning_steps(np.ones((2, 4)), rows, cols))
    texts = [t.text for t in with_class(root, "dpf-arrow")[0].iter(NS + "text")]
    assert texts[0] == expression


# --- learning curves -------------------------------------------------------------------------


def test_learning_curves_draw_one_line_per_run_split_and_metric():
    root = parse(learning_curves(RUNS))
    lines = with_class(root, "dpf-line")
    keys = {(g.get("data-run"), g.get("data-split"), g.get("data-metric")) for g in lines}
    assert len(lines) == len(keys) == 2 * 2 * 2
    for line in lines:
        path = line[0].get("d")
        assert path.count("L") + 1 == int(line.get("data-points")) == 6
        dashed = line[0].get("stroke-dasharray") is not None
        assert dashed == (line.get("data-split") == "test")
    assert [p.get("data-metric") for p in with_class(root, "dpf-panel")] == ["loss", "accuracy"]
    legend = [t.text for t in with_class(root, "dpf-legend")[0].iter(NS + "text")]
    assert legend[:2] == ["no dropout", "dropout"]


def legend_texts(fig: Figure) -> list[str]:
    return [t.text for t in with_class(parse(fig), "dpf-legend")[0].iter(NS + "text")]


def test_learning_curves_legend_names_only_the_line_styles_drawn():
    """Issue #9: a legend said "train (solid)" although only test curves were drawn."""
    test_only = [{k: v for k, v in row.items() if not k.startswith("train")} for row in history()]
    assert legend_texts(learning_curves({"a": test_only})) == ["a", "test (dashed)"]
    train_only = history(test=False)
    assert legend_texts(learning_curves({"a": train_only})) == ["a", "train (solid)"]
    both = legend_texts(learning_curves({"a": history()}, metrics="accuracy"))
    assert both == ["a", "train (solid)", "test (dashed)"]
    # a split drawn in one panel only still belongs in the legend
    mixed = [{**row, "train_loss": None} for row in history()]
    assert "train (solid)" in legend_texts(learning_curves({"a": mixed}))


def overfitting_history(epochs: int = 10, turn: int = 5) -> list[dict]:
    """Train loss keeps falling; test loss is lowest at epoch ``turn`` and rises after it."""
    return [
        {
            "epoch": e,
            "train_loss": 1.0 / e,
            "test_loss": 0.5 + 0.02 * (e - turn) ** 2,
            "train_accuracy": 1 - 0.3 / e,
            "test_accuracy": 0.8 + 0.01 * min(e, turn),
        }
        for e in range(1, epochs + 1)
    ]


def path_points(d: str) -> np.ndarray:
    return np.array([[float(v) for v in p.split()] for p in d[1:].split("L")])


def test_loss_panel_beside_accuracy_shows_overfitting_as_a_rising_test_line():
    """Issue #10: train and test loss beside the accuracy; the test loss turns up after epoch 5."""
    runs = {"no dropout": overfitting_history(), "dropout": overfitting_history(turn=8)}
    fig = learning_curves(runs, metrics=("accuracy", "loss"), mark_best=True)
    root = parse(fig)
    accuracy, loss = with_class(root, "dpf-panel")
    assert (accuracy.get("data-metric"), loss.get("data-metric")) == ("accuracy", "loss")
    for run, turn in (("no dropout", 5), ("dropout", 8)):
        (test_line,) = [
            g
            for g in with_class(loss, "dpf-line")
            if (g.get("data-run"), g.get("data-split")) == (run, "test")
        ]
        points = path_points(test_line[0].get("d"))
        heights = -points[:, 1]  # SVG y grows downwards
        assert np.all(np.diff(heights[:turn]) < 0) and np.all(np.diff(heights[turn - 1 :]) > 0)
        (mark,) = [g for g in with_class(loss, "dpf-best") if g.get("data-run") == run]
        ring = mark.find(NS + "circle")
        assert (float(ring.get("cx")), float(ring.get("cy"))) == pytest.approx(
            tuple(points[turn - 1]), abs=0.06
        )
        assert f"lowest {0.5:.4g} at epoch {turn}" in fig.caption
    # accuracy never falls here, so its best is the last epoch and the caption says nothing more
    assert "highest" not in fig.caption
    assert "best test epoch (ring)" in legend_texts(fig)
    # the option is off by default, and a loss panel needs losses in the data
    assert not with_class(parse(learning_curves(runs)), "dpf-best")
    accuracy_only = [{k: v for k, v in row.items() if "loss" not in k} for row in history()]
    root = parse(learning_curves(accuracy_only, metrics=("accuracy", "loss"), mark_best=True))
    assert [p.get("data-metric") for p in with_class(root, "dpf-panel")] == ["accuracy"]


def test_learning_curves_skip_missing_values_and_empty_metrics():
    h = history(5, test=False)
    h[2]["train_loss"] = None
    del h[3]["train_loss"]
    h[4]["train_loss"] = float("nan")
    assert learning_curves(h, metrics="loss").svg == learning_curves(h, metrics=["loss"]).svg
    root = parse(learning_curves(h, metrics=("loss", "f1")))
    (line,) = with_class(root, "dpf-line")
    assert line.get("data-run") == "run" and line.get("data-points") == "2"
    assert [p.get("data-metric") for p in with_class(root, "dpf-panel")] == ["loss"]


def test_learning_curves_hundred_epochs_four_runs_stay_small():
    runs = {f"run {k}": history(100, k) for k in range(4)}
    fig = learning_curves(runs)
    assert len(fig.svg.encode()) < 60_000
    assert len(with_class(parse(fig), "dpf-line")) == 16


def test_nice_ticks():
    from dropout_py.figures.curves import nice_ticks

    assert nice_ticks(0.12, 0.97).tolist() == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert nice_ticks(0.61, 0.97).tolist() == [0.6, 0.7, 0.8, 0.9, 1.0]
    assert nice_ticks(1, 100, 6, integer=True).tolist() == [0, 20, 40, 60, 80, 100]
    assert nice_ticks(3, 3, integer=True).tolist()[0] <= 2


# --- line charts -----------------------------------------------------------------------------


def test_line_chart_puts_each_point_where_its_log_scale_says():
    root = parse(line_chart(COSTS, x_label="width", y_label="s", log_x=True, log_y=True,
                            x_ticks=WIDTHS))  # fmt: skip
    lines = with_class(root, "dpf-line", "g")
    assert [g.get("data-series") for g in lines] == ["fast", "peer"]
    assert [g.get("data-points") for g in lines] == ["6", "6"]
    coords = [tuple(map(float, p.split())) for p in lines[0][0].get("d")[1:].split("L")]
    xs, ys = np.array(coords).T
    assert np.allclose(np.diff(xs), xs[1] - xs[0], atol=0.15)  # doublings: equal steps
    assert np.all(np.diff(ys) < 0)  # larger values higher up
    step = (ys[0] - ys[3]) / np.log10(1 / 0.2)  # pixels per decade, from 0.2 to 1
    assert ys[4] - ys[5] == pytest.approx(step * np.log10(4.1 / 2), abs=0.15)
    labels = [t.text for t in with_class(root, "dpf-ticks", "g")[0]]
    assert labels[:4] == ["0.2", "0.5", "1", "2"] and labels[-6:] == list(map(str, WIDTHS))


def test_a_long_series_gets_a_dozen_markers_and_a_summary():
    xs = np.arange(1, 201)
    fig = line_chart({"run": (xs, 5 / np.sqrt(xs))}, x_label="minutes", y_label="error")
    assert "run: 200 points from 1: 5 to 200: 0.3536; lowest 0.3536 at 200, highest 5 at 1." in (
        fig.caption
    )
    line = with_class(parse(fig), "dpf-line", "g")[0]
    assert line[0].get("d").count("L") == 199 and line[1].get("d").count("M") == 12


def test_line_chart_sorts_points_by_x_and_log_ticks_cover_the_data():
    from dropout_py.figures.lines import log_ticks

    assert log_ticks(0.3, 4).tolist() == [0.2, 0.5, 1.0, 2.0, 5.0]
    assert log_ticks(16, 512).tolist() == [10, 20, 50, 100, 200, 500, 1000]
    assert log_ticks(1, 1).tolist() == [1.0, 2.0]
    assert "a: 3: 3." in line_chart({"a": ([3], [3])}, x_label="x", y_label="y", log_x=True,
                                     log_y=True).caption  # fmt: skip
    fig = line_chart({"a": ([3, 1, 2], [30, 10, 20])}, x_label="x", y_label="y")
    assert "a: 1: 10, 2: 20, 3: 30." in fig.caption


# --- confusion matrices ----------------------------------------------------------------------


def test_confusion_matrix_cells_counts_and_diagonal():
    root = parse(confusion_matrix(CM))
    cells = with_class(root, "dpf-cell")
    assert len(cells) == 9
    assert len(with_class(root, "dpf-diag")) == 3
    for cell in cells:
        i, j = int(cell.get("data-true")), int(cell.get("data-pred"))
        assert int(cell.get("data-count")) == CM[i, j]
        assert ("dpf-diag" in cell.get("class").split()) == (i == j)
    values = [t.text for t in with_class(root, "dpf-values")[0]]
    assert values == [str(v) for v in CM.ravel() if v]  # empty cells stay blank
    bold = [t.text for t in with_class(root, "dpf-values")[0] if t.get("font-weight") == "700"]
    assert bold == ["5", "7", "9"]
    texts = [t.text for t in root.iter(NS + "text")]
    assert "predicted label" in texts and "true label" in texts


def test_confusion_matrix_from_the_chapter_dict():
    chapter = {(float(t), int(p)): int(CM[t, p]) for t in range(3) for p in range(3) if CM[t, p]}
    assert confusion_matrix(chapter).svg == confusion_matrix(CM).svg
    padded = parse(confusion_matrix({(0.0, 0): 3, (1.0, 0): 1}, labels=list("abcd")))
    assert len(with_class(padded, "dpf-cell")) == 16


def test_confusion_matrix_normalized_rows():
    root = parse(confusion_matrix(CM, normalize=True))
    values = [t.text for t in with_class(root, "dpf-values")[0]]
    assert values[:2] == ["0.83", "0.17"] and values[-1] == "1.00"


# --- digits and PNG --------------------------------------------------------------------------


def test_digit_grid_tiles_pixels_and_wrong_predictions():
    images = digits(12)
    labels = np.arange(12) % 10
    predictions = labels.copy()
    predictions[[2, 7]] = 9 - predictions[[2, 7]]
    root = parse(digit_grid(images, labels, predictions, columns=5, limit=10))
    tiles = with_class(root, "dpf-digit")
    assert len(tiles) == 10
    assert [int(t.get("data-index")) for t in with_class(root, "dpf-wrong")] == [2, 7]
    for k, tile in enumerate(tiles):
        np.testing.assert_array_equal(png_of(tile.find(NS + "image")), 255 - images[k])
    captions = [tile.find(NS + "text").text for tile in tiles]
    assert captions[2] == "2 \u2192 7" and captions[3] == "3"


def test_digit_grid_accepts_flat_float_and_column_labels():
    flat = digits(3).reshape(3, 784) / 255.0
    labels = np.array([[1.0], [2.0], [3.0]])  # the chapter keeps labels as float columns
    root = parse(digit_grid(flat, labels))
    tiles = with_class(root, "dpf-digit")
    assert [t.get("data-label") for t in tiles] == ["1", "2", "3"]
    assert not with_class(root, "dpf-wrong")
    np.testing.assert_array_equal(png_of(tiles[0].find(NS + "image")), 255 - digits(3)[0])


def test_ids_do_not_depend_on_the_zlib_build(monkeypatch):
    """zlib-ng and zlib compress differently; the figure's ids and pixels must not change."""
    build = GOLDEN_CASES["digit_grid"]
    reference = build().svg
    compress = zlib.compress
    monkeypatch.setattr(zlib, "compress", lambda data, level=-1: compress(data, 1))
    other = build().svg
    assert other != reference
    assert canonical(other.encode()) == canonical(reference.encode())


@pytest.mark.parametrize("shape", [(1, 1), (28, 28), (3, 5, 3), (2, 7, 4)])
def test_png_encoder_round_trips(shape):
    pixels = np.random.default_rng(1).integers(0, 256, shape, dtype=np.uint8)
    png = encode_png(pixels)
    np.testing.assert_array_equal(decode_png(png), pixels)
    assert struct.unpack(">II", png[16:24]) == (shape[1], shape[0])


# --- invalid input ---------------------------------------------------------------------------

INVALID = [
    (network_diagram, ((3,),), {}, "layer_sizes needs at least 2 layers (input and output), got 1"),
    (network_diagram, ((3, -4, 2),), {}, "layer_sizes[1] must be a positive integer, got -4"),
    (network_diagram, ((3, 0),), {}, "layer_sizes[1] must be a positive integer, got 0"),
    (network_diagram, ("342",), {}, "layer_sizes must be a sequence of node counts, got '342'"),
    (network_diagram, ((3, 4, 2), [[1]]), {},
     "dropped must have one entry per layer (3), got 1"),
    (network_diagram, ((3, 4, 2), [[3], None, None]), {},
     "dropped[0] contains 3, but only 0..2 exist"),
    (network_diagram, ((3, 4, 2), [[-1], None, None]), {},
     "dropped[0] contains -1, but only 0..2 exist"),
    (network_diagram, ((3, 4, 2), [None, [0, 2, 0], None]), {}, "dropped[1] contains 0 twice"),
    (network_diagram, ((3, 4, 2), [None, [0.5], None]), {},
     "dropped[1] must hold integer indices, got 0.5"),
    (network_diagram, ((2, 2), [[0, 1], None]), {},
     "dropped[0] drops all 2 nodes of layer 0; keep at least one"),
    (network_diagram, ((3, 4, 2),), {"layer_names": ["in", "out"]},
     "layer_names must have 3 entries (one per layer), got 2"),
    (thinned_networks, ((3, 4, 2), 1.5), {},
     "keep_fractions must be in (0, 1], got 1.5"),
    (thinned_networks, ((3, 4, 2), (0.5, 0.5, 0.5)), {},
     "keep_fractions must be one number or one per layer except the output (2), got 3"),
    (thinned_networks, ((3, 4, 2), (0.5, 0)), {},
     "keep_fractions[1] must be in (0, 1], got 0"),
    (thinned_networks, ((3, 4, 2), 0.5), {"count": 0},
     "count must be an integer from 1 to 12, got 0"),
    (weight_matrix, (np.ones(3),), {}, "matrix must be a non-empty 2-D array, got shape (3,)"),
    (weight_matrix, (np.ones((0, 2)),), {},
     "matrix must be a non-empty 2-D array, got shape (0, 2)"),
    (weight_matrix, ([[1, np.nan]],), {},
     "matrix must hold finite numbers only (found NaN or inf)"),
    (weight_matrix, (np.ones((2, 3)),), {"removed_cols": [3]},
     "removed_cols contains 3, but only 0..2 exist"),
    (weight_matrix, (np.ones((2, 3)),), {"removed_rows": [1, 1]},
     "removed_rows contains 1 twice"),
    (weight_matrix, (np.ones((2, 3)),), {"col_labels": ["a"]},
     "col_labels must have 3 entries (one per column), got 1"),
    (weight_matrix, (np.ones((2, 3)),), {"row_labels": "abc"},
     "row_labels must have 2 entries (one per row), got 3"),
    (weight_matrix, (np.ones((2, 3)),), {"values": "yes"},
     "values must be 'auto', True or False, got 'yes'"),
    (thinning_steps, (np.ones((2, 3)), []), {}, "keep_rows must keep at least one index"),
    (thinning_steps, (np.ones((2, 3)), None, [5]), {},
     "keep_cols contains 5, but only 0..2 exist"),
    (learning_curves, ({},), {}, "runs is empty: give at least one history"),
    (learning_curves, (5,), {},
     "runs must be a mapping name -> history or a sequence of per-epoch mappings, got 5"),
    (learning_curves, ({"a": "x"},), {},
     "run 'a' must be a sequence of per-epoch mappings, got 'x'"),
    (learning_curves, ({"a": [{"epoch": 1}]},), {},
     "no values to plot: no epoch entry has any of train_loss, test_loss, train_accuracy, "
     "test_accuracy"),
    (learning_curves, ({"a": [1, 2]},), {},
     "entry 0 of run 'a' must be a mapping like {'epoch': 1, 'train_loss': 0.3}, got int"),
    (learning_curves, ([{"epoch": 1, "train_loss": "high"}],), {},
     "'train_loss' and 'epoch' must be numbers, got 'high' in epoch entry 0"),
    (learning_curves, ({str(k): history(2) for k in range(9)},), {},
     "at most 8 runs fit one figure, got 9"),
    (learning_curves, (history(2),), {"metrics": ()},
     "metrics must be one or more names like 'loss', got ()"),
    (confusion_matrix, (np.ones((2, 3)),), {},
     "cm must be square (K, K), got shape (2, 3)"),
    (confusion_matrix, (np.ones(3),), {}, "cm must be a non-empty 2-D array, got shape (3,)"),
    (confusion_matrix, ([[1, -1], [0, 1]],), {}, "cm must hold non-negative whole counts"),
    (confusion_matrix, ([[1.5, 1], [0, 1]],), {}, "cm must hold non-negative whole counts"),
    (confusion_matrix, (CM,), {"labels": ["a"]},
     "labels must have 3 entries (one per class), got 1"),
    (confusion_matrix, ({(0, -1): 3},), {},
     "confusion dict key (0, -1) must hold non-negative whole class numbers"),
    (confusion_matrix, ({0: 3},), {},
     "confusion dict keys must be (true, predicted) pairs, got 0"),
    (digit_grid, (np.zeros((2, 783)),), {},
     "images of shape (N, P) need P = side * side pixels (784 for MNIST), got shape (2, 783)"),
    (digit_grid, (np.zeros((2, 3, 4, 5)),), {},
     "images must have shape (N, 784) or (N, H, W), got (2, 3, 4, 5)"),
    (digit_grid, (np.full((1, 4, 4), 2.0),), {},
     "float images must lie in [0, 1], got values up to 2 (divide by 255, or pass uint8)"),
    (digit_grid, (np.zeros((2, 4, 4)), [1]), {},
     "labels must have one entry per image (2), got shape (1,)"),
    (digit_grid, (np.zeros((2, 4, 4)),), {"columns": 0},
     "columns must be a positive integer, got 0"),
    (line_chart, ({},), {"x_label": "x", "y_label": "y"},
     "series must be a non-empty mapping name -> (xs, ys), got {}"),
    (line_chart, ({"a": ([1, 2], [1])},), {"x_label": "x", "y_label": "y"},
     "series 'a' needs as many x as y values (at least one), got 2 and 1"),
    (line_chart, ({"a": ([1, 2, 3],)},), {"x_label": "x", "y_label": "y"},
     "series 'a' must be a pair (xs, ys), got 1 items"),
    (line_chart, ({"a": ([1, 2], ["p", "q"])},), {"x_label": "x", "y_label": "y"},
     "series 'a' must hold numbers"),
    (line_chart, ({"a": ([1, np.inf], [1, 2])},), {"x_label": "x", "y_label": "y"},
     "series 'a' must hold finite numbers only"),
    (line_chart, ({"a": ([0, 1], [1, 2])},), {"x_label": "x", "y_label": "y", "log_x": True},
     "series 'a': a logarithmic x axis needs values > 0"),
    (line_chart, ({"a": ([1, 2], [1, 2])},), {"x_label": "x", "y_label": "y", "x_ticks": [1]},
     "x_ticks must hold at least two distinct finite values (> 0 on a log axis), got [1]"),
    (line_chart, ({str(k): ([1], [1]) for k in range(9)},), {"x_label": "x", "y_label": "y"},
     "at most 8 series fit one chart, got 9"),
    (encode_png, (np.zeros((2, 2)),), {}, "pixels must be uint8, got dtype float64"),
    (encode_png, (np.zeros((2, 2, 2), dtype=np.uint8),), {},
     "pixels must have shape (height, width) or (height, width, 3 or 4), got (2, 2, 2)"),
]  # fmt: skip


@pytest.mark.parametrize(("func", "args", "kwargs", "message"), INVALID)
def test_invalid_input_raises_a_clear_value_error(func, args, kwargs, message):
    with pytest.raises(ValueError) as info:
        func(*args, **kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize(
    ("nn", "message"),
    [
        (SimpleNamespace(no_of_in_nodes=3), "SimpleNamespace has no attribute 'layer_sizes'"),
        (
            SimpleNamespace(**{**vars(FakeNetwork.make()), "active_indices": (range(3),) * 2}),
            "nn.active_indices has 2 entries, expected one per layer (3)",
        ),
        (
            FakeNetwork.make(active=([0, 3], [1])),
            "nn.active_indices[0] contains 3, but only 0..2 exist",
        ),
    ],
)
def test_network_from_rejects_what_is_not_a_chapter_network(nn, message):
    with pytest.raises((TypeError, ValueError), match=re.escape(message)):
        network_diagram_from(nn)


# --- golden files ----------------------------------------------------------------------------

GOLDEN_CASES = {
    "network": lambda: network_diagram((3, 4, 2), [[1], None, None]),
    "network_from": lambda: network_diagram_from(FakeNetwork.make(bias=1, active=([0, 2], [1]))),
    "thinned_networks": lambda: thinned_networks((3, 4, 2), (0.7, 0.5), seed=2024),
    "weight_matrix": lambda: weight_matrix(
        np.array([[3, -7, 0], [-2, 5, 9]]), removed_rows=[1], removed_cols=[0], title="wih"
    ),
    "thinning_steps": lambda: thinning_steps(
        np.arange(-6, 9).reshape(3, 5), keep_rows=[0, 2], keep_cols=[1, 2, 4]
    ),
    "learning_curves": lambda: learning_curves(
        {"none": history(4), "dropout": history(4, 0.5, test=False)}
    ),
    # the pages' call: one accuracy panel
    "learning_curves_accuracy": lambda: learning_curves(RUNS, metrics="accuracy"),
    "learning_curves_overfitting": lambda: learning_curves(
        {"a": overfitting_history()}, metrics=("accuracy", "loss"), mark_best=True
    ),
    "confusion_matrix": lambda: confusion_matrix(CM, title="toy"),
    "digit_grid": lambda: digit_grid(digits(3, side=6), [1, 2, 3], [1, 0, 3], columns=3),
    "line_chart": lambda: line_chart(
        COSTS, x_label="hidden units", y_label="seconds", log_x=True, log_y=True, x_ticks=WIDTHS
    ),
}


def canonical(svg: bytes) -> bytes:
    """The SVG with each embedded PNG replaced by its decoded pixels.

    Compressed PNG bytes depend on the zlib build (zlib or zlib-ng); everything else is
    compared byte for byte.
    """

    def pixels(match: re.Match) -> bytes:
        decoded = decode_png(base64.b64decode(match.group(1)))
        return b"pixels:" + repr(decoded.shape).encode() + decoded.tobytes().hex().encode()

    return re.sub(rb"data:image/png;base64,([A-Za-z0-9+/=]+)", pixels, svg)


@pytest.mark.parametrize("name", GOLDEN_CASES)
def test_golden(name):
    path = GOLDEN / f"{name}.svg"
    svg = GOLDEN_CASES[name]().svg.encode("utf-8")
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(svg)
    assert path.exists(), f"{path} is missing; run with UPDATE_GOLDEN=1 to create it"
    assert canonical(svg) == canonical(path.read_bytes()), (
        f"{name} differs from {path}; if the change is intended, rerun with UPDATE_GOLDEN=1 "
        "and review the diff"
    )
