"""Measured numbers come from results files: the registry, the MkDocs hook, the README, the prose.

* every ``{{ name }}`` in docs/ and every README marker renders from the committed results;
* the README's numbers are the ones ``make readme`` would write (stale numbers fail);
* no decimal, percentage, duration, size or speed-up is typed into the prose of docs/ or the
  README outside the rendered spans, except the settings and published figures listed below,
  each with its reason;
* the hook fails the build on an unknown name, a missing row, a claim the data no longer
  supports, or a cell quote the cell did not print.
"""

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

REPO = Path(__file__).resolve().parent.parent
PAGES = sorted((REPO / "docs").glob("*.md"))
README = REPO / "README.md"


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


quoted = load("dp_hooks_quoted", REPO / "hooks" / "quoted.py")
measured = load("dp_hooks_measured", REPO / "hooks" / "measured.py")
readme_numbers = load("dp_readme_numbers", REPO / "scripts" / "readme_numbers.py")


# --- the committed results render ----------------------------------------------------------


def placeholders(text: str) -> list[str]:
    return [m.strip() for m in re.findall(r"\{\{(.*?)\}\}", text, re.S)]


USED = sorted(
    {body for page in PAGES for body in placeholders(page.read_text()) if "(" not in body}
    | set(re.findall(r"<!-- measured:([a-z0-9_.]+) -->", README.read_text()))
)


def test_the_pages_and_the_readme_quote_numbers():
    assert len(USED) > 30
    assert set(USED) <= set(quoted.NUMBERS), set(USED) - set(quoted.NUMBERS)


@pytest.mark.parametrize("name", USED)
def test_every_quoted_number_renders_from_the_committed_results(name):
    value = quoted.render(name)
    assert value and "nan" not in value


def test_every_page_renders_without_a_missing_key():
    for page in PAGES:
        text, _ = measured.substitute(page.read_text(), page.name)
        assert "{{" not in text, page.name


def test_the_readme_numbers_are_up_to_date():
    _, changes = readme_numbers.rendered(README.read_text())
    assert not changes, f"stale README numbers, run `make readme`: {changes}"


def test_the_readme_check_fails_on_a_stale_number(tmp_path, capsys):
    stale = tmp_path / "README.md"
    stale.write_text("fast: <!-- measured:goals.fast20.test -->0.5<!-- /measured -->\n")
    assert readme_numbers.main(["--check", "--readme", str(stale)]) == 1
    assert "goals.fast20.test" in capsys.readouterr().out
    assert readme_numbers.main(["--readme", str(stale)]) == 0
    assert readme_numbers.main(["--check", "--readme", str(stale)]) == 0
    assert quoted.render("goals.fast20.test") in stale.read_text()


# --- no hand-typed measurement in the prose -------------------------------------------------

# token -> (why it may stand in the prose, a pattern that line or the one before must match)
ALLOWED = {
    "0.5": ("a keep probability, or the bounds of the chapter's first weights (settings)", None),
    "0.7": ("the chapter's keep fraction (a setting)", None),
    "0.8": ("the keep probability of the inputs (a setting)", None),
    "0.1": ("the chapter's learning rate (a setting)", None),
    "0.01": ("the chapter's preprocessing: lowest pixel value and 'no' target", None),
    "0.99": ("the chapter's preprocessing: 'yes' target and pixel scale", None),
    "1.0": ("the chapter's preprocessing: highest pixel value", None),
    "0.97": ("the in-page training goal: a test accuracy threshold", r"threshold"),
    "70 %": ("the chapter's keep fraction as a percentage (a setting)", None),
    "3.11": ("the Python version the package needs", r"Python"),
    "28 ×": ("the size of an MNIST image, 28 × 28 pixels", r"28 × 28"),
    "1×": ("the speed-up of the reference engine against itself, by definition", r"tutorial"),
    "0.9318": ("the chapter's published train accuracy, quoted as such", r"chapter"),
    "0.9296": ("the chapter's published test accuracy, quoted as such", r"chapter"),
    "1.60 %": ("Srivastava et al.'s published error (standard net)", r"Srivastava|paper|standard"),
    "1.35 %": ("Srivastava et al.'s published error (logistic)", r"Srivastava|paper|logist"),
    "1.25 %": ("Srivastava et al.'s published error (dropout, ReLU)", r"Srivastava|paper|ReLU"),
    "1.06 %": ("Srivastava et al.'s published error (with max-norm)", r"Srivastava|paper|max-norm"),
}
MEASURE = re.compile(
    r"(?<![\w.])\d+(?:[.,]\d+)*(?:\s?(?:%|×|MB\b|MiB\b|KB\b|GB\b)|\s(?:s|ms)\b)?(?![\w.])"
)
FENCE = re.compile(r"^\s*(```+|~~~+)")


def prose(text: str) -> list[tuple[int, str]]:
    """The lines outside fenced blocks, without code spans, placeholders, markers, link targets."""
    lines, fence = [], None
    for number, line in enumerate(text.splitlines(), start=1):
        opened = FENCE.match(line)
        if fence is None and opened:
            fence = opened.group(1)
            continue
        if fence is not None:
            if set(line.strip()) == {fence[0]} and len(line.strip()) >= len(fence):
                fence = None
            continue
        line = re.sub(r"<!-- measured:.*?<!-- /measured -->", "", line)
        line = re.sub(r"<!--.*?-->|\{\{.*?\}\}|`[^`]*`|\]\([^)]*\)", " ", line)
        lines.append((number, line))
    return lines


def typed_numbers(path: Path) -> list[tuple[int, str, str]]:
    """(line number, token, the line with the one before it) for every measurement-like token."""
    found, previous = [], ""
    for number, line in prose(path.read_text()):
        for token in MEASURE.findall(line):
            if re.search(r"\d[.]\d|%|×|\d\s?(?:s|ms|MB|MiB|KB|GB)$", token):
                found.append((number, token, f"{previous} {line}"))
        previous = line
    return found


@pytest.mark.parametrize("path", [*PAGES, README], ids=lambda p: p.name)
def test_no_measured_number_is_typed_into_the_prose(path):
    unexplained = []
    for number, token, line in typed_numbers(path):
        allowed = ALLOWED.get(token)
        if allowed is None or (allowed[1] and not re.search(allowed[1], line)):
            unexplained.append(f"{path.name}:{number}: {token!r} in: {line.strip()}")
    assert not unexplained, "render these from results/ ({{ name }}, {{ cell(...) }}):\n" + (
        "\n".join(unexplained)
    )


def test_the_grep_finds_a_typed_measurement(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "Dropout gains 2.7 points, about 83 %, in 7.5 s and 127 MB (13× faster).\n"
        "```text\nepoch 1: 8.79 s\n```\nA rendered {{ goals.fast20.test }} and `0.25` in code.\n"
    )
    tokens = [token for _, token, _ in typed_numbers(page)]
    assert tokens == ["2.7", "83 %", "7.5 s", "127 MB", "13×"]


# --- the hook -------------------------------------------------------------------------------


def test_numbers_become_spans_in_text_and_plain_values_in_text_blocks():
    value = quoted.render("goals.fast20.test")
    text, quotes = measured.substitute(
        "Test {{ goals.fast20.test }}.\n\n```text\nacc {{goals.fast20.test}}\n```\n", "p.md"
    )
    assert '<span class="dp-measured" title="' in text and f">{value}</span>." in text
    assert f"acc {value}\n" in text and not quotes


def test_python_cells_are_left_alone():
    source = '```python run\nprint(f"{{x}}")\n```\n'
    assert measured.substitute(source, "p.md") == (source, [])


@pytest.mark.parametrize(
    ("placeholder", "message"),
    [
        ("{{ goals.fast21.test }}", "no quoted number named 'goals.fast21.test'"),
        ("{{ nonsense here }}", "expected a results name"),
        ('{{ cell(2, "unclosed (") }}', "missing ), unterminated subpattern"),
    ],
)
def test_a_bad_placeholder_fails_the_build(placeholder, message):
    with pytest.raises(PluginError, match=re.escape(message)):
        measured.substitute(f"Text {placeholder} here.\n", "p.md")


def write_rows(folder: Path, file: str, rows: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file).write_text("".join(json.dumps(r) + "\n" for r in rows))


def goal_row(name, seed, test, run_id="2026-01-01"):
    return {"name": name, "seed": seed, "run_id": run_id, "final": {"test_accuracy": test}}


def test_a_missing_results_file_or_row_fails(tmp_path):
    results = quoted.Results(tmp_path)
    with pytest.raises(PluginError, match="bench-engines-goals.jsonl does not exist"):
        measured.substitute("{{ goals.fast20.test }}", "p.md", results)
    write_rows(tmp_path, "bench-engines-goals.jsonl", [goal_row("chapter-scaled", 1, 0.9)])
    with pytest.raises(PluginError, match="no row with name='fast-20'"):
        measured.substitute("{{ goals.fast20.test }}", "p.md", quoted.Results(tmp_path))


def test_the_latest_run_of_a_benchmark_is_quoted(tmp_path):
    write_rows(
        tmp_path,
        "bench-engines-goals.jsonl",
        [goal_row("fast-20", 1, 0.9, "2026-01-01"), goal_row("fast-20", 1, 0.95, "2026-02-01")],
    )
    assert quoted.render("goals.fast20.test", quoted.Results(tmp_path)) == "0.9500"


def test_a_claim_the_data_no_longer_supports_fails(tmp_path):
    rows = [goal_row("chapter-init", s, acc) for s, acc in ((1, 0.90), (2, 0.93), (3, 0.91))]
    write_rows(tmp_path, "bench-engines-goals.jsonl", rows)
    with pytest.raises(quoted.MissingResult, match="0.9296 lies above every run"):
        quoted.render("goals.chapter_init.test_best", quoted.Results(tmp_path))


PAGE_HTML = (
    '<p>x</p><div class="dp-cell" data-cell-state="idle" data-source="print(1)">'
    '<div class="dp-cell-output dp-expected"><pre class="dp-out dp-stdout">'
    "no dropout: test 0.832\n   dropout: test 0.858\n</pre></div></div>"
    '<p>{}</p><div class="dp-cell" data-source="x"><pre class="dp-out dp-stdout">7\n</pre></div>'
)


def test_cell_quotes_are_filled_from_that_cells_output():
    text, quotes = measured.substitute(
        'Got {{ cell(1, "(?m)^ +dropout: test (\\S+)") }} and {{ cell(2, "\\d") }}.', "p.md"
    )
    page = PAGE_HTML.format(text)
    filled = measured.fill_cell_quotes(page, quotes, "p.md")
    assert "Got <span" in filled and ">0.858</span> and <span" in filled and ">7</span>." in filled
    assert "DPQUOTE" not in filled


def test_a_cell_quote_the_cell_did_not_print_fails():
    text, quotes = measured.substitute('{{ cell(1, "test (0\\.9\\d+)") }}', "p.md")
    with pytest.raises(PluginError, match="cell 1 did not print this"):
        measured.fill_cell_quotes(PAGE_HTML.format(text), quotes, "p.md")
    text, quotes = measured.substitute('{{ cell(3, "x") }}', "p.md")
    with pytest.raises(PluginError, match="the page has 2 cells"):
        measured.fill_cell_quotes(PAGE_HTML.format(text), quotes, "p.md")


def stretch_row(errors=(2.0, 1.5, 1.6), clock="cpu", minutes=5):
    history = [
        {"epoch": k + 1, "test_accuracy": 1 - e / 100, "cpu_seconds": 50.0,
         "elapsed_cpu_seconds": 60.0 * (k + 1), "elapsed_seconds": 90.0 * (k + 1)}
        for k, e in enumerate(errors)
    ]  # fmt: skip
    return {
        "name": "deep-relu", "run_id": "2026-01-01", "budget_clock": clock, "minutes": minutes,
        "history": history, "final": {"test_accuracy": 1 - errors[-1] / 100,
                                      "epochs": len(errors)},
        "elapsed_seconds": 300.0, "elapsed_cpu_seconds": 200.0, "seed": 7,
        "settings": {"hidden": [800, 800], "activation": "relu", "keep_input": 0.8,
                     "keep_hidden": 0.5, "max_norm": 3.0, "momentum": 0.9,
                     "learning_rate": 0.1, "lr_decay": 0.99, "batch_size": 50,
                     "dtype": "float64"},
    }  # fmt: skip


def test_the_paper_check_reads_its_budget_and_errors_from_the_row(tmp_path):
    write_rows(tmp_path, "bench-engines-stretch.jsonl", [stretch_row()])
    results = quoted.Results(tmp_path)
    assert quoted.render("stretch.budget", results) == "5 minutes of CPU time"
    assert quoted.render("stretch.final_error", results) == "1.60"
    assert quoted.render("stretch.best_error", results) == "1.50"
    assert quoted.render("stretch.best_epoch", results) == "2"
    assert quoted.render("stretch.best_minutes", results) == "2.0"  # CPU: the budget clock
    assert quoted.render("stretch.recipe", results).startswith("784-800-800-10 with ReLU units")
    command = quoted.render("stretch.command", results)
    assert "--max-norm 3 --momentum 0.9 --learning-rate 0.1 --lr-decay 0.99" in command
    assert command.endswith("--dtype float64 --epochs 3 --seed 7")
    write_rows(tmp_path, "bench-engines-stretch.jsonl", [stretch_row(clock="wall", minutes=60)])
    results = quoted.Results(tmp_path)
    assert quoted.render("stretch.budget", results) == "60 minutes of wall-clock time"
    assert quoted.render("stretch.best_minutes", results) == "3.0"


def test_a_figure_becomes_its_markup_and_must_stand_alone(tmp_path):
    write_rows(tmp_path, "bench-engines-stretch.jsonl", [stretch_row()])
    results = quoted.Results(tmp_path)
    text, _ = measured.substitute("Curve:\n\n{{ stretch.figure }}\n", "p.md", results)
    assert text.startswith('Curve:\n\n<figure class="dpf-figure"') and "</svg>" in text
    assert "1: 2, 2: 1.5, 3: 1.6." in text  # every point in the description
    with pytest.raises(PluginError, match="a figure must stand alone on its line"):
        measured.substitute("Curve: {{ stretch.figure }}\n", "p.md", results)
    with pytest.raises(PluginError, match="a figure must stand alone on its line"):
        measured.substitute("```text\n{{ stretch.figure }}\n```\n", "p.md", results)


def test_a_ratio_claim_fails_when_the_peer_is_faster(tmp_path):
    def row(framework, dtype, batch, cpu):
        return {"part": "compare", "name": f"{framework}/{dtype}/h100/b{batch}",
                "run_id": "2026-01-01", "metrics": {"cpu_seconds_per_epoch": cpu}}  # fmt: skip

    rows = [row(f, d, b, 1.0) for f in ("fast", "pytorch") for d, b in quoted.COMPARED]
    write_rows(tmp_path, "bench-peers.jsonl", rows)
    with pytest.raises(quoted.MissingResult, match="less CPU time per epoch than PyTorch"):
        quoted.render("peers.pytorch_ratio", quoted.Results(tmp_path))
    rows[0]["metrics"]["cpu_seconds_per_epoch"] = 0.5  # fast, float32, batch 32
    rows = [r if not r["name"].startswith("pytorch") else
            {**r, "metrics": {"cpu_seconds_per_epoch": 2.0}} for r in rows]  # fmt: skip
    write_rows(tmp_path, "bench-peers.jsonl", rows)
    assert quoted.render("peers.pytorch_ratio", quoted.Results(tmp_path)) == "2.0–4.0"


def test_cell_seconds_are_the_build_time_run_of_that_cell():
    text, quotes = measured.substitute("Takes {{ cell_seconds(2) }} s, {{cell_seconds(1)}} s.", "p")
    values: dict[str, str] = {}
    filled = measured.fill_cell_quotes(PAGE_HTML.format(text), quotes, "p", values, [1.24, 37.6])
    assert (
        "Takes <span" in filled and ">38</span> s, <span" in filled and ">1.2</span> s." in filled
    )
    assert sorted(values.values()) == ["1.2", "38"]
    assert 'title="seconds cell 2 of this page ran natively when the site was built"' in filled


def test_cell_seconds_without_the_cells_run_times_fail():
    text, quotes = measured.substitute("{{ cell_seconds(1) }}", "p.md")
    with pytest.raises(PluginError, match="the cells' run times are unknown"):
        measured.fill_cell_quotes(PAGE_HTML.format(text), quotes, "p.md")
    text, quotes = measured.substitute("{{ cell_seconds(3) }}", "p.md")
    with pytest.raises(PluginError, match="the page has 2 cells"):
        measured.fill_cell_quotes(PAGE_HTML.format(text), quotes, "p.md", seconds=[1.0, 2.0])
