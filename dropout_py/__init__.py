"""dropout_py: dropout neural networks in pure Python, natively and in the browser.

The two engines:

* :class:`NeuralNetwork` — the tutorial chapter's network (per-sample training, dropout by
  slicing the weight matrices), with the chapter's API.
* :class:`DropoutMLP` — the fast trainer (mini-batches, any depth, inverted dropout, momentum,
  max-norm).

Training that diverges (loss or weights inf or nan) raises :class:`DivergenceError`.

Data: :func:`load_mnist` (fetched and verified on first use). Pictures: :mod:`dropout_py.figures`.
"""

from __future__ import annotations

import importlib
from typing import Any

from dropout_py.nn.engine import DivergenceError
from dropout_py.nn.events import TrainingEvent
from dropout_py.nn.metrics import Evaluation
from dropout_py.nn.mlp import DropoutMLP
from dropout_py.nn.models import load_model
from dropout_py.nn.tutorial import NeuralNetwork

__version__ = "0.1.0"

# Data and figures are imported on first use, so `import dropout_py` stays light (in Pyodide
# too) for pages that only build networks.
_LAZY = {
    "MNIST": "dropout_py.data.mnist",
    "load_mnist": "dropout_py.data.mnist",
    "fetch_mnist": "dropout_py.data.fetch",
    "figures": "dropout_py.figures",
}

__all__ = [
    "MNIST",
    "DivergenceError",
    "DropoutMLP",
    "Evaluation",
    "NeuralNetwork",
    "TrainingEvent",
    "__version__",
    "fetch_mnist",
    "figures",
    "load_mnist",
    "load_model",
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'dropout_py' has no attribute {name!r}")
    module = importlib.import_module(_LAZY[name])
    value = module if name == "figures" else getattr(module, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
