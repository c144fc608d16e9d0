"""Live controls in the browser: labelled, keyboard and touch operable, re-running their cell.

The page is "What dropout does": cell 2 is the thinned-network explorable (sliders ``keep`` and
``draw``), cell 4 the small MNIST comparison (slider ``keep_hidden``, select ``seed``). What a move
does to the reader's own edits is defined in ``web/controls.js``: only the value in the
declaring line changes, everything else the reader typed stays and runs; a declaring line the
reader removed cannot be set, and the page says so instead of running.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from a11y_helpers import set_scheme, settle, wait_until_ready

pytestmark = pytest.mark.browser

PAGE = "dropout/"
KEEP = "keep probability p"
WIDE = {"width": 1280, "height": 900}
NARROW = {"width": 390, "height": 844}
# Cell 2 finished running and nothing else runs or waits.
SETTLED = (
    "() => document.querySelectorAll('.dp-cell')[1].dataset.cellState === 'done' && "
    "!document.querySelector('.dp-cell[data-cell-state=queued], .dp-cell[data-cell-state=running]')"
)


def open_page(ctx, base: str):
    page = ctx.new_page()
    page.goto(base + PAGE)
    wait_until_ready(page)
    return page


def explorable(page):
    return page.locator(".dp-cell").nth(1)


def code_of(cell) -> str:
    return cell.locator(".cm-content").inner_text()


def numbers(cell) -> dict[str, float]:
    """The four numbers the explorable prints, by the start of their line."""
    text = cell.locator(".dp-cell-output .dp-stdout").inner_text()
    lines = re.finditer(r"^(full|this|expected|mean)[^:]*:\s+(\S+)", text, re.M)
    return {m[1]: float(m[2]) for m in lines}


def wait_for_output(page, cell, text: str) -> None:
    """Wait until the cell settled with ``text`` in its output (the new run's)."""
    cell.locator(".dp-cell-output", has_text=text).wait_for()
    page.wait_for_function(SETTLED)


def test_controls_render_labelled_with_their_values(context, server, site_dir: Path) -> None:
    built = (site_dir / "dropout" / "index.html").read_text()
    assert built.count('class="dp-controls"') == 2
    fields = re.findall(r"<(?:input|select)[^>]*data-name[^>]*>", built)
    assert len(fields) == 4 and all("disabled" in tag for tag in fields)
    ctx, requests = context
    base, _ = server
    page = open_page(ctx, base)
    group = page.get_by_role("group", name=f"Parameters of this cell: {KEEP}, random draw")
    keep = group.get_by_role("slider", name=KEEP)  # named by its <label>, for screen readers
    draw = group.get_by_role("slider", name="random draw")
    assert keep.is_enabled() and draw.is_enabled()
    assert keep.get_attribute("aria-valuenow") is None  # the native value is what is read out
    assert keep.input_value() == "0.5" and draw.input_value() == "1"
    values = explorable(page).locator(".dp-control-value")
    assert values.all_inner_texts() == ["0.5", "1"]
    names = "Parameters of this cell: keep probability, hidden, seed"
    comparison = page.get_by_role("group", name=names)
    assert comparison.get_by_role("combobox", name="seed").input_value() == "1"
    assert explorable(page).locator(".dp-cell-output").get_attribute("aria-live") == "polite"
    assert requests.foreign(base) == []


def test_arrow_keys_change_the_value_and_rerun_the_cell(context, server) -> None:
    ctx, requests = context
    base, _ = server
    page = open_page(ctx, base)
    cell = explorable(page)
    built = numbers(cell)
    keep = page.get_by_role("slider", name=KEEP)
    keep.focus()
    page.keyboard.press("ArrowRight")
    assert cell.locator(".dp-control-value").first.inner_text() == "0.6"  # at once
    wait_for_output(page, cell, "kept with p = 0.6")
    assert 'keep = 0.6  # slider 0.1..1.0 step 0.1 "keep probability p"' in code_of(cell)
    now = numbers(cell)
    assert now["full"] == built["full"]
    assert now["expected"] == pytest.approx(0.6 * built["full"], abs=1e-3)
    assert now["mean"] == pytest.approx(now["expected"], abs=0.01)
    # The re-run replaced the output: one figure, one block of printed lines, the new ones.
    output = cell.locator(".dp-cell-output")
    assert output.locator("svg").count() == 1 and output.locator(".dp-stdout").count() == 1
    assert "p = 0.5" not in output.inner_text()
    assert page.locator(".dp-status").inner_text() == "Cell 2 finished."
    assert page.evaluate("document.activeElement.dataset.name") == "keep"  # focus stays

    # Two presses in quick succession: the first runs at once, the second (debounced) replaces
    # that run; what stays is the output for 0.4.
    page.keyboard.press("ArrowLeft")
    page.keyboard.press("ArrowLeft")
    wait_for_output(page, cell, "kept with p = 0.4")
    assert "keep = 0.4  #" in code_of(cell)
    assert numbers(cell)["expected"] == pytest.approx(0.4 * built["full"], abs=1e-3)

    # A select by keyboard: the seed of the MNIST comparison sets its line and starts training.
    comparison = page.locator(".dp-cell").nth(3)
    seed = page.get_by_role("combobox", name="seed")
    seed.focus()
    page.keyboard.press("ArrowDown")
    assert seed.input_value() == "2"
    comparison.locator(".cm-content", has_text="seed = 2  #").wait_for()
    page.wait_for_selector(".dp-cell[data-cell-state=running]")
    page.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_function("() => !document.querySelector('.dp-cell[data-cell-state=running]')")
    assert requests.foreign(base) == []


def test_a_move_replaces_a_run_in_flight_and_keeps_the_readers_edits(context, server) -> None:
    """The reader appended two lines, the second of which never ends: a later move must not wait
    behind that run, its rest must not show (no KeyboardInterrupt), and the lines must stay."""
    ctx, _ = context
    base, _ = server
    page = open_page(ctx, base)
    cell = explorable(page)
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type('\nprint("the reader was here")\nwhile True: pass')
    keep = page.get_by_role("slider", name=KEEP)
    keep.focus()
    page.keyboard.press("ArrowRight")
    cell.locator(".dp-cell-output", has_text="the reader was here").wait_for()
    assert "kept with p = 0.6" in cell.locator(".dp-cell-output").inner_text()
    assert cell.get_attribute("data-cell-state") == "running"  # in the endless loop

    page.keyboard.press("ArrowRight")
    cell.locator(".dp-cell-output", has_text="kept with p = 0.7").wait_for()
    output = cell.locator(".dp-cell-output")
    assert cell.get_attribute("data-cell-state") == "running"  # the new run, in its loop
    assert "the reader was here" in output.inner_text()
    assert "KeyboardInterrupt" not in output.inner_text()
    assert output.locator("svg").count() == 1
    code = code_of(cell)
    assert "keep = 0.7  #" in code and code.rstrip().endswith("while True: pass")
    assert 'print("the reader was here")' in code

    page.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_function("() => !document.querySelector('.dp-cell[data-cell-state=running]')")
    # Stop still says what it did (restarting Python if it did not react in time: a loaded
    # machine can miss the grace period).
    assert re.search(r"KeyboardInterrupt|Stopped\. Python was restarted", output.inner_text())


def test_stop_right_after_a_replacing_move_stops_everything(context, server) -> None:
    ctx, _ = context
    base, _ = server
    page = open_page(ctx, base)
    cell = explorable(page)
    cell.locator(".cm-content").click()
    page.keyboard.press("Control+End")
    page.keyboard.type("\nwhile True: pass")
    keep = page.get_by_role("slider", name=KEEP)
    keep.press("ArrowRight")
    cell.locator(".dp-cell-output", has_text="kept with p = 0.6").wait_for()
    keep.press("ArrowRight")  # replaces the endless run...
    page.get_by_role("button", name="Stop", exact=True).click()  # ...and is stopped at once
    page.wait_for_function(
        "() => !document.querySelector('.dp-cell[data-cell-state=queued], "
        ".dp-cell[data-cell-state=running]')"
    )
    assert cell.get_attribute("data-cell-state") == "error"
    assert page.get_by_role("button", name="Stop", exact=True).is_disabled()
    text = cell.locator(".dp-cell-output").inner_text()
    assert re.search(r"KeyboardInterrupt|Stopped\. Python was restarted", text)
    page.wait_for_timeout(2_500)  # past the grace period: nothing starts again on its own
    assert cell.get_attribute("data-cell-state") == "error"


def test_a_removed_parameter_line_is_reported_not_run(context, server) -> None:
    ctx, _ = context
    base, _ = server
    page = open_page(ctx, base)
    cell = explorable(page)
    line = cell.locator(".cm-line", has_text="draw = 1")
    line.click()
    page.keyboard.press("Home")
    page.keyboard.press("Shift+End")
    page.keyboard.type("n_draws = 1")
    before = cell.locator(".dp-cell-output").inner_html()
    page.get_by_role("slider", name="random draw").press("ArrowRight")
    status = page.locator(".dp-status")
    status.filter(has_text='Cell 2 has no line "draw = …" left to set').wait_for()
    settle(page)
    assert cell.get_attribute("data-cell-state") == "idle"
    assert cell.locator(".dp-cell-output").inner_html() == before
    assert "n_draws = 1" in code_of(cell)


def test_run_and_restart_keep_controls_and_code_in_step(context, server) -> None:
    ctx, _ = context
    base, _ = server
    page = open_page(ctx, base)
    cell = explorable(page)
    cell.locator(".cm-line", has_text="keep = 0.5").click()
    page.keyboard.press("End")
    page.keyboard.type("  # chosen by hand")  # a comment of the reader's own...
    page.keyboard.press("Home")
    page.keyboard.press("Shift+End")
    page.keyboard.type("keep = 0.3")  # ...then the value typed by hand
    page.get_by_role("button", name="Run cell 2").click()
    wait_for_output(page, cell, "kept with p = 0.3")
    keep = page.get_by_role("slider", name=KEEP)
    assert keep.input_value() == "0.3"
    assert cell.locator(".dp-control-value").first.inner_text() == "0.3"
    page.get_by_role("button", name="Restart").click()
    page.wait_for_selector(".dp-toolbar[data-runtime=ready]")
    assert keep.input_value() == "0.5"
    assert cell.locator(".dp-control-value").first.inner_text() == "0.5"
    assert "keep = 0.5  # slider" in code_of(cell)


def test_a_tap_on_the_slider_sets_the_value_and_reruns(browser, server) -> None:
    base, _ = server
    ctx = browser.new_context(viewport=NARROW, has_touch=True, is_mobile=True)
    ctx.set_default_timeout(60_000)
    try:
        page = open_page(ctx, base)
        keep = page.get_by_role("slider", name=KEEP)
        keep.scroll_into_view_if_needed()
        box = keep.bounding_box()
        page.touchscreen.tap(box["x"] + box["width"] - 2, box["y"] + box["height"] / 2)
        wait_for_output(page, explorable(page), "kept with p = 1.0")
        assert keep.input_value() == "1"
        assert "keep = 1.0  #" in code_of(explorable(page))  # a float stays a float
    finally:
        ctx.close()


def test_screenshots_of_the_controls(browser, server, artifacts: Path) -> None:
    """390 and 1280 px, light and dark: the explorable after a move, its slider focused."""
    base, _ = server
    for scheme in ("light", "dark"):
        ctx = browser.new_context(color_scheme=scheme, viewport=WIDE)
        ctx.set_default_timeout(60_000)
        try:
            page = open_page(ctx, base)
            keep = page.get_by_role("slider", name=KEEP)
            keep.focus()
            page.keyboard.press("ArrowLeft")
            wait_for_output(page, explorable(page), "kept with p = 0.4")
            for viewport in (WIDE, NARROW):
                page.set_viewport_size(viewport)
                set_scheme(page, scheme)
                keep.focus()
                page.evaluate("document.activeElement.scrollIntoView({block: 'start'})")
                page.evaluate("window.scrollBy(0, -160)")  # below the header and toolbar
                settle(page)
                box = page.locator(".dp-controls").first.bounding_box()
                assert box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"]
                name = f"controls-{PAGE.strip('/')}-{scheme}-{viewport['width']}.png"
                page.screenshot(path=str(artifacts / name))
        finally:
            ctx.close()
