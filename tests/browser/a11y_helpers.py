"""Accessibility checks for the browser tests: axe-core in the page, colour schemes, readiness.

axe-core comes from npm (``make setup-web`` installs it into ``node_modules/``, like the editor
bundle's packages). It is injected with Playwright's ``add_script_tag`` from a URL on the page's
own origin that a route answers with the file, so a Content-Security-Policy allowing only
``'self'`` scripts does not block it and the built site never contains it.
"""

from __future__ import annotations

from urllib.parse import urljoin

from site_helpers import REPO

AXE = REPO / "node_modules" / "axe-core" / "axe.min.js"
AXE_PATH = "/__tests__/axe.min.js"  # answered by a route, never requested from the server
#: WCAG 2.0 and 2.1, levels A and AA (axe's rule tags).
WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
#: mkdocs-material's palette: our name for a scheme -> data-md-color-scheme.
SCHEMES = {"light": "default", "dark": "slate"}

_RUN = """tags => axe.run(document, {
  runOnly: {type: "tag", values: tags},
  resultTypes: ["violations"],
})"""

# Finite animations still running (colour transitions after a palette switch); infinite ones
# (the editor's blinking cursor) never end and do not change colours.
_SETTLED = """() => document.getAnimations().every(
  a => a.effect?.getTiming().iterations === Infinity || a.playState !== "running")"""

_EDITORS_READY = """() =>
  document.querySelectorAll(".dp-cell .cm-editor").length ===
  document.querySelectorAll(".dp-cell").length"""


def inject_axe(page) -> None:
    """Load axe-core into ``page`` (once per document)."""
    if page.evaluate("typeof window.axe === 'object'"):
        return
    if not AXE.is_file():
        raise AssertionError(f"{AXE} is missing: run `make setup-web` (npm ci)")
    url = urljoin(page.url, AXE_PATH)
    page.route(url, lambda route: route.fulfill(path=AXE, content_type="text/javascript"))
    page.add_script_tag(url=url)


def axe_violations(page) -> list[str]:
    """Every WCAG 2.0/2.1 A/AA violation axe finds in ``page``, one line per element."""
    inject_axe(page)
    result = page.evaluate(_RUN, WCAG_AA)
    lines = []
    for rule in result["violations"]:
        for node in rule["nodes"]:
            target = " ".join(str(t) for t in node["target"])
            snippet = " ".join(node["html"].split())[:160]
            summary = " ".join(node.get("failureSummary", "").split())[:300]
            lines.append(f"{rule['id']} ({rule['impact']}) at {target}: {snippet} -- {summary}")
    return lines


def assert_no_violations(page, where: str) -> None:
    """Fail with the rule, the element and axe's explanation of each violation."""
    found = axe_violations(page)
    assert not found, f"{len(found)} axe violation(s) on {where}:\n" + "\n".join(found)


def scheme_of(page) -> str:
    current = page.evaluate("document.body.dataset.mdColorScheme")
    return next(name for name, value in SCHEMES.items() if value == current)


def set_scheme(page, scheme: str) -> None:
    """Switch the palette with the header's toggle (as a reader does) and let colours settle."""
    if scheme_of(page) != scheme:
        page.locator(f"label[title='Switch to {scheme} mode']").click()
        page.wait_for_function(f"() => document.body.dataset.mdColorScheme === '{SCHEMES[scheme]}'")
    settle(page)


def wait_until_ready(page) -> None:
    """On a page with cells: Python is ready and every cell has its editor."""
    if page.locator(".dp-toolbar").count():
        page.wait_for_selector(".dp-toolbar[data-runtime=ready]")
        page.wait_for_function(_EDITORS_READY)
    settle(page)


def settle(page) -> None:
    """Wait for layout observers (two frames) and for colour transitions to end."""
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    page.wait_for_function(_SETTLED)
