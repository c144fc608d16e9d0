"""hooks/controls.py: parameter lines of a run cell become controls; bad ones fail the build."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from test_cells_hook import build

from hooks.controls import ControlError, parse_controls, render_controls

REPO = Path(__file__).resolve().parents[1]


def test_sliders_and_choices_are_read_with_their_labels() -> None:
    source = (
        "import numpy as np\n"
        'keep = 0.5  # slider 0.1..1.0 step 0.1 "keep probability p"\n'
        "    inner = 1  # slider 0..2 step 1\n"  # indented: not a parameter of the cell
        "seed = 3  # choose 1|2|3\n"
        'act = "relu"  # choose sigmoid|relu "activation"\n'
        "rate = 0.05  # slider 0.05..1.0 step 0.05\n"
    )
    keep, seed, act, rate = parse_controls(source)
    assert (keep.name, keep.kind, keep.label, keep.default, keep.line) == (
        "keep", "slider", "keep probability p", "0.5", 1,
    )  # fmt: skip
    assert (keep.low, keep.high, keep.step, keep.decimals) == ("0.1", "1.0", "0.1", 1)
    assert (seed.label, seed.options, seed.default) == ("seed", ("1", "2", "3"), "3")
    assert act.options == ('"sigmoid"', '"relu"') and act.label == "activation"
    assert rate.decimals == 2


@pytest.mark.parametrize(
    ("line", "says"),
    [
        ("k = 0.55  # slider 0.1..1.0 step 0.1", "not on the grid"),
        ("k = 2  # slider 0..1 step 0.5", "not on the grid"),
        ("k = 0.5  # slider 0..1", "slider MIN..MAX step STEP"),
        ("k = 0.5  # slider 1..0 step 0.5", "MIN < MAX"),
        ("k = 0.5  # slider 0..1 step 0.3", "whole number of steps"),
        ("k = 1  # slider 0..100000 step 1", "at most 1000"),
        ("k = x  # slider 0..1 step 0.5", "must be a number"),
        ("k = 4  # choose 1|2|3", "not one of the options"),
        ("k = 1  # choose 1", "choose A|B"),
        ("k = 1  # choose 1|a", "must be a number"),
        ('k = "a"  # choose a|b c', "letters, digits"),
        ("k = 1  # choose 1|1|2", "listed twice"),
        ("k = 1  # choose 1|2\nk = 2  # choose 1|2", "declared as a control twice"),
    ],
)
def test_a_malformed_declaration_says_what_is_wrong(line: str, says: str) -> None:
    with pytest.raises(ControlError, match=re.escape(says)):
        parse_controls(line)


def test_the_html_labels_every_control_and_leaves_it_disabled() -> None:
    controls = parse_controls('keep = 0.5  # slider 0.1..1.0 step 0.1 "p"\nseed = 1  # choose 1|2')
    page = render_controls(controls)
    assert page.startswith('<div class="dp-controls" role="group"')
    assert 'aria-label="Parameters of this cell: p, seed"' in page
    # Each field sits inside its <label> (named without ids), disabled until the script runs.
    fields = re.findall(r"<label>(.*?)</label>", page)
    assert len(fields) == 2 and all("disabled" in f for f in fields)
    assert '<input type="range" min="0.1" max="1.0" step="0.1" value="0.5"' in fields[0]
    assert '<option value="1" selected>1</option><option value="2">2</option>' in fields[1]
    assert '<output class="dp-control-value" aria-hidden="true">0.5</output>' in page
    assert render_controls([]) == ""


def test_a_cell_with_a_slider_is_built_with_its_controls_and_the_default_output(
    tmp_path: Path,
) -> None:
    page = '# T\n\n```python run\nkeep = 0.3  # slider 0.1..1.0 step 0.1\nprint("p", keep)\n```\n'
    proc = build(tmp_path, page)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "site" / "index.html").read_text()
    assert html.count('class="dp-controls"') == 1
    assert html.index('class="dp-controls"') < html.index('class="dp-cell-code"')
    assert '<pre class="dp-out dp-stdout">p 0.3\n</pre>' in html


def test_a_malformed_control_fails_the_build_naming_it(tmp_path: Path) -> None:
    proc = build(tmp_path, "# T\n\n```python run\nkeep = 7  # slider 0..1 step 0.5\n```\n")
    assert proc.returncode != 0
    assert "keep: the default 7 is not on the grid" in proc.stderr


def test_at_least_three_cells_of_the_site_have_controls() -> None:
    cells = []
    for md in sorted((REPO / "docs").glob("*.md")):
        for block in re.findall(r"```python run[^\n]*\n(.*?)```", md.read_text(), re.S):
            if parse_controls(block):
                cells.append(md.name)
    assert len(cells) >= 3, cells
