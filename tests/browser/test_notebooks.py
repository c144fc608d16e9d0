"""The site's notebooks run natively (nbclient, a real IPython kernel) and match their pages.

Every page with cells links ``notebooks/<page>.ipynb`` (``hooks/notebooks.py``). Here each one is
executed without its ``%pip install`` cell (the kernel is this environment, where ``dropout_py``
is installed from the repository), and every code cell's outputs are compared with the outputs
the notebook carries, which are the page's build-time outputs. What legitimately differs is
masked, and nothing else:

* durations: a number followed by ``s`` (``1.5s``, ``0.05 s``) becomes ``<t>s``;
* Jupyter keeps a cell's stdout as many small stream outputs: consecutive ones are joined and
  carriage returns applied, as a terminal (and the page) shows them;
* tracebacks: IPython formats them its own way; the exception's name and message must match.

The install cell itself is checked apart: its URL names the wheel the site serves, and ``pip``
downloads it from the served site.
"""

from __future__ import annotations

import copy
import re
import subprocess
import sys
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import nbformat
import pytest
from site_helpers import cell_pages

from scripts import serve

pytestmark = pytest.mark.slow

LOCAL_SITE = "http://127.0.0.1:8000/"
LINK_RE = re.compile(r'<a class="md-button dp-notebook" href="([^"]+)" download="([^"]+)"')
SECONDS_RE = re.compile(r"\d+(?:\.\d+)?(?= ?s\b)")
PIP_RE = re.compile(r"^%pip install (\S+\.whl)", re.MULTILINE)


def notebook_of(site_dir: Path, path: str) -> Path:
    """The notebook the page at URL ``path`` links to."""
    page = (site_dir / path / "index.html").read_text(encoding="utf-8")
    links = LINK_RE.findall(page)
    assert len(links) == 1, f"{path}: expected one Download notebook link, found {links}"
    href, name = links[0]
    assert name.endswith(".ipynb")
    return (site_dir / path / href).resolve()


def terminal(text: str) -> str:
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in text.split("\n"))


def comparable(outputs: list) -> list[tuple]:
    """Outputs as tuples, with what legitimately differs masked (see the module docstring)."""
    merged: list = []
    for out in outputs:
        if out.output_type == "stream" and merged and merged[-1][:2] == ("stream", out.name):
            merged[-1] = ("stream", out.name, merged[-1][2] + out.text)
        elif out.output_type == "stream":
            merged.append(("stream", out.name, out.text))
        elif out.output_type == "error":
            merged.append(("error", out.ename, out.evalue))
        else:
            mime = next(m for m in ("image/svg+xml", "text/html", "text/plain") if m in out.data)
            merged.append((out.output_type, mime, out.data[mime]))
    return [
        (e[0], e[1], SECONDS_RE.sub("<t>", terminal(e[2]))) if e[0] == "stream" else e
        for e in merged
    ]


def execute(notebook, workdir: Path):
    from nbclient import NotebookClient

    runnable = copy.deepcopy(notebook)
    runnable.cells = [c for c in runnable.cells if "install" not in c.metadata.get("tags", [])]
    client = NotebookClient(
        runnable, timeout=600, kernel_name="python3", resources={"metadata": {"path": workdir}}
    )
    client.execute()
    return runnable


@pytest.mark.parametrize("path", cell_pages())
def test_notebook_runs_natively_with_the_pages_outputs(
    site_dir: Path, tmp_path: Path, path: str
) -> None:
    built = nbformat.read(notebook_of(site_dir, path), as_version=4)
    nbformat.validate(built)
    assert "install" in built.cells[0].metadata["tags"]
    ran = execute(built, tmp_path)
    expected = [c for c in built.cells if c.cell_type == "code"][1:]
    got = [c for c in ran.cells if c.cell_type == "code"]
    assert [c.source for c in got] == [c.source for c in expected]
    assert any(c.outputs for c in expected), f"{path}: the notebook carries no outputs"
    for number, (page_cell, run_cell) in enumerate(zip(expected, got, strict=True), start=1):
        assert comparable(run_cell.outputs) == comparable(page_cell.outputs), (path, number)


def test_the_install_cell_downloads_the_sites_wheel(site_dir: Path, tmp_path: Path) -> None:
    notebook = nbformat.read(notebook_of(site_dir, cell_pages()[0]), as_version=4)
    url = PIP_RE.search(notebook.cells[0].source).group(1)
    assert url.startswith(LOCAL_SITE)  # the test build has no site_url: `make serve`'s address
    wheel = site_dir / urlsplit(url).path.lstrip("/")
    assert wheel.is_file() and wheel.name.startswith("dropout_py-")
    with serve.serving(site_dir) as (base, _):
        served = urljoin(base, url.removeprefix(LOCAL_SITE))
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp_path, served],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / wheel.name).read_bytes() == wheel.read_bytes()


def test_pages_without_cells_have_no_notebook(site_dir: Path) -> None:
    for path in ("api/", "deploy/"):
        assert not LINK_RE.search((site_dir / path / "index.html").read_text(encoding="utf-8"))
    notebooks = sorted(p.name for p in (site_dir / "notebooks").glob("*.ipynb"))
    assert len(notebooks) == len(cell_pages())


@pytest.mark.browser
def test_the_download_link_saves_the_notebook(context, server, site_dir: Path, tmp_path) -> None:
    ctx, requests = context
    base, _ = server
    page = ctx.new_page()
    page.goto(base + "dropout/")
    link = page.get_by_role("link", name="Download notebook")
    with page.expect_download() as download:
        link.click()
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    assert saved.name == "dropout_py-dropout.ipynb"
    assert saved.read_bytes() == notebook_of(site_dir, "dropout/").read_bytes()
    nbformat.validate(nbformat.read(saved, as_version=4))
    assert requests.foreign(base) == []
