"""Helpers shared by the browser tests and their fixtures (a module name pytest will not clash)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO / "test-artifacts"


def load_script(name: str) -> ModuleType:
    """Import ``scripts/<name>.py`` (not a package)."""
    spec = importlib.util.spec_from_file_location(
        f"dp_scripts_{name}", REPO / "scripts" / f"{name}.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


serve = load_script("serve")


def cell_pages() -> list[str]:
    """URL paths (relative to the site root) of the Markdown pages that have run cells."""
    pages = []
    for md in sorted((REPO / "docs").rglob("*.md")):
        if "```python run" in md.read_text(encoding="utf-8"):
            rel = md.relative_to(REPO / "docs").with_suffix("")
            parts = rel.parts[:-1] if rel.name == "index" else rel.parts
            pages.append("".join(f"{p}/" for p in parts))
    return pages


class Requests(list):
    """Every URL a browser context asked for, pages and workers alike."""

    def foreign(self, base: str) -> list[str]:
        """Requests that went anywhere but the server at ``base`` (data:/blob: are local)."""
        origin = urlsplit(base).netloc
        return [
            u
            for u in self
            if urlsplit(u).scheme not in ("data", "blob") and urlsplit(u).netloc != origin
        ]
