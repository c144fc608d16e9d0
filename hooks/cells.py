"""MkDocs hook: runnable Python cells, with their expected output computed at build time.

A cell is a fenced block marked ``run``::

    ```python run
    print("hello")
    ```

    ```python run expect="error"
    1 / 0
    ```

A line such as ``keep = 0.5  # slider 0.1..1.0 step 0.1`` declares a live control: a slider
(or ``# choose a|b|c``, a select) rendered above the cell, which re-runs it in the browser with
the new value (``hooks/controls.py`` parses them, ``web/controls.js`` runs them); the build runs
the defaults as written.

Unmarked ``python`` blocks stay ordinary static code. Each page's cells run natively, in order,
in one fresh namespace (a subprocess running ``web/cell_runtime.py``, the module the browser
worker uses too); their stdout, stderr, rich results and tracebacks become the cell's static
output, shown before the reader runs anything. A cell that fails without ``expect="error"`` (or
one marked so that does not fail) stops the build with the page, the cell number and the
traceback. Results are cached in ``.cache/cells/`` keyed by the page's cells, the package's
sources and the runtime, so a rebuild only re-runs pages whose inputs changed. Later hooks find
the cells and their results on the page as ``page.run_cells`` (one dict per cell: ``source``,
``expect_error``, ``ok``, ``seconds``, ``outputs``); ``hooks/notebooks.py`` writes them into
the page's notebook.

Settings (``extra.cells`` in ``mkdocs.yml``): ``timeout`` in seconds per cell (default 120), and
``pyodide_url``, where the pages load Pyodide from instead of the site itself: the
``site_runtime`` hook sets it to the official CDN when ``pyodide_cdn`` is true (or the environment
variable ``DROPOUT_PY_PYODIDE_CDN=1`` is set).
"""

from __future__ import annotations

import hashlib
import html
import importlib.util
import json
import logging
import os
import re
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

from markdown import Markdown
from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page
from pymdownx.superfences import SuperFencesException

REPO = Path(__file__).resolve().parent.parent
RUNTIME = REPO / "web" / "cell_runtime.py"
CACHE = REPO / ".cache" / "cells"
OPTIONS = {"run", "expect", "timeout"}
OUTPUT_SLOT = "<!--dp-cell-output-->"
CELL_RE = re.compile(r'<div class="dp-cell"[^>]*?data-source="([^"]*)"[^>]*>')
#: A cell that trains a network: the page then loads SciPy in the background as it opens, so that
#: the engines' products use its BLAS (see ``dropout_py.nn.products``).
TRAINING_CALL = re.compile(r"\.(?:fit|fit_iter|train)\(|\bcompare_runs\(")
TRAINING_PACKAGES = "scipy"

log = logging.getLogger("mkdocs.hooks.cells")


def _controls() -> ModuleType:
    """Import ``hooks/controls.py`` (the hooks folder is not a package)."""
    if "dp_hooks_controls" not in sys.modules:
        path = Path(__file__).with_name("controls.py")
        spec = importlib.util.spec_from_file_location("dp_hooks_controls", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return sys.modules["dp_hooks_controls"]


# --- the fence --------------------------------------------------------------------------------


def validate_fence(
    language: str, inputs: dict[str, str], options: dict[str, str], attrs: dict, md: Markdown
) -> bool:
    """Accept ```` ```python run [expect="error"] [timeout="N"] ````; leave other blocks alone."""
    if inputs.get("run") != "run":
        return False
    unknown = set(inputs) - OPTIONS
    if unknown:
        raise SuperFencesException(f"unknown option(s) {sorted(unknown)} on a run cell")
    if inputs.get("expect", "error") != "error":
        raise SuperFencesException(f'expect="{inputs["expect"]}" on a run cell; use expect="error"')
    if not inputs.get("timeout", "1").isdigit():
        raise SuperFencesException(f'timeout="{inputs["timeout"]}" must be whole seconds')
    options.update({k: v for k, v in inputs.items() if k != "run"})
    return True


def format_fence(
    src: str, language: str, class_name: str, options: dict[str, str], md: Markdown, **kwargs: Any
) -> str:
    """Render a cell: its controls, highlighted code (static), its source, an output slot."""
    controls = _controls()
    try:
        panel = controls.render_controls(controls.parse_controls(src))
    except controls.ControlError as error:
        raise SuperFencesException(f"a control of a run cell: {error}") from None
    code = md.preprocessors["fenced_code_block"].highlight(
        src=src, language="python", options={}, md=md, classes=[], id_value="", attrs={}
    )
    source = html.escape(src, quote=True).replace("\n", "&#10;")
    extra = ' data-expect="error"' if options.get("expect") == "error" else ""
    if "timeout" in options:
        extra += f' data-timeout="{options["timeout"]}"'
    return (
        f'<div class="dp-cell" data-cell-state="idle"{extra} data-source="{source}">{panel}'
        f'<div class="dp-cell-code">{code}</div>'
        f'<div class="dp-cell-output dp-expected">{OUTPUT_SLOT}</div></div>'
    )


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Register the ``python run`` fence with pymdownx.superfences."""
    if "pymdownx.superfences" not in config.markdown_extensions:
        config.markdown_extensions.append("pymdownx.superfences")
    fences = config.mdx_configs.setdefault("pymdownx.superfences", {})
    fences.setdefault("custom_fences", []).append(
        {"name": "python", "class": "dp-cell", "validator": validate_fence, "format": format_fence}
    )
    return config


# --- running the cells natively ---------------------------------------------------------------


def _package_digest() -> str:
    digest = hashlib.sha256(RUNTIME.read_bytes())
    for path in sorted((REPO / "dropout_py").rglob("*.py")):
        digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


def _run_cells(cells: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
    """Run the cells in a fresh interpreter; cached on disk by their inputs."""
    key_data = json.dumps([cells, timeout, _package_digest()], sort_keys=True)
    cached = CACHE / (hashlib.sha256(key_data.encode()).hexdigest()[:24] + ".json")
    if cached.exists():
        return json.loads(cached.read_text(encoding="utf-8"))["cells"]
    limit = sum(float(c.get("timeout", timeout)) for c in cells) + 60
    with tempfile.TemporaryDirectory(prefix="dp-cells-") as tmp:
        request, result = Path(tmp) / "in.json", Path(tmp) / "out.json"
        request.write_text(json.dumps({"cells": cells, "timeout": timeout}), encoding="utf-8")
        proc = subprocess.run(
            [sys.executable, str(RUNTIME), str(request), str(result)],
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=limit,
            check=False,
        )
        if proc.returncode != 0 or not result.exists():
            raise PluginError(f"the cell runner crashed (exit {proc.returncode}):\n{proc.stderr}")
        text = result.read_text(encoding="utf-8")
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = cached.with_name(f".{cached.name}.{os.getpid()}-{secrets.token_hex(6)}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, cached)  # a concurrent build never reads half a file
    return json.loads(text)["cells"]


def _check(page: Page, cells: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
    for number, (cell, result) in enumerate(zip(cells, results, strict=False), start=1):
        if result["ok"] == cell["expect_error"]:
            where = f"{page.file.src_uri}, cell {number}"
            if result["ok"]:
                raise PluginError(f'{where}: marked expect="error" but ran without an error')
            errors = [o["traceback"] for o in result["outputs"] if o["type"] == "error"]
            raise PluginError(f"{where} failed at build time:\n{''.join(errors)}")


# --- static output HTML (the page script renders the same classes live) ----------------------


def _terminal_text(text: str) -> str:
    r"""Apply carriage returns as a terminal would: ``\r`` restarts the line."""
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))


def render_output(event: dict[str, Any]) -> str:
    """Return the static HTML of one output event."""
    if event["type"] == "stream":
        text = html.escape(_terminal_text(event["text"]))
        return f'<pre class="dp-out dp-{event["name"]}">{text}</pre>'
    if event["type"] == "error":
        return f'<pre class="dp-out dp-error">{html.escape(event["traceback"])}</pre>'
    ident = event.get("display_id")
    attr = f' data-display-id="{html.escape(ident, quote=True)}"' if ident is not None else ""
    if event["mime"] == "text/plain":
        return f'<pre class="dp-out dp-result"{attr}>{html.escape(event["data"])}</pre>'
    return f'<div class="dp-out dp-rich"{attr}>{event["data"]}</div>'


def _toolbar(config: MkDocsConfig, cells: list[dict[str, Any]]) -> str:
    url = (config.extra.get("cells", {}) or {}).get("pyodide_url")
    cdn = f' data-pyodide-url="{html.escape(url, quote=True)}"' if url else ""
    if any(TRAINING_CALL.search(cell["source"]) for cell in cells):
        cdn += f' data-preload="{TRAINING_PACKAGES}"'
    return (
        f'<div class="dp-toolbar" role="toolbar" aria-label="Python cells"{cdn}>'
        '<button type="button" class="md-button dp-run-all" disabled>Run all</button>'
        '<button type="button" class="md-button dp-stop" disabled>Stop</button>'
        '<button type="button" class="md-button dp-restart" disabled '
        'title="Fresh Python, original code and outputs">Restart</button>'
        '<span class="dp-status" role="status" aria-live="polite">'
        "Live Python needs JavaScript and a web server (not a file:// page).</span></div>"
    )


def _cells_in(html_text: str) -> list[dict[str, Any]]:
    """Read back the cells that :func:`format_fence` rendered, in page order."""
    cells = []
    for match in CELL_RE.finditer(html_text):
        tag = match.group(0)
        cell = {
            "source": html.unescape(match.group(1)),
            "expect_error": 'data-expect="error"' in tag,
        }
        timeout = re.search(r'data-timeout="(\d+)"', tag)
        if timeout:
            cell["timeout"] = float(timeout.group(1))
        cells.append(cell)
    return cells


def on_page_content(html_text: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Run the page's cells, put their outputs in place, and add the page toolbar."""
    cells = _cells_in(html_text)
    if not cells:
        return html_text
    timeout = float((config.extra.get("cells", {}) or {}).get("timeout", 120))
    results = _run_cells(cells, timeout)
    _check(page, cells, results)
    log.info("cells: %s ran %d cell(s)", page.file.src_uri, len(results))
    page.run_cells = [{**cell, **result} for cell, result in zip(cells, results, strict=True)]
    parts = html_text.split(OUTPUT_SLOT)
    outputs = ["".join(render_output(e) for e in r["outputs"]) for r in results]
    merged = parts[0] + "".join(out + rest for out, rest in zip(outputs, parts[1:], strict=True))
    heading_end = merged.find("</h1>")
    cut = heading_end + len("</h1>") if heading_end >= 0 else 0
    return merged[:cut] + _toolbar(config, cells) + merged[cut:]
