"""MkDocs hook: a Content-Security-Policy for every built page, and one for the site's workers.

Each page gets a ``<meta http-equiv="Content-Security-Policy">`` as the first element of its
``<head>``, allowing exactly what the pages use:

* scripts from the site itself, plus the theme's few inline scripts, each by its sha256 (no
  ``'unsafe-inline'``: an injected inline script or ``on...=`` attribute is refused);
* workers from the site (the Python worker, the search worker, a service worker);
* ``fetch``/XHR to the site only (Pyodide, the wheel, the MNIST files, the search index);
* images from the site and ``data:`` URLs (the theme's icons, figures with an embedded PNG);
* styles from the site and inline (the theme and the SVG figures carry ``style`` attributes and
  ``<style>`` elements);
* no plugins, no ``<base>`` elsewhere, no form posts elsewhere.

A worker does not inherit the page's policy: it gets the one its script is served with. The
worker policy (scripts from the site and ``'wasm-unsafe-eval'``, which Pyodide needs to compile
WebAssembly; ``fetch`` to the site; in CDN mode also ``fetch`` to the CDN and ``blob:`` scripts,
the runtime's two scripts run from their checked bytes) is written to ``assets/dropout/csp.json``
for servers that send headers:
``scripts/serve.py`` sends it with every script and each page's own policy with the page. A
static host that sends no headers still has the page policy from the ``<meta>`` element.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.pages import Page

CDN_ORIGIN = "https://cdn.jsdelivr.net"
POLICY_FILE = "assets/dropout/csp.json"
# Inline scripts the browser executes: no src, and no type or a JavaScript type.
INLINE_SCRIPT = re.compile(r"<script(?P<attrs>(?:\s[^>]*)?)>(?P<body>.*?)</script>", re.S)
JS_TYPES = {"", "text/javascript", "application/javascript", "module"}


def use_cdn(config: MkDocsConfig) -> bool:
    """Whether pages load Pyodide from the CDN (``extra.cells.pyodide_cdn`` or the env var)."""
    settings = config.extra.get("cells", {}) or {}
    return bool(settings.get("pyodide_cdn")) or os.environ.get("DROPOUT_PY_PYODIDE_CDN") == "1"


def inline_script_hashes(html_text: str) -> list[str]:
    """``'sha256-...'`` sources for the inline scripts of ``html_text``, in page order."""
    hashes = []
    for match in INLINE_SCRIPT.finditer(html_text):
        attrs = match.group("attrs")
        kind = re.search(r'\stype="([^"]*)"', attrs)
        if re.search(r"\ssrc=", attrs) or (kind and kind.group(1).lower() not in JS_TYPES):
            continue
        digest = hashlib.sha256(match.group("body").encode("utf-8")).digest()
        source = f"'sha256-{base64.b64encode(digest).decode()}'"
        if source not in hashes:
            hashes.append(source)
    return hashes


def page_policy(script_hashes: list[str]) -> str:
    """The policy of a page whose inline scripts have these hashes."""
    return "; ".join(
        [
            "default-src 'self'",
            " ".join(["script-src 'self'", *script_hashes]),
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "worker-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
        ]
    )


def worker_policy(cdn: bool) -> str:
    """The policy of the site's workers (Pyodide runs in one).

    In CDN mode the worker fetches the runtime from the CDN (each file checked against its
    digest) and runs the two checked scripts from ``blob:`` URLs.
    """
    return "; ".join(
        [
            "default-src 'self'",
            "script-src 'self' 'wasm-unsafe-eval'" + (" blob:" if cdn else ""),
            "connect-src 'self'" + (f" {CDN_ORIGIN}" if cdn else ""),
            "object-src 'none'",
        ]
    )


def on_post_page(output: str, page: Page, config: MkDocsConfig) -> str:
    """Put the page's policy first in its ``<head>``, before anything it governs."""
    return with_policy(output)


def on_post_template(output: str, template_name: str, config: MkDocsConfig) -> str:
    """The same for the theme's extra pages (``404.html``); other templates are left alone."""
    return with_policy(output) if template_name.endswith(".html") else output


def with_policy(output: str) -> str:
    """``output`` with its policy ``<meta>`` right after ``<head>`` (unchanged without one)."""
    head = re.search(r"<head[^>]*>", output)
    if head is None:
        return output
    policy = page_policy(inline_script_hashes(output))
    meta = f'<meta http-equiv="Content-Security-Policy" content="{policy}">'
    return output[: head.end()] + meta + output[head.end() :]


def on_post_build(config: MkDocsConfig) -> None:
    """Write the worker policy where a server can find it."""
    path = Path(config.site_dir) / POLICY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"worker": worker_policy(use_cdn(config))}, indent=1) + "\n")
