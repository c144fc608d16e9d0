"""Key outputs of each page's cells after "Run all" in the browser.

``EXPECTED[page][cell number]`` lists strings the cell's live output must contain (cells are
numbered from 1 in page order; the page is its URL path, ``""`` for the home page). A page with
cells but no entry here is still run and every cell must finish; add the strings that prove it
computed the right thing (a printed shape, an accuracy line...). ``RICH[page]`` lists cells that
must show a rich (SVG/HTML) output.
"""

from __future__ import annotations

EXPECTED: dict[str, dict[int, list[str]]] = {
    "": {
        1: ["is ready"],
        2: ["kept nodes:"],
    },
    "demo/": {
        1: ["step 0\nstep 1\nstep 2"],
        3: ["three updates, one picture"],
        4: ['File "<cell 4>", line 7', "ValueError: keep fraction must be in (0, 1], got 1.5"],
        5: ["dropout_py 0.1.0", "(3, 3)"],
        6: ["(10000, 784) (2000, 784) [5 0 4 1 9 2 1 3 1 4]"],
    },
    "demo-scipy/": {
        1: ["[0.018 0.119 0.5   0.881 0.982]"],
        2: ["0.0"],
    },
}

RICH: dict[str, list[int]] = {
    "demo/": [2, 3],
}
