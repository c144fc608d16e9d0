"""Checks made before a run: settings (as the engines judge them), memory, output paths."""

import dataclasses
import os
import resource
import tempfile

import pytest

import dropout_py.run.checks as checks
from dropout_py.run import memory, outputs
from dropout_py.run.checks import SettingError, check_settings, unused_because, unused_settings
from dropout_py.run.experiment import RunSettings, build_model

# What a run refuses but an engine's constructor does not see (the engine, the epochs, the data)
# or takes otherwise (a network without hidden layer, the tutorial engine's first layer only).
RUN_ONLY = [
    {"engine": "gpu"},
    {"hidden": ()},
    {"engine": "tutorial", "hidden": (5, 5)},
    {"epochs": 0},
    {"epochs": -1},
    {"epochs": 2.5},
    {"train_size": 0},
    {"train_size": 60_001},
]
BAD = [
    {"hidden": (0,)},
    {"hidden": (10, -1)},
    {"learning_rate": 0},
    {"learning_rate": float("nan")},
    {"learning_rate": float("inf")},
    {"keep_input": 0},
    {"keep_hidden": 1.5},
    {"keep_hidden": float("nan")},
    {"init": "zeros"},
    {"seed": -1},
    {"partitions": 0},
    {"engine": "tutorial", "bias": float("nan")},
    {"engine": "tutorial", "backprop": "exact"},
    {"activation": "tanh"},
    {"loss": "hinge"},
    {"batch_size": 0},
    {"momentum": 1},
    {"momentum": -0.1},
    {"lr_decay": 0},
    {"lr_decay": 1.5},
    {"max_norm": 0},
    {"max_norm": float("inf")},
    {"dropout": "sometimes"},
    {"mask": "row"},
    {"scale": "twice"},
    {"dtype": "float16"},
]
GOOD = [
    {},
    {"engine": "tutorial", "init": "scaled", "bias": 1.0, "backprop": "gradient"},
    {"hidden": (3, 4, 5), "activation": "relu", "init": "he", "dtype": "float64"},
    {"keep_input": 0.8, "keep_hidden": 0.5, "mask": "partition", "scale": "test"},
    {"momentum": 0, "lr_decay": 1, "max_norm": 3.0, "train_size": 60_000},
]


def _fields(case: dict) -> str:
    return ",".join(f"{k}={v}" for k, v in case.items()) or "defaults"


@pytest.mark.parametrize("case", RUN_ONLY + BAD, ids=_fields)
def test_the_checks_refuse_bad_values_naming_the_field(case):
    settings = RunSettings(**case)
    with pytest.raises(SettingError) as caught:
        check_settings(settings)
    assert caught.value.field in case
    with pytest.raises(SettingError) as named:
        check_settings(settings, name=lambda field: f"--{field}")
    assert str(named.value).startswith(f"--{named.value.field}")


@pytest.mark.parametrize("case", BAD, ids=_fields)
def test_the_checks_refuse_what_the_engines_refuse(case, monkeypatch):
    """Asked without the checks, the engine's constructor refuses the same settings."""
    monkeypatch.setattr(checks, "check_settings", lambda settings, **_: None)
    with pytest.raises(ValueError):
        build_model(RunSettings(**case))


@pytest.mark.parametrize("case", GOOD, ids=_fields)
def test_the_checks_accept_what_the_engines_build(case):
    settings = RunSettings(**case)
    check_settings(settings)
    build_model(settings, n_inputs=784)


def test_every_setting_has_a_rule():
    """A setting added to RunSettings must be checked here too."""
    assert set(checks._RULES) == {f.name for f in dataclasses.fields(RunSettings)}


@pytest.mark.parametrize(
    ("case", "field", "reason"),
    [
        ({"engine": "tutorial"}, "dtype", "the tutorial engine"),
        ({"engine": "tutorial"}, "batch_size", "the tutorial engine"),
        ({}, "bias", "the fast engine"),
        ({}, "partitions", "per-example masks"),
        ({"dropout": "chapter"}, "partitions", None),
        ({"mask": "partition"}, "partitions", None),
        ({"engine": "tutorial"}, "partitions", None),
        ({}, "dtype", None),
    ],
)
def test_settings_a_run_leaves_unused(case, field, reason):
    settings = RunSettings(**case)
    found = unused_because(settings, field)
    assert found == reason if reason is None else reason in found
    if reason:
        with pytest.raises(SettingError, match=f"--{field} does not apply to"):
            unused_settings(settings, [field], name=lambda f: f"--{f}")


# --- memory --------------------------------------------------------------------------------


def test_the_estimate_grows_with_the_network_and_the_batch():
    small = memory.run_bytes(RunSettings())
    assert 100e6 < small < 300e6  # 784-100-10 on MNIST: about 100 MB measured
    assert memory.run_bytes(RunSettings(hidden=(1000,))) > small
    assert memory.run_bytes(RunSettings(batch_size=60_000, hidden=(1000,))) > 1e9
    assert memory.run_bytes(RunSettings(hidden=(100_000_000,))) > 300e9  # 300 GB of weights
    tutorial = RunSettings(engine="tutorial")
    assert memory.run_bytes(tutorial) > 8 * 70_000 * 784  # the float64 inputs alone


def test_a_run_that_cannot_fit_is_refused_naming_its_size():
    huge = RunSettings(hidden=(100_000_000,))
    with pytest.raises(SettingError, match=r"--hidden 100000000 asks for a 784-100000000-10") as e:
        memory.check_fits(huge, available=8 * 10**9, name="--hidden")
    assert "8.0 GB is available" in str(e.value) and e.value.field == "hidden"
    memory.check_fits(RunSettings(), available=8 * 10**9)


def test_available_memory_respects_the_address_space_limit():
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    unlimited = memory.available_bytes()
    assert unlimited is None or unlimited > 0
    used = memory._meminfo(f"/proc/{os.getpid()}/status").get("VmSize", 0)
    resource.setrlimit(resource.RLIMIT_AS, (used + 2**30, hard))
    try:
        capped = memory.available_bytes()
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
    assert capped is not None and capped <= 2**30 + 2**20


def test_sizes_for_people():
    assert memory.format_bytes(5_300_000_000_000) == "5.3 TB"
    assert memory.format_bytes(24_000_000_000) == "24 GB"
    assert memory.format_bytes(999) == "999 bytes"


# --- output paths --------------------------------------------------------------------------


def test_check_file(tmp_path):
    assert outputs.check_file(tmp_path / "m.npz") == tmp_path / "m.npz"
    (tmp_path / "a-file").write_text("x")
    for path, message in [
        (tmp_path, "is a folder; name a file in it"),
        (tmp_path / "no" / "m.npz", "the folder .*no does not exist"),
        (tmp_path / "a-file" / "m.npz", "a-file is not a folder"),
    ]:
        with pytest.raises(ValueError, match=message):
            outputs.check_file(path)
    with pytest.raises(ValueError, match="MB free; the file needs about"):
        outputs.check_file(tmp_path / "m.npz", needs_bytes=10**18)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file"]  # the probes are gone


def test_check_folder(tmp_path):
    assert outputs.check_folder(tmp_path / "new" / "deeper") == tmp_path / "new" / "deeper"
    assert not (tmp_path / "new").exists()  # nothing created
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "out" / "curves.svg").mkdir(parents=True)
    for path, files, message in [
        (tmp_path / "a-file", (), "is a file, not a folder"),
        (tmp_path / "a-file" / "sub", (), "a-file is a file, so .* cannot be a folder"),
        (tmp_path / "out", ("curves.svg",), "curves.svg is a folder, so the file"),
    ]:
        with pytest.raises(ValueError, match=message):
            outputs.check_folder(path, files)


def test_a_folder_root_cannot_write_is_found_by_trying():
    """os.access says yes to root everywhere; writing a probe file tells the truth."""
    try:
        fd = os.open("/sys/fs/.probe-test", os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileNotFoundError:
        pytest.skip("no /sys/fs here")
    except OSError:
        with pytest.raises(ValueError, match="cannot write in /sys/fs"):
            outputs.check_folder("/sys/fs")
    else:  # pragma: no cover - a machine where /sys/fs is writable
        os.close(fd)
        os.unlink("/sys/fs/.probe-test")
        pytest.skip("/sys/fs is writable here")


def test_rescue_files_go_to_the_cache_or_else_the_temporary_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("DROPOUT_PY_CACHE", str(tmp_path / "cache"))
    first = outputs.rescue_path("model.npz")
    assert first.parent == tmp_path / "cache" / "rescued" and first.name.endswith("-model.npz")
    (tmp_path / "not-a-folder").write_text("x")
    monkeypatch.setenv("DROPOUT_PY_CACHE", str(tmp_path / "not-a-folder"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", None)
    second = outputs.rescue_path("model.npz")
    assert second.parent == tmp_path / "tmp" / "dropout_py-rescued"


def test_a_model_file_that_could_not_be_loaded_back_is_refused():
    outputs.check_model_file(RunSettings(hidden=(100_000,), epochs=10_000))
    with pytest.raises(ValueError, match="has 103,350,010 parameters; a model file holds at most"):
        outputs.check_model_file(RunSettings(hidden=(130_000,)))
    with pytest.raises(ValueError, match="20,000 epochs of history do not fit"):
        outputs.check_model_file(RunSettings(epochs=20_000))
