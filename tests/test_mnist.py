import gzip
import hashlib
import json
import pickle
import shutil
import sys

import numpy as np
import pytest
from mnist_helpers import NAMES

from dropout_py.cli import main
from dropout_py.data import fetch
from dropout_py.data.fetch import MNIST_SPEC, DataUnavailableError
from dropout_py.data.idx import idx_sha256, read_idx
from dropout_py.mnist import (
    MNIST,
    chapter_scale,
    export_chapter_pickle,
    export_web,
    labels_as_column,
    load_mnist,
    one_hot,
    stratified_indices,
    to_unit_interval,
)


def expected_small(fake):
    """The small subset of the fake set, by hand: first 2 training / 1 test image per digit."""

    def first(labels, k):
        return sorted(i for d in range(10) for i in [j for j, x in enumerate(labels) if x == d][:k])

    train = first(fake.arrays[NAMES[1]].tolist(), 2)
    test = first(fake.arrays[NAMES[3]].tolist(), 1)
    a = fake.arrays
    return MNIST(a[NAMES[0]][train], a[NAMES[1]][train], a[NAMES[2]][test], a[NAMES[3]][test])


def test_load_full(tmp_path, fake_mnist, mnist_env):
    folder = fake_mnist.write(tmp_path / "data", gz=(NAMES[2],))
    data = load_mnist(data_dir=folder, spec=fake_mnist.spec)
    assert isinstance(data, MNIST)
    assert [a.shape for a in data] == [(30, 784), (30,), (20, 784), (20,)]
    for array, name in zip(data, NAMES, strict=True):
        assert array.dtype == np.uint8 and array.flags.writeable
        np.testing.assert_array_equal(
            array.reshape(fake_mnist.arrays[name].shape), fake_mnist.arrays[name]
        )
    images = load_mnist(data_dir=folder, as_images=True, spec=fake_mnist.spec)
    assert images.train_images.shape == (30, 28, 28)


def test_stratified_indices_by_hand():
    labels = np.array([3, 1, 3, 0, 1, 2, 0, 3, 2, 1])
    np.testing.assert_array_equal(stratified_indices(labels, 1, n_classes=4), [0, 1, 3, 5])
    np.testing.assert_array_equal(
        stratified_indices(labels, 2, n_classes=4), [0, 1, 2, 3, 4, 5, 6, 8]
    )
    with pytest.raises(ValueError, match="class 0 has 2 samples, expected 3"):
        stratified_indices(labels, 3, n_classes=4)


def test_small_subset_computed_from_the_full_set(tmp_path, fake_mnist, mnist_env):
    folder = fake_mnist.write(tmp_path / "data")
    small = load_mnist(subset="small", data_dir=folder, as_images=True, spec=fake_mnist.spec)
    for got, want in zip(small, expected_small(fake_mnist), strict=True):
        np.testing.assert_array_equal(got, want)
    assert np.bincount(small.train_labels).tolist() == [2] * 10


def test_computed_subset_must_match_its_digests(tmp_path, fake_mnist, mnist_env):
    folder = fake_mnist.write(tmp_path / "data")
    files = fake_mnist.spec.small.files
    wrong = (*files[:3], fetch.IdxFile(files[3].name, "0" * 64))
    spec = fake_mnist.spec.__class__(
        files=fake_mnist.spec.files, small=fake_mnist.spec.small.__class__("small", 2, 1, wrong)
    )
    with pytest.raises(ValueError, match="small subset's t10k-labels-idx1-ubyte does not match"):
        load_mnist(subset="small", data_dir=folder, spec=spec)


def test_unknown_subset():
    with pytest.raises(ValueError, match="subset must be 'full' or 'small', got 'tiny'"):
        load_mnist(subset="tiny")


def test_fetch_false_downloads_nothing(fake_mnist, mnist_env, mirror, monkeypatch):
    mnist_env.fake_npm(monkeypatch=monkeypatch)
    base = mirror.serve("m", {f"{n}.gz": fake_mnist.gz[n] for n in NAMES})
    spec = fake_mnist.spec.__class__(fake_mnist.spec.files, fake_mnist.spec.small, (base,))
    with pytest.raises(DataUnavailableError, match="skipped: mirrors disabled"):
        load_mnist(fetch=False, spec=spec)
    assert mirror.requests == [] and mnist_env.npm_calls() == []


# --- the web bundle -------------------------------------------------------------------------


def test_export_web_bundle(tmp_path, fake_mnist, mnist_env):
    folder = fake_mnist.write(tmp_path / "data")
    manifest = export_web(tmp_path / "web", data_dir=folder, spec=fake_mnist.spec)
    on_disk = json.loads((tmp_path / "web" / "manifest.json").read_text())
    assert on_disk == manifest and manifest["format"] == 1
    small_files = [f"small/{n}.gz" for n in NAMES]
    assert list(manifest["files"]) == [f"{n}.gz" for n in NAMES] + small_files
    assert manifest["subsets"]["small"]["files"] == small_files
    assert (manifest["subsets"]["small"]["train"], manifest["subsets"]["small"]["test"]) == (20, 10)
    for rel, entry in manifest["files"].items():
        data = (tmp_path / "web" / rel).read_bytes()
        assert entry["bytes"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["raw_sha256"] == hashlib.sha256(gzip.decompress(data)).hexdigest()
    assert manifest["files"][f"{NAMES[0]}.gz"]["raw_sha256"] == fake_mnist.spec.files[0].sha256


def test_export_web_is_deterministic_and_idempotent(tmp_path, fake_mnist, mnist_env):
    folder = fake_mnist.write(tmp_path / "data")
    first = export_web(tmp_path / "a", data_dir=folder, spec=fake_mnist.spec)
    second = export_web(tmp_path / "b", data_dir=folder, spec=fake_mnist.spec)
    assert first == second
    for rel in first["files"]:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    shutil.rmtree(folder)  # an up-to-date bundle needs no data at all
    assert export_web(tmp_path / "a", spec=fake_mnist.spec) == first
    (tmp_path / "a" / "small" / f"{NAMES[1]}.gz").write_bytes(b"tampered")
    with pytest.raises(DataUnavailableError):  # rebuilding needs the data again
        export_web(tmp_path / "a", spec=fake_mnist.spec)


def test_bundle_is_a_data_dir_in_pyodide(tmp_path, fake_mnist, mnist_env, monkeypatch):
    """The browser mounts the bundle and sets DROPOUT_PY_DATA: the same load_mnist works."""
    web = tmp_path / "web"
    export_web(web, data_dir=fake_mnist.write(tmp_path / "data"), spec=fake_mnist.spec)
    monkeypatch.setattr(sys, "platform", "emscripten")
    monkeypatch.setenv("DROPOUT_PY_DATA", str(web))
    full = load_mnist(spec=fake_mnist.spec)
    np.testing.assert_array_equal(full.test_labels, fake_mnist.arrays[NAMES[3]])
    for name in NAMES:  # the small subset comes from small/ alone
        (web / f"{name}.gz").unlink()
    small = load_mnist(subset="small", as_images=True, spec=fake_mnist.spec)
    for got, want in zip(small, expected_small(fake_mnist), strict=True):
        np.testing.assert_array_equal(got, want)
    with pytest.raises(DataUnavailableError, match=r"in the browser \(Pyodide\)"):
        load_mnist(spec=fake_mnist.spec)


def test_corrupt_small_files_are_not_used(tmp_path, fake_mnist, mnist_env):
    web = tmp_path / "web"
    folder = fake_mnist.write(tmp_path / "data")
    export_web(web, data_dir=folder, spec=fake_mnist.spec)
    (web / "small" / f"{NAMES[0]}.gz").write_bytes((web / f"{NAMES[0]}.gz").read_bytes())
    small = load_mnist(subset="small", data_dir=web, as_images=True, spec=fake_mnist.spec)
    np.testing.assert_array_equal(small.train_images, expected_small(fake_mnist).train_images)


def test_cli_export_web(tmp_path, fake_mnist, mnist_env, monkeypatch, capsys):
    monkeypatch.setattr(fetch, "MNIST_SPEC", fake_mnist.spec)
    folder = fake_mnist.write(tmp_path / "data")
    assert main(["export-web", str(tmp_path / "web"), "--data-dir", str(folder)]) == 0
    assert "8 files" in capsys.readouterr().out
    assert (tmp_path / "web" / "manifest.json").is_file()


# --- preprocessing --------------------------------------------------------------------------


def test_chapter_scale_matches_the_chapter_bit_for_bit():
    pixels = np.arange(256, dtype=np.uint8).reshape(2, 128)
    scaled = chapter_scale(pixels)
    assert scaled.dtype == np.float64 and scaled.shape == (2, 128)
    np.testing.assert_array_equal(scaled, pixels.astype(np.float64) * (0.99 / 255) + 0.01)
    assert scaled[0, 0] == 0.01 and abs(scaled[1, -1] - 1.0) < 1e-15


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_to_unit_interval(dtype):
    pixels = np.array([[0, 51, 255]], dtype=np.uint8)
    out = to_unit_interval(pixels, dtype)
    assert out.dtype == dtype
    np.testing.assert_array_equal(out, np.array([[0.0, 0.2, 1.0]], dtype=dtype))


def test_to_unit_interval_rejects_integer_dtype():
    with pytest.raises(ValueError, match="dtype must be a floating type, got int32"):
        to_unit_interval(np.zeros(3, np.uint8), np.int32)


def test_one_hot_and_label_column():
    labels = np.array([2, 0, 9], dtype=np.uint8)
    targets = one_hot(labels)
    assert targets.shape == (3, 10) and targets.dtype == np.float64
    assert (
        targets[0, 2] == 0.99
        and targets[0, 1] == 0.01
        and targets.sum() == pytest.approx(2.97 + 0.27)
    )
    column = labels_as_column(labels)
    assert column.shape == (3, 1) and column.dtype == np.float64
    np.testing.assert_array_equal(one_hot(column), targets)  # the chapter's float column works too
    np.testing.assert_array_equal(
        one_hot(labels, 10, low=0, high=1, dtype=np.float32).argmax(1), labels
    )


@pytest.mark.parametrize(
    ("labels", "fragment"),
    [
        ([1, 10], r"label 10 is not a class number in \[0, 10\)"),
        ([-1], "label -1 is not"),
        ([2.5], "label 2.5 is not"),
        ([[1, 2]], r"labels must have shape \(N,\) or \(N, 1\), got \(1, 2\)"),
    ],
)
def test_one_hot_rejects_bad_labels(labels, fragment):
    with pytest.raises(ValueError, match=fragment):
        one_hot(np.array(labels))


def test_chapter_pickle_layout(tmp_path, fake_mnist, mnist_env, monkeypatch):
    monkeypatch.setattr(fetch, "MNIST_SPEC", fake_mnist.spec)
    path = export_chapter_pickle(
        tmp_path / "pickled_mnist.pkl", data_dir=fake_mnist.write(tmp_path / "d")
    )
    with open(path, "rb") as fh:
        layout = pickle.load(fh)
    assert [a.shape for a in layout] == [(30, 784), (20, 784), (30, 1), (20, 1), (30, 10), (20, 10)]
    assert all(a.dtype == np.float64 for a in layout)
    np.testing.assert_array_equal(layout[2][:, 0], fake_mnist.arrays[NAMES[1]])


# --- the real MNIST -------------------------------------------------------------------------


def check_real_small_subset(data_dir=None):
    """The small subset computed from the verified full MNIST matches the recorded digests."""
    small = load_mnist(subset="small", data_dir=data_dir, as_images=True, fetch=False)
    assert [a.shape[0] for a in small] == [10000, 10000, 2000, 2000]
    assert [idx_sha256(a) for a in small] == [f.sha256 for f in MNIST_SPEC.small.files]
    assert np.bincount(small.test_labels).tolist() == [200] * 10


def test_real_small_subset_constants():
    try:
        fetch.fetch_mnist(mirrors=False, npm=False)
    except DataUnavailableError:
        pytest.skip("the real MNIST is not in the cache or $DROPOUT_PY_DATA")
    check_real_small_subset()


@pytest.mark.network
@pytest.mark.timeout(600)
def test_real_npm_route(tmp_path, monkeypatch):
    monkeypatch.setenv("DROPOUT_PY_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("DROPOUT_PY_DATA", raising=False)
    if shutil.which("npm") is None:
        pytest.fail("the network test needs npm on PATH")
    found = fetch.fetch_mnist(mirrors=False)
    assert {f.source for f in found.values()} == {"npm"}
    for f in MNIST_SPEC.files:
        raw = found[f.name].path.read_bytes()
        assert hashlib.sha256(raw).hexdigest() == f.sha256
    assert read_idx(found[NAMES[0]].path).shape == (60000, 28, 28)
    check_real_small_subset()
