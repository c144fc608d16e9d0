"""The large products of both engines, in one place.

Every matrix product whose size grows with the layers (a batch times a weight matrix, the
gradient ``inputs.T @ delta``, the chapter's per-sample ``W @ x`` and its rank-1 update) goes
through this module, so that the arithmetic can be pointed at a faster implementation where one
exists without touching the engines.

Natively numpy's ``@`` (OpenBLAS or whatever numpy was built with) is the fastest there is, and
it is what :func:`matmul` is. **Hook:** in Pyodide (``sys.platform == "emscripten"``) numpy's ``@``
is a plain loop, while SciPy's BLAS (``scipy.linalg.blas.sgemm`` / ``dgemm``, about twice as fast
there) is available once SciPy is loaded; :func:`_select_matmul` is where such a path is chosen.
Any replacement must keep the signature ``matmul(a, b, out=None)`` and numpy's results to
rounding.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

MatMul = Callable[..., np.ndarray]


def _select_matmul() -> MatMul:
    """Return the product the engines use: ``matmul(a, b, out=None)``, like ``numpy.matmul``.

    The hook for the browser: a Pyodide-specific choice (SciPy's BLAS ``gemm``) belongs here. For
    now every platform gets numpy's own, which is the right choice natively.
    """
    return np.matmul


#: ``matmul(a, b, out=None)``: the matrix product every engine calls (see the module notes).
matmul: MatMul = _select_matmul()


def add_outer(matrix: np.ndarray, u: np.ndarray, v: np.ndarray) -> None:
    """Add the outer product of ``u`` (m,) and ``v`` (n,) to ``matrix`` (m, n), in place.

    The chapter's per-sample weight update (a rank-1 update, BLAS ``ger``).

    Examples
    --------
    >>> m = np.zeros((2, 3))
    >>> add_outer(m, np.array([1.0, 2.0]), np.array([1.0, 0.0, -1.0]))
    >>> m
    array([[ 1.,  0., -1.],
           [ 2.,  0., -2.]])
    """
    matrix += np.outer(u, v)
