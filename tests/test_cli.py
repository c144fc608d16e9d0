"""The dropout-py command line on a tiny synthetic MNIST (made by the tests, no network)."""

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest

import dropout_py.data.fetch
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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("--engine", "tutorial", "--batch-size", "5"),
            "--batch-size does not apply to the tutorial",
        ),
        (("--bias", "1"), "--bias does not apply to the fast engine"),
        (("--keep-input", "1.5"), "keep_input must be in (0, 1], got 1.5"),
        (("--engine", "tutorial", "--hidden", "5", "5"), "exactly one hidden layer"),
        (("--preset", "chapter", "--engine", "fast"), "--preset chapter uses the tutorial engine"),
        (("--train-size", "0"), "train_size must be between 1 and 60000, got 0"),
        (("--learning-rate", "-1"), "learning_rate must be a positive number, got -1.0"),
        (("--epochs", "0"), "epochs must be a positive integer, got 0"),
        (("--engine", "tutorial", "--mask", "partition"), "--mask does not apply to the tutorial"),
    ],
)
def test_bad_options_give_one_line_and_status_2(tiny, capsys, args, message):
    status, out, err = run_cli(capsys, "train", "--data-dir", tiny, "--quiet", *args)
    assert status == 2 and out == ""
    assert err.startswith("dropout-py train: error: ") and message in err
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
