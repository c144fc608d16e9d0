"""Run a slice of a sweep grid on a local Dask cluster and compare its rows with the committed ones.

    python scripts/check_cluster.py experiments/ablation-1k.toml --points 4
    python scripts/check_cluster.py experiments/ablation-1k.toml --only seed=2 --only hidden=[100]

The first ``--points`` points of the grid (among those whose settings match every ``--only
FIELD=VALUE``, the value written as JSON) that its results file (``results/<name>.jsonl``)
already holds are trained again on a ``dask.distributed.LocalCluster`` started here (one thread
per worker process), through the same ``run_sweep(..., scheduler=...)`` as
``dropout-py sweep --scheduler``, into a temporary folder. Each new row is then compared with the
committed row of the same point, field by field, leaving out what depends on the clock or the
host (``finished``, ``machine``, ``seconds``, ``seconds_per_epoch`` and each epoch's
``seconds``) and the ``commit`` the code was at (printed, so rows of an older commit can be
checked against today's code). Exit status 0 when every compared row is identical, 1 otherwise
(the differing fields are listed). Needs the ``[cluster]`` extra.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from typing import Any

from dropout_py.run.results import read_rows
from dropout_py.run.sweep import load_grid, run_sweep

CLOCK_AND_HOST = ("finished", "machine", "seconds", "seconds_per_epoch", "commit")


def comparable(row: dict[str, Any]) -> dict[str, Any]:
    """A row without the fields that depend on the clock or the host."""
    kept = {k: v for k, v in row.items() if k not in CLOCK_AND_HOST}
    kept["history"] = [{k: v for k, v in h.items() if k != "seconds"} for h in row["history"]]
    return kept


def differences(mine: Any, theirs: Any, path: str = "") -> list[str]:
    """Dotted paths where two JSON values differ (exactly: floats compared bit for bit)."""
    if isinstance(mine, dict) and isinstance(theirs, dict):
        out = []
        for key in sorted(set(mine) | set(theirs)):
            where = f"{path}.{key}" if path else str(key)
            if key not in mine or key not in theirs:
                out.append(f"{where} (only in one row)")
            else:
                out += differences(mine[key], theirs[key], where)
        return out
    if isinstance(mine, list) and isinstance(theirs, list) and len(mine) == len(theirs):
        return [d for i, (a, b) in enumerate(zip(mine, theirs, strict=True))
                for d in differences(a, b, f"{path}[{i}]")]  # fmt: skip
    return [] if mine == theirs else [f"{path}: {mine!r} != {theirs!r}"]


def _condition(text: str) -> tuple[str, Any]:
    """``"hidden=[100]"`` -> ``("hidden", (100,))`` (lists become tuples, as in the settings)."""
    name, _, value = text.partition("=")
    parsed = json.loads(value)
    return name, tuple(parsed) if isinstance(parsed, list) else parsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("grid", help="a grid file whose results are committed")
    parser.add_argument("--points", type=int, default=4, help="how many points (default 4)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="keep the points whose setting FIELD equals VALUE (JSON), e.g. seed=2",
    )
    parser.add_argument("--workers", type=int, default=2, help="Dask worker processes")
    parser.add_argument("--results", default="results", help="the committed results folder")
    args = parser.parse_args(argv)

    from distributed import LocalCluster

    grid = load_grid(args.grid)
    committed = {row["key"]: row for row in read_rows(grid.results_path(args.results))}
    wanted = [_condition(text) for text in args.only]
    chosen = tuple(
        p
        for p in grid.points
        if p.key in committed and all(getattr(p.settings, f) == v for f, v in wanted)
    )[: args.points]
    if not chosen:
        print(f"{grid.results_path(args.results)} holds no point of {args.grid}", file=sys.stderr)
        return 2
    piece = dataclasses.replace(grid, points=chosen)
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        with LocalCluster(
            n_workers=args.workers, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster:
            run_sweep(piece, results=folder, scheduler=cluster.scheduler_address)
        seconds = time.perf_counter() - started
        remote = read_rows(piece.results_path(folder))
    failures = 0
    for row in sorted(remote, key=lambda r: (r["label"], r["seed"])):
        local = committed[row["key"]]
        diff = differences(comparable(row), comparable(local))
        hosts = f"{local['machine']['host']} / {row['machine']['host']}"
        commits = f"{local['commit'][:7]} / {row['commit'][:7]}"
        status = "identical" if not diff else f"{len(diff)} differences"
        print(
            f"{row['label']:>32}  seed {row['seed']}  hidden {row['settings']['hidden']}  "
            f"test {row['final']['test_accuracy']:.4f}  "
            f"{local['seconds']:.1f} s local, {row['seconds']:.1f} s on Dask ({hosts}; {commits}): "
            f"{status}"
        )
        for line in diff[:10]:
            print(f"    {line}")
        failures += bool(diff)
    fields = sorted(comparable(remote[0])) if remote else []
    print(
        json.dumps(
            {
                "grid": grid.name,
                "points": len(remote),
                "identical": len(remote) - failures,
                "compared_fields": fields,
                "seconds": round(seconds, 1),
            }
        )
    )
    return 1 if failures or len(remote) != len(chosen) else 0


if __name__ == "__main__":
    sys.exit(main())
