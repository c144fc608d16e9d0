"""The sub-packages are layers: data -> nn -> figures -> run -> cli; none imports one above it.

figures draw what data and nn hold; run drives training and may show it (compare_runs draws
live curves); only the command line sits above run.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dropout_py"
# what each layer must never import
FORBIDDEN = {
    "data": ("dropout_py.nn", "dropout_py.run", "dropout_py.figures", "dropout_py.cli"),
    "nn": ("dropout_py.run", "dropout_py.figures", "dropout_py.cli"),
    "figures": ("dropout_py.run", "dropout_py.cli"),
    "run": ("dropout_py.cli",),
}


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("layer", list(FORBIDDEN))
def test_no_layer_imports_one_above_it(layer):
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files
    wrong = {
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in files
        for name in imported_modules(path)
        if name.startswith(FORBIDDEN[layer])
    }
    assert not wrong, sorted(wrong)
