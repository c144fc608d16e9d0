"""The dropout-py command line on a tiny synthetic MNIST (made by the tests, no network)."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import dropout_py.data.fetch
from dropout_py import load_model
from dropout_py.cli import main


@pytest.fixture
def tiny(mnist_env, fake_mnist, monkeypatch, tmp_path):
    """A data folder with a fake MNIST (30 train / 20 test images) that verifies as the real one."""
    monkeypatch.setattr(dropout_py.data.fetch, "MNIST_SPEC", fake_mnist.spec)
    return fake_mnist.write(tmp_path / "data")


def run_cli(capsys, *args):
    status = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return status, out, err


def test_train_fast_prints_json_on_the_last_line(tiny, capsys):
    status, out, err = run_cli(
        capsys, "train", "--data-dir", tiny, "--hidden", 16, 8, "--epochs", 3, "--json",
        "--seed", 1, "--batch-size", 10, "--keep-input", 0.8, "--keep-hidden", 0.5,
    )  # fmt: skip
    assert status == 0
    summary = json.loads(out.splitlines()[-1])
    for key in ("train_accuracy", "test_accuracy", "epochs", "seconds_per_epoch", "seconds_total"):
        assert key in summary
    assert summary["epochs"] == 3 and len(summary["history"]) == 3
    assert summary["settings"]["hidden"] == [16, 8] and summary["settings"]["seed"] == 1
    assert 0 <= summary["test_accuracy"] <= 1
    assert "epoch 3/3" in err  # progress on stderr


def test_train_takes_the_dropout_mask_and_scale(tiny, capsys):
    status, out, _ = run_cli(
        capsys, "train", "--data-dir", tiny, "--epochs", 1, "--hidden", 8, "--keep-hidden", 0.5,
        "--mask", "partition", "--scale", "test", "--partitions", 3, "--quiet",
    )  # fmt: skip
    assert status == 0
    assert "keep input 1.0, keep hidden 0.5 (masks per partition, scale test)" in out


def test_train_is_reproducible_for_a_seed(tiny, capsys):
    args = ("train", "--data-dir", tiny, "--epochs", 2, "--hidden", 8, "--json", "--quiet")
    runs = [json.loads(run_cli(capsys, *args, "--seed", 5)[1]) for _ in range(2)]
    assert runs[0]["test_loss"] == runs[1]["test_loss"]
    assert runs[0]["history"][1]["train_loss"] == runs[1]["history"][1]["train_loss"]


def test_preset_chapter_runs_the_tutorial_engine(tiny, capsys):
    status, out, _ = run_cli(capsys, "train", "--preset", "chapter", "--data-dir", tiny, "--json")
    summary = json.loads(out.splitlines()[-1])
    assert status == 0 and summary["engine"] == "tutorial" and summary["epochs"] == 3
    settings = summary["settings"]
    assert (settings["hidden"], settings["learning_rate"]) == ([100], 0.1)
    assert (settings["partitions"], settings["keep_input"], settings["keep_hidden"]) == (100, 1, 1)
    assert settings["init"] == "scaled"


def test_preset_options_can_be_overridden(tiny, capsys):
    status, out, _ = run_cli(
        capsys, "train", "--preset", "chapter", "--init", "chapter", "--epochs", 1,
        "--data-dir", tiny, "--json", "--quiet",
    )  # fmt: skip
    settings = json.loads(out)["settings"]
    assert status == 0 and settings["init"] == "chapter" and settings["epochs"] == 1


def test_train_size_limits_the_training_set_only(tiny, capsys):
    status, out, _ = run_cli(
        capsys, "train", "--data-dir", tiny, "--train-size", 12, "--epochs", 1, "--json", "--quiet"
    )
    summary = json.loads(out)
    assert status == 0
    assert summary["train_accuracy"] * 12 == pytest.approx(round(summary["train_accuracy"] * 12))
    assert summary["test_accuracy"] * 20 == pytest.approx(round(summary["test_accuracy"] * 20))


def test_human_summary_save_plot_and_evaluate(tiny, capsys, tmp_path):
    model, plots = tmp_path / "model.npz", tmp_path / "plots"
    status, out, _ = run_cli(
        capsys, "train", "--engine", "tutorial", "--hidden", 12, "--epochs", 2, "--data-dir",
        tiny, "--save", model, "--plot", plots, "--seed", 3, "--quiet",
    )  # fmt: skip
    assert status == 0
    assert "tutorial engine, 784-12-10" in out and "accuracy  train" in out
    assert f"wrote     {model}" in out
    for name in ("learning-curves.svg", "confusion-matrix.svg"):
        ET.parse(plots / name)  # well-formed SVG
    trained_test_accuracy = float(out.split("test ")[1].split()[0])

    status, out, _ = run_cli(capsys, "evaluate", "--model", model, "--data-dir", tiny, "--json")
    result = json.loads(out)
    assert status == 0 and result["model"] == "NeuralNetwork"
    assert result["test_accuracy"] == pytest.approx(trained_test_accuracy, abs=1e-4)
    assert np.array(result["confusion"]).sum() == 20


BAD_OPTIONS = [
    (("--engine", "tutorial", "--batch-size", "5"), "--batch-size does not apply to the tutorial"),
    (("--bias", "1"), "--bias does not apply to the fast engine"),
    (("--keep-input", "1.5"), "--keep-input must be in (0, 1], got 1.5"),
    (("--engine", "tutorial", "--keep-hidden", "1.5"), "--keep-hidden must be in (0, 1], got 1.5"),
    (("--engine", "tutorial", "--hidden", "5", "5"), "--hidden: the tutorial engine has exactly"),
    (("--preset", "chapter", "--engine", "fast"), "--preset chapter uses the tutorial engine"),
    (("--train-size", "0"), "--train-size must be between 1 and 60000, got 0"),
    (("--learning-rate", "-1"), "--learning-rate must be a positive number, got -1.0"),
    (("--epochs", "0"), "--epochs must be a positive integer, got 0"),
    (("--epochs", "-1"), "--epochs must be a positive integer, got -1"),
    (("--engine", "tutorial", "--epochs", "0"), "--epochs must be a positive integer, got 0"),
    (("--engine", "tutorial", "--epochs", "-1"), "--epochs must be a positive integer, got -1"),
    (("--engine", "tutorial", "--mask", "partition"), "--mask does not apply to the tutorial"),
    (("--engine", "tutorial", "--dtype", "float64"), "--dtype does not apply to the tutorial"),
    (("--preset", "chapter", "--dtype", "float32"), "--dtype does not apply to the tutorial"),
    (("--partitions", "5"), "--partitions does not apply to per-example masks"),
    (("--seed", "-1"), "--seed must be a whole number >= 0, got -1"),
    (("--momentum", "nan"), "--momentum must be in [0, 1), got nan"),
    (("--lr-decay", "0"), "--lr-decay must be in (0, 1], got 0.0"),
    (("--max-norm", "inf"), "--max-norm must be a positive number, got inf"),
    (("--hidden", "0"), "--hidden must be one or more positive whole numbers, got 0"),
    (("--engine", "tutorial", "--bias", "nan"), "--bias must be a finite number, got nan"),
]


@pytest.mark.parametrize(("args", "message"), BAD_OPTIONS)
def test_bad_options_give_one_line_and_status_2_before_any_data(
    mnist_env, capsys, tmp_path, args, message
):
    """Named as typed, and checked first: the data folder here is empty and goes unread."""
    empty = tmp_path / "no-data"
    status, out, err = run_cli(capsys, "train", "--data-dir", empty, "--quiet", *args)
    assert status == 2 and out == ""
    assert err.startswith("dropout-py train: error: ") and message in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


def test_unknown_options_are_argparse_errors(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["train", "--no-such-option"])
    assert exit_info.value.code == 2
    assert "unrecognized arguments: --no-such-option" in capsys.readouterr().err


def test_missing_data_says_what_was_tried(mnist_env, capsys, tmp_path):
    status, _, err = run_cli(capsys, "train", "--data-dir", tmp_path / "empty", "--quiet")
    assert status == 2 and "MNIST files not available" in err and "Traceback" not in err


def test_evaluate_rejects_a_corrupt_model(tiny, capsys, tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a model")
    status, _, err = run_cli(capsys, "evaluate", "--model", bad, "--data-dir", tiny)
    assert status == 2 and "not a readable .npz model file" in err


def test_the_installed_entry_points_run():
    script = Path(sys.executable).with_name("dropout-py")
    for command in ([str(script)], [sys.executable, "-m", "dropout_py"]):
        done = subprocess.run(
            [*command, "train", "--help"], capture_output=True, text=True, check=True
        )
        assert "--keep-hidden" in done.stdout and "--preset" in done.stdout


def test_outputs_that_fail_after_training_are_rescued_not_lost(tiny, capsys, tmp_path, monkeypatch):
    """The folders exist when training starts and are gone when it ends (a USB stick pulled)."""
    import shutil

    import dropout_py.run.experiment as experiment

    out = tmp_path / "stick"
    (out / "plots").mkdir(parents=True)
    real_run = experiment.run

    def run_then_unplug(*args, **kwargs):
        result = real_run(*args, **kwargs)
        shutil.rmtree(out)
        out.write_text("the folder is now a file")  # so --plot cannot recreate it either
        return result

    monkeypatch.setattr(experiment, "run", run_then_unplug)
    status, stdout, err = run_cli(
        capsys, "train", "--data-dir", tiny, "--hidden", 8, "--epochs", 2, "--seed", 4,
        "--save", out / "model.npz", "--plot", out / "plots", "--json", "--quiet",
    )  # fmt: skip
    assert status == 2 and "Traceback" not in err
    rescued = sorted((tmp_path / "cache" / "rescued").iterdir())  # mnist_env's cache
    assert [p.name.split("-", 3)[-1] for p in rescued] == [
        "confusion-matrix.svg",
        "learning-curves.svg",
        "model.npz",
    ]
    assert f"--save: cannot write {out / 'model.npz'}" in err and str(rescued[2]) in err
    assert err.count("--plot: cannot write") == 2
    summary = json.loads(stdout)
    assert summary["files"] == [str(rescued[2]), str(rescued[1]), str(rescued[0])]
    model = load_model(rescued[2])
    assert model.epochs_trained_ == 2
    assert model.score(model.prepare(np.zeros((1, 784), np.uint8)), [0]).n_samples == 1
    ET.parse(rescued[0])
