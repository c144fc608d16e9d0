"""The browser bundle of MNIST: full and small sets as gzip IDX files plus ``manifest.json``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import dropout_py.data.fetch as _fetch
from dropout_py._files import replacing
from dropout_py.data.cache import file_sha256
from dropout_py.data.fetch import MnistSpec, Progress
from dropout_py.data.idx import write_idx
from dropout_py.data.mnist import N_CLASSES, load_mnist, small_subset


def export_web(
    directory: str | os.PathLike,
    *,
    progress: Progress | None = None,
    data_dir: str | os.PathLike | None = None,
    spec: MnistSpec | None = None,
) -> dict:
    """Write the browser bundle: full and small MNIST as gzip IDX files plus ``manifest.json``.

    Layout: the four full files at the top (``train-images-idx3-ubyte.gz``...), the small subset
    under ``small/``, and ``manifest.json`` = ``{"format": 1, "files": {relative path: {"bytes",
    "sha256" (of the .gz file), "raw_sha256" (of the payload)}}, "subsets": {...}}``. Output is
    deterministic. A bundle whose manifest and files already match is left as it is.

    Parameters
    ----------
    directory : path-like
        Output folder (created).
    progress : callable, optional
        ``progress(name, done_bytes, total_bytes)`` while downloading MNIST, if needed.
    data_dir, spec
        As for :func:`load_mnist`.

    Returns
    -------
    dict
        The manifest.
    """
    spec = spec or _fetch.MNIST_SPEC
    directory = Path(directory)
    wanted = _bundle_entries(spec)
    current = _current_manifest(directory, wanted)
    if current is not None:
        return current
    full = load_mnist(data_dir=data_dir, as_images=True, progress=progress, spec=spec)
    small = small_subset(full, spec.small)
    files = {}
    for (rel, raw_sha256), array in zip(wanted.items(), (*full, *small), strict=True):
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path, ".part") as tmp:
            write_idx(tmp, array, compress=True)
        files[rel] = {
            "bytes": path.stat().st_size,
            "sha256": file_sha256(path),
            "raw_sha256": raw_sha256,
        }
    manifest = {"format": 1, "files": files, "subsets": _subsets(spec)}
    with replacing(directory / "manifest.json", ".part") as tmp:
        tmp.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return manifest


def _bundle_entries(spec: MnistSpec) -> dict[str, str]:
    """Relative path of each bundle file -> sha256 of its raw payload."""
    entries = {f"{f.name}.gz": f.sha256 for f in spec.files}
    entries.update({f"{spec.small.folder}/{f.name}.gz": f.sha256 for f in spec.small.files})
    return entries


def _subsets(spec: MnistSpec) -> dict:
    small = spec.small
    rule = (
        f"the first {small.train_per_class} training and the first {small.test_per_class} "
        "test images of each digit, in file order"
    )
    names = [f"{f.name}.gz" for f in spec.files]
    return {
        "full": {"files": names},
        "small": {
            "files": [f"{small.folder}/{name}" for name in names],
            "train": small.train_per_class * N_CLASSES,
            "test": small.test_per_class * N_CLASSES,
            "rule": rule,
        },
    }


def _current_manifest(directory: Path, wanted: dict[str, str]) -> dict | None:
    """Return the existing manifest if it and every file it lists are as wanted, else None."""
    try:
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        files = manifest["files"]
        if manifest.get("format") != 1 or set(files) != set(wanted):
            return None
        for rel, entry in files.items():
            if entry["raw_sha256"] != wanted[rel] or entry["sha256"] != file_sha256(
                directory / rel
            ):
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return manifest
