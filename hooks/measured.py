"""MkDocs hook: measured numbers in the prose, rendered at build time, never typed by hand.

Four kinds of placeholder, outside ```` ```python ```` blocks:

* ``{{ goals.fast20.test }}``: a number from the committed results files, derived as
  ``hooks/quoted.py`` says. In running text it becomes ``<span class="dp-measured">`` with a
  tooltip naming what it is and its file; inside another fenced block (e.g. ```` ```text ````)
  it is replaced by the plain value.
* ``{{ growth.width_figure }}``: a figure drawn from the results files (a registry entry marked
  ``html``), alone on its line: it becomes the figure's ``<figure>`` markup (SVG and caption).
* ``{{ cell(2, "test (\\S+)") }}``: a number a cell of this page printed. After the cells ran
  (``hooks/cells.py`` must come first in ``mkdocs.yml``), the regular expression is searched in
  the text output of cell 2 (counting from 1); its first group (or the whole match) is put in
  place, as ``<span class="dp-quoted">``.
* ``{{ cell_seconds(3) }}``: how many seconds cell 3 of this page ran natively at build time
  (``hooks/cells.py`` measures it), so a page can say how long a cell trains without typing a
  number: whole seconds, one decimal below 2 s, as ``<span class="dp-quoted">``.

A figure at the start of a line goes into the Markdown as a raw HTML block; an indented one
(in an admonition or a list, where Markdown would wrap or escape it) takes its line's place after
the Markdown conversion.

A name the registry does not know, a results row that is missing, a comparison the prose states
but the data does not support, a cell that did not print the pattern, or any other ``{{ ... }}``
left in a page stops ``mkdocs build`` with the page and the placeholder.

To measure a site whose results are not there yet (``make bench-site`` on a results folder
without ``bench-site.jsonl``), ``DROPOUT_PY_MISSING_RESULTS=mark`` renders a missing number as
"(not measured)" instead of failing; nothing else uses it.
"""

from __future__ import annotations

import html
import importlib.util
import itertools
import logging
import os
import re
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

HERE = Path(__file__).resolve().parent
PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
NAME = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+)*")
CELL_CALL = re.compile(r'cell\(\s*(\d+)\s*,\s*"(.*)"\s*\)', re.DOTALL)
CELL_SECONDS = re.compile(r"cell_seconds\(\s*(\d+)\s*\)")
FENCE = re.compile(r"^\s*(```+|~~~+)(.*)$")
CELL_START = re.compile(r'<div class="dp-cell"[^>]*data-source="[^"]*"[^>]*>')
TEXT_OUTPUT = re.compile(r'<pre class="dp-out dp-(?:stdout|stderr|result)"[^>]*>(.*?)</pre>', re.S)
TOKEN = "DPQUOTE{}QTOKEN"
BLOCK_TOKEN = "DPBLOCK{}BTOKEN"
MISSING_ENV = "DROPOUT_PY_MISSING_RESULTS"

log = logging.getLogger("mkdocs.hooks.measured")


def _numbers() -> ModuleType:
    """Import ``hooks/quoted.py`` (the hooks folder is not a package)."""
    if "dp_hooks_quoted" not in sys.modules:
        spec = importlib.util.spec_from_file_location("dp_hooks_quoted", HERE / "quoted.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules["dp_hooks_quoted"]


# page -> [(cell, pattern, placeholder)]; the pattern is None for cell_seconds(N)
_pending: dict[str, list[tuple[int, str | None, str]]] = {}
_blocks: dict[str, str] = {}  # block token -> the HTML that replaces it


def parse_cell_quote(body: str) -> tuple[int, str]:
    """``cell(2, "regex")`` -> (2, "regex"), the pattern taken verbatim (no escapes processed)."""
    match = CELL_CALL.fullmatch(body)
    if not match:
        raise ValueError(
            'expected a results name like goals.fast20.test, cell(N, "pattern") or cell_seconds(N)'
        )
    pattern = match.group(2)
    re.compile(pattern)  # a broken pattern fails here, with re's message
    return int(match.group(1)), pattern


def substitute(markdown: str, where: str, results: Any = None) -> tuple[str, list]:
    """Replace the placeholders of one page's Markdown; return it and the cell quotes left.

    Results numbers are rendered now; each cell quote becomes a token that
    :func:`fill_cell_quotes` replaces once the cells have run.
    """
    numbers = _numbers()
    results = results if results is not None else numbers.Results()
    quotes: list[tuple[int, str, str]] = []
    out, fence = [], None
    for line in markdown.splitlines(keepends=True):
        stripped = line.strip()
        opened = FENCE.match(line)
        if fence is None and opened:  # (marker, language), e.g. ("```", "python")
            fence = (opened.group(1), opened.group(2).strip().split(" ")[0].strip("{."))
        elif (
            fence is not None and set(stripped) == {fence[0][0]} and len(stripped) >= len(fence[0])
        ):
            fence = None
        if fence is not None and fence[1] == "python":
            out.append(line)
            continue

        def replace(match: re.Match, in_fence: bool = fence is not None, line: str = line) -> str:
            body = match.group(1).strip()
            try:
                if NAME.fullmatch(body):
                    quote = numbers.NUMBERS.get(body)
                    if quote is not None and quote.html:
                        return _figure(body, match.group(0), in_fence, line, results)
                    try:
                        value = numbers.render(body, results)
                    except numbers.MissingResult as exc:
                        if quote is None or os.environ.get(MISSING_ENV) != "mark":
                            raise
                        log.info("%s: %s not measured yet (%s)", where, body, exc)
                        value = "(not measured)"
                    if in_fence:
                        return value
                    title = html.escape(f"{quote.about} (results/{quote.file})", quote=True)
                    return f'<span class="dp-measured" title="{title}">{html.escape(value)}</span>'
                seconds = CELL_SECONDS.fullmatch(body)
                if seconds:
                    cell, pattern = int(seconds.group(1)), None
                else:
                    cell, pattern = parse_cell_quote(body)
            except (ValueError, LookupError, re.error) as exc:
                raise PluginError(f"{where}: {match.group(0)}: {exc}") from None
            quotes.append((cell, pattern, match.group(0)))
            return TOKEN.format(len(quotes) - 1)

        out.append(PLACEHOLDER.sub(replace, line))
    return "".join(out), quotes


def _figure(name: str, placeholder: str, in_fence: bool, line: str, results: Any) -> str:
    """A figure's markup, rendered now. At the start of a line it goes into the Markdown as it
    is (a raw HTML block); indented (in an admonition or a list) Markdown would wrap or escape
    it, so a token stands there until :func:`fill_blocks` puts the HTML in its place."""
    numbers = _numbers()
    if in_fence or line.strip() != placeholder:
        raise ValueError("a figure must stand alone on its line, outside blocks")
    try:
        block = numbers.render(name, results)
    except numbers.MissingResult as exc:
        if os.environ.get(MISSING_ENV) != "mark":
            raise
        log.info("%s not measured yet (%s)", name, exc)
        block = "<p>(not measured)</p>"
    if not line.startswith((" ", "\t")):
        return block
    token = BLOCK_TOKEN.format(len(_blocks))
    _blocks[token] = block
    return token


def fill_blocks(page_html: str, where: str) -> str:
    """Put each block's HTML in place of its token (and of the paragraph around it)."""
    for token in re.findall(r"DPBLOCK\d+BTOKEN", page_html):
        if token not in _blocks:
            raise PluginError(f"{where}: {token} is not a block this build rendered")
        block = _blocks[token]
        page_html = page_html.replace(f"<p>{token}</p>", block).replace(token, block)
    return page_html


def cell_texts(page_html: str) -> list[str]:
    """The text output (stdout, stderr, plain results) of each cell of a rendered page, in order."""
    starts = [m.start() for m in CELL_START.finditer(page_html)] + [len(page_html)]
    return [
        "".join(html.unescape(t) for t in TEXT_OUTPUT.findall(page_html[a:b]))
        for a, b in itertools.pairwise(starts)
    ]


def format_seconds(seconds: float) -> str:
    """A cell's run time as prose quotes it: whole seconds, one decimal below 2 s."""
    return f"{seconds:.1f}" if seconds < 2 else f"{seconds:.0f}"


def fill_cell_quotes(
    page_html: str,
    quotes: list,
    where: str,
    values: dict[str, str] | None = None,
    seconds: list[float] | None = None,
) -> str:
    """Put each quoted cell output in place of its token; fail when a cell did not print it.

    ``values``, if given, receives each token and the plain value put in its place. ``seconds``
    are the cells' build-time run times, in page order (for ``cell_seconds(N)``).
    """
    texts = cell_texts(page_html)
    for index, (cell, pattern, placeholder) in enumerate(quotes):
        if not 1 <= cell <= len(texts):
            raise PluginError(f"{where}: {placeholder}: the page has {len(texts)} cells")
        if pattern is None:
            if seconds is None or len(seconds) != len(texts):
                raise PluginError(f"{where}: {placeholder}: the cells' run times are unknown")
            value = format_seconds(seconds[cell - 1])
            title = f"seconds cell {cell} of this page ran natively when the site was built"
        else:
            found = re.search(pattern, texts[cell - 1])
            if found is None:
                raise PluginError(
                    f"{where}: {placeholder}: cell {cell} did not print this; its output:\n"
                    + texts[cell - 1]
                )
            value = found.group(1) if found.groups() else found.group(0)
            title = f"printed by cell {cell} of this page"
        span = f'<span class="dp-quoted" title="{title}">'
        token = TOKEN.format(index)
        if values is not None:
            values[token] = value
        if token not in page_html:
            raise PluginError(f"{where}: {placeholder}: lost in the Markdown conversion")
        page_html = page_html.replace(token, span + html.escape(value) + "</span>")
    return page_html


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Render the results numbers; keep the cell quotes for :func:`on_page_content`."""
    text, quotes = substitute(markdown, page.file.src_uri)
    _pending[page.file.src_uri] = quotes
    return text


def on_page_content(html_text: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Fill in the numbers the page's cells printed (the cells hook has run by now)."""
    html_text = fill_blocks(html_text, page.file.src_uri)
    quotes = _pending.pop(page.file.src_uri, [])
    if not quotes:
        return html_text
    values: dict[str, str] = {}
    seconds = [cell["seconds"] for cell in getattr(page, "run_cells", [])]
    filled = fill_cell_quotes(html_text, quotes, page.file.src_uri, values, seconds)
    page.cell_quotes = values  # hooks/notebooks.py puts them into the page's notebook
    return filled
