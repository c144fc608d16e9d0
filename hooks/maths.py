"""MkDocs hook: formulas typeset with KaTeX at build time, so pages need no maths script.

Write TeX in the Markdown as ``$E[\\tilde h] = p\\,h$`` (inline) or between ``$$`` lines (display);
``pymdownx.arithmatex`` in generic mode marks it, and this hook replaces every mark with KaTeX's
HTML (drawn glyphs for the eye, MathML for screen readers) by running ``scripts/render_math.mjs``
under Node once per page that has formulas. A formula KaTeX cannot parse stops the build with the
page and the TeX.

The pages with formulas link ``assets/katex/katex.min.css``; that stylesheet and KaTeX's fonts
(WOFF2, which every browser that runs the site's Python reads) come from the npm package
``katex`` (``package.json``) and are copied into the site, so no request leaves the site. The
Markdown keeps the TeX, so the notebooks made from the pages show the same formulas in Jupyter.
"""

from __future__ import annotations

import html
import json
import logging
import re
import subprocess
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

REPO = Path(__file__).resolve().parent.parent
KATEX = REPO / "node_modules" / "katex" / "dist"
RENDERER = REPO / "scripts" / "render_math.mjs"
STYLESHEET = "assets/katex/katex.min.css"
#: What arithmatex (generic mode) writes: an inline ``\(…\)`` span or a display ``\[…\]`` div.
MARK_RE = re.compile(
    r'<span class="arithmatex">\\\((?P<inline>.*?)\\\)</span>'
    r'|<div class="arithmatex">\\\[(?P<display>.*?)\\\]</div>',
    re.DOTALL,
)

log = logging.getLogger("mkdocs.hooks.maths")
_pages_with_maths: set[str] = set()


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Check that arithmatex marks formulas in generic mode (what this hook reads)."""
    if "pymdownx.arithmatex" not in config.markdown_extensions:
        raise PluginError("hooks/maths.py needs the markdown extension pymdownx.arithmatex")
    settings = config.mdx_configs.get("pymdownx.arithmatex", {})
    if not settings.get("generic"):
        raise PluginError("hooks/maths.py needs pymdownx.arithmatex with generic: true")
    _pages_with_maths.clear()
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Copy KaTeX's stylesheet and fonts into ``assets/katex/``."""
    if not (KATEX / "katex.min.css").exists():
        raise PluginError(f"{KATEX} is missing: run `make setup-web` (npm ci installs katex)")
    files.append(File.generated(config, STYLESHEET, abs_src_path=str(KATEX / "katex.min.css")))
    for font in sorted((KATEX / "fonts").glob("*.woff2")):
        uri = f"assets/katex/fonts/{font.name}"
        files.append(File.generated(config, uri, abs_src_path=str(font)))
    return files


def render(items: list[tuple[str, bool]], where: str) -> list[str]:
    """Return KaTeX's HTML for each ``(tex, display)`` pair, in order.

    Raises
    ------
    PluginError
        If Node cannot run the renderer, or KaTeX rejects an expression (named with ``where``).
    """
    request = json.dumps([{"tex": tex, "display": display} for tex, display in items])
    try:
        proc = subprocess.run(
            ["node", str(RENDERER)],
            input=request,
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PluginError(f"{where}: could not run node {RENDERER.name}: {error}") from error
    try:
        answer = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise PluginError(
            f"{where}: {RENDERER.name} failed (exit {proc.returncode}):\n{proc.stderr}"
        ) from None
    if "error" in answer:
        tex = items[answer["index"]][0]
        raise PluginError(f"{where}: KaTeX cannot typeset {tex!r}: {answer['error']}")
    return answer["html"]


def on_page_content(html_text: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace the page's arithmatex marks with typeset formulas."""
    marks = list(MARK_RE.finditer(html_text))
    if not marks:
        return html_text
    items = [_tex(mark) for mark in marks]
    typeset = iter(render(items, page.file.src_uri))
    _pages_with_maths.add(page.file.src_uri)
    log.info("maths: %s typeset %d formula(s)", page.file.src_uri, len(items))
    return MARK_RE.sub(lambda mark: _wrap(next(typeset), mark), html_text)


def _tex(mark: re.Match[str]) -> tuple[str, bool]:
    """``(tex, display)`` of one arithmatex mark."""
    display = mark["display"] is not None
    return html.unescape(mark["display"] if display else mark["inline"]).strip(), display


def _wrap(typeset: str, mark: re.Match[str]) -> str:
    """Keep arithmatex's element around the formula (a display formula scrolls sideways)."""
    tag = "div" if mark["display"] is not None else "span"
    return f'<{tag} class="arithmatex">{typeset}</{tag}>'


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Link KaTeX's stylesheet from the pages that have formulas."""
    if page.file.src_uri not in _pages_with_maths:
        return output
    href = get_relative_url(STYLESHEET, page.url or ".")
    link = f'<link rel="stylesheet" href="{html.escape(href, quote=True)}">'
    return output.replace("</head>", f"{link}\n</head>", 1)
