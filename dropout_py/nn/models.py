"""Open a saved model of either engine without knowing which one wrote it."""

from __future__ import annotations

import os

from dropout_py.nn.engine import Engine
from dropout_py.nn.mlp import DropoutMLP
from dropout_py.nn.serialization import read_kind
from dropout_py.nn.tutorial import NeuralNetwork

MODEL_CLASSES: dict[str, type[Engine]] = {cls.__name__: cls for cls in (NeuralNetwork, DropoutMLP)}


def load_model(path: str | os.PathLike[str]) -> Engine:
    """Load a :class:`NeuralNetwork` or :class:`DropoutMLP` saved with ``.save(path)``.

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    ValueError
        If the file is not a model this version can load (the message names the file and the
        field at fault).
    """
    kind = read_kind(path)
    if kind not in MODEL_CLASSES:
        raise ValueError(f"{path}: holds a {kind}, which this version of dropout_py cannot load")
    return MODEL_CLASSES[kind].load(path)
