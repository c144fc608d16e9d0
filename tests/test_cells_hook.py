"""hooks/cells.py in a real ``mkdocs build``: the fence syntax, static outputs, build failures."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

CONFIG = f"""
site_name: cells test
theme: {{name: mkdocs}}
hooks: [{REPO / "hooks" / "cells.py"}]
markdown_extensions: [pymdownx.superfences]
"""


def build(tmp_path: Path, page: str) -> subprocess.CompletedProcess:
    (tmp_path / "docs").mkdir(exist_ok=True)
    (tmp_path / "docs" / "index.md").write_text(page, encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(CONFIG, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=120,
        check=False,
    )


def test_cells_get_their_build_time_output(tmp_path: Path) -> None:
    page = (
        "# T\n\n```python run\nx = 6 * 7\nprint('<x>', x)\n```\n\n"
        '```python run expect="error"\nx / 0\n```\n\n```python\nprint("static")\n```\n'
    )
    proc = build(tmp_path, page)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "site" / "index.html").read_text()
    assert html.count('class="dp-cell"') == 2
    assert '<pre class="dp-out dp-stdout">&lt;x&gt; 42\n</pre>' in html
    assert 'data-expect="error"' in html and "ZeroDivisionError: division by zero" in html
    assert 'data-source="x = 6 * 7&#10;print(&#x27;&lt;x&gt;&#x27;, x)"' in html
    assert html.index('class="dp-toolbar"') > html.index("</h1>")
    assert "Run all" in html and "Restart" in html


def test_a_failing_cell_fails_the_build_with_page_cell_and_traceback(tmp_path: Path) -> None:
    proc = build(
        tmp_path, "# T\n\n```python run\nok = 1\n```\n\n```python run\n{}['missing']\n```\n"
    )
    assert proc.returncode != 0
    assert "index.md, cell 2 failed at build time" in proc.stderr
    assert "KeyError: 'missing'" in proc.stderr


def test_a_cell_marked_to_fail_that_succeeds_fails_the_build(tmp_path: Path) -> None:
    proc = build(tmp_path, '# T\n\n```python run expect="error"\nprint("fine")\n```\n')
    assert proc.returncode != 0
    assert 'cell 1: marked expect="error" but ran without an error' in proc.stderr


@pytest.mark.parametrize(
    "header", ['python run expect="eror"', "python run hide", 'python run timeout="x"']
)
def test_bad_options_on_a_run_cell_fail_the_build(tmp_path: Path, header: str) -> None:
    proc = build(tmp_path, f"# T\n\n```{header}\nprint(1)\n```\n")
    assert proc.returncode != 0


@pytest.mark.parametrize("cdn", [True, False])
def test_the_pyodide_url_comes_from_the_one_version_constant(cdn: bool, monkeypatch) -> None:
    from types import SimpleNamespace

    from hooks import cells, site_runtime
    from scripts import vendor_pyodide

    monkeypatch.delenv(site_runtime.CDN_ENV, raising=False)
    config = SimpleNamespace(extra={"cells": {"pyodide_cdn": cdn}})
    site_runtime.on_config(config)
    toolbar = cells._toolbar(config, [])
    url = vendor_pyodide.CDN_URL
    assert f"/v{vendor_pyodide.PYODIDE_VERSION}/" in url
    assert (f'data-pyodide-url="{url}"' in toolbar) is cdn
    assert ("data-pyodide-url" in toolbar) is cdn


@pytest.mark.parametrize(
    ("source", "trains"),
    [
        ("model.fit(x, y)", True),
        ("for event in model.fit_iter(x, y):\n    pass", True),
        ("nn.train(x, targets, epochs=3)", True),
        ("runs = compare_runs(configs, train)", True),
        ("nn.dropout_weight_matrices(0.5, 0.5)", False),
        ("import numpy as np\nprint(np.ones(3))", False),
    ],
)
def test_pages_that_train_preload_scipy(source: str, trains: bool) -> None:
    from types import SimpleNamespace

    from hooks import cells

    config = SimpleNamespace(extra={"cells": {}})
    toolbar = cells._toolbar(config, [{"source": "x = 1"}, {"source": source}])
    assert ('data-preload="scipy"' in toolbar) is trains
