"""Formulas, paper and phones: KaTeX typesetting, the print stylesheet, a 390 px wide screen."""

from __future__ import annotations

from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

MATHS_PAGE = "dropout/"
READY = ".dp-toolbar[data-runtime=ready]"
PHONE = {"width": 390, "height": 844}

# For every box that shows code or output: scrolled to its far right, where its last glyph ends
# and where its visible area ends (MathML for screen readers is laid out off-screen: skipped).
GLYPH_ENDS = """() => {
  const boxes = document.querySelectorAll(
    '.md-content pre > code, .md-content .cm-scroller, .md-content pre.dp-out, ' +
    '.md-content .dp-rich, .md-content div.arithmatex');
  return [...boxes].map((box) => {
    box.scrollLeft = box.scrollWidth;
    const rect = box.getBoundingClientRect();
    const visibleRight = rect.left + box.clientLeft + box.clientWidth;
    let glyphRight = 0;
    const range = document.createRange();
    const texts = document.createTreeWalker(box, NodeFilter.SHOW_TEXT);
    while (texts.nextNode()) {
      const node = texts.currentNode;
      if (!node.textContent.trim() || node.parentElement.closest('.katex-mathml')) continue;
      range.selectNodeContents(node);
      for (const r of range.getClientRects()) glyphRight = Math.max(glyphRight, r.right);
    }
    box.scrollLeft = 0;
    return {name: box.className || box.tagName, glyphRight, visibleRight};
  });
}"""


def luminance(css_colour: str) -> float:
    """Mean of the RGB channels of ``rgb(...)``/``rgba(...)``, 0 (black) to 1 (white)."""
    channels = css_colour[css_colour.index("(") + 1 : -1].split(",")[:3]
    return sum(float(c) for c in channels) / 765


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_formulas_are_typeset_from_the_site_itself(browser, server, scheme: str) -> None:
    base, _ = server
    ctx = browser.new_context(color_scheme=scheme)
    requests: list[str] = []
    ctx.on("request", lambda request: requests.append(request.url))
    page = ctx.new_page()
    page.goto(base + MATHS_PAGE)
    page.wait_for_load_state("load")
    page.evaluate("document.fonts.ready")
    assert page.locator(".katex").count() >= 5
    assert page.locator(".katex-error").count() == 0
    display = page.locator(".katex-display").first
    assert display.is_visible() and display.bounding_box()["width"] > 150
    assert "tilde" in display.locator("math annotation").text_content()  # TeX kept in MathML
    assert page.evaluate("document.fonts.check('16px KaTeX_Main')")
    fonts = [u for u in requests if u.endswith(".woff2")]
    assert fonts and all(u.startswith(base + "assets/katex/fonts/") for u in fonts)
    assert [u for u in requests if not u.startswith(base)] == []
    maths_colour, text_colour, ground = display.evaluate(
        "el => [getComputedStyle(el).color, getComputedStyle(el.closest('.md-typeset')).color,"
        " getComputedStyle(document.body).backgroundColor]"
    )
    ctx.close()
    assert maths_colour == text_colour  # the formula follows the scheme like the text around it
    assert abs(luminance(maths_colour) - luminance(ground)) > 0.5  # and stands out from the ground


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_print_shows_outputs_and_figures_but_no_buttons(browser, server, scheme: str) -> None:
    base, _ = server
    ctx = browser.new_context(color_scheme=scheme)
    page = ctx.new_page()
    page.goto(base + "fast-trainer/")
    page.wait_for_selector(READY, state="attached", timeout=60_000)
    page.locator(".dp-cell .cm-content").first.click()  # a focused editor with a cursor
    page.emulate_media(media="print")
    for selector in (".dp-toolbar", ".dp-run", ".dp-notebook", ".md-code__button", ".cm-cursor"):
        hidden = [not el.is_visible() for el in page.locator(selector).all()]
        assert hidden and all(hidden), selector
    outputs = page.locator(".dp-cell-output")
    assert outputs.count() == page.locator(".dp-cell").count()
    # Every output prints, except those of solutions folded away (print does not unfold them).
    shown = page.locator(".dp-cell-output:not(details:not([open]) .dp-cell-output)")
    assert shown.count() > 0
    assert all(out.is_visible() for out in shown.all())
    figure = page.locator(".dp-cell-output svg.dpf-fig").first
    assert figure.is_visible() and figure.bounding_box()["width"] > 300
    assert page.locator(".cm-content").first.evaluate("e => getComputedStyle(e).whiteSpace") == (
        "pre-wrap"
    )
    text, ground = page.evaluate(
        "[getComputedStyle(document.querySelector('.md-typeset')).color,"
        " getComputedStyle(document.body).backgroundColor]"
    )
    ctx.close()
    assert luminance(text) < 0.35 and luminance(ground) > 0.95  # dark on white, either scheme


@pytest.mark.parametrize("path", ["dropout/", "fast-trainer/", "native/"])
def test_phone_width_keeps_every_line_end_reachable(
    browser, server, artifacts: Path, path: str
) -> None:
    base, _ = server
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    page.goto(base + path)
    if page.locator(".dp-toolbar").count():
        page.wait_for_selector(READY, timeout=60_000)  # the editors replaced the static code
        assert page.locator(".cm-scroller").count() >= 1
        toolbar = page.locator(".dp-toolbar").evaluate("e => getComputedStyle(e).position")
        assert toolbar == "static"  # three rows of buttons must not cover the cells
    width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width[0] <= width[1]  # nothing widens the page: wide content scrolls in its own box
    ends = page.evaluate(GLYPH_ENDS)
    assert ends
    cut = [e for e in ends if e["glyphRight"] > e["visibleRight"] + 1]
    assert cut == []
    page.screenshot(path=str(artifacts / f"phone-{path.strip('/')}.png"), full_page=True)
    ctx.close()
