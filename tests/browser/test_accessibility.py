"""Accessibility of the built site: axe-core on every page, and the cells by keyboard alone.

* Every built page, once Python is ready and the editors are in place, has no WCAG 2.0/2.1 A or
  AA violation in the dark scheme (from the reader's system preference) and the light one (from
  the header's toggle), 1280 and 390 px wide.
* The same audit after "Run all" runs inside ``test_site_browser.py``'s run-all test, which
  already runs every page's cells (running them twice would double the suite's time).
* A keyboard-only walk through one page: Tab order, visible focus, leaving an editor, running,
  stopping and restarting; and screenshots in both schemes at both widths, a focus ring in view.

The figures' own colours (SVG: axe does not check them) are tested in test_figure_contrast.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from a11y_helpers import assert_no_violations, scheme_of, set_scheme, settle, wait_until_ready
from site_helpers import REPO

pytestmark = pytest.mark.browser

WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 390, "height": 844}
KEYBOARD_PAGE = "thinning/"  # six quick cells and two in solutions, numpy and dropout_py only
IDLE = (
    "() => !document.querySelector("
    "'.dp-cell[data-cell-state=queued], .dp-cell[data-cell-state=running]')"
)


def site_pages() -> list[str]:
    """URL paths of every page the site builds: one per Markdown file, and the 404 page."""
    pages = []
    for md in sorted((REPO / "docs").rglob("*.md")):
        rel = md.relative_to(REPO / "docs").with_suffix("")
        parts = rel.parts[:-1] if rel.name == "index" else rel.parts
        pages.append("".join(f"{p}/" for p in parts))
    return [*pages, "404.html"]


def test_the_audit_covers_every_built_page(site_dir: Path) -> None:
    built = {
        "" if p.parent == site_dir else p.parent.relative_to(site_dir).as_posix() + "/"
        for p in site_dir.rglob("index.html")
        if p.parent.relative_to(site_dir).parts[:1] not in (("assets",), ("search",))
    }
    assert (site_dir / "404.html").is_file()
    assert {*built, "404.html"} == set(site_pages())


@pytest.mark.parametrize("path", site_pages())
def test_no_axe_violations_once_python_is_ready(browser, server, path: str) -> None:
    base, _ = server
    ctx = browser.new_context(color_scheme="dark", viewport=WIDE)
    ctx.set_default_timeout(60_000)
    try:
        page = ctx.new_page()
        page.goto(base + path)
        wait_until_ready(page)
        assert scheme_of(page) == "dark"  # the system preference chose the palette
        for viewport, schemes in ((WIDE, ("dark", "light")), (NARROW, ("light", "dark"))):
            page.set_viewport_size(viewport)
            for scheme in schemes:
                set_scheme(page, scheme)
                assert_no_violations(page, f"/{path} ({scheme}, {viewport['width']} px)")
    finally:
        ctx.close()


# --- keyboard only ----------------------------------------------------------------------------

FOCUSED = """() => {
  const el = document.activeElement;
  const ring = el.closest(".cm-editor") ?? el; // an editor shows its focus on its frame
  const style = getComputedStyle(ring);
  const box = ring.getBoundingClientRect();
  const hit = document.elementFromPoint(box.x + box.width / 2, box.y + Math.min(box.height / 2, 8));
  return {
    name: el.getAttribute("aria-label") ?? el.textContent.trim().slice(0, 40),
    tag: el.tagName.toLowerCase(),
    ring: style.outlineStyle !== "none" && parseFloat(style.outlineWidth) >= 1,
    seen: ring.contains(hit), // scrolled into view, not under the sticky header or toolbar
  };
}"""


SHOWN_CELLS = """() => [...document.querySelectorAll(".dp-cell")]
  .filter((cell) => !cell.closest("details:not([open])")).length"""


def focused(page) -> dict:
    settle(page)  # e.g. the search overlay fading out after the focus left the search field
    return page.evaluate(FOCUSED)


def press_until(page, key: str, name: str, limit: int = 80) -> list[dict]:
    """Press ``key`` until the element named ``name`` has the focus; return every stop."""
    stops = []
    for _ in range(limit):
        page.keyboard.press(key)
        stops.append(focused(page))
        if stops[-1]["name"] == name:
            return stops
    raise AssertionError(f"{key} never reached {name!r}; stops: {[s['name'] for s in stops]}")


def cell(page, number: int):
    return page.locator(".dp-cell").nth(number - 1)


def test_keyboard_only_walk_through_a_page(context, server) -> None:
    ctx, _ = context
    base, _ = server
    page = ctx.new_page()
    page.goto(base + KEYBOARD_PAGE)
    wait_until_ready(page)
    total = page.locator(".dp-cell").count()
    count = page.evaluate(SHOWN_CELLS)  # the others are in solutions, folded away
    assert 0 < count < total, (count, total)
    status = page.locator(".dp-status")
    assert status.get_attribute("role") == "status" and status.get_attribute("aria-live")
    assert cell(page, 1).locator(".dp-cell-output").get_attribute("aria-live") == "polite"

    # Tab order: the toolbar, then each cell's editor and Run button, in page order; Tab does not
    # get stuck in an editor reached by Tab, and every control shows a focus ring.
    press_until(page, "Tab", "Run all")
    stops = press_until(page, "Tab", f"Run cell {count}")
    controls = [s["name"] for s in stops if s["name"].startswith(("Python cell", "Run", "Rest"))]
    expected = ["Restart"]  # Stop is disabled while nothing runs
    for n in range(1, count + 1):
        expected += [f"Python cell {n}", f"Run cell {n}"]
    assert controls == expected
    assert all(s["ring"] and s["seen"] for s in stops if s["name"] in expected), stops

    # A folded solution opens from the keyboard, and its cell joins the Tab order.
    press_until(page, "Tab", "Solution")
    page.keyboard.press("Enter")
    solution = [f"Python cell {count + 1}", f"Run cell {count + 1}"]
    stops = press_until(page, "Tab", solution[1], limit=2)
    assert [s["name"] for s in stops] == solution
    assert all(s["ring"] and s["seen"] for s in stops), stops

    # In an editor the reader has typed in, Tab indents; Escape leaves for the Run button.
    press_until(page, "Shift+Tab", "Python cell 1", limit=3 * total + 20)
    original = cell(page, 1).locator(".cm-content").inner_text()
    page.keyboard.press("Control+a")
    page.keyboard.type("print('typed')")
    page.keyboard.press("Home")
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "Python cell 1"
    assert cell(page, 1).locator(".cm-content").inner_text() == "    print('typed')"
    page.keyboard.press("Shift+Tab")  # dedent
    page.keyboard.press("Escape")
    assert focused(page)["name"] == "Run cell 1"

    # Enter on a Run button runs its cell; Shift+Enter in an editor runs it and moves on.
    page.keyboard.press("Enter")
    page.wait_for_function(IDLE)
    assert cell(page, 1).get_attribute("data-cell-state") == "done"
    assert cell(page, 1).locator(".dp-cell-output").inner_text().strip() == "typed"
    assert status.inner_text() == "Cell 1 finished."
    page.keyboard.press("Shift+Tab")
    assert focused(page)["name"] == "Python cell 1"
    page.keyboard.press("Control+a")
    page.keyboard.type("while True: pass")
    page.keyboard.press("Shift+Enter")
    page.wait_for_selector(".dp-cell[data-cell-state=running]")
    assert focused(page)["name"] == "Python cell 2"
    output = cell(page, 1).locator(".dp-cell-output")
    assert output.get_attribute("aria-busy") == "true"
    assert status.inner_text() == "Running cell 1…"

    # Back to the toolbar's Stop, still by keyboard; the focus stays in the toolbar afterwards.
    stops = press_until(page, "Shift+Tab", "Stop", limit=3 * total + 20)
    assert all(s["ring"] and s["seen"] for s in stops if s["name"] in expected), stops
    page.keyboard.press("Enter")
    page.wait_for_function(IDLE)
    assert cell(page, 1).get_attribute("data-cell-state") == "error"
    assert "KeyboardInterrupt" in output.inner_text()
    assert output.get_attribute("aria-busy") is None
    assert status.inner_text() == "Cell 1 was stopped."
    assert focused(page)["name"] == "Run all"  # Stop is disabled again: focus moved next door

    # Restart: Tab to it (Stop is skipped), Enter; original code, fresh Python.
    page.keyboard.press("Tab")
    assert focused(page)["name"] == "Restart"
    page.keyboard.press("Enter")
    page.wait_for_selector(".dp-toolbar[data-runtime=ready]")
    assert cell(page, 1).locator(".cm-content").inner_text() == original
    assert cell(page, 1).get_attribute("data-cell-state") == "idle"
    assert output.get_attribute("aria-live") == "polite"
    assert focused(page)["name"] == "Restart"


def test_screenshots_with_a_focus_ring(browser, server, artifacts: Path) -> None:
    """390 and 1280 px, light and dark: a Run button focused from the keyboard, in view."""
    base, _ = server
    for scheme in ("light", "dark"):
        ctx = browser.new_context(color_scheme=scheme, viewport=WIDE)
        ctx.set_default_timeout(60_000)
        page = ctx.new_page()
        page.goto(base + KEYBOARD_PAGE)
        wait_until_ready(page)
        for viewport in (WIDE, NARROW):
            page.set_viewport_size(viewport)
            page.locator(".dp-cell .cm-content").nth(1).focus()
            page.keyboard.press("Escape")  # keyboard focus: the ring is :focus-visible
            assert focused(page) == {
                "name": "Run cell 2",
                "tag": "button",
                "ring": True,
                "seen": True,
            }
            page.evaluate("document.activeElement.scrollIntoView({block: 'center'})")
            set_scheme(page, scheme)
            name = f"a11y-{KEYBOARD_PAGE.strip('/')}-{scheme}-{viewport['width']}.png"
            page.screenshot(path=str(artifacts / name))
        ctx.close()
