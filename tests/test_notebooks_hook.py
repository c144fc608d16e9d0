"""hooks/notebooks.py without MkDocs: a page's Markdown and cell results into a notebook."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
from mkdocs.exceptions import PluginError

from hooks import notebooks

REPO = Path(__file__).resolve().parents[1]
WHEEL = "https://example.org/site/pyodide/dropout_py-0.1.0-py3-none-any.whl"


PAGE = """# Title

Text with $p$ and a [link](other.md#part).

```python run
print("one")
```

!!! note "Keep in mind"
    Quoted text.

```python
static = "not a cell"
```

??? question "Exercise"
    Do something.

??? success "Solution"
    It works like this:

    ```python run
    1 / 0
    ```

??? tip "A hint"
    Hidden words only.
"""


def ran(source: str, outputs: list, expect_error: bool = False) -> dict:
    return {"source": source, "expect_error": expect_error, "ok": not expect_error,
            "seconds": 0.1, "outputs": outputs}  # fmt: skip


RUN_CELLS = [
    ran('print("one")', [{"type": "stream", "name": "stdout", "text": "o\rone\n"}]),
    ran(
        "1 / 0",
        [
            {
                "type": "error",
                "ename": "ZeroDivisionError",
                "traceback": 'Traceback:\n  File "<cell 2>"\nZeroDivisionError: division by zero\n',
            }
        ],
        expect_error=True,
    ),
]


def build(page: str = PAGE, cells: list | None = None):
    def link(line: str) -> str:
        return line.replace("(other.md#part)", "(https://example.org/site/other/#part)")

    return notebooks.build_notebook(
        page, RUN_CELLS if cells is None else cells, link, WHEEL, "p.md"
    )


def test_the_first_cell_installs_the_sites_wheel() -> None:
    first = build().cells[0]
    assert first.cell_type == "code" and first.metadata["tags"] == ["install"]
    assert f"%pip install {WHEEL}" in first.source
    assert first.outputs == []


def test_markdown_and_cells_keep_the_page_order_with_the_build_outputs() -> None:
    nb = build()
    nbformat.validate(nb)
    kinds = [c.cell_type for c in nb.cells]
    assert kinds == ["code", "markdown", "code", "markdown", "code", "markdown"]
    intro, first = nb.cells[1], nb.cells[2]
    assert intro.source.startswith("# Title") and "$p$" in intro.source
    assert "(https://example.org/site/other/#part)" in intro.source
    assert first.source == 'print("one")' and first.execution_count == 1
    assert first.outputs == [nbformat.v4.new_output("stream", name="stdout", text="one\n")]


def test_admonitions_become_quotes_details_and_collapsed_solutions() -> None:
    nb = build()
    middle, solution, end = nb.cells[3], nb.cells[4], nb.cells[5]
    assert "> **Keep in mind**\n>\n> Quoted text." in middle.source
    assert '```python\nstatic = "not a cell"\n```' in middle.source  # static code stays code
    assert "<details><summary>Exercise</summary>\n\nDo something.\n\n</details>" in middle.source
    assert middle.source.rstrip().endswith("> **Solution**\n>\n> It works like this:")
    assert solution.source == "1 / 0"
    assert solution.metadata["jupyter"] == {"source_hidden": True, "outputs_hidden": True}
    assert solution.metadata["tags"] == ["raises-exception"]
    (error,) = solution.outputs
    assert (error.ename, error.evalue) == ("ZeroDivisionError", "division by zero")
    assert end.source == "<details><summary>A hint</summary>\n\nHidden words only.\n\n</details>"


def test_a_result_is_an_execute_result_and_a_display_is_display_data() -> None:
    cells = [
        ran(
            "show(); fig",
            [
                {"type": "display", "mime": "text/plain", "data": "shown", "display_id": "x"},
                {
                    "type": "display",
                    "mime": "image/svg+xml",
                    "data": "<svg/>",
                    "display_id": None,
                    "result": True,
                },
            ],
        )
    ]
    nb = build("# T\n\n```python run\nshow(); fig\n```\n", cells)
    shown, result = nb.cells[2].outputs
    assert shown.output_type == "display_data" and shown.data == {"text/plain": "shown"}
    assert result.output_type == "execute_result" and result.execution_count == 1
    assert result.data == {"image/svg+xml": "<svg/>"}


def test_imports_beyond_numpy_and_dropout_py_are_installed_too() -> None:
    cells = [
        ran("import numpy as np\nimport scipy.linalg\nfrom dropout_py import x\nimport os", [])
    ]
    nb = build("# T\n\n```python run\nimport numpy as np\nimport scipy.linalg\n"
               "from dropout_py import x\nimport os\n```\n", cells)  # fmt: skip
    assert nb.cells[0].source.endswith(f"%pip install {WHEEL} scipy")


def test_cells_that_differ_from_what_the_cells_hook_ran_fail_the_build() -> None:
    with pytest.raises(PluginError, match="p.md: the notebook found 2 run cell"):
        build(cells=RUN_CELLS[:1])


def test_numbers_quoted_from_cells_are_filled_in() -> None:
    text = "Accuracy DPQUOTE0QTOKEN, gain DPQUOTE1QTOKEN points."
    values = {"DPQUOTE0QTOKEN": "0.858", "DPQUOTE1QTOKEN": "+2.6"}
    assert notebooks._quotes_filled(text, values, "p.md") == "Accuracy 0.858, gain +2.6 points."
    with pytest.raises(PluginError, match="p.md: DPQUOTE1QTOKEN has no value"):
        notebooks._quotes_filled(text, {"DPQUOTE0QTOKEN": "0.858"}, "p.md")
