"""Every hostile input found so far, given to the real command line in a fresh process.

Each case checks the exit status (0 success, 1 training diverged, 2 bad input, 130 interrupted),
what stderr says, and that no traceback reaches the user. The processes train on a fake MNIST
(30 training images, see ``tests/cli_driver.py``), with their address space capped, so a
regression that allocates a huge network fails fast instead of taking the machine; the peak
memory of every case is measured (``os.wait4``) and bounded.
"""

from __future__ import annotations

import json
import os
import pickle
import resource
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from dropout_py import load_model

DRIVER = Path(__file__).with_name("cli_driver.py")
ADDRESS_SPACE = 4 << 30  # bytes each case may map
PEAK_MB = 400  # resident memory no case reaches (the fake data set is tiny)

TRAIN = (
    "train",
    "--data-dir",
    "{data}",
    "--quiet",
    "--hidden",
    "8",
    "--epochs",
    "2",
    "--seed",
    "1",
)
GRID = "seeds = [1]\n[settings]\nepochs = 2\n"


def _no_sys_write() -> bool:
    """True if ``/sys/fs`` is a folder even root cannot write in (the read-only folder case)."""
    try:
        fd = os.open("/sys/fs/.dropout-py-probe", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except OSError:
        return Path("/sys/fs").is_dir()
    os.close(fd)
    os.unlink("/sys/fs/.dropout-py-probe")
    return False


read_only = pytest.mark.skipif(not _no_sys_write(), reason="needs an unwritable /sys/fs")


def case(command: str, status: int, words: str, marks=()) -> object:
    """One hostile input: the command, its exit status and words stderr must hold.

    ``command`` is split like a shell line; a leading ``train`` stands for :data:`TRAIN`.
    ``{tmp}`` (the working folder), ``{data}`` (the fake MNIST), ``{file}`` (a plain file) and
    ``{grid:LINES}`` (a grid file with these extra lines, ``;`` between them) are filled in
    when the case runs.
    """
    args = shlex.split(command)
    if args[0] == "train":
        args = [*TRAIN, *args[1:]]
    return pytest.param(args, status, words, id=command, marks=marks)


CASES = [
    # settings: checked up front, named as typed (#12, item 5)
    case("train --engine tutorial --epochs 0", 2, "--epochs must be a positive"),
    case("train --engine tutorial --epochs -1", 2, "--epochs must be a positive"),
    case("train --epochs -1", 2, "--epochs must be a positive"),
    case("train --engine tutorial --keep-hidden 1.5", 2, "--keep-hidden must be in (0, 1]"),
    case("train --engine tutorial --dtype float64", 2, "--dtype does not apply to the tutorial"),
    case("train --partitions 5", 2, "--partitions does not apply to per-example masks"),
    case("train --learning-rate nan", 2, "--learning-rate must be a positive number"),
    case("train --keep-input 0", 2, "--keep-input must be in (0, 1]"),
    case("train --seed -1", 2, "--seed must be a whole number >= 0"),
    case("train --epochs ten", 2, "invalid int value: 'ten'"),
    # memory: estimated before allocating (#12, item 6)
    case("train --hidden 100000000", 2, "--hidden 100000000 asks for a 784-100000000-10 net"),
    case("train --engine tutorial --hidden 100000000", 2, "--hidden 100000000 asks for"),
    case("train --hidden 100000 100000", 2, "of memory, and"),
    case("train --hidden 300000", 2, "asks for a 784-300000-10 network"),  # over the 4 GB cap
    case("train --hidden 130000 --save m.npz", 2, "a 784-130000-10 network has 103,350,010"),
    case("train --epochs 20000 --save m.npz", 2, "--save: 20,000 epochs of history do not fit"),
    # output paths: tried before training (#12, item 4)
    case("train --save {tmp}", 2, "--save: {tmp} is a folder"),
    case("train --save {tmp}/missing/m.npz", 2, "--save: the folder {tmp}/missing does not"),
    case("train --save {file}/m.npz", 2, "--save: {file} is not a folder"),
    case("train --save ''", 2, "--save: . is a folder"),
    case("train --plot {file}", 2, "--plot: {file} is a file, not a folder"),
    case("train --save /sys/fs/m.npz", 2, "--save: cannot write in /sys/fs", read_only),
    case("train --plot /sys/fs/plots", 2, "--plot: cannot write in /sys/fs", read_only),
    # divergence (#12, item 8)
    case("train --learning-rate 1e308 --json", 1, "training diverged"),
    case("train --keep-input 1e-300 --json --save d.npz", 1, "Nothing was saved"),
    case("train --activation relu --learning-rate 1e30 --seed 2", 1, "training diverged"),
    case("train --loss squared_error --learning-rate 1e308", 1, "training diverged"),
    # evaluate and sweep
    case("evaluate --model {tmp} --data-dir {data}", 2, "no model file at {tmp}"),
    case("sweep --data-dir {data} {grid:hidden=[100000000]}", 2, "hidden 100000000 asks for"),
    case('sweep \'{grid:engine="tutorial";dtype="float64"}\'', 2, "settings.dtype: dtype does not"),
    case("sweep --results {file} {grid:}", 2, "--results: {file} is a file, not a folder"),
    case("sweep --results /sys/fs {grid:}", 2, "--results: cannot write in /sys/fs", read_only),
    case("sweep --jobs 0 {grid:}", 2, "--jobs must be at least 1, got 0"),
    case("sweep --data-dir {data} {grid:learning_rate=1e308}", 0, ""),  # recorded, not fatal
]


class Cli:
    """``dropout-py`` in a fresh process with a capped address space, on a fake MNIST."""

    def __init__(self, tmp_path: Path, fake_mnist) -> None:
        self.tmp = tmp_path
        self.data = fake_mnist.write(tmp_path / "data")
        self.spec = tmp_path / "spec.pickle"
        self.spec.write_bytes(pickle.dumps(fake_mnist.spec))
        self.work = tmp_path / "work"  # the current folder
        self.work.mkdir()
        self.cache = tmp_path / "cache"
        self.a_file = tmp_path / "a-file"
        self.a_file.write_text("not a folder")
        self.env = {
            **os.environ,
            "DROPOUT_PY_CACHE": str(self.cache),
            "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
        }
        self.env.pop("DROPOUT_PY_DATA", None)
        self.grids = 0

    def fill(self, arg: str) -> str:
        """Fill in ``{tmp}``, ``{data}``, ``{file}``; write ``{grid:...}`` to a grid file."""
        if arg.startswith("{grid:"):
            self.grids += 1
            grid = self.tmp / f"grid{self.grids}.toml"
            extra = arg[len("{grid:") : -1].replace(";", "\n")
            hidden = "" if "hidden" in extra else "hidden = [8]\n"
            grid.write_text(GRID + hidden + extra + "\n")
            return str(grid)
        return arg.format(tmp=self.work, data=self.data, file=self.a_file)

    def __call__(self, *args: str, stdout: int | None = None) -> Ran:
        return self.start(*args, stdout=stdout).finish()

    def start(self, *args: str, stdout: int | None = None) -> Running:
        out, err = self.tmp / "stdout", self.tmp / "stderr"
        with open(out, "wb") as out_fh, open(err, "wb") as err_fh:
            proc = subprocess.Popen(
                [sys.executable, str(DRIVER), str(self.spec), *map(self.fill, args)],
                stdout=out_fh if stdout is None else stdout,
                stderr=err_fh,
                env=self.env,
                cwd=self.work,
                preexec_fn=_cap_address_space,
            )
        return Running(proc, out, err)


@pytest.fixture
def cli(tmp_path, fake_mnist) -> Cli:
    return Cli(tmp_path, fake_mnist)


def _cap_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


class Ran:
    def __init__(self, status: int, stdout: str, stderr: str, peak_mb: float) -> None:
        self.status, self.stdout, self.stderr, self.peak_mb = status, stdout, stderr, peak_mb


class Running:
    def __init__(self, proc: subprocess.Popen, out: Path, err: Path) -> None:
        self.proc, self.out, self.err = proc, out, err

    def finish(self, timeout: float = 120) -> Ran:
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(self.proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"still running after {timeout} s: {self.proc.args}")
            time.sleep(0.02)
        self.proc.returncode = os.waitstatus_to_exitcode(status)
        return Ran(
            self.proc.returncode,
            self.out.read_text(),
            self.err.read_text(),
            usage.ru_maxrss / 1024,
        )

    def stderr_so_far(self) -> str:
        return self.err.read_text()


@pytest.mark.parametrize(("args", "status", "words"), CASES)
def test_hostile_input_gets_its_status_and_no_traceback(cli, args, status, words):
    ran = cli(*args)
    assert "Traceback" not in ran.stderr, ran.stderr
    assert ran.status == status, ran.stderr
    assert cli.fill(words) in ran.stderr, ran.stderr
    messages = [line for line in ran.stderr.splitlines() if line.strip() and line[0] != " "]
    starts = ("dropout-py", "usage:", "sweep ")  # the last: a sweep's progress bar
    assert all(line.startswith(starts) for line in messages), messages
    assert ran.peak_mb < PEAK_MB, f"{ran.peak_mb:.0f} MB"
    if status:  # nothing half done is left behind
        assert not (cli.work / "m.npz").exists() and not (cli.work / "d.npz").exists()
        assert not list(cli.work.glob("*.jsonl")) and not (cli.work / "results").exists()


def _strict(text: str) -> dict:
    def refuse(constant: str) -> None:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def test_divergence_prints_strict_json_with_nulls_and_saves_nothing(cli):
    model = cli.work / "model.npz"
    ran = cli(*TRAIN, "--learning-rate", "1e308", "--json", "--save", str(model))
    assert ran.status == 1 and not model.exists()
    summary = _strict(ran.stdout.splitlines()[-1])
    assert summary["diverged"].startswith("training diverged in epoch 1")
    assert summary["test_accuracy"] is None and summary["test_loss"] is None
    assert summary["files"] == [] and summary["stopped_early"] is True
    assert "warning" not in ran.stderr  # numpy's overflow warnings are not the message


def test_a_diverged_sweep_point_is_a_row_of_strict_json(cli):
    grid = cli.fill("{grid:[vary]\nlearning_rate = [0.1, 1e308]}")
    ran = cli("sweep", grid, "--results", "r", "--data-dir", "{data}")
    assert ran.status == 0 and "(1 diverged: null scores)" in ran.stdout, ran.stderr
    lines = next((cli.work / "r").glob("*.jsonl")).read_text().splitlines()
    rows = {row["settings"]["learning_rate"]: row for row in map(_strict, lines)}
    assert rows[1e308]["final"]["test_accuracy"] is None
    assert rows[1e308]["final"]["diverged"].startswith("training diverged")
    assert rows[0.1]["final"]["test_accuracy"] > 0 and "diverged" not in rows[0.1]["final"]
    again = cli("sweep", grid, "--results", "r", "--data-dir", "{data}")
    assert again.status == 0 and "0 points run, 2 already done" in again.stdout


def test_json_to_a_full_disk_is_rescued_to_a_file(cli):
    with open("/dev/full", "wb") as full:
        ran = cli(*TRAIN, "--json", stdout=full.fileno())
    assert ran.status == 2 and "Traceback" not in ran.stderr, ran.stderr
    assert "--json: cannot write to the standard output (No space left on device)" in ran.stderr
    [rescued] = (cli.cache / "rescued").glob("*-summary.json")
    assert str(rescued) in ran.stderr
    assert _strict(rescued.read_text())["epochs"] == 2


def test_ctrl_c_saves_the_model_trained_so_far_and_says_so(cli):
    model = cli.work / "model.npz"
    running = cli.start(
        "train", "--data-dir", "{data}", "--hidden", "8", "--epochs", "10000", "--save",
        str(model), "--batch-size", "1",
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while "epoch 2/" not in running.stderr_so_far():
        assert time.monotonic() < deadline and running.proc.poll() is None
        time.sleep(0.05)
    running.proc.send_signal(signal.SIGINT)
    ran = running.finish()
    assert ran.status == 130 and "Traceback" not in ran.stderr, ran.stderr
    assert "interrupted after" in ran.stderr
    assert f"the model trained so far is in {model}" in ran.stderr
    loaded = load_model(model)
    assert loaded.epochs_trained_ >= 1  # the second had begun
    assert f"interrupted after {loaded.epochs_trained_} of 10000 epochs" in ran.stderr
    assert all(np.isfinite(w).all() for w in loaded.weights_)
