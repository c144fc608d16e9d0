"""The ablation page's machinery: its grids, the summary over seeds, the figures from results.

* the grids compare like with like: within a training size every variant shares every setting
  but its dropout, and each variant is the (mask, scale) pair the page says;
* ``dropout_py.run.summary``: mean ± std, the "beats by more than two standard deviations" rule,
  mean learning curves;
* ``learning_curves(x=...)`` draws a sweep against the setting it varied;
* figures quoted from results (``html=True``) become blocks on the page, and the derived
  statements (the variants that beat no dropout) follow the rows, not a hand-written list.
"""

import dataclasses
import importlib.util
import json
import math
import sys
from pathlib import Path

import pytest
from mkdocs.exceptions import PluginError

from dropout_py.figures import learning_curves
from dropout_py.nn.mlp import dropout_mode
from dropout_py.run.summary import Spread, beats, by, margin, mean_history, select, spread
from dropout_py.run.sweep import load_grid

REPO = Path(__file__).resolve().parent.parent


def load(name: str, path: Path):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


quoted = load("dp_hooks_quoted", REPO / "hooks" / "quoted.py")
measured = load("dp_hooks_measured", REPO / "hooks" / "measured.py")

# --- the grids ------------------------------------------------------------------------------

SCHEMES = {  # label -> (mask, scale) as the page's table lists them
    "chapter": ("partition", "none"),
    "chapter + weights x p at test": ("partition", "test"),
    "chapter masks + 1/p in training": ("partition", "train"),
    "inverted": ("example", "train"),
    "paper 2014": ("example", "test"),
}
DROPOUT_FIELDS = {"keep_input", "keep_hidden", "mask", "scale", "dropout"}


@pytest.mark.parametrize("size", list(quoted.ABLATION_SIZES))
def test_each_ablation_grid_varies_the_dropout_and_nothing_else(size):
    grid = load_grid(REPO / "experiments" / f"ablation-{size}.toml")
    assert grid.name == f"ablation-{size}"
    assert len(grid.points) == 6 * 2 * quoted.ABLATION_SEEDS
    labels = {p.label for p in grid.points}
    assert labels == {label for label, _ in quoted.ABLATION_VARIANTS.values()}
    shared = {
        dataclasses.replace(p.settings, **{f: None for f in DROPOUT_FIELDS}) for p in grid.points
    }
    # one set of settings per hidden size and seed: the dropout fields are all that differ
    assert len(shared) == 2 * quoted.ABLATION_SEEDS
    for point in grid.points:
        s = point.settings
        assert s.train_size == quoted.ABLATION_SIZES[size]
        if point.label == "no dropout":
            assert (s.keep_input, s.keep_hidden) == (1.0, 1.0)
        else:
            assert (s.keep_input, s.keep_hidden) == (0.8, 0.5)
            assert dropout_mode(s.dropout, s.mask, s.scale) == SCHEMES[point.label]


def test_the_keep_grids_sweep_one_layer_each():
    for layer, field in quoted.KEEP_LAYERS.items():
        grid = load_grid(REPO / "experiments" / f"keep-{layer}.toml")
        other = ({"keep_input", "keep_hidden"} - {field}).pop()
        assert {getattr(p.settings, field) for p in grid.points} == set(quoted.KEEP_VALUES)
        assert {getattr(p.settings, other) for p in grid.points} == {1.0}
        assert {(p.settings.mask, p.settings.scale) for p in grid.points} == {("example", "train")}


# --- summary over seeds ---------------------------------------------------------------------


def row(label, seed, test, **settings):
    history = [
        {"epoch": e, "train_accuracy": test + 0.01 * e, "test_accuracy": test} for e in (1, 2)
    ]
    return {
        "label": label,
        "seed": seed,
        "settings": {"hidden": [100], **settings},
        "final": {"test_accuracy": test, "train_accuracy": 1.0},
        "history": history,
    }


def test_spread_is_the_mean_and_the_sample_standard_deviation():
    s = spread([0.90, 0.92, 0.91])
    assert math.isclose(s.mean, 0.91) and math.isclose(s.std, 0.01) and s.n == 3
    assert f"{s:.4f}" == "0.9100 ± 0.0100"
    with pytest.raises(ValueError, match="at least two values"):
        spread([0.9])


def test_beating_means_more_than_two_of_the_larger_standard_deviations():
    base = Spread(0.880, 0.005, 5)
    assert beats(Spread(0.891, 0.004, 5), base)  # 0.011 > 2 * 0.005
    assert not beats(Spread(0.891, 0.006, 5), base)  # 0.011 < 2 * 0.006: the larger spread
    assert not beats(Spread(0.870, 0.001, 5), base)  # below
    assert math.isclose(margin(Spread(0.889, 0.002, 5), base), 1.8)
    assert not beats(Spread(0.889, 0.002, 5), base)
    assert margin(Spread(0.9, 0.0, 5), Spread(0.8, 0.0, 5)) == math.inf


def test_mean_history_averages_each_epoch_over_the_seeds():
    curve = mean_history([row("a", 1, 0.80), row("a", 2, 0.90)])
    assert [c["epoch"] for c in curve] == [1.0, 2.0]
    assert math.isclose(curve[0]["test_accuracy"], 0.85)
    assert math.isclose(curve[1]["train_accuracy"], 0.87)
    short = row("a", 3, 0.9)
    short["history"] = short["history"][:1]
    with pytest.raises(ValueError, match="differ in length"):
        mean_history([row("a", 1, 0.8), short])


def test_select_and_group_read_dotted_fields():
    rows = [row("a", 2, 0.8), row("a", 1, 0.9), row("b", 1, 0.7, train_size=10)]
    assert [r["seed"] for r in select(rows, label="a")] == [1, 2]
    assert len(select(rows, settings__hidden=(100,))) == 3
    assert len(select(rows, settings__train_size=10)) == 1
    groups = by(rows, "label", "settings.hidden")
    assert sorted(groups) == [("a", (100,)), ("b", (100,))]


# --- learning curves against a setting --------------------------------------------------------


def test_learning_curves_draw_a_sweep_against_the_setting_it_varied():
    points = [
        {"keep probability": k, "train_accuracy": 1.0 - k / 10, "test_accuracy": 0.8 + k / 10}
        for k in (0.3, 0.5, 1.0)
    ]
    figure = learning_curves({"hidden": points}, metrics="accuracy", x="keep probability")
    assert ">keep probability</text>" in figure.svg and ">epoch</text>" not in figure.svg
    assert "3 values of keep probability" in figure.svg
    assert ">0.4</text>" in figure.svg  # ticks between whole numbers, unlike epochs
    with pytest.raises(ValueError, match="x must be the name of an entry key"):
        learning_curves({"hidden": points}, x="")


# --- figures and statements from results ------------------------------------------------------


def ablation_rows(tests_by_label):
    rows = []
    for label, values in tests_by_label.items():
        for hidden in quoted.ABLATION_HIDDEN:
            rows += [
                row(label, seed, value, hidden=[hidden]) for seed, value in enumerate(values, 1)
            ]
    return rows


def write_rows(folder: Path, file: str, rows: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / file).write_text("".join(json.dumps(r) + "\n" for r in rows))


FLAT = [0.880, 0.882, 0.878, 0.881, 0.879]  # mean 0.880, std 0.0016


def fake_ablation(tmp_path, size="1k", **leads):
    """Rows of one size: no dropout at FLAT, each variant at FLAT + its lead (default 0)."""
    tests = {
        label: [v + leads.get(slug, 0.0) for v in FLAT]
        for slug, (label, _) in quoted.ABLATION_VARIANTS.items()
    }
    write_rows(tmp_path, f"ablation-{size}.jsonl", ablation_rows(tests))
    return quoted.Results(tmp_path)


def test_the_winners_are_computed_from_the_rows(tmp_path):
    results = fake_ablation(tmp_path, inverted=0.010, chapter_train=0.004, paper=-0.01)
    text = quoted.render("ablation.h800.n1k.winners", results)
    assert text.startswith("inverted: per example, 1/p in training (+6.3 sd)")
    assert "chapter masks + 1/p in training (+2.5 sd)" in text
    assert "paper" not in text and "weights × p" not in text
    assert quoted.render("ablation.h100.n1k.inverted", results) == "0.8900 ± 0.0016"
    nothing = fake_ablation(tmp_path / "flat")
    assert quoted.render("ablation.h800.n1k.winners", nothing) == "none"


def test_a_setting_still_running_shows_how_many_runs_are_in(tmp_path):
    results = fake_ablation(tmp_path)
    rows = [r for r in results.all_rows("ablation-1k.jsonl") if r["seed"] != 5]
    write_rows(tmp_path / "short", "ablation-1k.jsonl", rows)
    short = quoted.Results(tmp_path / "short")
    assert quoted.render("ablation.h100.n1k.none", short) == "4 of 5 seeds so far"
    assert quoted.render("ablation.h100.n1k.winners", short) == "24 of 30 runs"
    assert quoted.render("ablation.h100.n3k.none", short) == "not run yet"
    assert quoted.render("ablation.h100.n3k.winners", short) == "not run yet (0 of 30 runs)"
    curves = quoted.render("ablation.h100.n1k.curves", short)
    assert "<svg" not in curves and "24 of 30 runs; drawn once every run is in" in curves
    assert quoted.complete_settings(short) == []
    # a partial variant never yields a mean: asking for one is an error, not a guess
    with pytest.raises(quoted.MissingResult, match="expected 5 rows, found 4"):
        quoted._ablation_spread(short, "1k", 100, "none")


def test_the_status_counts_each_grid_against_its_grid_file(tmp_path):
    results = fake_ablation(tmp_path)
    status = quoted.render("ablation.status", results)
    assert status.startswith("1,000 images: all 60 runs; 3,000 images: not run yet (0 of 60")
    assert "the keep sweep of the inputs: not run yet (0 of 40 runs)" in status
    assert quoted.render("ablation.compute.runs", results) == "60 of the 320"
    missing = quoted.render("ablation.missing", results)
    assert missing.startswith("Still incomplete: 3,000 images (60 runs to go), 10,000 images")
    assert "1,000" not in missing


def test_a_curves_figure_is_drawn_from_the_rows(tmp_path):
    html = quoted.render("ablation.h100.n1k.curves", fake_ablation(tmp_path, inverted=0.01))
    assert html.startswith('<figure class="dpf-figure"') and "<svg" in html
    assert "1,000 training images, 100 hidden nodes: mean of 5 seeds" in html
    assert html.count('class="dpf-line"') == 12  # six variants, train and test


def test_an_indented_figure_becomes_a_block_after_the_markdown_conversion(tmp_path):
    results = fake_ablation(tmp_path)
    text, quotes = measured.substitute(
        '??? note "More"\n\n    {{ ablation.h100.n1k.curves }}\n\nAfter.\n', "p.md", results
    )
    assert not quotes and "<svg" not in text
    token = next(t for t in text.split() if t.startswith("DPBLOCK"))
    page = measured.fill_blocks(f"<details><p>{token}</p></details>\n<p>After.</p>", "p.md")
    assert page.startswith("<details><figure") and "<p>DPBLOCK" not in page
    top, _ = measured.substitute("Intro.\n\n{{ ablation.h100.n1k.curves }}\n", "p.md", results)
    assert top.startswith("Intro.\n\n<figure")  # at the start of a line: raw HTML as it is


@pytest.mark.parametrize(
    "source",
    ["A figure {{ ablation.h100.n1k.curves }} in a sentence.\n",
     "```text\n{{ ablation.h100.n1k.curves }}\n```\n"],
    ids=["in running text", "in a code block"],
)  # fmt: skip
def test_a_figure_must_stand_on_its_own_line(tmp_path, source):
    with pytest.raises(PluginError, match="a figure must stand alone on its line"):
        measured.substitute(source, "p.md", fake_ablation(tmp_path))


# --- the conclusion is checked against the rows ---------------------------------------------------

#: leads over no dropout that agree with every statement of the page's conclusion
AGREEING = {
    "chapter": 0.002, "chapter_test": 0.002, "chapter_train": 0.012, "inverted": 0.014,
    "paper": 0.006,
}  # fmt: skip


def conclusion_rows(tmp_path, size="1k", train=None, scale=1.0, **leads):
    """Rows of one size agreeing with the conclusion, but for ``leads`` (all times ``scale``);
    train accuracies 1 without dropout and with 1/p in training, lower for the others (or as
    ``train`` says)."""
    rows = []
    train = {"none": 1.0, "chapter_train": 1.0, "inverted": 1.0, **(train or {})}
    images = quoted.ABLATION_SIZES[size]
    for slug, (label, _) in quoted.ABLATION_VARIANTS.items():
        lead = scale * {**AGREEING, **leads}.get(slug, 0.0)
        for hidden in quoted.ABLATION_HIDDEN:
            for seed, value in enumerate(FLAT, 1):
                r = row(label, seed, value + lead, hidden=[hidden], train_size=images,
                        partitions=10, batch_size=100)  # fmt: skip
                r["final"]["train_accuracy"] = train.get(slug, 0.97)
                rows.append(r)
    write_rows(tmp_path, f"ablation-{size}.jsonl", rows)
    return quoted.Results(tmp_path)


SAYS = [name for name in quoted.NUMBERS if name.startswith("ablation.says.")]


def test_rows_that_agree_with_the_conclusion_render_every_statement(tmp_path):
    conclusion_rows(tmp_path, "3k", scale=0.8)  # the same story, smaller leads
    results = conclusion_rows(tmp_path)
    for name in SAYS:
        assert quoted.render(name, results)
    both = "1,000 images (100 and 800 hidden nodes) and 3,000 images (100 and 800 hidden nodes)"
    assert quoted.render("ablation.says.ingredient", results) == both
    assert quoted.render("ablation.says.where", results).startswith(f"With {both}, at least one")
    assert quoted.render("ablation.says.chapter_wins", results) == "0 of the 4"
    assert quoted.render("ablation.says.shrinking", results) == (
        "+1.4 and +1.1 points with 100 hidden nodes (1,000 and 3,000 images) and +1.4 and +1.1 "
        "points with 800 hidden nodes (1,000 and 3,000 images)"
    )
    assert quoted.render("ablation.says.masks", results) == (
        "neither kind of mask in any complete setting"
    )
    either = conclusion_rows(tmp_path / "either", chapter_train=0.008)
    assert quoted.render("ablation.says.masks", either) == (
        "per-example masks with 1,000 images (100 and 800 hidden nodes)"
    )
    conclusion_rows(tmp_path / "either", "3k", inverted=0.004)  # 300 images share a mask
    with pytest.raises(quoted.MissingResult, match="only where a partition is one mini-batch"):
        quoted.render("ablation.says.masks", quoted.Results(tmp_path / "either"))


def test_the_lead_of_dropout_must_shrink_with_the_training_size(tmp_path):
    conclusion_rows(tmp_path, "3k", scale=1.2)
    results = conclusion_rows(tmp_path)
    with pytest.raises(quoted.MissingResult, match="lead over no dropout shrinks"):
        quoted.render("ablation.says.shrinking", results)
    with pytest.raises(quoted.MissingResult, match="fewer than two complete sizes"):
        quoted.render("ablation.says.shrinking", conclusion_rows(tmp_path / "one"))
    slower = {"chapter_train": 0.98, "inverted": 0.98}  # fitting their images less well
    conclusion_rows(tmp_path / "behind", "3k", train=slower, scale=-1.0)  # below no dropout
    behind = conclusion_rows(tmp_path / "behind")
    assert "+1.4 and -0.2 points with 100" in quoted.render("ablation.says.shrinking", behind)
    conclusion_rows(tmp_path / "behind", "3k", train={**slower, "inverted": 1.0}, scale=-1.0)
    with pytest.raises(quoted.MissingResult, match="fits its training images less well"):
        quoted.render("ablation.says.shrinking", quoted.Results(tmp_path / "behind"))


NO_LEAD = {slug: 0.0 for slug in AGREEING}


@pytest.mark.parametrize(
    ("leads", "train", "statement", "says"),
    [
        (NO_LEAD, None, "smallest_helps", "dropout beats no dropout on the smallest"),
        ({}, {"none": 0.99}, "smallest_helps", "no dropout fits its training images"),
        ({"paper": 0.016}, None, "ingredient", "two variants with 1/p in training have the two"),
        ({}, {"chapter": 1.0}, "ingredient", "scheme, which fits its training images less"),
        ({"chapter_train": 0.0075}, None, "ingredient", "switching between per-example and"),
        ({"chapter_test": 0.01}, None, "test_scaling", "weights x p at test alone"),
        ({"chapter": 0.01}, None, "test_scaling", "weights x p at test alone"),
        ({"paper": 0.014}, None, "paper_steps", "inverted dropout beats the paper's recipe"),
        ({}, {"paper": 1.0}, "paper_steps", "inverted dropout beats the paper's recipe"),
    ],
)  # fmt: skip
def test_the_build_fails_when_the_data_contradicts_the_conclusion(
    tmp_path, leads, train, statement, says
):
    results = conclusion_rows(tmp_path, train=train, **leads)
    with pytest.raises(quoted.MissingResult, match="the results no longer show it") as failure:
        quoted.render(f"ablation.says.{statement}", results)
    assert says in str(failure.value)


def test_a_size_that_is_not_complete_is_left_out_of_the_conclusion(tmp_path):
    conclusion_rows(tmp_path)
    late = [
        dict(r, settings={**r["settings"], "train_size": 3000})
        for r in conclusion_rows(tmp_path / "x", paper=0.02).all_rows("ablation-1k.jsonl")
    ]
    short = [r for r in late if (r["label"], r["seed"]) != ("no dropout", 5)]
    write_rows(tmp_path, "ablation-3k.jsonl", short)  # a run short: not checked yet
    assert quoted.render("ablation.says.paper_steps", quoted.Results(tmp_path)).startswith("1,000")
    write_rows(tmp_path, "ablation-3k.jsonl", late)  # complete, and it contradicts the page
    with pytest.raises(quoted.MissingResult, match="not so with 3,000 images"):
        quoted.render("ablation.says.paper_steps", quoted.Results(tmp_path))


def test_with_no_complete_setting_the_conclusion_fails_the_build(tmp_path):
    (tmp_path / "ablation-1k.jsonl").write_text("")
    with pytest.raises(quoted.MissingResult, match="no setting"):
        quoted.render("ablation.says.where", quoted.Results(tmp_path))


# --- the maths the page states ---------------------------------------------------------------


def test_inverted_dropout_is_the_papers_recipe_with_bigger_steps():
    """Weights W with kept outputs / p give the loss of weights W / p with 0/1 masks, and a
    gradient 1/p times the gradient with respect to W / p (so a step on W moves W / p by 1/p²
    times as much); the biases' gradients are the same."""
    import numpy as np

    from dropout_py import DropoutMLP

    rng = np.random.default_rng(3)
    keep = (0.8, 0.5)
    x, y = rng.random((7, 6)), rng.integers(0, 3, 7)
    targets = np.eye(3)[y]
    masks = [(rng.random((7, n)) < p).astype(float) for n, p in zip((6, 5), keep, strict=True)]
    inverted = DropoutMLP((6, 5, 3), dtype="float64", seed=1)
    paper = DropoutMLP((6, 5, 3), dtype="float64", seed=1)
    for layer, p in enumerate(keep):
        paper.weights_[layer] = inverted.weights_[layer] / p
    g_inv = inverted.gradients(x, targets, [m / p for m, p in zip(masks, keep, strict=True)])
    g_paper = paper.gradients(x, targets, masks)
    assert np.isclose(g_inv.loss, g_paper.loss, rtol=1e-12)
    for layer, p in enumerate(keep):
        np.testing.assert_allclose(g_inv.weights[layer], g_paper.weights[layer] / p, rtol=1e-10)
        np.testing.assert_allclose(g_inv.biases[layer], g_paper.biases[layer], rtol=1e-10)


def test_no_scaling_and_scaling_at_test_train_the_same_network():
    import numpy as np

    from dropout_py import DropoutMLP

    rng = np.random.default_rng(0)
    x, y = rng.integers(0, 256, (60, 12), dtype=np.uint8), rng.integers(0, 3, 60)
    models = {
        scale: DropoutMLP(
            (12, 8, 3), keep_input=0.8, keep_hidden=0.5, mask="example", scale=scale, seed=4
        )
        for scale in ("none", "test")
    }
    for model in models.values():
        model.fit(x, y, epochs=3)
    for a, b in zip(models["none"].weights_, models["test"].weights_, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(models["none"].predict_proba(x), models["test"].predict_proba(x))


# --- scripts/check_cluster.py compares rows field by field --------------------------------------

check_cluster = load("dp_check_cluster", REPO / "scripts" / "check_cluster.py")


def test_the_cluster_check_ignores_only_clock_host_and_commit():
    mine = {**row("inverted", 1, 0.9), "seconds": 3.0, "finished": "t1", "commit": "abc"}
    mine["machine"], mine["history"][0]["seconds"] = {"host": "a"}, 1.0
    theirs = json.loads(json.dumps(mine))
    theirs.update(seconds=9.0, finished="t2", commit="def", machine={"host": "b"})
    theirs["history"][0]["seconds"] = 2.0
    assert (
        check_cluster.differences(check_cluster.comparable(mine), check_cluster.comparable(theirs))
        == []
    )
    theirs["history"][1]["test_accuracy"] = math.nextafter(0.9, 1.0)  # one bit in one epoch
    theirs["final"]["extra"] = 1
    assert check_cluster.differences(
        check_cluster.comparable(mine), check_cluster.comparable(theirs)
    ) == ["final.extra (only in one row)", "history[1].test_accuracy: 0.9 != 0.9000000000000001"]


def test_the_best_keep_probability_is_read_from_the_complete_values(tmp_path):
    rows = []
    for keep, lead in ((0.5, 0.012), (0.8, 0.004), (1.0, 0.0)):
        for seed, value in enumerate(FLAT, 1):
            r = row("", seed, value + lead, keep_hidden=keep, keep_input=1.0)
            rows.append(r)
    rows.append(row("", 1, 0.99, keep_hidden=0.3, keep_input=1.0))  # one seed: not counted
    write_rows(tmp_path, "keep-hidden.jsonl", rows)
    results = quoted.Results(tmp_path)
    assert quoted.render("keep.best.hidden", results) == (
        "0.5 (ahead of no dropout by more than two standard deviations), among the 3 of 8 "
        "values complete so far"
    )
    assert quoted.render("keep.hidden.k30", results) == "1 of 5 seeds so far"
    assert quoted.render("keep.best.input", results).startswith("not known yet")


def keep_rows(tmp_path, layer, best_lead):
    field, other = quoted.KEEP_LAYERS[layer], ({"keep_input", "keep_hidden"} - {
        quoted.KEEP_LAYERS[layer]}).pop()  # fmt: skip
    rows = [
        row("", seed, value + (best_lead if keep == 0.5 else 0.0), **{field: keep, other: 1.0})
        for keep in quoted.KEEP_VALUES
        for seed, value in enumerate(FLAT, 1)
    ]
    write_rows(tmp_path, f"keep-{layer}.jsonl", rows)
    return quoted.Results(tmp_path)


def test_the_inputs_gain_more_is_checked_against_both_sweeps(tmp_path):
    keep_rows(tmp_path, "hidden", 0.004)
    with pytest.raises(quoted.MissingResult, match="keep-input incomplete"):
        quoted.render("keep.says.inputs_more", quoted.Results(tmp_path))
    results = keep_rows(tmp_path, "input", 0.012)
    assert quoted.render("keep.says.inputs_more", results) == (
        "0.8920 ± 0.0016 against 0.8840 ± 0.0016"
    )
    results = keep_rows(tmp_path, "input", 0.006)  # ahead, but by less than two deviations
    with pytest.raises(quoted.MissingResult, match="inputs alone beats dropout on the hidden"):
        quoted.render("keep.says.inputs_more", results)
