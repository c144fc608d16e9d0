"""Fixtures for the browser tests: one built site per session, local servers, headless Chromium.

The site is built once per session with ``mkdocs build --strict`` into a temporary folder (the
vendored runtime, wheel, data and cell outputs come from their caches, so this takes seconds
after the first build). Chromium is Debian's ``/usr/bin/chromium`` driven by the ``playwright``
package (``make setup-web`` installs it); ``playwright install`` is never used.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from site_helpers import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_FLAGS,
    PROJECT_PATH,
    REPO,
    Requests,
    watch_csp,
)

from scripts import serve


def build_site(out: Path, **env: str) -> Path:
    """Build the site into ``out`` with ``mkdocs build --strict`` (extra environment ``env``)."""
    proc = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--quiet", "-d", str(out)],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **env},
        check=False,
    )
    assert proc.returncode == 0, f"mkdocs build failed:\n{proc.stdout}\n{proc.stderr}"
    return out


@pytest.fixture(scope="session")
def site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site, built once per session with ``mkdocs build --strict``."""
    return build_site(tmp_path_factory.mktemp("site") / "site")


@pytest.fixture(scope="session")
def project_site_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site built for ``http://127.0.0.1/project/`` (its 404 page links ``/project/...``)."""
    url = f"http://127.0.0.1/{PROJECT_PATH}"
    return build_site(tmp_path_factory.mktemp("project-site") / "site", DROPOUT_PY_SITE_URL=url)


@pytest.fixture(scope="session")
def server(site_dir: Path) -> Iterator[tuple[str, type]]:
    """``(base URL, handler class)`` of the site served with COOP/COEP on a free port."""
    with serve.serving(site_dir) as running:
        yield running


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make setup-web` (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def context(browser: object, request: pytest.FixtureRequest) -> Iterator[tuple[object, Requests]]:
    """A fresh browser context (own cache) and the list of requests it makes.

    Every Content-Security-Policy violation in its pages and workers fails the test, unless it
    is marked ``csp_violations_expected``; the violations are then in ``ctx.csp_violations``.
    """
    ctx = browser.new_context(viewport={"width": 1100, "height": 900})
    ctx.set_default_timeout(60_000)
    requests = Requests()
    ctx.on("request", lambda request: requests.append(request.url))
    ctx.csp_violations = watch_csp(ctx)
    yield ctx, requests
    ctx.close()
    if request.node.get_closest_marker("csp_violations_expected") is None:
        assert ctx.csp_violations == [], "Content-Security-Policy violations"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def broken_site(site_dir: Path, tmp_path: Path) -> Path:
    """A copy of the site (hard links) whose ``pyodide.asm.wasm.gz`` is missing."""
    copy = tmp_path / "site"
    shutil.copytree(site_dir, copy, copy_function=os.link)
    (copy / "pyodide" / "pyodide.asm.wasm.gz").unlink()
    return copy
