"""The large products of both engines, in one place.

Every matrix product whose size grows with the layers (a batch times a weight matrix, the
gradient ``inputs.T @ delta``, the chapter's per-sample ``W @ x`` and its rank-1 update) goes
through this module, so that the arithmetic can be pointed at a faster implementation where one
exists without touching the engines.

Natively numpy's ``@`` (OpenBLAS or whatever numpy was built with) is the fastest there is, and
it is what :func:`matmul` is. In Pyodide (``sys.platform == "emscripten"``) numpy's ``@`` is a
plain loop, while SciPy's BLAS (``scipy.linalg.blas.sgemm`` / ``dgemm``, OpenBLAS compiled to
WebAssembly) is 2 to 3 times as fast at the engines' shapes (``benchmarks/bench_page_training.py``
measures both). So there, when SciPy is installed at the moment ``dropout_py`` is imported (the
site's pages that train load it in the background as soon as they open), :func:`matmul` is
:func:`blas_matmul`'s product; without SciPy it stays numpy's. :func:`use` switches by hand (the
tests force the BLAS path natively, the benchmark compares both in the page). SciPy is never a
requirement: the package runs on numpy alone.

Every product has the signature ``matmul(a, b, out=None)`` and numpy's results to rounding.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable
from types import ModuleType

import numpy as np

MatMul = Callable[..., np.ndarray]
KINDS = ("numpy", "blas")


def _fortran_operand(matrix: np.ndarray) -> tuple[np.ndarray, int]:
    """``(array, trans)`` with ``op(array) == matrix`` and ``array`` Fortran-ordered (no copy).

    A C-ordered matrix is the transpose of a Fortran-ordered one, so it is handed to BLAS
    transposed (``trans=1``) instead of being copied; only a strided view is copied.
    """
    if matrix.flags.f_contiguous:
        return matrix, 0
    if matrix.flags.c_contiguous:
        return matrix.T, 1
    return np.asfortranarray(matrix), 0


def blas_matmul(blas: ModuleType) -> MatMul:
    """A ``matmul(a, b, out=None)`` that computes 2-D float products with BLAS ``gemm``.

    Parameters
    ----------
    blas : module
        ``scipy.linalg.blas`` (``sgemm`` for float32, ``dgemm`` for float64).

    Returns
    -------
    callable
        For ``a`` (m, k) and ``b`` (k, n) of the same float dtype: ``a @ b``, shape (m, n),
        C-ordered like numpy's, written into ``out`` (C-ordered (m, n), same dtype) if given.
        Anything else (vectors, integers, mixed dtypes, empty matrices) goes to ``numpy.matmul``.

    Notes
    -----
    BLAS works on Fortran-ordered (column-major) matrices, and numpy's are C-ordered. The
    C-ordered ``a @ b`` is, read as Fortran, ``(a @ b).T = b.T @ a.T``, and ``b.T``, ``a.T`` of
    C-ordered matrices are Fortran-ordered: so ``gemm`` gets the operands as they lie in memory,
    and its result (or ``out``) is filled in place, without a copy on either side.

    Examples
    --------
    >>> import scipy.linalg.blas
    >>> product = blas_matmul(scipy.linalg.blas)
    >>> a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    >>> bool(np.array_equal(product(a, b), a @ b))
    True
    """
    gemms = {np.dtype(np.float32): blas.sgemm, np.dtype(np.float64): blas.dgemm}

    def gemm_matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        gemm = gemms.get(a.dtype)
        if (
            gemm is None
            or a.ndim != 2
            or b.ndim != 2
            or b.dtype != a.dtype
            or 0 in a.shape
            or 0 in b.shape
            or (out is not None and (out.dtype != a.dtype or not out.flags.c_contiguous))
        ):
            return np.matmul(a, b, out=out)
        x, trans_x = _fortran_operand(b.T)
        y, trans_y = _fortran_operand(a.T)
        if out is None:
            return gemm(1.0, x, y, trans_a=trans_x, trans_b=trans_y).T
        if out.shape != (a.shape[0], b.shape[1]):
            raise ValueError(f"out has shape {out.shape}, the product {(a.shape[0], b.shape[1])}")
        written = gemm(1.0, x, y, 0.0, out.T, trans_x, trans_y, overwrite_c=True)
        if not np.shares_memory(written, out):  # f2py made a copy after all
            out[...] = written.T
        return out

    return _skipping_zeros(gemm_matmul)


#: Inner dimensions (or rows) from which :func:`_skipping_zeros` looks for zeros.
SPARSE_FROM = 256
#: ... and the share of nonzero columns (rows) below which it leaves the zeros out.
SPARSE_BELOW = 0.85


def _skipping_zeros(product: MatMul) -> MatMul:
    """``product`` without the all-zero columns of a wide ``a`` and the all-zero rows of a tall one.

    MNIST pixels are mostly 0: in a batch of 100 images about a third of the 784 pixel columns
    are 0 in every image. So ``x @ W`` (the first layer's forward pass) is ``x[:, kept] @
    W[kept]``, and ``x.T @ delta`` (its weight gradient) is ``x[:, kept].T @ delta`` in the kept
    rows and 0 elsewhere: a third less arithmetic, for the price of two copies of the kept part.
    Worth it where the products are slow (Pyodide, where the first layer's products are most
    of the training time); the same sums, in another order (equal to rounding).
    """

    def matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        if a.ndim == 2 and b.ndim == 2 and a.shape[1] >= SPARSE_FROM:
            kept = np.flatnonzero(a.any(axis=0))
            if len(kept) < SPARSE_BELOW * a.shape[1]:
                return product(a[:, kept], b[kept], out=out)
        if a.ndim == 2 and b.ndim == 2 and a.shape[0] >= SPARSE_FROM:
            kept = np.flatnonzero(a.any(axis=1))
            if len(kept) < SPARSE_BELOW * a.shape[0]:
                rows = product(a[kept], b)
                result = np.zeros((a.shape[0], b.shape[1]), rows.dtype) if out is None else out
                if out is not None:
                    result[...] = 0
                result[kept] = rows
                return result
        return product(a, b, out=out)

    return matmul


def _scipy_blas() -> ModuleType | None:
    """``scipy.linalg.blas`` if SciPy is installed, else None (nothing is downloaded)."""
    if "scipy" not in sys.modules and importlib.util.find_spec("scipy") is None:
        return None
    try:
        import scipy.linalg.blas as blas
    except ImportError:
        return None
    return blas


def _select_matmul() -> tuple[str, MatMul]:
    """Return ``(kind, matmul)``: the product the engines use (see the module notes).

    Natively numpy's own; in Pyodide SciPy's BLAS if SciPy is installed, else numpy's.
    """
    if sys.platform == "emscripten":
        blas = _scipy_blas()
        if blas is not None:
            return "blas", blas_matmul(blas)
    return "numpy", np.matmul


#: Which product :func:`matmul` is: ``"numpy"`` or ``"blas"``.
kind: str
#: ``matmul(a, b, out=None)``: the matrix product every engine calls (see the module notes).
matmul: MatMul
kind, matmul = _select_matmul()


def use(choice: str) -> str:
    """Make every engine use the product ``choice``; return the kind used until now.

    Parameters
    ----------
    choice : {"numpy", "blas", "auto"}
        numpy's ``@``, SciPy's BLAS ``gemm`` (SciPy must be installed), or this platform's
        default (see the module notes).

    Raises
    ------
    ValueError
        For another ``choice``, or ``"blas"`` without SciPy.
    """
    global kind, matmul
    previous = kind
    if choice == "auto":
        kind, matmul = _select_matmul()
    elif choice == "numpy":
        kind, matmul = "numpy", np.matmul
    elif choice == "blas":
        blas = _scipy_blas()
        if blas is None:
            raise ValueError("products.use('blas') needs SciPy, which is not installed")
        kind, matmul = "blas", blas_matmul(blas)
    else:
        raise ValueError(f"choice must be one of {[*KINDS, 'auto']}, got {choice!r}")
    return previous


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
