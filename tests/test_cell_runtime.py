"""web/cell_runtime.py natively: the semantics the browser worker relies on (no browser needed)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dropout_py import load_model
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


# --- the page's extras: training progress, Stop that keeps the model, Resume, model files -----

TRAINING = """
import numpy as np
from dropout_py import DropoutMLP
rng = np.random.default_rng(0)
images = rng.integers(0, 256, (400, 20), dtype=np.uint8)
labels = rng.integers(0, 4, 400)
model = DropoutMLP((20, 16, 4), batch_size=20, keep_hidden=0.5, dtype="float64", seed=3)
"""
STOP_AT_STEP_5 = """
import signal
original, calls = model._train_step, []
def step(*args):
    calls.append(1)
    loss = original(*args)
    if len(calls) == 5:
        signal.raise_signal(signal.SIGINT)  # the page's Stop, arriving inside the step
    return loss
model._train_step = step
"""


def live_session() -> tuple[cell_runtime.Session, list[dict]]:
    events: list[dict] = []
    return cell_runtime.Session(events.append, live=True), events


def test_a_live_session_reports_training_and_offers_the_model() -> None:
    session, events = live_session()
    assert session.run(TRAINING + "history = model.fit(images, labels, epochs=2)", 1)
    training = [e for e in events if e["type"] == "training"]
    assert "measured on the first batch" in training[0]["text"]
    assert training[0]["step"] == 1 and training[0]["per_epoch"] > 0
    assert training[-1]["epoch"] == 2 and training[-1]["text"].endswith("done")
    assert len(training) < 10  # a few a second, not one per step
    assert events[-1] == {"type": "models", "names": ["model"]}


def test_build_time_sessions_show_only_what_the_cell_prints() -> None:
    [cell] = run(TRAINING + "history = model.fit(images, labels, epochs=1)")
    assert cell == []


def test_stop_keeps_the_model_and_resume_finishes_its_run(tmp_path: Path) -> None:
    whole, _ = live_session()
    assert whole.run(TRAINING + "model.fit(images, labels, epochs=2)", 1)

    session, events = live_session()
    assert session.run(TRAINING + STOP_AT_STEP_5, 1)
    assert not session.run("history = model.fit(images, labels, epochs=2)", 2)
    [stopped] = [e for e in events if e["type"] == "resumable"]
    assert "Stopped in epoch 1, after step 5 of 20" in stopped["text"]
    assert "`model` keeps its weights" in stopped["text"] and "2 epoch(s)" in stopped["text"]
    assert {"type": "models", "names": ["model"]} in events  # half-trained, yet downloadable
    events.clear()
    assert session.resume(2)
    printed = "".join(e["text"] for e in events if e["type"] == "stream")
    assert "Resuming: 2 epoch(s) to go." in printed and "Finished: 2 epoch(s)" in printed
    model, reference = session.namespace["model"], whole.namespace["model"]
    for name, array in reference._arrays().items():
        np.testing.assert_array_equal(model._arrays()[name], array, err_msg=name)
    assert not session.resume(2)  # nothing left to resume
    assert "no stopped training run" in events[-1]["traceback"]

    path = tmp_path / "model.npz"
    path.write_bytes(session.model_file("model"))
    loaded = load_model(path)
    images = session.namespace["images"]
    np.testing.assert_array_equal(loaded.predict(images), model.predict(images))
    with pytest.raises(ValueError, match="'images' is not a model"):
        session.model_file("images")
