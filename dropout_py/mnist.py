"""MNIST as arrays: loading, the chapter's preprocessing and the exports, in one public module.

This is the module the pages and the README import (``from dropout_py.mnist import
chapter_scale, one_hot``); the code lives in :mod:`dropout_py.data`, one module per job:
loading (:mod:`~dropout_py.data.mnist`), preprocessing (:mod:`~dropout_py.data.preprocessing`),
the web bundle (:mod:`~dropout_py.data.web_bundle`) and the chapter's pickle
(:mod:`~dropout_py.data.chapter_pickle`).
"""

from dropout_py.data.chapter_pickle import export_chapter_pickle
from dropout_py.data.mnist import MNIST, load_mnist, stratified_indices
from dropout_py.data.preprocessing import (
    CHAPTER_TARGETS,
    N_CLASSES,
    chapter_scale,
    labels_as_column,
    one_hot,
    to_unit_interval,
)
from dropout_py.data.web_bundle import export_web

__all__ = [
    "CHAPTER_TARGETS",
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
