"""MNIST as arrays: loading, the chapter's preprocessing and the exports, in one public module.

This is the module the pages and the README import (``from dropout_py.mnist import
chapter_scale, one_hot``); the code itself lives in :mod:`dropout_py.data`.
"""

from dropout_py.data.mnist import (
    MNIST,
    N_CLASSES,
    chapter_scale,
    export_chapter_pickle,
    export_web,
    labels_as_column,
    load_mnist,
    one_hot,
    stratified_indices,
    to_unit_interval,
)

__all__ = [
    "MNIST",
    "N_CLASSES",
    "chapter_scale",
    "export_chapter_pickle",
    "export_web",
    "labels_as_column",
    "load_mnist",
    "one_hot",
    "stratified_indices",
    "to_unit_interval",
]
