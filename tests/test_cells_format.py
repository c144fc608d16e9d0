"""The pages' runnable cells are formatted to the width the page shows (docs/ruff.toml)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
CELL = re.compile(r"^( *)```python run[^\n]*\n(.*?)^\1```$", re.S | re.M)


def cells() -> list[tuple[str, int, str]]:
    found = []
    for md in sorted((REPO / "docs").rglob("*.md")):
        for number, match in enumerate(CELL.finditer(md.read_text(encoding="utf-8")), start=1):
            indent, body = match.groups()  # a cell may sit in a list item, indented
            found.append((md.name, number, textwrap.dedent(body) if indent else body))
    return found


@pytest.mark.parametrize(("page", "number", "source"), cells())
def test_cell_is_formatted_to_the_page_width(page: str, number: int, source: str) -> None:
    ruff = shutil.which("ruff", path=str(Path(sys.executable).parent)) or "ruff"
    proc = subprocess.run(
        [ruff, "format", "--config", str(REPO / "docs" / "ruff.toml"), "--diff",
         "--stdin-filename", f"{page}-cell{number}.py", "-"],
        input=source, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, f"{page}, cell {number} is not formatted:\n{proc.stdout}"
