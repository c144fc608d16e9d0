"""MkDocs hook: the Deploy page's table of what a host must serve, made from this very build.

A page containing the marker ``<!-- hosted-files -->`` gets, in its place, a Markdown table of the
files the cells need (the service worker, the page scripts, the Python runtime, the data), each
with its size in this build and the MIME type it must be served with. So the sizes on the page
are always those of the site it is part of.
"""

from __future__ import annotations

import os

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files
from mkdocs.structure.pages import Page

MARKER = "<!-- hosted-files -->"
JAVASCRIPT = "JavaScript (`text/javascript` or `application/javascript`)"
ANY = "any type"
ANY_RAW = "any type, no `Content-Encoding`"

#: (what, the start of the files' paths, the MIME type they need), in the order a page loads them.
GROUPS = (
    ("the service worker", ("coi-serviceworker.js",), JAVASCRIPT),
    ("page script, worker, editor", ("assets/dropout/",), JAVASCRIPT),
    ("Pyodide's loader", ("pyodide/pyodide.js",), JAVASCRIPT),
    ("Pyodide's core (JS)", ("pyodide/pyodide.asm.js",), JAVASCRIPT),
    ("Pyodide's core (wasm, gzipped)", ("pyodide/pyodide.asm.wasm.gz",), ANY),
    ("Python's standard library", ("pyodide/python_stdlib.zip",), ANY),
    ("package index", ("pyodide/pyodide-lock.json",), ANY),
    ("numpy", ("pyodide/numpy-",), ANY),
    ("dropout_py", ("pyodide/dropout_py-",), ANY),
    ("scipy (one page imports it)", ("pyodide/scipy-",), ANY),
    ("OpenBLAS (for scipy)", ("pyodide/openblas-",), ANY),
    ("micropip, packaging", ("pyodide/micropip-", "pyodide/packaging-"), ANY),
    ("MNIST (read when a cell opens it)", ("data/mnist/",), ANY_RAW),
)


def _size(file: File) -> int:
    if file.abs_src_path:  # a file on disk: no need to read it
        return os.path.getsize(file.abs_src_path)
    return len(file.content_bytes)


def _mb(size: int) -> str:
    return f"{size / 1e6:.1f} MB" if size >= 100_000 else f"{size / 1e3:.0f} kB"


def hosted_files_table(files: Files) -> str:
    """Return the Markdown table of the cells' files in ``files`` (sizes of this build)."""
    rows = ["| What | Files | Size | Must be served as |", "| --- | --- | ---: | --- |"]
    for what, starts, mime in GROUPS:
        found = sorted((f for f in files if f.src_uri.startswith(starts)), key=lambda f: f.src_uri)
        if not found:
            continue
        names = (
            f"`{found[0].src_uri}`"
            if len(found) == 1
            else f"{len(found)} files in `{found[0].src_uri.rsplit('/', 1)[0]}/`"
        )
        rows.append(f"| {what} | {names} | {_mb(sum(map(_size, found)))} | {mime} |")
    return "\n".join(rows)


def on_page_markdown(markdown: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Replace the marker by the table."""
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, hosted_files_table(files))
