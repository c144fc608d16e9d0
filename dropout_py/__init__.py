"""dropout_py: dropout neural networks in pure Python, natively and in the browser."""

__version__ = "0.1.0"
