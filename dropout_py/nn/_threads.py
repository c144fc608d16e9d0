"""Keep native BLAS to few threads while training on small matrices.

Multi-threaded OpenBLAS on small products (a 32 x 784 batch) spends more time waking threads
than computing; on a busy 2-core machine that made training 10-100x slower. ``threadpoolctl`` is
a dependency natively; Pyodide has no BLAS thread pool, so there this is a no-op.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator


@contextlib.contextmanager
def limit_blas_threads(n: int | None) -> Iterator[None]:
    """Limit BLAS to ``n`` threads inside the ``with`` block (``None`` leaves BLAS alone)."""
    if n is None:
        yield
        return
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # Pyodide, or a minimal install
        yield
        return
    with threadpool_limits(limits=n, user_api="blas"):
        yield
