"""Time and memory of load_mnist: the full set from the cache, the small subset, the web bundle.

Usage: python benchmarks/bench_mnist_load.py [--repeat 5]

Needs the real MNIST (run `dropout-py fetch` first). For each case it prints the median wall time
of --repeat calls in this process, the tracemalloc peak of one call (numpy registers its buffers
with tracemalloc), and the growth of the peak resident set size of one call in a fresh process.
The goal for the full set from the cache: <= 1 s and a peak <= 2x the raw bytes (55 MB).
Each case, and the export of the web bundle (with the size of its full and small parts), is also
appended as one row to ``results/bench-mnist-load.jsonl``.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

from dropout_py.run.results import append_row, git_commit, machine, now

RESULTS = Path(__file__).resolve().parent.parent / "results" / "bench-mnist-load.jsonl"

RAW_BYTES = 47_040_016 + 60_008 + 7_840_016 + 10_008

CASES = {
    "full, cache": {},
    "full, as_images": {"as_images": True},
    "small, from full": {"subset": "small"},
    "full, web bundle (gz)": {"data_dir": "{bundle}"},
    "small, web bundle (gz)": {"data_dir": "{bundle}", "subset": "small"},
}


def kwargs_for(case: str, bundle: str) -> dict:
    return {k: v.format(bundle=bundle) if isinstance(v, str) else v for k, v in CASES[case].items()}


def peak_rss() -> int:
    """Peak resident set size in bytes (Linux: VmHWM, which, unlike ru_maxrss, is not
    inherited from the parent process across fork and exec)."""
    try:
        with open("/proc/self/status") as fh:
            line = next(ln for ln in fh if ln.startswith("VmHWM:"))
        return int(line.split()[1]) * 1024
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(case: str, bundle: str) -> None:
    """Run one load in a fresh process and print how much the peak RSS grew."""
    from dropout_py.mnist import load_mnist

    before = peak_rss()
    load_mnist(fetch=False, **kwargs_for(case, bundle))
    print(json.dumps({"rss_growth": peak_rss() - before}))


def measure(case: str, bundle: str, repeat: int) -> dict:
    from dropout_py.mnist import load_mnist

    kwargs = kwargs_for(case, bundle)
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        data = load_mnist(fetch=False, **kwargs)
        times.append(time.perf_counter() - start)
        del data
    tracemalloc.start()
    data = load_mnist(fetch=False, **kwargs)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    held = sum(a.nbytes for a in data)
    cmd = [sys.executable, __file__, "--child", case, "--bundle", bundle]
    rss = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    return {"median": statistics.median(times), "times": times, "peak": peak, "held": held, **rss}


def bundle_sizes(manifest: dict) -> dict[str, int]:
    """Bytes of the full and of the small web bundle (each: its four gzipped files)."""
    files = manifest["files"]
    small = sum(f["bytes"] for name, f in files.items() if name.startswith("small/"))
    return {"full": sum(f["bytes"] for f in files.values()) - small, "small": small}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--results", type=Path, default=RESULTS, help="results file to append to")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--bundle", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.bundle)
        return
    from dropout_py.mnist import export_web

    meta = {"run_id": now(), "commit": git_commit(), "machine": machine()}
    with tempfile.TemporaryDirectory() as bundle:
        start = time.perf_counter()
        manifest = export_web(bundle)
        seconds = time.perf_counter() - start
        sizes = bundle_sizes(manifest)
        size = sum(sizes.values())
        row = {"suite": "mnist-load", "name": "export_web", "seconds": seconds, "bytes": sizes}
        append_row(args.results, {**row, **meta, "finished": now()})
        print(f"export_web: {seconds:.2f} s, {size / 1e6:.1f} MB\n")
        print(f"raw MNIST bytes: {RAW_BYTES / 1e6:.1f} MB; median of {args.repeat} runs\n")
        print(f"{'case':<24} {'median s':>9} {'held MB':>8} {'peak MB':>8} {'RSS+ MB':>8}")
        for case in CASES:
            r = measure(case, bundle, args.repeat)
            row = {"suite": "mnist-load", "name": case, "repeat": args.repeat, **r}
            append_row(args.results, {**row, **meta, "finished": now()})
            print(
                f"{case:<24} {r['median']:>9.3f} {r['held'] / 1e6:>8.1f} "
                f"{r['peak'] / 1e6:>8.1f} {r['rss_growth'] / 1e6:>8.1f}"
            )
        print(f"\nrows: {args.results}")


if __name__ == "__main__":
    main()
