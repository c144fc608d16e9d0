"""The sweep runner on a tiny synthetic MNIST: grids, results rows, resume, parallel and Dask."""

import json
import os
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import dropout_py.data.fetch
from dropout_py.cli import main
from dropout_py.run.outputs import OutputWarning
from dropout_py.run.results import append_row, read_rows
from dropout_py.run.sweep import GridError, load_grid, run_sweep

TINY_GRID = """\
name = "tiny"
seeds = [1, 2]

[settings]
hidden = [8]
epochs = 2
batch_size = 10

[[variant]]
label = "no dropout"

[[variant]]
label = "dropout"
keep_input = 0.8
keep_hidden = 0.5

[[variant]]
label = "chapter's network"
engine = "tutorial"
partitions = 3
"""

TIME_FIELDS = ("finished", "machine", "seconds", "seconds_per_epoch")


@pytest.fixture
def tiny(mnist_env, fake_mnist, monkeypatch, tmp_path):
    """A data folder with a fake MNIST (30 train / 20 test images) that verifies as the real one."""
    monkeypatch.setattr(dropout_py.data.fetch, "MNIST_SPEC", fake_mnist.spec)
    return fake_mnist.write(tmp_path / "data")


def write_grid(folder: Path, text: str, name: str = "grid.toml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def without_times(rows: list[dict]) -> list[dict]:
    """Rows sorted by point, without what depends on the clock or the host."""
    kept = []
    for row in rows:
        row = {k: v for k, v in row.items() if k not in TIME_FIELDS}
        row["history"] = [{k: v for k, v in h.items() if k != "seconds"} for h in row["history"]]
        kept.append(row)
    return sorted(kept, key=lambda r: r["key"])


# --- grids ---------------------------------------------------------------------------------


def test_a_grid_is_variants_times_vary_times_seeds(tmp_path):
    grid = load_grid(
        write_grid(
            tmp_path,
            """\
            seeds = [1, 2, 3]
            [settings]
            epochs = 4
            [vary]
            batch_size = [10, 20]
            [[variant]]
            label = "a"
            [[variant]]
            label = "b"
            keep_hidden = 0.5
            """,
        )
    )
    assert grid.name == "grid" and grid.subset == "full"
    assert len(grid.points) == 2 * 2 * 3
    b = [p for p in grid.points if p.label == "b"]
    assert {p.settings.keep_hidden for p in b} == {0.5}
    assert {(p.settings.batch_size, p.settings.seed) for p in b} == {
        (size, seed) for size in (10, 20) for seed in (1, 2, 3)
    }
    assert all(p.settings.epochs == 4 for p in grid.points)
    assert len({p.key for p in grid.points}) == len(grid.points)


def test_point_keys_depend_on_settings_and_seed_only(tmp_path):
    text = "seeds = [1]\n[settings]\nepochs = 3\n"
    first = load_grid(write_grid(tmp_path, text, "one.toml"))
    second = load_grid(write_grid(tmp_path, "# a comment\n" + text, "two.toml"))
    assert first.points[0].key == second.points[0].key
    other = load_grid(write_grid(tmp_path, text.replace("[1]", "[2]"), "three.toml"))
    assert other.points[0].key != first.points[0].key


MALFORMED = [
    pytest.param(
        "seeds = [1]\n[settings]\nepochs = 3\nhiden = [10]\n",
        "grid.toml:4: settings.hiden: unknown setting; did you mean 'hidden'?",
        id="unknown setting",
    ),
    pytest.param(
        "seeds = [1]\n[settings]\nepochs = 'ten'\n",
        "grid.toml:3: settings.epochs: expected a whole number, got 'ten'",
        id="wrong type",
    ),
    pytest.param(
        "seeds = [1]\n[settings]\nhidden = [100, 0.5]\n",
        "grid.toml:3: settings.hidden: expected a non-empty list of a whole number",
        id="wrong type in a list",
    ),
    pytest.param(
        "seeds = [1]\n[vary]\nkeep_hidden = [0.5, 1.5]\n",
        "grid.toml:3: vary.keep_hidden: keep_hidden must be in (0, 1]",
        id="value out of range",
    ),
    pytest.param(
        "seeds = [1]\n\n[[variant]]\nlabel = 'a'\n\n[[variant]]\nlabel = 'b'\n"
        "dropout = 'sometimes'\n",
        "grid.toml:8: variant.dropout: dropout must be one of",
        id="bad value in the second variant",
    ),
    pytest.param(
        "seeds = [1]\n[settings]\nengine = 'tutorial'\nhidden = [10, 10]\n",
        "grid.toml:",
        id="settings that do not go together",
    ),
    pytest.param(
        "seeds = [1]\n[settings]\nengine = 'tutorial'\ndtype = 'float64'\n",
        "grid.toml:4: settings.dtype: dtype does not apply to the tutorial engine",
        id="a setting the engine does not read",
    ),
    pytest.param(
        "seeds = [1]\n[settings]\npartitions = 5\n",
        "grid.toml:3: settings.partitions: partitions does not apply to per-example masks",
        id="a setting no point uses",
    ),
    pytest.param(
        "seeds = [1]\n[[variant]]\nlabel = 'a'\n[[variant]]\nlabel = 'b'\nengine = 'tutorial'\n"
        "momentum = 0.5\n",
        "grid.toml:7: variant.momentum: momentum does not apply to the tutorial engine",
        id="a variant's setting its engine does not read",
    ),
    pytest.param(
        "seeds = [1]\n[settings]\nepochs = -1\n",
        "grid.toml:3: settings.epochs: epochs must be a positive integer, got -1",
        id="negative epochs",
    ),
    pytest.param("seeds = []\n", "grid.toml:1: seeds: the grid is empty", id="no seeds"),
    pytest.param(
        "seeds = [1]\n[vary]\nepochs = []\n",
        "grid.toml:3: vary.epochs: the grid is empty",
        id="empty axis",
    ),
    pytest.param("[settings]\nepochs = 3\n", "grid.toml: seeds: missing", id="no seeds key"),
    pytest.param(
        "seeds = [1]\n[settings]\nseed = 3\n",
        "grid.toml:3: settings.seed: set seeds with",
        id="seed as a setting",
    ),
    pytest.param(
        "seeds = [1]\nsubset = 'tiny'\n",
        "grid.toml:2: subset: expected one of full, small",
        id="unknown subset",
    ),
    pytest.param("seeds = [1]\nepochs = 3\n", "grid.toml:2: epochs: unknown key", id="top key"),
    pytest.param("seeds = [1\n", "grid.toml: not valid TOML", id="not TOML"),
    pytest.param(
        "seeds = [1]\n[[variant]]\nlabel = 'a'\n[[variant]]\nlabel = 'b'\n",
        "grid.toml:5: variant.label: runs the same settings as 'a'",
        id="two variants, one run",
    ),
]


@pytest.mark.parametrize(("text", "message"), MALFORMED)
def test_a_malformed_grid_names_line_and_field(tmp_path, text, message):
    path = write_grid(tmp_path, text)
    with pytest.raises(GridError) as caught:
        load_grid(path)
    assert str(caught.value).startswith(str(tmp_path) + "/"), caught.value
    assert message in str(caught.value), caught.value


def test_a_setting_some_points_use_is_fine(tmp_path):
    """partitions counts the thinned networks of the chapter's scheme; inverted ignores it."""
    text = "seeds = [1]\n[settings]\npartitions = 4\n[vary]\ndropout = ['inverted', 'chapter']\n"
    grid = load_grid(write_grid(tmp_path, text))
    assert {p.settings.partitions for p in grid.points} == {4} and len(grid.points) == 2


def test_a_huge_network_is_checked_without_being_built(tmp_path):
    """Checking a grid allocates nothing: 784-1e8-10 would be 300 GB (MemoryError before)."""
    grid = load_grid(write_grid(tmp_path, "seeds = [1]\n[settings]\nhidden = [100000000]\n"))
    assert grid.points[0].settings.hidden == (100_000_000,)


def test_rows_go_to_a_rescue_file_when_the_results_file_fails(tiny, tmp_path):
    grid = load_grid(write_grid(tmp_path, TINY_GRID))
    results = tmp_path / "results"

    def unplug_after_the_first_row(done, total, row):
        if done == 1:
            (results / "tiny.jsonl").unlink()
            results.rmdir()
            results.write_text("now a file")

    with pytest.warns(OutputWarning, match="cannot append to .*tiny.jsonl"):
        outcome = run_sweep(
            grid, results=results, data_dir=tiny, progress=unplug_after_the_first_row
        )
    assert outcome.ran == 6 and outcome.rescued is not None
    assert outcome.rescued.parent == tmp_path / "cache" / "rescued"
    assert len(read_rows(outcome.rescued)) == 5  # the first went where it belonged


def test_a_malformed_grid_fails_before_any_run(tiny, tmp_path, capsys):
    good = write_grid(tmp_path, TINY_GRID, "good.toml")
    bad = write_grid(tmp_path, TINY_GRID.replace("epochs = 2", "epochs = 0"), "bad.toml")
    results = tmp_path / "results"
    status = main(
        ["sweep", str(good), str(bad), "--results", str(results), "--data-dir", str(tiny)]
    )
    err = capsys.readouterr().err
    assert status == 2
    assert f"{bad}:6: settings.epochs:" in err, err
    assert not results.exists()  # the good grid did not start either


# --- running -------------------------------------------------------------------------------


def test_rows_hold_settings_seed_history_metrics_time_commit_machine(tiny, tmp_path):
    grid = load_grid(write_grid(tmp_path, TINY_GRID))
    outcome = run_sweep(grid, results=tmp_path / "results", data_dir=tiny)
    assert (outcome.total, outcome.skipped, outcome.ran) == (6, 0, 6)
    rows = read_rows(tmp_path / "results" / "tiny.jsonl")
    assert len(rows) == 6
    row = next(r for r in rows if r["label"] == "dropout" and r["seed"] == 2)
    assert row["grid"] == "tiny" and row["subset"] == "full"
    assert row["settings"]["keep_hidden"] == 0.5 and row["settings"]["hidden"] == [8]
    assert "seed" not in row["settings"]
    assert [h["epoch"] for h in row["history"]] == [1, 2]
    assert {"train_accuracy", "test_accuracy", "test_loss"} <= set(row["history"][-1])
    assert row["final"]["test_accuracy"] == row["history"][-1]["test_accuracy"]
    assert row["final"]["epochs"] == 2 and row["final"]["stopped_early"] is False
    assert row["seconds"] > 0 and len(row["commit"]) >= 7
    assert {"host", "cpu", "cores", "python", "numpy"} <= set(row["machine"])
    tutorial = next(r for r in rows if r["label"] == "chapter's network")
    assert tutorial["settings"]["engine"] == "tutorial"


def test_a_finished_grid_runs_nothing_again(tiny, tmp_path):
    grid = load_grid(write_grid(tmp_path, TINY_GRID))
    run_sweep(grid, results=tmp_path / "results", data_dir=tiny)
    before = (tmp_path / "results" / "tiny.jsonl").read_bytes()
    outcome = run_sweep(grid, results=tmp_path / "results", data_dir=tiny)
    assert (outcome.skipped, outcome.ran) == (6, 0)
    assert (tmp_path / "results" / "tiny.jsonl").read_bytes() == before


def test_parallel_processes_give_the_same_rows(tiny, tmp_path):
    grid = load_grid(write_grid(tmp_path, TINY_GRID))
    run_sweep(grid, results=tmp_path / "one", data_dir=tiny)
    run_sweep(grid, results=tmp_path / "two", jobs=2, data_dir=tiny)
    one = read_rows(tmp_path / "one" / "tiny.jsonl")
    two = read_rows(tmp_path / "two" / "tiny.jsonl")
    assert len(two) == 6
    assert without_times(one) == without_times(two)


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_rows(tiny, tmp_path):
    distributed = pytest.importorskip("distributed")
    grid = load_grid(write_grid(tmp_path, TINY_GRID))
    run_sweep(grid, results=tmp_path / "local", data_dir=tiny)
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        outcome = run_sweep(
            grid, results=tmp_path / "dask", scheduler=cluster.scheduler_address, data_dir=tiny
        )
    assert outcome.ran == 6
    local = read_rows(tmp_path / "local" / "tiny.jsonl")
    remote = read_rows(tmp_path / "dask" / "tiny.jsonl")
    assert without_times(local) == without_times(remote)


def test_a_torn_last_row_is_dropped_and_its_point_runs_again(tiny, tmp_path):
    grid = load_grid(write_grid(tmp_path, TINY_GRID))
    results = tmp_path / "results"
    run_sweep(grid, results=results, data_dir=tiny)
    path = results / "tiny.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    path.write_text("".join(lines[:4]) + lines[4][: len(lines[4]) // 2])  # killed mid-write
    assert len(read_rows(path)) == 4
    outcome = run_sweep(grid, results=results, data_dir=tiny)
    assert (outcome.skipped, outcome.ran) == (4, 2)
    rows = read_rows(path)
    assert len(rows) == 6 and len({r["key"] for r in rows}) == 6
    assert path.read_text().startswith("".join(lines[:4]))


def test_append_row_writes_whole_lines(tmp_path):
    path = tmp_path / "deep" / "rows.jsonl"
    append_row(path, {"a": 1, "values": (1, 2)})
    path.write_bytes(path.read_bytes() + b'{"torn": ')
    append_row(path, {"b": 2})
    assert read_rows(path) == [{"a": 1, "values": [1, 2]}, {"b": 2}]
    path.write_bytes(path.read_bytes() + b"not json\n")
    with pytest.raises(ValueError, match=r"rows.jsonl:3: not a JSON row"):
        read_rows(path)


SLOW_GRID = """\
name = "slow"
seeds = [1, 2, 3, 4, 5, 6, 7, 8]

[settings]
hidden = [64]
epochs = 150
batch_size = 5
"""


@pytest.mark.slow
def test_a_killed_sweep_resumes_losing_only_the_point_in_flight(tiny, fake_mnist, tmp_path):
    grid_path = write_grid(tmp_path, SLOW_GRID)
    results = tmp_path / "results"
    spec = tmp_path / "spec.pickle"
    spec.write_bytes(pickle.dumps(fake_mnist.spec))
    launcher = tmp_path / "launch.py"
    launcher.write_text(
        "import pickle, sys\n"
        "import dropout_py.data.fetch\n"
        f"dropout_py.data.fetch.MNIST_SPEC = pickle.loads(open({str(spec)!r}, 'rb').read())\n"
        "from dropout_py.cli import main\n"
        "sys.exit(main(sys.argv[1:]))\n"
    )
    command = [sys.executable, str(launcher), "sweep", str(grid_path), "--results", str(results)]
    command += ["--data-dir", str(tiny), "-j", "1"]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    proc = subprocess.Popen(
        command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )
    path = results / "slow.jsonl"
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline and proc.poll() is None:
            if len(read_rows(path)) >= 2:
                break
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # our own child's group, not a broad name
        proc.communicate()
    before = path.read_bytes()
    kept = read_rows(path)
    assert 2 <= len(kept) < 8, "the sweep finished before the kill; make its points slower"
    outcome = run_sweep(load_grid(grid_path), results=results, data_dir=tiny)
    assert outcome.skipped == len(kept) and outcome.ran == 8 - len(kept)
    rows = read_rows(path)
    assert len(rows) == 8 and len({r["key"] for r in rows}) == 8
    assert path.read_bytes().startswith(before)  # finished rows untouched


def test_the_command_line_shows_progress_and_a_summary(tiny, tmp_path, capsys):
    grid = write_grid(tmp_path, TINY_GRID)
    args = ["sweep", str(grid), "--results", str(tmp_path / "results"), "--data-dir", str(tiny)]
    assert main(args) == 0
    out, err = capsys.readouterr()
    assert "6/6 points" in err
    assert "tiny: 6 points run, 0 already done" in out
    assert main(args) == 0
    assert "tiny: 0 points run, 6 already done" in capsys.readouterr().out
    assert main([*args, "--dry-run"]) == 0
    assert "6 points, 0 to run" in capsys.readouterr().out


def test_the_rows_are_json_lines(tiny, tmp_path):
    grid = load_grid(write_grid(tmp_path, TINY_GRID))
    run_sweep(grid, results=tmp_path, data_dir=tiny)
    for line in (tmp_path / "tiny.jsonl").read_text().splitlines():
        assert isinstance(json.loads(line), dict)


def test_ctrl_c_keeps_the_finished_points_and_records_no_half_trained_one(
    tiny, tmp_path, monkeypatch, capsys
):
    import dropout_py.run.sweep as sweep

    real_run, calls = sweep.run, []

    def interrupted_at_the_second_point(settings, data):
        calls.append(settings)
        result = real_run(settings, data)
        result.stopped_early = len(calls) == 2  # what run() returns when Ctrl-C hits training
        return result

    monkeypatch.setattr(sweep, "run", interrupted_at_the_second_point)
    grid = write_grid(tmp_path, TINY_GRID)
    results = tmp_path / "results"
    args = ["sweep", str(grid), "--results", str(results), "--data-dir", str(tiny)]
    assert main(args) == 130
    assert "the same command goes on with the rest" in capsys.readouterr().err
    assert len(read_rows(results / "tiny.jsonl")) == 1
    monkeypatch.setattr(sweep, "run", real_run)
    assert main(args) == 0
    assert len(read_rows(results / "tiny.jsonl")) == 6


def test_every_committed_row_is_a_point_of_its_grid():
    """New RunSettings fields left unset must not change the keys of rows already written: each
    row of a committed results file is still a point of its grid, once. (A grid still running
    may not have all its points in yet; the pages say how many are.)"""
    repo = Path(__file__).resolve().parents[1]
    for path in sorted((repo / "experiments").glob("*.toml")):
        grid = load_grid(path)
        results = grid.results_path(repo / "results")
        if results.exists():
            keys = [row["key"] for row in read_rows(results)]
            assert set(keys) <= {p.key for p in grid.points}, path.name
            assert len(keys) == len(set(keys)), f"{path.name}: a point twice"
