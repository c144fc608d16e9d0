"""Code fits its box: no cell's editor scrolls sideways at 1280 px (cells follow docs/ruff.toml)."""

from __future__ import annotations

import pytest
from site_helpers import cell_pages

pytestmark = pytest.mark.browser

OVERFLOWING = """() => [...document.querySelectorAll('.dp-cell')].flatMap((cell, i) => {
  const box = cell.querySelector('.cm-scroller');
  return box.scrollWidth > box.clientWidth ? [[i + 1, box.scrollWidth, box.clientWidth]] : [];
})"""


@pytest.mark.parametrize("width", [1280, 1920])
def test_no_cell_scrolls_sideways(browser, server, width: int) -> None:
    base, _ = server
    ctx = browser.new_context(viewport={"width": width, "height": 900})
    page = ctx.new_page()
    overflowing = {}
    for path in cell_pages():
        page.goto(base + path)
        # The exercises' solutions unfolded: their cells must fit the narrower nested box too.
        page.evaluate("document.querySelectorAll('details').forEach((d) => { d.open = true; })")
        # Focus loads the editors without waiting for Python (if they are not there already).
        page.evaluate("document.querySelector('.dp-cell-code')?.focus()")
        page.wait_for_function(
            "() => document.querySelectorAll('.dp-cell .cm-scroller').length"
            " === document.querySelectorAll('.dp-cell').length",
            timeout=60_000,
        )
        found = page.evaluate(OVERFLOWING)
        if found:
            overflowing[path or "home"] = found  # [cell number, scrollWidth, clientWidth]
    ctx.close()
    assert overflowing == {}
