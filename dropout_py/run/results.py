"""Results files: one JSON object per line, appended one finished measurement at a time.

The sweep runner and the benchmarks write here, and the pages and the README read from here, so
every number they show can be traced to a row and the command that made it. A row says what ran
(settings, seed), what came out (per-epoch history, final metrics, seconds) and where and from
which code (``machine``, ``commit``).

Appending is interrupt-safe: a row is encoded first and written with one ``write`` call on a file
opened for appending, then flushed to disk, so a killed process leaves at most one torn last
line, which :func:`read_rows` ignores and :func:`append_row` cuts off before writing.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import math
import os
import platform
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

# Code whose changes make a result stale; the results folder itself is not among them.
_CODE_PATHS = ("dropout_py", "benchmarks", "pyproject.toml")


def git_commit() -> str:
    """The commit of the checkout this package runs from, ``+dirty`` if its code has changes.

    Returns ``"unknown"`` when the package is not in a git checkout (an installed wheel).
    """
    repo = Path(__file__).resolve().parents[2]
    try:
        head = _git(repo, "rev-parse", "HEAD")
        changes = _git(repo, "status", "--porcelain", "--untracked-files=no", "--", *_CODE_PATHS)
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + ("+dirty" if changes else "")


def _git(repo: Path, *args: str) -> str:
    out = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, timeout=30
    )
    return out.stdout.strip()


def machine() -> dict[str, Any]:
    """Where a measurement ran: host, operating system, CPU, cores, Python, NumPy and its BLAS."""
    return {
        "host": platform.node(),
        "system": platform.platform(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas": _blas_name(),
    }


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _blas_name() -> str:
    try:
        config = np.show_config(mode="dicts")
        return str(config["Build Dependencies"]["blas"]["name"])
    except (TypeError, KeyError, AttributeError):
        return "unknown"


def now() -> str:
    """The current UTC time, ISO 8601 to the second."""
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")


def run_row(result: Any) -> dict[str, Any]:
    """The measured part of a row from an :class:`~dropout_py.run.experiment.RunResult`.

    Returns
    -------
    dict
        ``settings`` (without the seed), ``seed``, ``history`` (one dict per epoch),
        ``final`` (accuracies and losses of the final model, epochs done, whether it stopped
        early, and only if training diverged ``diverged``: what happened, the scores then being
        None), ``seconds`` (training and per-epoch scoring) and ``seconds_per_epoch``.
    """
    summary = result.summary()
    settings = dict(summary["settings"])
    seed = settings.pop("seed")
    final = {
        key: summary[key]
        for key in ("train_accuracy", "test_accuracy", "train_loss", "test_loss", "epochs")
    }
    final["stopped_early"] = summary["stopped_early"]
    if summary.get("diverged") is not None:
        final["diverged"] = summary["diverged"]
    return {
        "settings": settings,
        "seed": seed,
        "history": summary["history"],
        "final": final,
        "seconds": summary["seconds_total"],
        "seconds_per_epoch": summary["seconds_per_epoch"],
    }


def append_row(path: str | os.PathLike[str], row: dict[str, Any]) -> None:
    """Append ``row`` as one line to the results file ``path`` (created with its folder).

    The line is written with a single ``write`` and flushed to disk before returning; a torn
    last line left by an earlier killed writer is cut off first.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    line = (strict_json(row, sort_keys=True) + "\n").encode("utf-8")
    repair(path)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        written = os.write(fd, line)
        if written != len(line):  # pragma: no cover - a full disk
            raise OSError(f"{path}: wrote {written} of {len(line)} bytes of a row")
        os.fsync(fd)
    finally:
        os.close(fd)


def read_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All complete rows of a results file (none if it does not exist).

    A torn last line (no newline, not valid JSON) is skipped; a broken line anywhere else raises
    ``ValueError`` naming the file and line.
    """
    path = Path(path)
    if not path.exists():
        return []
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    complete, tail = lines[:-1], lines[-1]  # tail: "" when the file ends with a newline
    rows = []
    for number, line in enumerate(complete, start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}:{number}: not a JSON row ({exc.msg})") from None
    del tail  # an unfinished line: the writer was killed mid-row
    return rows


def repair(path: str | os.PathLike[str]) -> bool:
    """Cut a torn last line (one without a newline) off ``path``; return whether it had one."""
    path = Path(path)
    if not path.exists():
        return False
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return False
    with open(path, "rb+") as fh:
        fh.truncate(data.rfind(b"\n") + 1)  # 0 when the only line is torn
    return True


def strict_json(value: Any, **options: Any) -> str:
    """``value`` as JSON text any strict parser reads: ``inf`` and ``nan`` become ``null``.

    Python's :func:`json.dumps` writes bare ``NaN`` and ``Infinity``, which are not JSON. Also
    turns NumPy numbers and arrays, dataclasses, tuples and sets into JSON values; ``options``
    go to :func:`json.dumps` (e.g. ``sort_keys=True``).

    Examples
    --------
    >>> strict_json({"loss": float("nan"), "sizes": (784, 10), "rate": np.float32(0.5)})
    '{"loss": null, "sizes": [784, 10], "rate": 0.5}'
    """
    return json.dumps(_plain(value), allow_nan=False, **options)


def _plain(value: Any) -> Any:
    """``value`` built from dicts, lists, strings, ints, finite floats, booleans and None."""
    if isinstance(value, float | np.floating):
        return float(value) if math.isfinite(value) else None
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, np.generic):
        return _plain(value.item())
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | set | np.ndarray):
        return [_plain(item) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    raise TypeError(f"cannot store {type(value).__name__} in a results row")
