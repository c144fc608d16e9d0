"""Contrast of every figure kind on the site's light and dark pages (WCAG 2.1 AA).

axe-core skips SVG text, so the browser audit cannot see the figures' colours; this test reads
the SVG itself. It resolves each element's colour the way the browser does for these figures
(palette classes and their dark-mode values from the figure's own ``<style>``, presentation
attributes, ``currentColor``, inherited ``fill-opacity``/``stroke-opacity`` and the product of
``opacity`` down the tree), composites it over what lies beneath, and requires:

* text: 4.5:1 against the colour under the middle of the text (page ground plus every filled
  rectangle or circle drawn before it there), and against the lines of a hatch pattern there;
* lines, outlines and markers (any stroke, and solid palette fills): 3:1 against the page.

Strokes drawn below :data:`HAIRLINE` opacity are decoration by the figures' convention (grid
lines, the borders between heat-map cells) and are not graphical objects the reader needs; the
test also checks that this convention is used for nothing else than thin ``currentColor`` lines.
The page colours are mkdocs-material's (body text over the page ground), where the figures live.
"""

from __future__ import annotations

import colorsys
import re
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import numpy as np
import pytest

from dropout_py import NeuralNetwork
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

NS = "{http://www.w3.org/2000/svg}"
TEXT_RATIO = 4.5
GRAPHIC_RATIO = 3.0
HAIRLINE = 0.2

RGB = tuple[float, float, float]


def hex_rgb(value: str) -> RGB:
    value = value.lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    return tuple(int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))


def over(colour: RGB, alpha: float, ground: RGB) -> RGB:
    return tuple(alpha * c + (1 - alpha) * g for c, g in zip(colour, ground, strict=True))


def luminance(rgb: RGB) -> float:
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def ratio(a: RGB, b: RGB) -> float:
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def hsl(h: float, s: float, lightness: float) -> RGB:
    return colorsys.hls_to_rgb(h / 360, lightness, s)


@dataclass(frozen=True)
class Scheme:
    name: str
    ground: RGB  # the page
    text: RGB  # body text (currentColor), already over the page


WHITE = (1.0, 1.0, 1.0)
SLATE = hsl(225, 0.15, 0.14)  # mkdocs-material "slate": --md-default-bg-color
SCHEMES = [
    # --md-default-fg-color: black at 0.87 on white; hsla(225, 15%, 90%, 0.82) on slate
    Scheme("light", WHITE, over((0.0, 0.0, 0.0), 0.87, WHITE)),
    Scheme("dark", SLATE, over(hsl(225, 0.15, 0.90), 0.82, SLATE)),
]


# --- the figure's own style sheet ------------------------------------------------------------


@dataclass
class Styles:
    """What the figure's ``<style>`` says: palette roles per scheme and class opacities."""

    light: dict[str, str]
    dark: dict[str, str]
    opacity: dict[str, float]

    @classmethod
    def read(cls, root: ET.Element) -> Styles:
        css = "".join(root.find(NS + "style").itertext())
        light = dict(re.findall(r"--dp-([\w-]+),(#[0-9a-fA-F]{3,6})\)", css))
        page_dark = re.search(r"\[data-md-color-scheme=slate\] \.dpf-fig[^{]*\{([^}]*)\}", css)
        dark = dict(re.findall(r"--dp-([\w-]+):(#[0-9a-fA-F]{3,6})", page_dark.group(1)))
        opacity = {k: float(v) for k, v in re.findall(r"\.dpf-([\w-]+)\{opacity:([\d.]+)\}", css)}
        return cls(light, dark, opacity)

    def role(self, role: str, scheme: Scheme) -> RGB:
        table = self.dark if scheme.name == "dark" else self.light
        return hex_rgb(table.get(role, self.light[role]))


# --- walking the tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class Paint:
    """Inherited painting state at one element."""

    fill: str = "black"
    stroke: str = "none"
    fill_opacity: float = 1.0
    stroke_opacity: float = 1.0
    opacity: float = 1.0  # product of the ancestors' and the element's own opacity
    dx: float = 0.0  # translate() of the ancestors
    dy: float = 0.0
    rotated: bool = False
    anchor: str = "start"
    font_size: float = 12.0


@dataclass(frozen=True)
class Drawn:
    element: ET.Element
    paint: Paint


def classes(element: ET.Element) -> list[str]:
    return element.get("class", "").split()


def walk(element: ET.Element, styles: Styles, paint: Paint) -> Iterator[Drawn]:
    """Every drawn element in document order, with its resolved paint (skips defs, style)."""
    tag = element.tag.removeprefix(NS)
    if tag in ("defs", "style", "title", "desc", "pattern"):
        return
    names = classes(element)
    fill = element.get("fill", paint.fill)
    stroke = element.get("stroke", paint.stroke)
    for name in names:  # CSS rules beat presentation attributes
        if name.startswith("dpf-f-"):
            fill = "role:" + name.removeprefix("dpf-f-")
        if name.startswith("dpf-s-"):
            stroke = "role:" + name.removeprefix("dpf-s-")
    own = float(element.get("opacity", 1))
    for name in names:
        own = styles.opacity.get(name.removeprefix("dpf-"), own)
    transform = element.get("transform", "")
    move = re.fullmatch(r"translate\(([-\d.]+) ([-\d.]+)\)", transform)
    paint = replace(
        paint,
        fill=fill,
        stroke=stroke,
        fill_opacity=float(element.get("fill-opacity", paint.fill_opacity)),
        stroke_opacity=float(element.get("stroke-opacity", paint.stroke_opacity)),
        opacity=paint.opacity * own,
        dx=paint.dx + (float(move.group(1)) if move else 0.0),
        dy=paint.dy + (float(move.group(2)) if move else 0.0),
        rotated=paint.rotated or transform.startswith("rotate"),
        anchor=element.get("text-anchor", paint.anchor),
        font_size=float(element.get("font-size", paint.font_size)),
    )
    yield Drawn(element, paint)
    for child in element:
        yield from walk(child, styles, paint)


def colour(value: str, scheme: Scheme, styles: Styles) -> RGB | None:
    """The colour a fill/stroke value paints, None for none and patterns."""
    if value == "none" or value.startswith("url("):
        return None
    if value == "currentColor":
        return scheme.text
    if value.startswith("role:"):
        return styles.role(value.removeprefix("role:"), scheme)
    if value.startswith("#"):
        return hex_rgb(value)
    raise AssertionError(f"unexpected paint {value!r}")


# --- what lies under a point -----------------------------------------------------------------


def covers(drawn: Drawn, x: float, y: float) -> bool:
    e, p = drawn.element, drawn.paint
    tag = e.tag.removeprefix(NS)
    if tag == "rect":
        left, top = float(e.get("x", 0)) + p.dx, float(e.get("y", 0)) + p.dy
        w, h = float(e.get("width")), float(e.get("height"))
        return left <= x <= left + w and top <= y <= top + h
    if tag == "circle":
        cx, cy = float(e.get("cx")) + p.dx, float(e.get("cy")) + p.dy
        return (x - cx) ** 2 + (y - cy) ** 2 <= float(e.get("r")) ** 2
    return False


def pattern_lines(root: ET.Element, ref: str, scheme: Scheme, styles: Styles) -> tuple[RGB, float]:
    """The colour and opacity of a hatch pattern's lines."""
    ident = re.fullmatch(r"url\(#(.+)\)", ref).group(1)
    pattern = next(p for p in root.iter(NS + "pattern") if p.get("id") == ident)
    line = next(iter(pattern))
    alpha = float(line.get("opacity", 1)) * float(line.get("stroke-opacity", 1))
    return colour(line.get("stroke"), scheme, styles), alpha


def grounds(
    root: ET.Element, drawn: list[Drawn], index: int, scheme: Scheme, styles: Styles
) -> list[RGB]:
    """Colours around text ``drawn[index]``: the filled shapes drawn before it under its middle,
    and the lines of each hatch pattern over that ground (drawn before or after the text)."""
    x, y = text_middle(drawn[index])
    ground = scheme.ground
    hatches = []
    for k, shape in enumerate(drawn):
        if shape.paint.rotated or not covers(shape, x, y):
            continue
        fill = shape.paint.fill
        if fill.startswith("url("):
            hatches.append(pattern_lines(root, fill, scheme, styles))
            continue
        if k > index:
            continue
        rgb = colour(fill, scheme, styles)
        if rgb is not None:
            ground = over(rgb, shape.paint.fill_opacity * shape.paint.opacity, ground)
    return [ground] + [over(rgb, alpha, ground) for rgb, alpha in hatches]


def text_middle(drawn: Drawn) -> tuple[float, float]:
    """Roughly the middle of a text's box (there are no font metrics here)."""
    e, p = drawn.element, drawn.paint
    x, y = float(e.get("x", 0)) + p.dx, float(e.get("y", 0)) + p.dy
    width = 0.58 * p.font_size * len("".join(e.itertext()))
    x += {"start": width / 2, "middle": 0.0, "end": -width / 2}[p.anchor]
    if e.get("dy") != ".35em":  # baseline at y: the middle is about 0.35 em higher
        y -= 0.35 * p.font_size
    return x, y


# --- the checks ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    what: str
    contrast: float
    needed: float

    def __str__(self) -> str:
        return f"{self.what}: {self.contrast:.2f}:1, needs {self.needed}:1"


def describe(e: ET.Element) -> str:
    tag = e.tag.removeprefix(NS)
    label = "".join(e.itertext())[:30] if tag == "text" else e.get("class", "")
    return f"<{tag}> {label!r}".strip()


def audit(fig: Figure, scheme: Scheme) -> list[Finding]:
    """Every text and graphical object below its contrast threshold in ``scheme``."""
    root = ET.fromstring(fig.svg)
    styles = Styles.read(root)
    drawn = list(walk(root, styles, Paint(fill=root.get("fill"))))
    findings = []
    for index, item in enumerate(drawn):
        e, p = item.element, item.paint
        tag = e.tag.removeprefix(NS)
        if tag == "text" and "".join(e.itertext()).strip():
            rgb = colour(p.fill, scheme, styles)
            alpha = p.fill_opacity * p.opacity
            for ground in grounds(root, drawn, index, scheme, styles):
                c = ratio(over(rgb, alpha, ground), ground)
                if c < TEXT_RATIO:
                    findings.append(Finding(f"{scheme.name} text {describe(e)}", c, TEXT_RATIO))
            continue
        if tag in ("line", "path", "polyline", "circle", "rect") and p.stroke != "none":
            rgb = colour(p.stroke, scheme, styles)
            alpha = p.stroke_opacity * p.opacity
            if alpha < HAIRLINE:
                assert p.stroke == "currentColor", f"hairline in colour: {describe(e)}"
                continue
            c = ratio(over(rgb, alpha, scheme.ground), scheme.ground)
            if c < GRAPHIC_RATIO:
                findings.append(Finding(f"{scheme.name} line {describe(e)}", c, GRAPHIC_RATIO))
        if p.fill.startswith("role:") and p.fill_opacity * p.opacity > 0.99 and tag != "g":
            c = ratio(colour(p.fill, scheme, styles), scheme.ground)
            if c < GRAPHIC_RATIO:
                findings.append(Finding(f"{scheme.name} fill {describe(e)}", c, GRAPHIC_RATIO))
    return findings


# --- every kind of figure --------------------------------------------------------------------


def curves_history(n: int, shift: float) -> list[dict[str, float]]:
    return [
        {
            "epoch": e,
            "train_loss": 1 / (e + shift),
            "test_loss": 1.1 / (e + shift),
            "train_accuracy": 1 - 0.5 / (e + shift),
            "test_accuracy": 1 - 0.6 / (e + shift),
        }
        for e in range(1, n + 1)
    ]


def chapter_network() -> Figure:
    nn = NeuralNetwork(6, 3, 5, 0.1, bias=1, seed=0)
    return network_diagram_from(nn)


CM = np.array([[50, 3, 0, 1], [2, 47, 5, 0], [0, 9, 40, 2], [1, 0, 0, 60]])
FIGURES: dict[str, Callable[[], Figure]] = {
    "network": lambda: network_diagram((3, 5, 2), [[1], [0, 3], None], title="dropped"),
    "network_bias": lambda: network_diagram((2, 3, 1), None, bias=True),
    "network_big": lambda: network_diagram((784, 100, 10), [range(0, 784, 3), [5], None]),
    "network_from": chapter_network,
    "thinned": lambda: thinned_networks((4, 5, 3), (0.75, 0.5), count=3, seed=3),
    "matrix": lambda: weight_matrix(
        np.arange(-6, 6).reshape(3, 4), removed_rows=[2], removed_cols=[1], title="w"
    ),
    "matrix_hatched": lambda: weight_matrix(np.linspace(-1, 1, 30 * 20).reshape(30, 20)),
    "matrix_image": lambda: weight_matrix(np.linspace(-1, 1, 50 * 60).reshape(50, 60)),
    "steps": lambda: thinning_steps(np.arange(50).reshape(5, 10) - 25, [0, 2], [1, 3, 4]),
    "curves": lambda: learning_curves(
        {f"run {k}": curves_history(5, k / 3) for k in range(8)}, title="eight runs"
    ),
    "lines": lambda: line_chart(
        {f"series {k}": ([1, 10, 100], [k + 1, 2 * k + 3, 5 * k + 9]) for k in range(6)},
        x_label="width",
        y_label="seconds",
        log_x=True,
        log_y=True,
        title="six series",
    ),
    "confusion": lambda: confusion_matrix(CM, labels=list("abcd")),
    "confusion_normalized": lambda: confusion_matrix(CM, normalize=True),
    "digits": lambda: digit_grid(
        np.random.default_rng(0).integers(0, 256, (4, 28, 28), dtype=np.uint8),
        [1, 2, 3, 4],
        [1, 7, 3, 0],
    ),
}


@pytest.mark.parametrize("scheme", SCHEMES, ids=lambda s: s.name)
@pytest.mark.parametrize("name", FIGURES)
def test_figure_text_and_lines_reach_aa_contrast(name: str, scheme: Scheme) -> None:
    findings = Counter(map(str, audit(FIGURES[name](), scheme)))
    assert not findings, "\n".join(f"{n} x {what}" for what, n in findings.items())


def test_the_audit_catches_faint_text_and_lines() -> None:
    """The check itself: a figure with faint text and a faint line fails it in both schemes."""
    fig = network_diagram((2, 1))
    faint = fig.svg.replace("<text ", '<text opacity=".35" ', 1).replace(
        "<line ", '<line stroke="currentColor" stroke-opacity=".25" ', 1
    )
    for scheme in SCHEMES:
        kinds = {f.what.split()[1] for f in audit(Figure(faint, **vars_of(fig)), scheme)}
        assert kinds == {"text", "line"}, scheme.name


def vars_of(fig: Figure) -> dict[str, object]:
    return {"kind": fig.kind, "title": fig.title, "width": fig.width, "height": fig.height}
