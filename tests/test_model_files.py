"""Model files are untrusted input: crafted files are refused before anything big is allocated.

Each crafted file is built here from a valid model file by rewriting one part of the archive: the
settings JSON, a metadata entry, an array's ``.npy`` header, the members' names or sizes.
Memory is measured with :mod:`tracemalloc` (NumPy reports its buffers to it), so "refused before
allocating" is checked, not assumed. The fuzz test at the end mutates valid files at random.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tracemalloc
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest

from dropout_py import DropoutMLP, NeuralNetwork, load_model
from dropout_py.cli import main

TESTS = Path(__file__).resolve().parent


# --- building crafted archives --------------------------------------------------------------


def npy_bytes(array: np.ndarray) -> bytes:
    """The ``.npy`` encoding of ``array``, as ``np.savez`` stores it."""
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=False)
    return buffer.getvalue()


def npy_with_header(header: str | bytes, data: bytes) -> bytes:
    """A ``.npy`` member with any header text (format 1.0), padded as numpy pads it."""
    text = header.encode("latin1") if isinstance(header, str) else header
    pad = -(10 + len(text) + 1) % 64
    text = text + b" " * pad + b"\n"
    return np.lib.format.MAGIC_PREFIX + b"\x01\x00" + len(text).to_bytes(2, "little") + text + data


def members_of(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def write_members(path: Path, members, *, deflate: tuple[str, ...] = ()) -> Path:
    """Write ``(name, bytes)`` pairs as a zip; names in ``deflate`` are compressed."""
    items = members.items() if isinstance(members, dict) else members
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(path, "w") as archive:
            for name, data in items:
                method = zipfile.ZIP_DEFLATED if name in deflate else zipfile.ZIP_STORED
                archive.writestr(name, data, compress_type=method)
    return path


def with_config(path: Path, out: Path, change) -> Path:
    """Copy the model file at ``path`` to ``out`` with its settings JSON rewritten."""
    members = members_of(path)
    with np.load(path) as archive:
        config = json.loads(str(archive["__config__"]))
    text = change(config) if callable(change) else change
    if not isinstance(text, str):
        text = json.dumps(text)
    members["__config__.npy"] = npy_bytes(np.array(text))
    return write_members(out, members)


@pytest.fixture
def mlp_file(tmp_path: Path) -> Path:
    """A 784-100-10 fast-engine model trained one epoch (about 320 KB, like a real one)."""
    rng = np.random.default_rng(0)
    X, y = rng.integers(0, 256, (200, 784), dtype=np.uint8), rng.integers(0, 10, 200)
    model = DropoutMLP((784, 100, 10), seed=0)
    model.fit(X, y, epochs=1)
    return model.save(tmp_path / "model.npz")


@pytest.fixture
def tutorial_file(tmp_path: Path) -> Path:
    return NeuralNetwork(4, 3, 5, 0.1, bias=1, seed=0).save(tmp_path / "tutorial.npz")


def load_measured(path: Path):
    """``load_model(path)``; also return the peak of traced memory in MB."""
    tracemalloc.start()
    try:
        return load_model(path), None
    except Exception as exc:
        return exc, tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def refused(path: Path, message: str, *, max_mb: float = 5.0) -> ValueError:
    """Assert that loading ``path`` raises ValueError matching ``message`` within ``max_mb``."""
    error, peak = load_measured(path)
    assert isinstance(error, ValueError), f"loaded or failed otherwise: {error!r}"
    assert str(path) in str(error)
    assert message in str(error), str(error)
    assert peak < max_mb, f"{peak:.0f} MB traced before refusing"
    return error


# --- item 1: the settings drive allocation only after the shapes are checked ------------------


@pytest.mark.parametrize("hidden", [30_000, 300_000, 100_000_000])
def test_settings_asking_for_a_huge_layer_are_refused_before_allocating(mlp_file, tmp_path, hidden):
    def grow(config):
        config["layer_sizes"] = [784, hidden, 10]
        return config

    from dropout_py.nn.serialization import MAX_PARAMETERS

    crafted = with_config(mlp_file, tmp_path / "huge.npz", grow)
    error = refused(crafted, "")
    if 794 * hidden + 10 > MAX_PARAMETERS:
        assert f"model files hold at most {MAX_PARAMETERS:,}" in str(error)
    else:
        assert f"parameter 'W0' has shape (100, 784), expected ({hidden}, 784)" in str(error)


def test_tutorial_settings_asking_for_more_nodes_are_refused_before_allocating(
    tutorial_file, tmp_path
):
    crafted = with_config(
        tutorial_file, tmp_path / "huge.npz", lambda c: {**c, "no_of_hidden_nodes": 5_000_000}
    )
    refused(crafted, "parameter 'wih' has shape (5, 5), expected (5000000, 5)")


# --- item 2: malformed settings are ValueErrors naming the field ------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("null", "the settings (__config__) in the model file must be a JSON object, got null"),
        ("[1, 2]", "must be a JSON object, got a list"),
        ('"text"', "must be a JSON object, got a string"),
        ("{nope", "corrupt model configuration"),
        ("[" * 100_000 + "]" * 100_000, "corrupt model configuration"),
        (
            lambda c: {**c, "history": 5},
            "invalid settings in model file (history must be a list, got a number (5))",
        ),
        (lambda c: {**c, "history": [1.5]}, "history record 1 must map names to numbers"),
        (lambda c: {**c, "history": [{"epoch": "x"}]}, "history record 1"),
        (lambda c: {**c, "epochs_trained": [1]}, "epochs_trained must be a whole number >= 0"),
        (lambda c: {**c, "epochs_trained": -2}, "epochs_trained must be a whole number >= 0"),
        (lambda c: {**c, "layer_sizes": None}, "layer_sizes must be a sequence"),
        (lambda c: {**c, "layer_sizes": "784"}, "layer_sizes must be a sequence"),
        (lambda c: {**c, "layer_sizes": [784.5, 100, 10]}, "each layer size must be a positive"),
        (lambda c: {**c, "layer_sizes": {"a": 1}}, "layer_sizes must be a sequence"),
        (lambda c: {**c, "momentum": "high"}, "invalid settings in model file"),
        (lambda c: {**c, "momentum": [0.5]}, "invalid settings in model file"),
        (lambda c: {**c, "activation": 3}, "activation must be one of"),
        (lambda c: {**c, "lr_decay": None}, "invalid settings in model file"),
        (lambda c: {**c, "batch_size": 1e400}, "batch_size must be a positive integer"),
        (
            lambda c: {**c, "surprise": 1},
            "invalid settings in model file (unknown setting 'surprise')",
        ),
        (lambda c: {**c, "seed": 1}, "unknown setting 'seed'"),
    ],
)
def test_malformed_settings_name_the_file_and_the_field(mlp_file, tmp_path, change, message):
    refused(with_config(mlp_file, tmp_path / "bad.npz", change), message)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"no_of_in_nodes": 4, "no_of_out_nodes": 3}, "no_of_hidden_nodes"),
        (lambda c: {**c, "bias": "yes"}, "bias must be None or a finite number"),
        (lambda c: {**c, "learning_rate": "fast"}, "learning_rate must be a positive number"),
    ],
)
def test_malformed_tutorial_settings_name_the_field(tutorial_file, tmp_path, change, message):
    refused(with_config(tutorial_file, tmp_path / "bad.npz", change), message)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("__format__", np.array([1, 1]), "field __format__ must be a whole number"),
        ("__format__", np.array("1"), "field __format__ must be a whole number"),
        ("__format__", np.array(1.0), "field __format__ must be a whole number"),
        ("__format__", np.array(2), "model format 2 is not supported"),
        ("__kind__", np.array(["DropoutMLP"]), "field __kind__ must be a class name"),
        ("__kind__", np.array(7), "field __kind__ must be a class name"),
        ("__kind__", np.array("Pickle"), "holds a Pickle, which this version"),
        ("__config__", np.array(["{}"]), "field __config__ must be the settings as JSON"),
        ("__config__", np.zeros(3), "field __config__ must be the settings as JSON"),
    ],
)
def test_malformed_metadata_names_the_field(mlp_file, tmp_path, name, value, message):
    members = members_of(mlp_file)
    members[f"{name}.npy"] = npy_bytes(value)
    refused(write_members(tmp_path / "bad.npz", members), message)


# --- item 3: only the needed members are read, each header checked first ----------------------


def test_an_extra_big_member_is_refused_unread(mlp_file, tmp_path):
    members = members_of(mlp_file)
    big = np.lib.format.header_data_from_array_1_0(np.zeros(0, np.float64))
    big["shape"] = (100_000_000 // 8,)  # 100 MB of zeros, deflated to about 100 KB
    header = npy_with_header(repr(big), b"")
    members["junk.npy"] = header + bytes(100_000_000)
    crafted = write_members(tmp_path / "extra.npz", members, deflate=("junk.npy",))
    assert crafted.stat().st_size < 2_000_000
    refused(crafted, "unknown member 'junk' in model file")


def test_a_member_claiming_more_than_it_holds_is_refused_before_reading(mlp_file, tmp_path):
    members = members_of(mlp_file)
    members["junk.npy"] = npy_with_header(
        "{'descr': '<f8', 'fortran_order': False, 'shape': (10000000000000,), }", b"\0" * 64
    )
    refused(write_members(tmp_path / "claims.npz", members), "unknown member 'junk'")
    del members["junk.npy"]
    members["W0.npy"] = npy_with_header(
        "{'descr': '<f4', 'fortran_order': False, 'shape': (100, 784), }", b"\0" * 64
    )
    refused(
        write_members(tmp_path / "short.npz", members),
        "member 'W0' holds 192 bytes, but its header (shape (100, 784), float32) needs 313728",
    )


@pytest.mark.parametrize(
    ("header", "message"),
    [
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (10, 784), }", "has shape (10, 784)"),
        ("{'descr': '|O', 'fortran_order': False, 'shape': (100, 784), }", "Python objects"),
        ("{'descr': '<U4', 'fortran_order': False, 'shape': (100, 784), }", "stored as text"),
        ("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (100, 784), }", "numbers"),
        ("{'descr': ('<f4', (9999, 9999)), 'fortran_order': False, 'shape': (100, 784), }", "raw"),
        ("{'descr': '<f4', 'fortran_order': 'no', 'shape': (100, 784), }", "broken .npy header"),
        ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 784), }", "negative size"),
        ("{'descr': 'q9', 'fortran_order': False, 'shape': (100, 784), }", "broken .npy header"),
        ("not a dict at all", "broken .npy header"),
        ("(" * 5000, "broken .npy header"),
    ],
)
def test_bad_array_headers_are_refused(mlp_file, tmp_path, header, message):
    members = members_of(mlp_file)
    data = members["W0.npy"][128:]
    members["W0.npy"] = npy_with_header(header, data)
    refused(write_members(tmp_path / "bad.npz", members), message)


def test_missing_duplicate_and_renamed_members_are_refused(mlp_file, tmp_path):
    members = members_of(mlp_file)
    refused(
        write_members(tmp_path / "dup.npz", [*members.items(), ("W0.npy", members["W0.npy"])]),
        "member 'W0.npy' appears twice",
    )
    without = {k: v for k, v in members.items() if k != "b1.npy"}
    refused(write_members(tmp_path / "missing.npz", without), "parameter 'b1' is missing")
    renamed = {("B1.npy" if k == "b1.npy" else k): v for k, v in members.items()}
    refused(write_members(tmp_path / "renamed.npz", renamed), "unknown member 'B1'")


def test_an_archive_of_very_many_members_is_refused_before_listing_them(mlp_file, tmp_path):
    members = list(members_of(mlp_file).items())
    members += [(f"m{i}.npy", b"") for i in range(20_000)]
    crafted = write_members(tmp_path / "many.npz", members)
    refused(crafted, "20,007 members in the archive; a model file has at most 10,000", max_mb=2)
    members += [(f"n{i}.npy", b"") for i in range(70_000)]  # a ZIP64 archive
    refused(write_members(tmp_path / "zip64.npz", members), "65,535 or more members", max_mb=2)


def test_corrupt_member_data_is_refused(mlp_file, tmp_path):
    data = bytearray(mlp_file.read_bytes())
    offset = data.find(b"W0.npy") + 400  # inside W0's data, after its local header
    data[offset] ^= 0xFF
    (tmp_path / "flipped.npz").write_bytes(bytes(data))
    refused(tmp_path / "flipped.npz", "not a readable .npz model file")


def test_a_compressed_model_file_still_loads(mlp_file, tmp_path):
    members = members_of(mlp_file)
    copy = write_members(tmp_path / "deflated.npz", members, deflate=tuple(members))
    loaded, original = load_model(copy), load_model(mlp_file)
    for a, b in zip(loaded.weights_, original.weights_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert loaded.history_ == original.history_ and loaded.epochs_trained_ == 1


def test_fortran_ordered_and_big_endian_arrays_load(tutorial_file, tmp_path):
    members = members_of(tutorial_file)
    original = NeuralNetwork.load(tutorial_file)
    members["wih.npy"] = npy_bytes(np.asfortranarray(original.wih).astype(">f8"))
    loaded = NeuralNetwork.load(write_members(tmp_path / "f.npz", members))
    np.testing.assert_array_equal(loaded.wih, original.wih)


# --- the command line: one line, exit 2 ---------------------------------------------------------


def test_evaluate_prints_one_line_and_exits_2_for_crafted_files(mlp_file, tmp_path, capsys):
    crafted = [
        with_config(mlp_file, tmp_path / "a.npz", "null"),
        with_config(mlp_file, tmp_path / "b.npz", lambda c: {**c, "history": 3}),
        with_config(mlp_file, tmp_path / "c.npz", lambda c: {**c, "layer_sizes": [784, 10**8, 10]}),
    ]
    members = members_of(mlp_file)
    members["__format__.npy"] = npy_bytes(np.array("1"))
    crafted.append(write_members(tmp_path / "d.npz", members))
    for path in crafted:
        status = main(["evaluate", "--model", str(path), "--data-dir", str(tmp_path)])
        out, err = capsys.readouterr()
        assert status == 2 and out == ""
        assert err.startswith(f"dropout-py evaluate: error: {path}: ")
        assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


# --- fuzzing: every mutated file loads or raises ValueError ------------------------------------

FUZZ_EXAMPLES = 2500


def fuzz_model_files(examples: int = FUZZ_EXAMPLES) -> int:
    """Run the property on ``examples`` mutated files; return how many of them loaded."""
    import tempfile

    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from model_file_mutations import base_files, mutated_archive

    loaded = []
    with tempfile.TemporaryDirectory() as folder:
        bases = base_files(Path(folder))
        target = Path(folder) / "fuzzed.npz"

        @settings(
            max_examples=examples,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(st.data())
        def property_holds(data) -> None:
            base = data.draw(st.sampled_from(sorted(bases)))
            target.write_bytes(mutated_archive(data.draw, bases[base]))
            try:
                model = load_model(target)
            except ValueError:
                return
            n_in = model.layer_sizes[0] if isinstance(model, DropoutMLP) else model.no_of_in_nodes
            assert np.all(np.isfinite(model.predict_proba(np.ones((2, n_in)))))
            loaded.append(base)

        property_holds()
    return len(loaded)


@pytest.mark.slow
def test_fuzzed_model_files_load_or_raise_value_error_in_bounded_memory():
    code = (
        "import resource, sys; sys.path.insert(0, sys.argv[1]);"
        "from test_model_files import fuzz_model_files;"
        "loaded = fuzz_model_files();"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss;"
        "print(loaded, peak)"
    )
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code, str(TESTS)],
        capture_output=True,
        text=True,
        timeout=900,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-5000:]
    loaded, peak_kb = map(int, done.stdout.split()[-2:])
    assert peak_kb * 1024 < 500e6, f"peak memory {peak_kb / 1024:.0f} MB"
    assert 0 < loaded < FUZZ_EXAMPLES  # some mutations are harmless, most are not
