"""MkDocs hook: show the Sphinx roles of the NumPy-style docstrings as plain code.

The package's docstrings cross-reference with roles such as ``:class:`~dropout_py.Foo``` (what
numpydoc, IDEs and ``help()`` expect). mkdocstrings renders them literally, as
``:class:<code>~dropout_py.Foo</code>``; this hook drops the role and, for a ``~`` reference,
the module path, leaving ``<code>Foo</code>``.
"""

from __future__ import annotations

import re

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import Files
from mkdocs.structure.pages import Page

ROLE = re.compile(r":(?:class|func|meth|mod|attr|data|exc|obj):<code>(~?)([^<]*)</code>")


def plain_reference(match: re.Match[str]) -> str:
    """``:role:<code>~a.b.C</code>`` -> ``<code>C</code>``; without ``~`` the full name stays."""
    tilde, name = match.groups()
    return f"<code>{name.rsplit('.', 1)[-1] if tilde else name}</code>"


def on_page_content(html: str, page: Page, config: MkDocsConfig, files: Files) -> str:
    """Rewrite the roles on every page (only the API page has any)."""
    return ROLE.sub(plain_reference, html)
