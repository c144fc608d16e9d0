"""hooks/maths.py in a real ``mkdocs build``: formulas typeset at build time, KaTeX self-hosted."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.skipif(
    not (REPO / "node_modules" / "katex").is_dir(), reason="needs `make setup-web` (npm katex)"
)


def build(
    tmp_path: Path, pages: dict[str, str], generic: bool = True
) -> subprocess.CompletedProcess:
    docs = tmp_path / "docs"
    docs.mkdir(exist_ok=True)
    for name, text in pages.items():
        (docs / name).write_text(text, encoding="utf-8")
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: maths test\n"
        "theme: {name: mkdocs}\n"
        f"hooks: [{REPO / 'hooks' / 'maths.py'}]\n"
        f"markdown_extensions: [{{pymdownx.arithmatex: {{generic: {str(generic).lower()}}}}}]\n",
        encoding="utf-8",
    )
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-q"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
        timeout=120,
        check=False,
    )


def test_formulas_are_typeset_with_mathml_and_katex_is_copied(tmp_path: Path) -> None:
    pages = {
        "index.md": "# T\n\nInline $E[\\tilde h] = p\\,h$ and $a < b$.\n\n$$\n\\frac{1}{p}\n$$\n",
        "plain.md": "# No maths\n\nA price of $5 and $6.\n",
    }
    proc = build(tmp_path, pages)
    assert proc.returncode == 0, proc.stderr
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    assert html.count('<span class="katex">') == 3
    assert html.count("<math") == 3  # MathML for screen readers
    assert 'class="katex-display"' in html
    assert "\\(" not in html and "\\[" not in html  # no TeX left for a script to find
    assert '<link rel="stylesheet" href="assets/katex/katex.min.css">' in html
    plain = (tmp_path / "site" / "plain" / "index.html").read_text(encoding="utf-8")
    assert "katex" not in plain and "$5 and $6" in plain
    css = tmp_path / "site" / "assets" / "katex" / "katex.min.css"
    fonts = sorted((css.parent / "fonts").glob("*.woff2"))
    assert css.is_file() and len(fonts) >= 19
    assert "KaTeX_Main-Regular.woff2" in {f.name for f in fonts}


def test_a_formula_katex_cannot_parse_fails_the_build(tmp_path: Path) -> None:
    proc = build(tmp_path, {"index.md": "# T\n\nBroken $\\frac{1}{$ here.\n"})
    assert proc.returncode != 0
    assert "index.md: KaTeX cannot typeset '\\\\frac{1}{'" in proc.stderr


def test_arithmatex_must_be_in_generic_mode(tmp_path: Path) -> None:
    proc = build(tmp_path, {"index.md": "# T\n\n$x$\n"}, generic=False)
    assert proc.returncode != 0
    assert "pymdownx.arithmatex with generic: true" in proc.stderr
