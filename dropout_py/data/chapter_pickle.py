"""MNIST in the pickle layout the chapter's readers load (about 450 MB)."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

from dropout_py._files import replacing
from dropout_py.data.fetch import MnistSpec, Progress
from dropout_py.data.mnist import load_mnist
from dropout_py.data.preprocessing import chapter_scale, labels_as_column, one_hot


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
