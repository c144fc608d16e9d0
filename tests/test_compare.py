"""compare_runs (several settings trained on the same data) and the notebook progress line."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

from dropout_py import DropoutMLP
from dropout_py.run.compare import compare_runs
from dropout_py.run.progress import ProgressBar, TrainingProgress

SETTINGS = {"plain": {}, "dropout": {"keep_input": 0.8, "keep_hidden": 0.5}}


@pytest.fixture(scope="module")
def data() -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(3)
    X = rng.random((120, 6))
    y = (X[:, 0] + X[:, 1] > 1).astype(int)
    return (X[:80], y[:80]), (X[80:], y[80:])


def test_each_setting_trains_as_a_model_built_by_hand(data) -> None:
    train, test = data
    result = compare_runs(
        SETTINGS, train, test, layers=(6, 12, 2), epochs=4, batch_size=10, progress=False
    )
    assert list(result.runs) == ["plain", "dropout"]
    by_hand = DropoutMLP((6, 12, 2), keep_input=0.8, keep_hidden=0.5, batch_size=10, seed=1)
    expected = by_hand.fit(*train, epochs=4, validation_data=test)
    got = result.runs["dropout"]
    assert [r["epoch"] for r in got] == [1, 2, 3, 4]
    for mine, theirs in zip(got, expected, strict=True):
        for key in ("train_loss", "train_accuracy", "test_loss", "test_accuracy"):
            assert mine[key] == theirs[key]
    assert result.models["dropout"].keep_hidden == 0.5 and result.models["plain"].keep_hidden == 1
    finals = {name: history[-1]["test_accuracy"] for name, history in result.runs.items()}
    assert result.final("test_accuracy") == finals
    svg = result.figure.svg
    assert result.figure.kind == "learning_curves"
    assert "plain" in svg and "dropout" in svg and ">loss<" in svg and ">accuracy<" in svg


def test_several_seeds_give_one_run_each(data) -> None:
    train, _ = data
    result = compare_runs(
        {"dropout": {"keep_hidden": 0.5}}, train, layers=(6, 8, 2), epochs=2, seeds=[1, 2],
        progress=False,
    )  # fmt: skip
    assert list(result.runs) == ["dropout, seed 1", "dropout, seed 2"]
    first, second = (h[-1]["train_loss"] for h in result.runs.values())
    assert first != second
    assert "test_accuracy" not in result.runs["dropout, seed 1"][-1]  # no test data given


def test_show_redraws_one_display_in_place_after_every_epoch(data) -> None:
    train, test = data
    calls = []

    def show(figure, *, display_id, update):
        calls.append((figure.kind, display_id, update, figure.svg.count('class="dpf-line"')))

    compare_runs(SETTINGS, train, test, layers=(6, 4, 2), epochs=3, show=show, progress=False)
    assert len(calls) == 6
    assert len({display_id for _, display_id, _, _ in calls}) == 1
    assert [update for _, _, update, _ in calls] == [False] + [True] * 5
    assert calls[0][3] < calls[-1][3]  # the second run's lines join the figure


def test_progress_draws_one_line_per_run_redrawn_in_place(data, capsys) -> None:
    train, test = data
    compare_runs(SETTINGS, train, test, layers=(6, 4, 2), epochs=3, show=lambda *a, **k: None)
    out = capsys.readouterr().out
    lines = out.split("\n")
    assert len(lines) == 3 and lines[-1] == ""  # two finished runs, each ends its line
    for name, line in zip(("plain  ", "dropout"), lines, strict=False):
        frames = line.split("\r")[1:]
        assert len(frames) == 3  # with a live figure: one redraw per epoch
        assert frames[-1].startswith(f"{name} [{'#' * 28}] 100% 3/3 epochs")
        assert re.search(r"test accuracy \d\.\d{3}$", frames[-1])


@pytest.mark.parametrize(
    ("configs", "options", "message"),
    [
        ({}, {}, "configs must map names to options"),
        ({"a": {}}, {"seed": 3}, "give the seed as seeds="),
        ({"a": {"seed": 3}}, {}, "setting 'a' has a seed"),
        ({"a": 0.5}, {}, "setting 'a' must be a mapping of options, got 0.5"),
        ({f"r{i}": {} for i in range(3)}, {"seeds": [1, 2, 3]}, "9 runs (3 settings x 3 seeds)"),
    ],
)
def test_bad_arguments_are_named_before_any_training(data, configs, options, message) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        compare_runs(configs, data[0], layers=(6, 4, 2), progress=False, **options)


def test_an_unknown_option_names_its_setting(data) -> None:
    with pytest.raises(TypeError, match="setting 'a': .*'keep'"):
        compare_runs({"a": {"keep": 0.5}}, data[0], layers=(6, 4, 2), progress=False)


def test_final_names_the_keys_a_run_has(data) -> None:
    result = compare_runs({"a": {}}, data[0], layers=(6, 4, 2), epochs=1, progress=False)
    with pytest.raises(KeyError, match="run 'a' has no 'test_accuracy'; its records have"):
        result.final("test_accuracy")


def test_training_progress_redraws_during_epochs_and_ends_the_line(data) -> None:
    train, test = data
    out = io.StringIO()
    bar = TrainingProgress("net", stream=out, min_interval=0)
    DropoutMLP((6, 4, 2), batch_size=10, seed=1).fit(
        *train, epochs=2, validation_data=test, callback=bar
    )
    frames = out.getvalue().split("\r")[1:]
    assert len(frames) == 2 * 8 + 2  # a redraw after every batch and at every epoch's end
    assert frames[-1].endswith("\n") and frames[-1].count("\n") == 1
    assert frames[-1].startswith("net [" + "#" * 28 + "] 100% 2/2 epochs")
    assert "test accuracy" in frames[-1] and "test accuracy" not in frames[0]


def test_a_progress_bar_on_a_log_file_writes_only_the_last_line_unless_told_to_redraw() -> None:
    quiet, redrawn = io.StringIO(), io.StringIO()
    for stream, redraw in ((quiet, None), (redrawn, True)):
        bar = ProgressBar("load", 4, stream=stream, min_interval=0, redraw=redraw)
        for done in range(1, 5):
            bar.update(done)
        bar.close()
    assert quiet.getvalue().count("\n") == 1 and "\r" not in quiet.getvalue()
    assert redrawn.getvalue().count("\r") == 4 and redrawn.getvalue().endswith("\n")
