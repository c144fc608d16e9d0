"""Training in the page: Stop keeps the model and Resume continues, models move between the page
and native Python, the page trains exactly as natively, SciPy goes only to pages that train.

Marked ``browser``. The page used is the fast trainer's (it trains, so it preloads SciPy and the
engines' products run on SciPy's BLAS); its first cell is edited to the code under test.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from site_helpers import PROJECT_PATH
from static_servers import http_server, site_at
from test_site_browser import IDLE, cell, open_page, output_of, run_cell, set_code

from dropout_py import DropoutMLP, load_mnist, load_model

pytestmark = pytest.mark.browser

TRAINING_PAGE = "fast-trainer/"
NO_TRAINING_PAGES = ["thinning/", "numpy-steps/", ""]
PARITY_IMAGES = 2_000

SMALL_DATA = "from dropout_py import *\nimport numpy as np\ndata = load_mnist(subset='small')\n"
ENGINES = {
    "fast": (
        "model = DropoutMLP((784, 100, 10), keep_hidden=0.5, batch_size=20, seed=4)\n"
        "X, y = data.train_images[:4000], data.train_labels[:4000]\n"
        "fit = lambda m: m.fit(X, y, epochs=3, score_train=False)\n"
    ),
    "tutorial": (
        "model = NeuralNetwork(784, 10, 50, 0.1, seed=4, keep_input=0.8, keep_hidden=0.7,"
        " partitions=40)\n"
        "X, y = model.prepare(data.train_images[:2000]), data.train_labels[:2000]\n"
        "fit = lambda m: m.fit(X, y, epochs=3, score_train=False)\n"
    ),
}


def wait_for_step(page, number: int, step: int) -> None:
    """Wait until cell ``number``'s training line has passed step ``step`` of an epoch."""
    page.wait_for_function(
        """([n, step]) => {
            const line = document.querySelectorAll('.dp-cell')[n - 1].querySelector('.dp-training');
            const m = line && line.textContent.match(/epoch (\\d+)\\/\\d+, step (\\d+)/);
            return m && (Number(m[1]) > 1 || Number(m[2]) >= step);
        }""",
        arg=[number, step],
        timeout=120_000,
    )


@pytest.mark.parametrize("engine", list(ENGINES))
def test_stop_keeps_the_model_and_resume_continues(context, server, engine: str) -> None:
    ctx, requests = context
    base, _ = server
    page = open_page(ctx, base + TRAINING_PAGE)
    assert page.evaluate("crossOriginIsolated")
    set_code(page, 1, SMALL_DATA + ENGINES[engine] + "history = fit(model)")
    page.get_by_role("button", name="Run cell 1", exact=True).click()
    wait_for_step(page, 1, 5)
    assert re.search(r"about \d+\.\d s per epoch here", cell(page, 1).inner_text())
    page.get_by_role("button", name="Stop", exact=True).click()
    page.wait_for_function(IDLE)
    text = output_of(page, 1)
    assert "KeyboardInterrupt" in text
    assert "`model` keeps its weights and history" in text, text

    # The stopped model is there to use, halfway through its run...
    set_code(page, 2, "print('position', model.epochs_trained_, model.unfinished_epochs)\n"
                      "print('accuracy', model.score(X, y).accuracy)")  # fmt: skip
    assert run_cell(page, 2) == "done"
    assert re.search(r"accuracy 0\.\d+", output_of(page, 2))
    # ...and Resume finishes its run: the weights of an uninterrupted run with the same seed.
    page.get_by_role("button", name="Resume the training of cell 1").click()
    page.wait_for_function(IDLE, timeout=300_000)
    assert cell(page, 1).get_attribute("data-cell-state") == "done", output_of(page, 1)
    assert "Finished: 3 epoch(s) trained." in output_of(page, 1)
    assert "KeyboardInterrupt" not in output_of(page, 1)
    set_code(
        page,
        3,
        "whole = " + ENGINES[engine].split("model = ")[1].split("\n")[0] + "\nfit(whole)\n"
        "same = all(np.array_equal(a, b) for a, b in"
        " zip(model._arrays().values(), whole._arrays().values()))\n"
        "print('same as uninterrupted:', same)",
    )
    assert run_cell(page, 3) == "done", output_of(page, 3)
    assert "same as uninterrupted: True" in output_of(page, 3)
    assert requests.foreign(base) == []


def page_predictions(page, number: int) -> np.ndarray:
    """The list a cell printed as ``predictions [...]``."""
    printed = re.search(r"predictions \[([\d, ]*)\]", output_of(page, number)).group(1)
    return np.array([int(v) for v in printed.split(",")])


def download_model(page, number: int, name: str, to: Path) -> Path:
    with page.expect_download() as download:
        cell(page, number).get_by_role("button", name=f"Download {name}.npz").click()
    assert download.value.suggested_filename == f"{name}.npz"
    download.value.save_as(to)
    return to


def test_models_move_between_page_and_native_python(context, server, tmp_path: Path) -> None:
    ctx, _ = context
    base, _ = server
    page = open_page(ctx, base + TRAINING_PAGE)
    set_code(
        page,
        1,
        SMALL_DATA + "model = DropoutMLP((784, 40, 10), seed=2)\n"
        "history = model.fit(data.train_images[:3000], data.train_labels[:3000], epochs=1)\n"
        "print('predictions', model.predict(data.test_images[:300]).tolist())",
    )
    assert run_cell(page, 1) == "done", output_of(page, 1)
    in_page = page_predictions(page, 1)
    path = download_model(page, 1, "model", tmp_path / "model.npz")
    test_images = load_mnist(subset="small").test_images[:300]
    native = load_model(path)
    np.testing.assert_array_equal(native.predict(test_images), in_page)

    # And back: a model trained natively, saved, given to the page, predicts the same there.
    data = load_mnist(subset="small")
    mine = DropoutMLP((784, 30, 10), dtype="float64", seed=9)
    mine.fit(data.train_images[:2000], data.train_labels[:2000], epochs=1)
    mine.save(tmp_path / "native model.npz")
    page.locator(".dp-toolbar input[type=file]").set_input_files(tmp_path / "native model.npz")
    page.wait_for_function(
        "() => document.querySelector('.dp-status').textContent.includes('is in Python')"
    )
    set_code(
        page,
        2,
        "loaded = load_model('native model.npz')\n"
        "print('predictions', loaded.predict(data.test_images[:300]).tolist())",
    )
    assert run_cell(page, 2) == "done", output_of(page, 2)
    np.testing.assert_array_equal(page_predictions(page, 2), mine.predict(test_images))


@pytest.mark.parametrize("engine", ["fast", "tutorial"])
def test_one_epoch_in_the_page_is_the_native_epoch(context, server, tmp_path, engine) -> None:
    """Same seed, same 2,000 images, float64: the page (SciPy's BLAS) trains as natively."""
    make = {
        "fast": "DropoutMLP((784, 100, 10), keep_input=0.8, keep_hidden=0.5, dtype='float64',"
        " seed=11)",
        "tutorial": "NeuralNetwork(784, 10, 100, 0.1, seed=11, keep_input=0.8, keep_hidden=0.5)",
    }[engine]
    code = (
        "from dropout_py import *\nfrom dropout_py.nn import products\n"
        "data = load_mnist(subset='small')\n"
        f"train = data.train_images[:{PARITY_IMAGES}], data.train_labels[:{PARITY_IMAGES}]\n"
        f"model = {make}\n"
        "history = model.fit(model.prepare(train[0]), train[1], epochs=1, score_train=False)\n"
        "print('products', products.kind)\n"
        "print('predictions', model.predict(model.prepare(data.test_images)).tolist())"
    )
    ctx, _ = context
    base, _ = server
    page = open_page(ctx, base + TRAINING_PAGE)
    set_code(page, 1, code)
    assert run_cell(page, 1) == "done", output_of(page, 1)
    assert "products blas" in output_of(page, 1)
    in_page = load_model(download_model(page, 1, "model", tmp_path / "page.npz"))

    namespace: dict = {}
    exec(code.replace("print(", "(lambda *a: None)("), namespace)
    native = namespace["model"]
    deltas = [
        np.max(np.abs(a - b))
        for a, b in zip(in_page._arrays().values(), native._arrays().values(), strict=True)
    ]
    assert max(deltas) <= 1e-9, deltas
    data = namespace["data"]
    np.testing.assert_array_equal(
        page_predictions(page, 1), native.predict(native.prepare(data.test_images))
    )


def test_scipy_is_fetched_only_by_pages_that_train(context, server) -> None:
    ctx, requests = context
    base, _ = server
    for path in NO_TRAINING_PAGES:
        page = open_page(ctx, base + path)
        page.wait_for_timeout(1_000)  # a background download would have started by now
        page.close()
    assert not [u for u in requests if "/scipy-" in u or "/openblas-" in u]
    page = open_page(ctx, base + "dropout/")  # trains: SciPy loads with nothing run yet
    page.wait_for_function(
        "() => document.querySelector('.dp-status').textContent.includes('scipy')"
    )
    assert [u for u in requests if "/pyodide/scipy-" in u]


def test_stop_without_isolation_says_the_model_is_gone(browser, project_site_dir, tmp_path) -> None:
    """No service worker: Stop restarts Python; the cell says its model went with it."""
    ctx = browser.new_context(service_workers="block")
    ctx.set_default_timeout(60_000)
    root = site_at(project_site_dir, tmp_path / "www", PROJECT_PATH)
    with http_server(root) as (base, _):
        page = open_page(ctx, base + PROJECT_PATH + TRAINING_PAGE)
        assert not page.evaluate("crossOriginIsolated")
        set_code(page, 1, SMALL_DATA + ENGINES["fast"] + "history = fit(model)")
        page.get_by_role("button", name="Run cell 1", exact=True).click()
        wait_for_step(page, 1, 3)
        page.get_by_role("button", name="Stop", exact=True).click()
        page.wait_for_function(IDLE)
        text = output_of(page, 1)
        assert "Python was restarted" in text and "The model it was training is gone too" in text
        assert cell(page, 1).locator(".dp-resume").count() == 0
    ctx.close()
