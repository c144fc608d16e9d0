"""Helpers shared by the browser tests and their fixtures (a module name pytest will not clash)."""

from __future__ import annotations

from pathlib import Path
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
#: The sub-path the hosting tests serve the site at, as GitHub project pages do.
PROJECT_PATH = "project/"


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


# Logged by every page of a watched context for each violation; workers' violations reach the
# console as errors or warnings naming the policy.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.effectiveDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile}:${event.lineNumber}`);
});
"""
CSP_WORDS = ("CSP violation", "Content Security Policy", "Content-Security-Policy", "Refused to")


def watch_csp(context) -> list[str]:
    """Collect the CSP violations of ``context``'s pages and workers into the returned list."""
    violations: list[str] = []
    context.add_init_script(CSP_LISTENER)

    def on_console(message) -> None:
        if any(word in message.text for word in CSP_WORDS):
            violations.append(message.text)

    context.on("console", on_console)
    return violations
