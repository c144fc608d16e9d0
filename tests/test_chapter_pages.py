"""Every chapter page teaches the same way: goals first, a formula, exercises the build checks.

The chapter pages are those of the navigation sections "The chapter" and "Beyond the chapter" in
``mkdocs.yml``. Each one

* opens (right under its title) with a "You will learn" and a "You need" admonition;
* typesets at least one formula (``$…$`` or ``$$`` in the prose, for ``hooks/maths.py``);
* ends with a section "Exercises" of 2-3 ``??? question`` blocks, each with a collapsed
  ``??? success "Solution"`` that holds a ```` ```python run ```` cell asserting its answer.

A solution cell runs at build time like any other cell (``hooks/cells.py``), so a solution that
raises, or whose check fails, stops ``mkdocs build``: the last tests build a small site to show it.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from mkdocs.utils.yaml import yaml_load

REPO = Path(__file__).resolve().parents[1]
SECTIONS = ("The chapter", "Beyond the chapter")
FENCE_RE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
BLOCK_RE = re.compile(
    r'^(?P<indent>\s*)(?P<marker>!!!|\?\?\?\+?)\s+(?P<kind>[\w-]+)(?:\s+"(?P<title>[^"]*)")?\s*$'
)
# Pages merged after the exercises were written: they still need goals, a formula and exercises.
# strict xfail, so the entry must go once the page has them.
PENDING: dict[str, set[str]] = {}
MATHS_RE = re.compile(r"\$\$|(?<![\\$])\$[^$\s][^$\n]*\$")


def chapter_pages(check: str = "") -> list:
    """The chapter pages; those still ``PENDING`` for ``check`` as strict xfail parameters."""
    with (REPO / "mkdocs.yml").open(encoding="utf-8") as stream:
        nav = yaml_load(stream)["nav"]
    pages = [
        page
        for entry in nav
        for section, items in entry.items()
        if section in SECTIONS
        for item in items
        for page in item.values()
    ]
    assert len(pages) >= 7, pages
    reason = f"{check}: a page merged after the others got theirs, not done yet"
    return [
        pytest.param(p, marks=pytest.mark.xfail(reason=reason, strict=True))
        if check in PENDING.get(p, ())
        else p
        for p in pages
    ]


@dataclass
class Block:
    """An admonition or collapsible block: its line, kind, title and indented body lines."""

    line: int
    marker: str
    kind: str
    title: str
    indent: int
    body: list[str]


def blocks(lines: list[str]) -> list[Block]:
    """Every ``!!!``/``???`` block of a page (nested ones too), outside code fences."""
    found, fence = [], None
    for number, line in enumerate(lines):
        opened = FENCE_RE.match(line)
        if fence is None and opened:
            fence = opened["fence"]
            continue
        if fence is not None:
            if line.strip() == fence:
                fence = None
            continue
        match = BLOCK_RE.match(line)
        if match:
            indent = len(match["indent"])
            body = []
            for following in lines[number + 1 :]:
                if following.strip() and len(following) - len(following.lstrip()) <= indent:
                    break
                body.append(following)
            kind, title = match["kind"], match["title"] or ""
            found.append(Block(number, match["marker"], kind, title, indent, body))
    return found


def prose(text: str) -> str:
    """The page without fenced blocks and code spans."""
    kept, fence = [], None
    for line in text.splitlines():
        opened = FENCE_RE.match(line)
        if fence is None and opened:
            fence = opened["fence"]
        elif fence is not None and line.strip() == fence:
            fence = None
        elif fence is None:
            kept.append(re.sub(r"`[^`]*`", " ", line))
    return "\n".join(kept)


def run_cells(body: list[str]) -> list[str]:
    """The sources of the ``python run`` cells in a block's body."""
    cells, current, fence = [], None, None
    for line in body:
        opened = FENCE_RE.match(line)
        if current is None and opened and re.match(r"\s*python\s+run\b", opened["info"]):
            current, fence = [], opened["fence"]
        elif current is not None and line.strip() == fence:
            cells.append("\n".join(current))
            current = None
        elif current is not None:
            current.append(line)
    return cells


def page_text(name: str) -> str:
    return (REPO / "docs" / name).read_text(encoding="utf-8")


@pytest.mark.parametrize("name", chapter_pages("goals"))
def test_the_page_opens_with_what_you_will_learn_and_what_you_need(name: str) -> None:
    lines = page_text(name).splitlines()
    assert lines[0].startswith("# "), f"{name}: no title on the first line"
    first = [b for b in blocks(lines) if b.indent == 0][:2]
    assert [b.title for b in first] == ["You will learn", "You need"], name
    before = "\n".join(lines[1 : first[0].line]).strip()
    assert not before, f"{name}: text between the title and the goals: {before!r}"
    assert first[1].line < next(i for i, line in enumerate(lines) if line.startswith("## "))
    for block in first:
        items = [line for line in block.body if line.strip().startswith("* ")]
        assert 1 <= len(items) <= 4, f"{name}: {block.title!r} needs 1-4 short items"


@pytest.mark.parametrize("name", chapter_pages())
def test_the_page_typesets_a_formula(name: str) -> None:
    assert MATHS_RE.search(prose(page_text(name))), f"{name}: no $…$ or $$ formula"


@pytest.mark.parametrize("name", chapter_pages("exercises"))
def test_the_page_ends_with_exercises_whose_solutions_run_and_check(name: str) -> None:
    text = page_text(name)
    headings = re.findall(r"^## (.+)$", text, re.MULTILINE)
    assert headings[-1] == "Exercises", f"{name}: the last section is {headings[-1]!r}"
    exercises_start = text.index("\n## Exercises\n")
    tail = text[exercises_start:].splitlines()
    questions = [b for b in blocks(tail) if b.kind == "question" and b.indent == 0]
    assert 2 <= len(questions) <= 3, f"{name}: {len(questions)} exercises"
    for question in questions:
        assert question.title.startswith("Exercise"), question.title
        solutions = [b for b in blocks(question.body) if b.kind == "success"]
        assert [(s.marker, s.title) for s in solutions] == [("???", "Solution")], question.title
        cells = run_cells(solutions[0].body)
        assert cells, f"{name}: {question.title!r}: the solution has no python run cell"
        assert any(re.search(r"^\s*assert\b", c, re.MULTILINE) for c in cells), (
            f"{name}: {question.title!r}: the solution checks nothing (no assert)"
        )
        task = "\n".join(question.body[: solutions[0].line]).strip()
        assert task, f"{name}: {question.title!r} states no task"


def test_the_block_reader_sees_nested_solutions() -> None:
    page = (
        '???+ question "Exercise 1: a"\n    Do it.\n\n    ??? success "Solution"\n'
        "        ```python run\n        assert 1\n        ```\n\n## Next\n"
    ).splitlines()
    question, solution = blocks(page)
    assert (question.kind, question.title, solution.kind, solution.indent) == (
        "question",
        "Exercise 1: a",
        "success",
        4,
    )
    assert run_cells(solution.body) == ["        assert 1"]
    assert "## Next" not in question.body


# --- a solution that fails fails the build --------------------------------------------------

CONFIG = f"""
site_name: exercise test
theme: {{name: mkdocs}}
hooks: [{REPO / "hooks" / "cells.py"}]
markdown_extensions: [admonition, pymdownx.details, pymdownx.superfences]
"""

EXERCISE = """# A page

```python run
numbers = [3, 1, 2]
```

## Exercises

???+ question "Exercise 1: sort the numbers"
    Sort `numbers` and check the result.

    ??? success "Solution"
        ```python run
        ordered = {solution}
        print("ordered:", ordered)
        assert ordered == [1, 2, 3]
        ```
"""


def build(tmp_path: Path, solution: str) -> subprocess.CompletedProcess:
    (tmp_path / "docs").mkdir(exist_ok=True)
    page = EXERCISE.format(solution=solution)
    (tmp_path / "docs" / "index.md").write_text(page, encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(CONFIG, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=120,
        check=False,
    )


def test_a_solution_runs_at_build_time_and_its_output_is_in_the_hidden_block(tmp_path) -> None:
    proc = build(tmp_path, "sorted(numbers)")
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    details = html[html.index("<details") :]
    solution = details[details.index("Solution") :]
    assert "ordered: [1, 2, 3]" in solution[: solution.index("</details>")]


@pytest.mark.parametrize(
    ("solution", "error"),
    [("numbers", "AssertionError"), ("sorted(numbrs)", "NameError: name 'numbrs'")],
    ids=["wrong answer", "raises"],
)
def test_a_broken_solution_fails_the_build(tmp_path, solution: str, error: str) -> None:
    proc = build(tmp_path, solution)
    assert proc.returncode != 0
    assert "index.md, cell 2 failed at build time" in proc.stderr
    assert error in proc.stderr


@pytest.mark.parametrize("name", chapter_pages("long cells"))
def test_long_cells_say_how_long_they_ran(name: str) -> None:
    """A cell allowed a longer build-time timeout trains for long: the prose quotes its seconds."""
    text = page_text(name)
    fences = re.findall(r"^\s*```python run\b(.*)$", text, re.MULTILINE)
    long = [number for number, info in enumerate(fences, start=1) if "timeout=" in info]
    quoted = {int(n) for n in re.findall(r"\{\{\s*cell_seconds\((\d+)\)\s*\}\}", text)}
    assert set(long) <= quoted, f"{name}: cells {sorted(set(long) - quoted)} train for long"
    assert quoted <= set(range(1, len(fences) + 1)), f"{name}: cell_seconds of a missing cell"
