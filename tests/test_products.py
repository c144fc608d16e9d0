"""The engines' products (dropout_py.nn.products): the BLAS path the pages use, forced natively.

In Pyodide the engines' products go through SciPy's ``sgemm``/``dgemm``; here SciPy is installed
(a dev dependency), so the same path is forced with ``products.use("blas")`` and must give
numpy's results to rounding, and the same training.
"""

import numpy as np
import pytest
import scipy.linalg.blas

from dropout_py import DropoutMLP, NeuralNetwork
from dropout_py.nn import products

blas_product = products.blas_matmul(scipy.linalg.blas)


@pytest.fixture
def forced_blas():
    previous = products.use("blas")
    yield
    products.use(previous)


def layouts(rng, shape, dtype):
    """The same matrix C-ordered, Fortran-ordered, as a transposed view and as a strided view."""
    m = rng.standard_normal(shape).astype(dtype)
    wide = np.zeros((shape[0], 2 * shape[1]), dtype)
    wide[:, ::2] = m
    return {
        "C": m,
        "F": np.asfortranarray(m),
        "T": np.ascontiguousarray(m.T).T,
        "strided": wide[:, ::2],
    }


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes", [((100, 784), (784, 100)), ((7, 1), (1, 5)), ((1, 3), (3, 1))])
def test_gemm_equals_numpy_in_every_layout(dtype, shapes):
    rng = np.random.default_rng(0)
    tolerance = 1e-4 if dtype == "float32" else 1e-12
    for a in layouts(rng, shapes[0], dtype).values():
        for b in layouts(rng, shapes[1], dtype).values():
            expected = a @ b
            got = blas_product(a, b)
            assert got.shape == expected.shape and got.dtype == expected.dtype
            assert got.flags.c_contiguous
            np.testing.assert_allclose(got, expected, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gemm_writes_into_out_in_place(dtype):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((50, 30)).astype(dtype)
    delta = rng.standard_normal((50, 20)).astype(dtype)
    flat = np.full(30 * 20 + 5, np.nan, dtype)  # like DropoutMLP's gradient buffer: a view
    out = flat[:600].reshape(30, 20)
    returned = blas_product(a.T, delta, out=out)
    assert returned is out
    np.testing.assert_allclose(flat[:600].reshape(30, 20), a.T @ delta, rtol=1e-4)
    assert np.isnan(flat[600:]).all()  # nothing written beyond


def test_other_operands_go_to_numpy():
    m = np.arange(6.0).reshape(2, 3)
    v = np.arange(3.0)
    np.testing.assert_array_equal(blas_product(m, v), m @ v)  # a vector
    ints = np.arange(6).reshape(2, 3)
    assert blas_product(ints, ints.T).dtype == (ints @ ints.T).dtype  # integers
    mixed = blas_product(m.astype(np.float32), m.T)  # float32 @ float64
    assert mixed.dtype == np.float64
    assert blas_product(np.zeros((0, 3)), np.zeros((3, 4))).shape == (0, 4)


def test_use_switches_every_engine_and_rejects_unknown_kinds():
    previous = products.use("blas")
    try:
        assert products.kind == "blas"
        assert products.use("numpy") == "blas"
        assert products.matmul is np.matmul
        with pytest.raises(ValueError, match="choice must be one of"):
            products.use("gpu")
    finally:
        products.use(previous)
    assert products.use("auto") == previous
    assert products.kind == "numpy"  # natively numpy's @ is the default: it is OpenBLAS already


def train_fast(dtype, seed=3):
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (300, 64), dtype=np.uint8)
    labels = rng.integers(0, 10, 300)
    model = DropoutMLP(
        (64, 32, 16, 10), keep_input=0.8, keep_hidden=0.5, batch_size=25, dtype=dtype, seed=seed
    )
    model.fit(images, labels, epochs=2, score_train=False)
    return model, model.predict_proba(images)


def train_tutorial(seed=3):
    rng = np.random.default_rng(seed)
    x = rng.random((120, 16)) * 0.99 + 0.01
    labels = rng.integers(0, 4, 120)
    model = NeuralNetwork(16, 4, 12, 0.2, seed=seed, keep_input=0.8, keep_hidden=0.7)
    model.fit(x, labels, epochs=2, score_train=False)
    return model, model.predict_proba(x)


@pytest.mark.parametrize(
    ("train", "tolerance"),
    [
        (lambda: train_fast("float64"), 1e-9),
        (lambda: train_fast("float32"), 1e-4),
        (train_tutorial, 1e-9),
    ],
    ids=["fast float64", "fast float32", "tutorial"],
)
def test_training_with_blas_gives_numpy_training(forced_blas, train, tolerance):
    with_blas, blas_outputs = train()
    products.use("numpy")
    with_numpy, numpy_outputs = train()
    for name, array in with_numpy._arrays().items():
        np.testing.assert_allclose(with_blas._arrays()[name], array, atol=tolerance, err_msg=name)
    np.testing.assert_array_equal(blas_outputs.argmax(axis=1), numpy_outputs.argmax(axis=1))


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_zero_columns_and_rows_are_left_out_with_the_same_result(dtype):
    """MNIST-like inputs: most pixel columns are 0 in a whole batch (forward and gradient)."""
    rng = np.random.default_rng(4)
    x = rng.random((100, 784)).astype(dtype)
    x[:, rng.permutation(784)[:400]] = 0  # 400 pixels dark in every image of the batch
    W = rng.standard_normal((784, 100)).astype(dtype)
    delta = rng.standard_normal((100, 100)).astype(dtype)
    tol = 1e-4 if dtype == "float32" else 1e-12
    np.testing.assert_allclose(blas_product(x, W), x @ W, rtol=tol, atol=tol)
    out = np.full((784, 100), np.nan, dtype)
    assert blas_product(x.T, delta, out=out) is out
    np.testing.assert_allclose(out, x.T @ delta, rtol=tol, atol=tol)
    np.testing.assert_allclose(blas_product(x.T, delta), x.T @ delta, rtol=tol, atol=tol)
    assert not np.any(out[~x.any(axis=0)])  # the rows of dark pixels: exactly 0


def test_the_zeros_are_left_out_of_the_product_itself():
    """The wrapped product sees only the kept columns (forward) and rows (gradient)."""
    seen = []

    def recording(a, b, out=None):
        seen.append((a.shape, b.shape))
        return np.matmul(a, b, out=out)

    product = products._skipping_zeros(recording)
    x = np.ones((100, 784))
    x[:, 300:] = 0  # 484 dark pixel columns
    product(x, np.ones((784, 100)))
    product(x.T, np.ones((100, 100)))
    product(np.ones((100, 784)), np.ones((784, 100)))  # nothing to leave out
    assert seen == [((100, 300), (300, 100)), ((300, 100), (100, 100)), ((100, 784), (784, 100))]
