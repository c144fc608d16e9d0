"""Run ``dropout-py`` in this process as the installed script does, on a test's fake MNIST.

Usage: ``python tests/cli_driver.py SPEC.pickle ARGS...``. The pickle holds the fake data set's
:class:`~dropout_py.data.fetch.MnistSpec` (its digests), which replaces the real one; everything
else (exit status, tracebacks of uncaught exceptions, signals) is the real command line's.
"""

import pickle
import sys

import dropout_py.data.fetch
from dropout_py.cli import main

if __name__ == "__main__":
    with open(sys.argv[1], "rb") as fh:
        dropout_py.data.fetch.MNIST_SPEC = pickle.load(fh)
    sys.exit(main(sys.argv[2:]))
