"""The Examples sections of the package's docstrings run, and print what they say they print."""

import doctest
import importlib
import pkgutil

import pytest

import dropout_py

MODULES = sorted(
    name
    for _, name, _ in pkgutil.walk_packages(dropout_py.__path__, "dropout_py.")
    if not name.endswith("__main__")
)
FLAGS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    runner = doctest.DocTestRunner(optionflags=FLAGS)
    report: list[str] = []
    for test in doctest.DocTestFinder().find(module, name):
        runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)


def test_the_examples_are_found():
    examples = sum(
        len(test.examples)
        for name in MODULES
        for test in doctest.DocTestFinder().find(importlib.import_module(name), name)
    )
    assert examples >= 20
