"""web/cell_runtime.py natively: the semantics the browser worker relies on (no browser needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from hooks import cells as cells_hook
from web import cell_runtime

REPO = Path(__file__).resolve().parents[1]


class Svg:
    def _repr_svg_(self) -> str:
        return "<svg/>"


class Html:
    def _repr_html_(self) -> str:
        return "<b>hi</b>"


def run(*sources: str) -> list[list[dict]]:
    recorder = cell_runtime.Recorder()
    session = cell_runtime.Session(recorder)
    session.namespace.update(Svg=Svg, Html=Html)
    for number, source in enumerate(sources, start=1):
        recorder.start_cell()
        session.run(source, number)
    return recorder.cells


def test_last_expression_is_the_result_unless_semicolon() -> None:
    cells = run("1 + 1", "2 + 2;", "x = 3", "x  # a comment")
    result = {"type": "display", "mime": "text/plain", "data": "2", "display_id": None}
    assert cells[0] == [{**result, "result": True}]  # a notebook stores it as execute_result
    assert cells[1] == [] and cells[2] == []
    assert cells[3][0]["data"] == "3"


def test_semicolon_check_counts_utf8_bytes() -> None:
    assert run("'é'")[0][0]["data"] == "'é'"
    assert run("'é';")[0] == []


def test_rich_repr_prefers_svg_then_html_and_not_for_classes() -> None:
    svg, html, cls, none = run("Svg()", "Html()", "Svg", "None")
    assert (svg[0]["mime"], svg[0]["data"]) == ("image/svg+xml", "<svg/>")
    assert (html[0]["mime"], html[0]["data"]) == ("text/html", "<b>hi</b>")
    assert cls[0]["mime"] == "text/plain"
    assert none == []


def test_streams_are_merged_and_keep_their_order() -> None:
    [cell] = run("import sys\nprint('a')\nprint('b', end='')\nprint('e', file=sys.stderr)\n7")
    assert [e["type"] for e in cell] == ["stream", "stream", "display"]
    assert cell[0] == {"type": "stream", "name": "stdout", "text": "a\nb"}
    assert cell[1]["name"] == "stderr"


def test_display_with_the_same_id_replaces_the_earlier_output() -> None:
    first, second = run(
        "display(1, display_id='curve')\nprint('between')",
        "display(Svg(), display_id='curve')\ndisplay(2)",
    )
    assert first[0]["mime"] == "image/svg+xml" and first[0]["display_id"] == "curve"
    assert first[1]["text"] == "between\n"
    assert second == [{"type": "display", "mime": "text/plain", "data": "2", "display_id": None}]


def test_display_takes_ipythons_update_flag() -> None:
    [cell] = run(
        "display(1, display_id='curve')\n"
        "display(2, display_id='curve', update=True)\n"
        "display(3, display_id='curve', update=True)"
    )
    assert cell == [{"type": "display", "mime": "text/plain", "data": "3", "display_id": "curve"}]


def test_namespace_is_shared_between_cells_and_errors_keep_it() -> None:
    cells = run("a = 5", "raise KeyError('x')", "a * 2")
    assert cells[1][0]["type"] == "error" and cells[1][0]["ename"] == "KeyError"
    assert cells[2][0]["data"] == "10"


def test_traceback_starts_at_the_cell_and_names_it() -> None:
    [cell] = run("def f():\n    return 1 / 0\n\nf()")
    text = cell[0]["traceback"]
    assert text.startswith("Traceback (most recent call last):\n")
    assert 'File "<cell 1>", line 4, in <module>' in text
    assert 'File "<cell 1>", line 2, in f' in text
    assert "cell_runtime" not in text
    assert text.rstrip().endswith("ZeroDivisionError: division by zero")


def test_library_frames_are_named_by_module_path_not_install_folder() -> None:
    [cell] = run(
        "from dropout_py.nn.thinning import sample_active_indices\n"
        "sample_active_indices(None, 5, 2)"
    )
    text = cell[0]["traceback"]
    assert 'File "dropout_py/nn/thinning.py", line' in text
    assert str(REPO) not in text and "site-packages" not in text
    assert "ValueError: keep_fraction must be in (0, 1], got 2" in text


def test_syntax_error_shows_the_line() -> None:
    [cell] = run("x = (")
    assert 'File "<cell 1>", line 1' in cell[0]["traceback"]
    assert cell[0]["ename"] == "SyntaxError"


def test_output_before_an_error_comes_first_and_streams_are_restored() -> None:
    [cell] = run("print('before')\nimport sys\nsys.exit(3)")
    assert [e["type"] for e in cell] == ["stream", "error"]
    assert cell[1]["ename"] == "SystemExit"
    assert not isinstance(sys.stdout, cell_runtime._Stream)


def test_command_line_runs_a_page_and_stops_after_an_unexpected_failure(tmp_path) -> None:
    request = {
        "timeout": 5,
        "cells": [
            {"source": "print('one')", "expect_error": False},
            {"source": "1 / 0", "expect_error": True},
            {"source": "while True: pass", "expect_error": False, "timeout": 0.5},
            {"source": "print('never')", "expect_error": False},
        ],
    }
    (tmp_path / "in.json").write_text(json.dumps(request))
    subprocess.run(
        [sys.executable, str(REPO / "web" / "cell_runtime.py"), "in.json", "out.json"],
        cwd=tmp_path,
        check=True,
        timeout=60,
    )
    cells = json.loads((tmp_path / "out.json").read_text())["cells"]
    assert [c["ok"] for c in cells] == [True, False, False]
    assert cells[2]["outputs"][0]["ename"] == "CellTimeout"
    assert "runtime" not in cells[2]["outputs"][0]["traceback"]


@pytest.mark.parametrize(
    ("text", "shown"),
    [("a\rb\n", "b\n"), ("10%\r20%\r", "20%"), ("x\r\ny\n", "x\ny\n"), ("plain", "plain")],
)
def test_carriage_returns_rewrite_the_line(text: str, shown: str) -> None:
    hook = cells_hook
    assert hook._terminal_text(text) == shown
