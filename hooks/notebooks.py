"""MkDocs hook: every page with runnable cells as a Jupyter notebook, outputs included.

For each page with ```` ```python run ```` cells the site gets ``notebooks/<page>.ipynb`` and the
page a "Download notebook" link in its cell toolbar. The notebook holds, in order:

* a code cell (tagged ``install``) that installs ``dropout_py`` from the wheel this site hosts:
  ``%pip install <site URL>/pyodide/dropout_py-….whl`` (plus SciPy where the page imports it),
  so a reader goes on natively in Jupyter or VS Code;
* the page's Markdown and its cells, in page order. The Markdown stays Markdown (Jupyter
  typesets ``$…$`` itself); admonitions become block quotes, a collapsible block without cells
  becomes ``<details>``, a cell inside a collapsible block (a solution) starts collapsed, a cell
  marked ``expect="error"`` is tagged ``raises-exception``, and links to other pages and files
  of the site point at the site;
* each cell's outputs as the build computed them: ``hooks/cells.py`` leaves them on the page
  (``page.run_cells``), so nothing runs twice. Text, figures (``image/svg+xml`` from their
  ``_repr_svg_``), results and tracebacks, as Jupyter would have stored them.

The Markdown is the page's after ``hooks/measured.py`` rendered its numbers; the numbers it
quotes from the cells' output come from ``page.cell_quotes``. So the hook order in
``mkdocs.yml`` is: cells, measured, site_runtime, then this one.

The site's address is ``site_url`` from ``mkdocs.yml``; without one the notebooks point at
``http://127.0.0.1:8000/``, where ``make serve`` serves the site.
"""

from __future__ import annotations

import ast
import html
import logging
import posixpath
import re
import sys
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin

import nbformat
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page
from mkdocs.utils import get_relative_url

LOCAL_SITE = "http://127.0.0.1:8000/"
FOLDER = "notebooks"
WHEEL_RE = re.compile(r"^pyodide/dropout_py-[^/]+\.whl$")
FENCE_RE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})(?P<info>.*)$")
RUN_INFO_RE = re.compile(r"^\s*python\s+run\b")
ADMONITION_RE = re.compile(
    r'^(?P<marker>!!!|\?\?\?\+?)[ \t]+(?P<kind>[\w-]+)(?:[ \t]+"(?P<title>[^"]*)")?[ \t]*$'
)
LINK_RE = re.compile(r"(?P<open>!?\[[^\]]*\]\()(?P<target>[^)\s]+)(?P<close>(?:\s+\"[^\"]*\")?\))")
STATUS = '<span class="dp-status"'
QUOTE_TOKEN_RE = re.compile(r"DPQUOTE\d+QTOKEN")  # hooks/measured.py: a number a cell printed
KERNEL = {"name": "python3", "display_name": "Python 3", "language": "python"}

log = logging.getLogger("mkdocs.hooks.notebooks")


# --- the page's Markdown as blocks -----------------------------------------------------------


@dataclass
class Text:
    """A line of Markdown; ``verbatim`` lines (inside a code block) are left exactly as they are."""

    line: str
    verbatim: bool = False


@dataclass
class Code:
    """A ``python run`` cell's source."""

    source: str


@dataclass
class Admonition:
    """``!!! kind "title"`` (``collapsible`` for ``???``) and what is indented under it."""

    kind: str
    title: str | None
    collapsible: bool
    body: list[Text | Code | Admonition] = field(default_factory=list)

    def has_code(self) -> bool:
        """Whether a run cell sits anywhere inside."""
        return any(
            isinstance(item, Code) or (isinstance(item, Admonition) and item.has_code())
            for item in self.body
        )


Item = Text | Code | Admonition


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _fence_end(lines: list[str], start: int, fence: str) -> int:
    """Index of the line closing the fence opened at ``start`` (the last line if none does)."""
    for i in range(start + 1, len(lines)):
        stripped = lines[i].strip()
        if stripped.startswith(fence) and set(stripped) == {fence[0]}:
            return i
    return len(lines) - 1


def parse(lines: list[str]) -> list[Item]:
    """Read Markdown lines into text, run cells and (nested) admonitions."""
    items: list[Item] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        fence = FENCE_RE.match(line)
        if fence:
            end = _fence_end(lines, i, fence["fence"])
            if RUN_INFO_RE.match(fence["info"]):
                cut = len(fence["indent"])
                items.append(Code("\n".join(body[cut:] for body in lines[i + 1 : end])))
            else:
                items.extend(Text(body, verbatim=True) for body in lines[i : end + 1])
            i = end + 1
            continue
        header = ADMONITION_RE.match(line)
        if header:
            j = i + 1
            while j < len(lines) and (not lines[j].strip() or _indent(lines[j]) >= 4):
                j += 1
            while j > i + 1 and not lines[j - 1].strip():
                j -= 1  # blank lines after the block belong to the page
            title = header["title"] if header["title"] is not None else header["kind"].title()
            body = parse([body[4:] for body in lines[i + 1 : j]])
            items.append(Admonition(header["kind"], title, header["marker"] != "!!!", body))
            i = j
            continue
        items.append(Text(line))
        i += 1
    return items


# --- blocks to notebook cells -----------------------------------------------------------------


@dataclass
class Builder:
    """Collects notebook cells: Markdown lines until the next run cell, then that cell."""

    link: Any  # callable: Markdown line -> line with the site's links made absolute
    cells: list[dict[str, Any]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    codes: list[tuple[str, bool]] = field(default_factory=list)  # (source, collapsed)

    def text(self, line: str, depth: int) -> None:
        prefix = "> " * depth
        self.lines.append((prefix + line).rstrip())

    def flush(self) -> None:
        lines = self.lines
        while lines and not lines[-1].strip("> "):
            lines.pop()  # blank (or blank quoted) lines before a cell
        while lines and not lines[0].strip("> "):
            lines.pop(0)
        if lines:
            self.cells.append(nbformat.v4.new_markdown_cell("\n".join(lines)))
        self.lines = []

    def add(self, items: list[Item], depth: int = 0, collapsed: bool = False) -> None:
        for item in items:
            if isinstance(item, Text):
                self.text(item.line if item.verbatim else self.link(item.line), depth)
            elif isinstance(item, Code):
                self.flush()
                self.codes.append((item.source, collapsed))
                self.cells.append(nbformat.v4.new_code_cell(item.source))
            elif item.collapsible and not item.has_code():
                self.text(f"<details><summary>{html.escape(item.title or '')}</summary>", depth)
                self.text("", depth)
                self.add(item.body, depth)
                self.text("", depth)
                self.text("</details>", depth)
            else:
                if item.title:
                    self.text(f"**{item.title}**", depth + 1)
                    self.text("", depth + 1)
                self.add(item.body, depth + 1, collapsed or item.collapsible)


def _terminal_text(text: str) -> str:
    r"""Apply carriage returns as a terminal would (as ``hooks/cells.py`` shows the text)."""
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))


def outputs(events: list[dict[str, Any]], count: int) -> list[Any]:
    """The build's output events of one cell as Jupyter outputs."""
    result = []
    for event in events:
        if event["type"] == "stream":
            text = _terminal_text(event["text"])
            result.append(nbformat.v4.new_output("stream", name=event["name"], text=text))
        elif event["type"] == "error":
            lines = event["traceback"].rstrip("\n").split("\n")
            head = f"{event['ename']}: "
            evalue = lines[-1][len(head) :] if lines[-1].startswith(head) else ""
            result.append(
                nbformat.v4.new_output(
                    "error", ename=event["ename"], evalue=evalue, traceback=lines
                )
            )
        elif event.get("result"):
            data = {event["mime"]: event["data"]}
            result.append(nbformat.v4.new_output("execute_result", data, execution_count=count))
        else:
            result.append(nbformat.v4.new_output("display_data", {event["mime"]: event["data"]}))
    return result


def extra_requirements(sources: list[str]) -> list[str]:
    """Packages the cells import beyond the standard library, numpy and dropout_py."""
    found = set()
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found.add(node.module.split(".")[0])
    return sorted(found - set(sys.stdlib_module_names) - {"numpy", "dropout_py"})


def install_cell(wheel_url: str, extra: list[str]) -> Any:
    """The first cell: ``%pip install`` of the site's wheel (and what else the page imports)."""
    packages = " ".join([wheel_url, *extra])
    source = (
        "# Run this once: it installs dropout_py (with numpy) from the site this notebook\n"
        "# comes from. The cells below then run as they did on the page.\n"
        f"%pip install {packages}"
    )
    return nbformat.v4.new_code_cell(source, metadata={"tags": ["install"]})


def build_notebook(
    markdown: str, run_cells: list[dict[str, Any]], link: Any, wheel_url: str, where: str
) -> Any:
    """The notebook of one page (see the module docstring).

    Raises
    ------
    PluginError
        If the Markdown's run cells are not the cells the cells hook ran.
    """
    builder = Builder(link)
    builder.add(parse(markdown.split("\n")))
    builder.flush()
    sources = [source.strip("\n") for source, _ in builder.codes]
    ran = [cell["source"].strip("\n") for cell in run_cells]
    if sources != ran:
        raise PluginError(
            f"{where}: the notebook found {len(sources)} run cell(s) in the Markdown, the cells "
            f"hook ran {len(ran)}; they differ (a run cell in a construct this hook does not read?)"
        )
    codes = iter(zip(builder.codes, run_cells, strict=True))
    for count, cell in enumerate((c for c in builder.cells if c.cell_type == "code"), start=1):
        (_, collapsed), ran_cell = next(codes)
        cell.execution_count = count
        cell.outputs = outputs(ran_cell["outputs"], count)
        if collapsed:
            cell.metadata["jupyter"] = {"source_hidden": True, "outputs_hidden": True}
        if ran_cell["expect_error"]:
            cell.metadata["tags"] = ["raises-exception"]
    notebook = nbformat.v4.new_notebook(
        cells=[install_cell(wheel_url, extra_requirements(ran)), *builder.cells],
        metadata={"kernelspec": KERNEL, "language_info": {"name": "python"}},
    )
    nbformat.validate(notebook)
    return notebook


# --- MkDocs events ----------------------------------------------------------------------------

_notebooks: dict[str, File] = {}  # page src_uri -> its notebook file
_wheel: list[File] = []


def _has_cells(markdown: str) -> bool:
    return any(
        (fence := FENCE_RE.match(line)) and RUN_INFO_RE.match(fence["info"])
        for line in markdown.split("\n")
    )


def site_base(config: MkDocsConfig) -> str:
    """The site's address, ending in ``/``."""
    base = config.site_url or LOCAL_SITE
    return base if base.endswith("/") else base + "/"


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    _notebooks.clear()
    _wheel.clear()
    if not config.site_url:
        log.info("notebooks: no site_url; notebooks install the wheel from %s", LOCAL_SITE)
    return config


def on_files(files: Files, config: MkDocsConfig) -> Files:
    """Reserve ``notebooks/<page>.ipynb`` for each page with run cells; find the wheel."""
    wheels = [f for f in files if WHEEL_RE.match(f.src_uri)]
    if len(wheels) != 1:
        raise PluginError(
            f"expected one pyodide/dropout_py-*.whl among the site's files, found {len(wheels)} "
            "(hooks/site_runtime.py must come before hooks/notebooks.py in mkdocs.yml)"
        )
    _wheel.append(wheels[0])
    for page in files.documentation_pages():
        if _has_cells(page.content_string):
            stem = page.src_uri.removesuffix(".md").replace("/", "-")
            notebook = File.generated(config, f"{FOLDER}/{stem}.ipynb", content="")
            files.append(notebook)
            _notebooks[page.src_uri] = notebook
    return files


def _linker(page: Page, files: Files, base: str) -> Any:
    """Return a function that points a Markdown line's relative links at the site."""
    folder = posixpath.dirname(page.file.src_uri)

    def absolute(match: re.Match[str]) -> str:
        target = match["target"]
        if re.match(r"^[a-z][a-z0-9+.-]*:|^#|^/", target, re.IGNORECASE):
            return match[0]
        path, _, anchor = target.partition("#")
        found = files.get_file_from_path(posixpath.normpath(posixpath.join(folder, path)))
        if found is None:
            return match[0]
        url = urljoin(base, found.url) + (f"#{anchor}" if anchor else "")
        return f"{match['open']}{url}{match['close']}"

    return lambda line: LINK_RE.sub(absolute, line)


def _quotes_filled(markdown: str, values: dict[str, str], where: str) -> str:
    """Put the numbers the cells printed in place of ``hooks/measured.py``'s tokens."""
    for token, value in values.items():
        markdown = markdown.replace(token, value)
    left = QUOTE_TOKEN_RE.search(markdown)
    if left:
        raise PluginError(f"{where}: {left[0]} has no value (hooks/measured.py must come first)")
    return markdown


def on_page_content(html_text: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Write the page's notebook and link it from the page's cell toolbar."""
    notebook_file = _notebooks.get(page.file.src_uri)
    if notebook_file is None:
        return html_text
    where = page.file.src_uri
    run_cells = getattr(page, "run_cells", None)
    if run_cells is None:
        raise PluginError(f"{where}: no page.run_cells (hooks/cells.py must come first)")
    base = site_base(config)
    wheel_url = urljoin(base, _wheel[0].url)
    markdown = _quotes_filled(page.markdown or "", getattr(page, "cell_quotes", {}), where)
    notebook = build_notebook(markdown, run_cells, _linker(page, files, base), wheel_url, where)
    notebook_file.content_string = nbformat.writes(notebook)
    href = html.escape(get_relative_url(notebook_file.url, page.url), quote=True)
    name = html.escape(f"dropout_py-{posixpath.basename(notebook_file.url)}", quote=True)
    link = (
        f'<a class="md-button dp-notebook" href="{href}" download="{name}" '
        'title="This page as a Jupyter notebook, with its outputs">Download notebook</a>'
    )
    if STATUS in html_text:
        return html_text.replace(STATUS, link + STATUS, 1)
    return html_text.replace("</h1>", f"</h1><p>{link}</p>", 1)


def on_post_build(config: MkDocsConfig) -> None:
    """Check that every reserved notebook was written (its page was built)."""
    empty = [src for src, f in _notebooks.items() if not f.content_string]
    if empty:
        raise PluginError(f"no notebook was written for {', '.join(empty)}")
