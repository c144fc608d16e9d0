"""Every measured number the pages and the README quote: its name, its results file, its formula.

A page writes ``{{ goals.fast20.test }}`` where a measured number belongs; the MkDocs hook
``hooks/measured.py`` puts the value in its place at build time, and ``scripts/readme_numbers.py``
does the same between ``<!-- measured:NAME -->`` markers in the README. The values come only from
the committed results files in ``results/`` (see ``results/README.md`` for the command behind
each file); a missing file or row, or a comparison that the prose states and the data no longer
supports (:func:`claim`), raises :class:`MissingResult` and fails the build.

Rows of the benchmark files carry a ``run_id`` per invocation: a number is taken from the latest
invocation that measured it. Sweep files (``dropout-py sweep``) hold one row per grid point.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RESULTS = REPO / "results"


class MissingResult(LookupError):
    """A quoted number cannot be derived from the results files as they are."""


class Results:
    """The results files of one folder, read on first use."""

    def __init__(self, folder: Path = RESULTS) -> None:
        self.folder = folder
        self._files: dict[str, list[dict[str, Any]]] = {}

    def all_rows(self, file: str) -> list[dict[str, Any]]:
        if file not in self._files:
            path = self.folder / file
            if not path.exists():
                raise MissingResult(f"results/{file} does not exist")
            lines = path.read_text(encoding="utf-8").splitlines()
            self._files[file] = [json.loads(line) for line in lines if line.strip()]
        return self._files[file]

    def rows(self, file: str, **where: Any) -> list[dict[str, Any]]:
        """Rows whose fields equal ``where`` (``a__b`` reads ``row["a"]["b"]``), latest run only.

        Raises :class:`MissingResult` when no row matches.
        """
        matching = [r for r in self.all_rows(file) if _matches(r, where)]
        if not matching:
            wanted = ", ".join(f"{k.replace('__', '.')}={v!r}" for k, v in where.items())
            raise MissingResult(f"results/{file} has no row with {wanted}")
        latest = max(r.get("run_id", "") for r in matching)
        return [r for r in matching if r.get("run_id", "") == latest]


def _matches(row: dict[str, Any], where: dict[str, Any]) -> bool:
    for key, wanted in where.items():
        value: Any = row
        for part in key.split("__"):
            if not isinstance(value, dict) or part not in value:
                return False
            value = value[part]
        if value != wanted:
            return False
    return True


@dataclass(frozen=True)
class Quote:
    """How one quoted number is derived: the results file and a function of its rows."""

    file: str
    about: str  # what the number is, shown as the rendered span's tooltip
    derive: Callable[[Results], str]
    html: bool = False  # a block (a figure): HTML put in place as it is, on a line of its own

    def render(self, results: Results) -> str:
        return self.derive(results)


def claim(holds: bool, statement: str) -> None:
    """Fail the build when the data no longer supports what the prose says about it."""
    if not holds:
        raise MissingResult(f"the pages say {statement}, but the results no longer show it")


# --- small building blocks -------------------------------------------------------------------


def test_accuracies(rows: Iterable[dict]) -> list[float]:
    return [r["final"]["test_accuracy"] for r in sorted(rows, key=lambda r: r["seed"])]


def by_seed(rows: list[dict], field: str, fmt: str = ".3f", sep: str = " / ") -> str:
    values = [r["final"][field] for r in sorted(rows, key=lambda r: r["seed"])]
    return sep.join(format(v, fmt) for v in values)


def value_range(values: list[float], fmt: str = ".3f") -> str:
    low, high = format(min(values), fmt), format(max(values), fmt)
    return low if low == high else f"{low}–{high}"


def mean_std(values: list[float], fmt: str = ".3f") -> str:
    return f"{statistics.mean(values):{fmt}} ± {statistics.stdev(values):{fmt}}"


def need(rows: list[dict], count: int, what: str) -> list[dict]:
    if len(rows) != count:
        raise MissingResult(f"{what}: expected {count} rows, found {len(rows)}")
    return rows


def describe_machine(row: dict) -> str:
    m = row["machine"]
    return f"{m['cpu']}, {m['cores']} cores, Python {m['python']}, NumPy {m['numpy']}"


# --- the goals suite: benchmarks/bench_engines.py --suite goals ------------------------------

GOALS = "bench-engines-goals.jsonl"


def _goal(name: str, count: int = 3) -> Callable[[Results], list[dict]]:
    return lambda r: need(r.rows(GOALS, name=name), count, f"goals run {name!r}")


def _gain_points(better: str, base: str) -> Callable[[Results], str]:
    def derive(r: Results) -> str:
        gain = 100 * (
            statistics.mean(test_accuracies(_goal(better)(r)))
            - statistics.mean(test_accuracies(_goal(base)(r)))
        )
        claim(gain > 0, f"{better} beats {base} on mean test accuracy")
        return f"{gain:.1f}"

    return derive


def _published_above_chapter_init(r: Results) -> str:
    best = max(test_accuracies(_goal("chapter-init")(r)))
    claim(best < 0.9296, "the chapter's published 0.9296 lies above every run with its weights")
    return f"{best:.3f}"


def _chapter_dropout_costs(r: Results) -> str:
    plain = statistics.mean(test_accuracies(_goal("chapter-scaled")(r)))
    dropout = statistics.mean(test_accuracies(_goal("chapter-dropout")(r)))
    claim(dropout < plain, "the chapter's dropout (0.7 / 0.7) lowers the mean test accuracy")
    return f"{100 * (plain - dropout):.1f}"


def _cli_transcript(r: Results) -> str:
    """What ``dropout-py train --preset chapter --seed 1`` printed, rebuilt from its row."""
    import contextlib
    import io
    from types import SimpleNamespace

    from dropout_py.cli import _print_summary, _TrainingProgress
    from dropout_py.nn.events import TrainingEvent
    from dropout_py.run.experiment import RunSettings

    row = next(x for x in _goal("chapter-scaled")(r) if x["seed"] == 1)
    settings = RunSettings(**{**row["settings"], "hidden": tuple(row["settings"]["hidden"])})
    settings = settings.replace(seed=row["seed"])
    final = row["final"]
    result = SimpleNamespace(
        settings=settings,
        history=row["history"],
        seconds_per_epoch=row["seconds_per_epoch"],
        seconds_total=row["seconds"],
        stopped_early=final["stopped_early"],
        train=SimpleNamespace(accuracy=final["train_accuracy"], n_samples=60000),
        test=SimpleNamespace(accuracy=final["test_accuracy"], n_samples=10000),
    )
    out = io.StringIO()
    progress = _TrainingProgress()
    with contextlib.redirect_stderr(out):
        for record in row["history"]:
            epoch = int(record["epoch"])
            progress(TrainingEvent("epoch", epoch, len(row["history"]), 1, 1, 0.0, record))
    with contextlib.redirect_stdout(out):
        _print_summary(result, [])
    return out.getvalue().rstrip("\n")


# --- the sweep of the first pages' setting: experiments/schemes-1k.toml ----------------------

SCHEMES = "schemes-1k.jsonl"


def _scheme(label: str) -> Callable[[Results], str]:
    def derive(r: Results) -> str:
        rows = need(r.rows(SCHEMES, label=label), 5, f"schemes-1k {label!r}")
        return mean_std(test_accuracies(rows))

    return derive


def _scheme_means(r: Results) -> dict[str, float]:
    return {
        label: statistics.mean(test_accuracies(r.rows(SCHEMES, label=label)))
        for label in ("no dropout", "chapter's scheme", "paper's scheme")
    }


def _paper_scheme_ahead(r: Results) -> str:
    means = _scheme_means(r)
    gain = 100 * (means["paper's scheme"] - means["no dropout"])
    claim(gain > 0, "the paper's scheme beats no dropout on mean test accuracy (1,000 images)")
    return f"{gain:.1f}"


def _chapter_scheme_no_help(r: Results) -> str:
    means = _scheme_means(r)
    diff = 100 * (means["chapter's scheme"] - means["no dropout"])
    spread = 100 * max(
        statistics.stdev(test_accuracies(r.rows(SCHEMES, label=label)))
        for label in ("no dropout", "chapter's scheme")
    )
    claim(abs(diff) < spread, "the chapter's scheme is within the seed spread of no dropout")
    return f"{diff:+.1f}"


# --- the speed suite: benchmarks/bench_engines.py --suite speed ------------------------------

SPEED = "bench-engines-speed.jsonl"
ENGINES = {"tutorial": "tutorial", "fast64": "fast float64", "fast32": "fast float32"}


def _epoch_seconds(r: Results, name: str) -> float:
    rows = r.rows(SPEED, name=name)
    return statistics.median(h["seconds"] for row in rows for h in row["history"])


def _speed(engine: str, dropout: bool, what: str) -> Callable[[Results], str]:
    name = ENGINES[engine] + (" + dropout" if dropout else "")
    base = "tutorial" + (" + dropout" if dropout else "")

    def derive(r: Results) -> str:
        if what == "seconds":
            return f"{_epoch_seconds(r, name):.2f}"
        if what == "speedup":
            ratio = _epoch_seconds(r, base) / _epoch_seconds(r, name)
            return f"{ratio:.1f}" if ratio < 10 else f"{ratio:.0f}"
        return f"{max(row['peak_mb'] for row in r.rows(SPEED, name=name)):.0f}"

    return derive


def _speed_rounds(r: Results) -> str:
    return str(len(r.rows(SPEED, name="tutorial")))


# --- MNIST loading and the web bundle: benchmarks/bench_mnist_load.py -------------------------

LOAD = "bench-mnist-load.jsonl"


def _bundle_mb(part: str) -> Callable[[Results], str]:
    def derive(r: Results) -> str:
        size = r.rows(LOAD, name="export_web")[0]["bytes"][part] / 1e6
        return f"{size:.1f}" if size < 10 else f"{size:.0f}"

    return derive


def _load_seconds(r: Results) -> str:
    return f"{r.rows(LOAD, name='full, cache')[0]['median']:.2f}"


# --- the site in headless Chromium: benchmarks/bench_site.py ---------------------------------

SITE = "bench-site.jsonl"


def _site_seconds(key: str) -> Callable[[Results], str]:
    def derive(r: Results) -> str:
        rows = r.rows(SITE, name="start", gzip=True)
        return f"{statistics.median(row[key] for row in rows) / 1000:.1f}"

    return derive


def _site_runs(r: Results) -> str:
    return str(len(r.rows(SITE, name="start", gzip=True)))


def _site_mib(visit: str, scipy: bool | None) -> Callable[[Results], str]:
    def derive(r: Results) -> str:
        rows = r.rows(SITE, name="bytes", gzip=True)
        if scipy is not None:
            rows = [row for row in rows if row["scipy_fetched"] == scipy]
        if not rows:
            raise MissingResult(f"results/{SITE}: no page with scipy_fetched={scipy}")
        values = [row[f"{visit}_mib"] for row in rows]
        if visit == "second":
            return f"{max(values):.2f}"
        return value_range(values, ".0f")

    return derive


# --- the peers: benchmarks/bench_peers.py (make bench-peers) ---------------------------------

PEERS = "bench-peers.jsonl"
PEER_NAMES = {"pytorch": "PyTorch", "scikit-learn": "scikit-learn"}


def _latest_run(r: Results, file: str, **where: Any) -> dict[str, dict]:
    """The rows of the latest run that matched ``where``, by name (one table, one run)."""
    return {row["name"]: row for row in r.rows(file, **where)}


def _peer(r: Results, framework: str, dtype: str, batch: int, hidden: int = 100) -> dict:
    rows = _latest_run(r, PEERS, part="compare")
    name = f"{framework}/{dtype}/h{hidden}/b{batch}"
    if name not in rows:
        raise MissingResult(f"results/{PEERS}: the latest compare run has no row {name!r}")
    return rows[name]


def _cpu(row: dict) -> float:
    return row["metrics"]["cpu_seconds_per_epoch"]


def _seconds(value: float) -> str:
    return f"{value:.2f}" if value < 10 else f"{value:.1f}"


def _ratio(value: float) -> str:
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def _peer_cpu(framework: str, dtype: str, batch: int) -> Callable[[Results], str]:
    return lambda r: _seconds(_cpu(_peer(r, framework, dtype, batch)))


def _peer_accuracy(framework: str, dtype: str, batch: int) -> Callable[[Results], str]:
    return lambda r: f"{_peer(r, framework, dtype, batch)['metrics']['test_accuracy']:.4f}"


COMPARED = [(dtype, batch) for dtype in ("float32", "float64") for batch in (32, 128)]


def _peer_ratios(peer: str) -> Callable[[Results], str]:
    """How many times the fast engine's CPU time per epoch the peer needs, over every config."""

    def derive(r: Results) -> str:
        ratios = [
            _cpu(_peer(r, peer, dtype, batch)) / _cpu(_peer(r, "fast", dtype, batch))
            for dtype, batch in COMPARED
        ]
        claim(
            min(ratios) > 1,
            f"the fast engine needs less CPU time per epoch than {PEER_NAMES[peer]} in every "
            "configuration measured",
        )
        return value_range(ratios, ".1f")

    return derive


def _wall_over_cpu(r: Results) -> str:
    rows = _latest_run(r, PEERS, part="compare").values()
    ratios = [row["metrics"]["seconds_per_epoch"] / _cpu(row) for row in rows]
    return value_range(ratios, ".1f")


def _tutorial_vs_fast(r: Results) -> str:
    ratio = _cpu(_peer(r, "tutorial", "float64", 1)) / _cpu(_peer(r, "fast", "float64", 32))
    claim(ratio > 1, "the tutorial engine is slower than the fast engine (float64, batch 32)")
    return _ratio(ratio)


def _peer_versions(r: Results) -> str:
    row = _peer(r, "fast", "float32", 32)
    v = row["versions"]
    if not (v.get("torch") and v.get("scikit-learn")):
        raise MissingResult(f"results/{PEERS}: the latest run lacks PyTorch or scikit-learn")
    return f"PyTorch {v['torch']}, scikit-learn {v['scikit-learn']}"


def _growth(r: Results, axis: str) -> dict[str, tuple[list[float], list[float]]]:
    """``{framework: (widths or batches, CPU seconds per epoch)}`` of the latest growth run."""
    rows = list(_latest_run(r, PEERS, part="growth").values())
    fixed = {"width": ("batch_size", 128), "batch": ("hidden", 100)}[axis]
    varied = "hidden" if axis == "width" else "batch_size"
    series: dict[str, tuple[list[float], list[float]]] = {}
    for framework in ("fast", "pytorch"):
        points = sorted(
            (row["settings"][varied], _cpu(row))
            for row in rows
            if row["settings"]["framework"] == framework and row["settings"][fixed[0]] == fixed[1]
        )
        if len(points) < 2:
            raise MissingResult(f"results/{PEERS}: no {axis} sweep of {framework} to draw")
        label = "fast engine" if framework == "fast" else PEER_NAMES[framework]
        series[f"{label}, float32"] = ([x for x, _ in points], [y for _, y in points])
    return series


def _growth_factor(axis: str, framework: str) -> Callable[[Results], str]:
    """Width: cost at the widest / at the narrowest; batch: cost at the smallest / largest."""

    def derive(r: Results) -> str:
        label = "fast engine" if framework == "fast" else PEER_NAMES[framework]
        xs, ys = _growth_points(r, axis, framework)
        if axis == "width":
            factor = ys[-1] / ys[0]
            claim(
                1 < factor < xs[-1] / xs[0],
                f"{xs[-1] / xs[0]:g} times the hidden units cost more, but less than "
                f"{xs[-1] / xs[0]:g} times the time ({label})",
            )
        else:
            factor = ys[0] / ys[-1]
            claim(factor > 1, f"larger batches make an epoch cheaper ({label})")
        return _ratio(factor)

    return derive


def _growth_points(r: Results, axis: str, framework: str) -> tuple[list[float], list[float]]:
    label = "fast engine" if framework == "fast" else PEER_NAMES[framework]
    return _growth(r, axis)[f"{label}, float32"]


def _growth_span(axis: str) -> Callable[[Results], str]:
    """``"50 to 1,600"``: the smallest and largest width or batch of the fast engine's sweep."""

    def derive(r: Results) -> str:
        xs, _ = _growth_points(r, axis, "fast")
        return f"{xs[0]:,} to {xs[-1]:,}"

    return derive


def _width_times(r: Results) -> str:
    xs, _ = _growth_points(r, "width", "fast")
    return f"{xs[-1] / xs[0]:g}"


def _last_doubling(r: Results) -> str:
    """Cost ratio of the sweep's last step of the width; larger than its first step's."""
    _, ys = _growth_points(r, "width", "fast")
    first, last = ys[1] / ys[0], ys[-1] / ys[-2]
    claim(
        last > first,
        "the cost grows more nearly in step with the width at large widths than at small ones",
    )
    return _ratio(last)


def _batch_accuracy_gap(r: Results) -> str:
    small, large = (
        _peer(r, "fast", "float32", batch)["metrics"]["test_accuracy"] for batch in (32, 128)
    )
    claim(small > large, "batch 128 reaches less test accuracy than batch 32 in as many epochs")
    return f"{100 * (small - large):.1f}"


def _growth_figure(axis: str) -> Callable[[Results], str]:
    def derive(r: Results) -> str:
        from dropout_py.figures import line_chart

        series = _growth(r, axis)
        xs = next(iter(series.values()))[0]
        label = "hidden units (batch 128)" if axis == "width" else "batch size (100 hidden units)"
        title = (
            "Cost of an epoch against the hidden width"
            if axis == "width"
            else "Cost of an epoch against the batch size"
        )
        figure = line_chart(
            series,
            x_label=label,
            y_label="CPU seconds per epoch",
            log_x=True,
            log_y=True,
            x_ticks=xs,
            title=title,
        )
        return figure._repr_html_()


# --- which part of dropout matters: experiments/ablation-*.toml, keep-*.toml ------------------
# docs/ablation.md. Six variants x four training sizes x two hidden sizes x five seeds, and
# a sweep of the keep probability; every number, table, curve and conclusion comes from here.

ABLATION_SIZES = {"1k": 1000, "3k": 3000, "10k": 10000, "60k": 60000}
ABLATION_HIDDEN = (100, 800)
ABLATION_SEEDS = 5
#: slug -> (label in the grid files, name on the page)
ABLATION_VARIANTS = {
    "none": ("no dropout", "no dropout"),
    "chapter": ("chapter", "chapter: per partition, no scaling"),
    "chapter_test": ("chapter + weights x p at test", "chapter + weights × p at test"),
    "chapter_train": ("chapter masks + 1/p in training", "chapter masks + 1/p in training"),
    "inverted": ("inverted", "inverted: per example, 1/p in training"),
    "paper": ("paper 2014", "paper 2014: per example, weights × p at test"),
}
DROPOUT_VARIANTS = tuple(slug for slug in ABLATION_VARIANTS if slug != "none")
KEEP_VALUES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
KEEP_LAYERS = {"hidden": "keep_hidden", "input": "keep_input"}


def _ablation_file(size: str) -> str:
    return f"ablation-{size}.jsonl"


def _ablation_rows(r: Results, size: str, hidden: int, slug: str) -> list[dict]:
    label = ABLATION_VARIANTS[slug][0]
    rows = r.rows(_ablation_file(size), label=label, settings__hidden=[hidden])
    return sorted(
        need(rows, ABLATION_SEEDS, f"ablation {size}, hidden {hidden}, {label!r}"),
        key=lambda row: row["seed"],
    )


def _ablation_spread(r: Results, size: str, hidden: int, slug: str) -> Any:
    from dropout_py.run.summary import finals, spread

    return spread(finals(_ablation_rows(r, size, hidden, slug)))


def ablation_winners(r: Results, size: str, hidden: int) -> dict[str, float]:
    """The variants whose mean test accuracy beats no dropout's by more than two standard
    deviations (the larger of the two), with that margin in standard deviations."""
    from dropout_py.run.summary import beats, margin

    base = _ablation_spread(r, size, hidden, "none")
    found = {}
    for slug in DROPOUT_VARIANTS:
        spread_ = _ablation_spread(r, size, hidden, slug)
        if beats(spread_, base, sigmas=2.0):
            found[slug] = margin(spread_, base)
    return found


def _ablation_cell(size: str, hidden: int, slug: str) -> Callable[[Results], str]:
    return lambda r: f"{_ablation_spread(r, size, hidden, slug):.4f}"


def _ablation_winners_text(size: str, hidden: int) -> Callable[[Results], str]:
    def derive(r: Results) -> str:
        found = ablation_winners(r, size, hidden)
        if not found:
            return "none"
        ranked = sorted(found, key=found.__getitem__, reverse=True)
        return "; ".join(f"{ABLATION_VARIANTS[s][1]} (+{found[s]:.1f} sd)" for s in ranked)

    return derive


def _ablation_curves(size: str, hidden: int) -> Callable[[Results], str]:
    def derive(r: Results) -> str:
        from dropout_py.figures import learning_curves
        from dropout_py.run.summary import mean_history

        runs = {
            name: mean_history(_ablation_rows(r, size, hidden, slug))
            for slug, (_, name) in ABLATION_VARIANTS.items()
        }
        title = (
            f"{ABLATION_SIZES[size]:,} training images, {hidden} hidden nodes: "
            f"mean of {ABLATION_SEEDS} seeds"
        )
        return learning_curves(runs, metrics=("accuracy",), title=title)._repr_html_()

    return derive


def _keep_rows(r: Results, layer: str, keep: float) -> list[dict]:
    file = f"keep-{layer}.jsonl"
    chosen = [row for row in r.rows(file) if row["settings"][KEEP_LAYERS[layer]] == keep]
    return sorted(
        need(chosen, ABLATION_SEEDS, f"keep-{layer}, keep {keep}"), key=lambda row: row["seed"]
    )


def _ablation_files() -> list[str]:
    return [_ablation_file(size) for size in ABLATION_SIZES] + [
        f"keep-{layer}.jsonl" for layer in KEEP_LAYERS
    ]


def _ablation_compute(what: str) -> Callable[[Results], str]:
    """Runs, summed hours of training and scoring, and clock hours of the page's grids."""
    import datetime

    def derive(r: Results) -> str:
        rows = [row for file in _ablation_files() for row in r.all_rows(file)]
        expected = ABLATION_SEEDS * (
            len(ABLATION_SIZES) * len(ABLATION_HIDDEN) * len(ABLATION_VARIANTS)
            + len(KEEP_LAYERS) * len(KEEP_VALUES)
        )
        need(rows, expected, "the ablation and keep-probability grids")
        if what == "runs":
            return f"{len(rows):,}"
        if what == "hours":
            return f"{sum(row['seconds'] for row in rows) / 3600:.1f}"
        ends = [datetime.datetime.fromisoformat(row["finished"]) for row in rows]
        starts = [
            e - datetime.timedelta(seconds=row["seconds"])
            for e, row in zip(ends, rows, strict=True)
        ]
        return f"{(max(ends) - min(starts)).total_seconds() / 3600:.1f}"

    return derive


# --- the browser beside native: benchmarks/bench_site.py --parts epoch ------------------------


def _site_epochs(r: Results, where: str, dtype: str) -> list[dict]:
    return r.rows(SITE, name="epoch", where=where, dtype=dtype)  # MissingResult if none


def _site_epoch_median(r: Results, where: str, dtype: str) -> float:
    return statistics.median(row["seconds"] for row in _site_epochs(r, where, dtype))


def _site_epoch_seconds(where: str, dtype: str) -> Callable[[Results], str]:
    return lambda r: _seconds(_site_epoch_median(r, where, dtype))


def _site_epoch_ratio(dtype: str) -> Callable[[Results], str]:
    def derive(r: Results) -> str:
        page, native = (_site_epoch_median(r, where, dtype) for where in ("page", "native"))
        claim(page > native, f"an epoch ({dtype}) takes longer in the page than natively")
        return _ratio(page / native)

    return derive


def _site_epoch_accuracy(where: str, dtype: str) -> Callable[[Results], str]:
    def derive(r: Results) -> str:
        last = max(_site_epochs(r, where, dtype), key=lambda row: row["epoch"])
        return f"{last['test_accuracy']:.4f}"

    return derive


def _site_epoch_count(r: Results) -> str:
    return str(max(row["epoch"] for row in _site_epochs(r, "page", "float32")))


# --- the paper check: benchmarks/bench_engines.py --suite stretch -----------------------------

STRETCH = "bench-engines-stretch.jsonl"


def _stretch(r: Results) -> dict:
    return need(r.rows(STRETCH, name="deep-relu"), 1, "the stretch run")[0]


def _stretch_errors(row: dict) -> list[float]:
    return [100 * (1 - h["test_accuracy"]) for h in row["history"]]


def _stretch_budget(r: Results) -> str:
    row = _stretch(r)
    clock = {"cpu": "CPU time", "wall": "wall-clock time"}[row["budget_clock"]]
    return f"{row['minutes']:g} minutes of {clock}"


def _stretch_best(what: str) -> Callable[[Results], str]:
    def derive(r: Results) -> str:
        row = _stretch(r)
        errors = _stretch_errors(row)
        if not errors:
            raise MissingResult(f"results/{STRETCH}: the stretch run finished no epoch")
        best = min(range(len(errors)), key=errors.__getitem__)
        if what == "error":
            return f"{errors[best]:.2f}"
        if what == "epoch":
            return str(best + 1)
        key = "elapsed_cpu_seconds" if row["budget_clock"] == "cpu" else "elapsed_seconds"
        return _minutes(row["history"][best][key])

    return derive


def _stretch_recipe(r: Results) -> str:
    """The paper check's network and training settings in words, from its row."""
    s = _stretch(r)["settings"]
    units = {"relu": "ReLU", "sigmoid": "sigmoid"}[s["activation"]]
    return (
        f"{'-'.join(map(str, [784, *s['hidden'], 10]))} with {units} units, dropout keeping "
        f"inputs with probability {s['keep_input']:g} and hidden units with "
        f"{s['keep_hidden']:g}, max-norm {s['max_norm']:g} on every unit's incoming weights, "
        f"momentum {s['momentum']:g}, a learning rate of {s['learning_rate']:g} multiplied by "
        f"{s['lr_decay']:g} after every epoch, batches of {s['batch_size']}, {s['dtype']}"
    )


def _stretch_command(r: Results) -> str:
    """``dropout-py train ...`` for the same network and as many epochs as the run finished."""
    row = _stretch(r)
    s = row["settings"]
    return (
        f"dropout-py train --hidden {' '.join(map(str, s['hidden']))} "
        f"--activation {s['activation']} --keep-input {s['keep_input']:g} "
        f"--keep-hidden {s['keep_hidden']:g} \\\n    --max-norm {s['max_norm']:g} "
        f"--momentum {s['momentum']:g} --learning-rate {s['learning_rate']:g} "
        f"--lr-decay {s['lr_decay']:g} --batch-size {s['batch_size']} \\\n    "
        f"--dtype {s['dtype']} --epochs {row['final']['epochs']} --seed {row['seed']}"
    )


def _stretch_final_error(r: Results) -> str:
    return f"{100 * (1 - _stretch(r)['final']['test_accuracy']):.2f}"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f}" if seconds < 600 else f"{seconds / 60:.0f}"


def _stretch_minutes(key: str) -> Callable[[Results], str]:
    return lambda r: _minutes(_stretch(r)[key])


def _stretch_epoch_seconds(r: Results) -> str:
    row = _stretch(r)
    return _seconds(statistics.median(h["cpu_seconds"] for h in row["history"]))


def _stretch_figure(r: Results) -> str:
    from dropout_py.figures import line_chart

    row = _stretch(r)
    clock = row["budget_clock"]
    key = "elapsed_cpu_seconds" if clock == "cpu" else "elapsed_seconds"
    minutes = [h[key] / 60 for h in row["history"]]
    figure = line_chart(
        {"784-1024-1024-10 ReLU, dropout, max-norm": (minutes, _stretch_errors(row))},
        x_label=f"{'CPU' if clock == 'cpu' else 'wall-clock'} minutes since the start",
        y_label="test error (%)",
        log_y=True,
        title="The paper check: test error after every epoch",
    )
    return figure._repr_html_()


def _keep_spread(r: Results, layer: str, keep: float, key: str = "test_accuracy") -> Any:
    from dropout_py.run.summary import finals, spread

    return spread(finals(_keep_rows(r, layer, keep), key))


def _keep_cell(layer: str, keep: float) -> Callable[[Results], str]:
    return lambda r: f"{_keep_spread(r, layer, keep):.4f}"


def _keep_figure(r: Results) -> str:
    from dropout_py.figures import learning_curves

    runs = {}
    for layer in KEEP_LAYERS:
        runs[f"dropout on the {layer} layer only"] = [
            {
                "keep probability": keep,
                "train_accuracy": _keep_spread(r, layer, keep, "train_accuracy").mean,
                "test_accuracy": _keep_spread(r, layer, keep).mean,
            }
            for keep in KEEP_VALUES
        ]
    settings = _keep_rows(r, "hidden", 1.0)[0]["settings"]
    title = (
        f"{settings['train_size']:,} training images, {settings['hidden'][0]} hidden nodes, "
        f"inverted dropout: mean of {ABLATION_SEEDS} seeds"
    )
    figure = learning_curves(runs, metrics=("accuracy",), title=title, x="keep probability")
    return figure._repr_html_()


# --- the registry ----------------------------------------------------------------------------


def _goal_field(name: str, field: str) -> Callable[[Results], str]:
    return lambda r: by_seed(_goal(name)(r), field)


def _goal_mean(name: str) -> Callable[[Results], str]:
    return lambda r: f"{statistics.mean(test_accuracies(_goal(name)(r))):.3f}"


def _goal_range(name: str) -> Callable[[Results], str]:
    return lambda r: value_range(test_accuracies(_goal(name)(r)))


NUMBERS: dict[str, Quote] = {}


def _add(
    name: str, file: str, about: str, derive: Callable[[Results], str], html: bool = False
) -> None:
    NUMBERS[name] = Quote(file, about, derive, html)


for _name, _about in (
    ("chapter_scaled", "the chapter's run, scaled first weights"),
    ("chapter_init", "the chapter's run, the chapter's first weights"),
    ("chapter_dropout", "the chapter's run with its dropout 0.7 / 0.7"),
    ("chapter_gradient", "the chapter's run with the exact gradient"),
):
    _goal_name = _name.replace("_", "-")
    _add(f"goals.{_name}.train", GOALS, f"{_about}: train accuracy, seeds 1-3",
         _goal_field(_goal_name, "train_accuracy"))  # fmt: skip
    _add(f"goals.{_name}.test", GOALS, f"{_about}: test accuracy, seeds 1-3",
         _goal_field(_goal_name, "test_accuracy"))  # fmt: skip
    _add(f"goals.{_name}.test_mean", GOALS, f"{_about}: mean test accuracy, seeds 1-3",
         _goal_mean(_goal_name))  # fmt: skip
    _add(f"goals.{_name}.test_range", GOALS, f"{_about}: test accuracy, seeds 1-3",
         _goal_range(_goal_name))  # fmt: skip

_add("goals.small_plain.test", GOALS, "3,000 images, no dropout: test accuracy, seeds 1-3",
     _goal_field("small-plain", "test_accuracy"))  # fmt: skip
_add("goals.small_dropout.test", GOALS, "3,000 images, dropout: test accuracy, seeds 1-3",
     _goal_field("small-dropout", "test_accuracy"))  # fmt: skip
_add("goals.small_gain_points", GOALS, "3,000 images: dropout minus no dropout, mean of 3 seeds",
     _gain_points("small-dropout", "small-plain"))  # fmt: skip
_add("goals.init_gain_points", GOALS, "scaled minus chapter's first weights, mean of 3 seeds",
     _gain_points("chapter-scaled", "chapter-init"))  # fmt: skip
_add("goals.chapter_init.test_best", GOALS, "best test accuracy with the chapter's weights",
     _published_above_chapter_init)  # fmt: skip
_add("goals.chapter_dropout.cost_points", GOALS, "no dropout minus the chapter's dropout",
     _chapter_dropout_costs)  # fmt: skip
_add("goals.fast20.test", GOALS, "fast trainer, 784-100-10, 20 epochs, seed 1: test accuracy",
     lambda r: f"{test_accuracies(_goal('fast-20', 1)(r))[0]:.4f}")  # fmt: skip
_add("goals.transcript", GOALS, "dropout-py train --preset chapter --seed 1", _cli_transcript)
_add("goals.machine", GOALS, "the machine of the goals suite",
     lambda r: describe_machine(_goal("chapter-scaled")(r)[0]))  # fmt: skip

_add("schemes1k.plain", SCHEMES, "no dropout, seeds 1-5", _scheme("no dropout"))
_add("schemes1k.chapter", SCHEMES, "the chapter's scheme, seeds 1-5", _scheme("chapter's scheme"))
_add("schemes1k.paper", SCHEMES, "the paper's scheme, seeds 1-5", _scheme("paper's scheme"))
_add("schemes1k.paper_gain_points", SCHEMES, "paper's scheme minus no dropout, mean of 5 seeds",
     _paper_scheme_ahead)  # fmt: skip
_add("schemes1k.chapter_diff_points", SCHEMES, "chapter's scheme minus no dropout, 5 seeds",
     _chapter_scheme_no_help)  # fmt: skip

for _engine in ENGINES:
    for _dropout in (False, True):
        _key = _engine + ("_dropout" if _dropout else "")
        for _what in ("seconds", "speedup", "peak_mb"):
            _add(f"speed.{_key}.{_what}", SPEED, f"{ENGINES[_engine]}: {_what} (median)",
                 _speed(_engine, _dropout, _what))  # fmt: skip
_add("speed.rounds", SPEED, "rounds of the speed suite", _speed_rounds)
_add("speed.machine", SPEED, "the machine of the speed suite",
     lambda r: describe_machine(r.rows(SPEED, name="tutorial")[0]))  # fmt: skip

_add("data.small_bundle_mb", LOAD, "the small MNIST subset as this site serves it (gzip)",
     _bundle_mb("small"))  # fmt: skip
_add("data.full_bundle_mb", LOAD, "the full MNIST as this site serves it (gzip)",
     _bundle_mb("full"))  # fmt: skip
_add("data.load_full_seconds", LOAD, "load_mnist() of the full set from the cache (median)",
     _load_seconds)  # fmt: skip

_add("site.ready_seconds", SITE, "page ready to run (median, headless Chromium)",
     _site_seconds("ready_ms"))  # fmt: skip
_add("site.first_output_seconds", SITE, "first output after clicking Run (median)",
     _site_seconds("first_output_ms"))  # fmt: skip
_add("site.runs", SITE, "runs of the start-up measurement", _site_runs)
_add("site.first_visit_mib", SITE, "MiB sent on a first visit, pages without SciPy",
     _site_mib("first", False))  # fmt: skip
_add("site.first_visit_mib_scipy", SITE, "MiB sent on a first visit of the SciPy page",
     _site_mib("first", True))  # fmt: skip
_add("site.first_visit_mib_all", SITE, "MiB sent on a first visit, every measured page",
     _site_mib("first", None))  # fmt: skip
_add("site.second_visit_mib", SITE, "most MiB sent on a second visit of a page",
     _site_mib("second", None))  # fmt: skip


_add("peers.machine", PEERS, "the machine of the peers benchmark",
     lambda r: describe_machine(_peer(r, "fast", "float32", 32)))  # fmt: skip
_add("peers.versions", PEERS, "the versions the peers benchmark ran", _peer_versions)
_add("peers.rounds", PEERS, "rounds (epochs) of the peers comparison",
     lambda r: str(_peer(r, "fast", "float32", 32)["settings"]["rounds"]))  # fmt: skip
for _framework in ("fast", "pytorch", "scikit-learn"):
    for _dtype, _batch in COMPARED:
        _key = f"peers.{_framework.replace('-', '_')}.{_dtype[5:]}_b{_batch}"
        _about = f"{_framework}, {_dtype}, batch {_batch}"
        _add(f"{_key}.cpu", PEERS, f"{_about}: CPU seconds per epoch (median)",
             _peer_cpu(_framework, _dtype, _batch))  # fmt: skip
        _add(f"{_key}.accuracy", PEERS, f"{_about}: test accuracy after the last round",
             _peer_accuracy(_framework, _dtype, _batch))  # fmt: skip
_add("peers.tutorial.cpu", PEERS, "tutorial engine, per example: CPU seconds per epoch (median)",
     _peer_cpu("tutorial", "float64", 1))  # fmt: skip
_add("peers.tutorial.accuracy", PEERS, "tutorial engine: test accuracy after the last round",
     _peer_accuracy("tutorial", "float64", 1))  # fmt: skip
_add("peers.tutorial_vs_fast", PEERS, "tutorial engine / fast float64 batch 32, CPU time",
     _tutorial_vs_fast)  # fmt: skip
_add("peers.pytorch_ratio", PEERS, "PyTorch / fast engine, CPU time per epoch, every config",
     _peer_ratios("pytorch"))  # fmt: skip
_add("peers.sklearn_ratio", PEERS, "scikit-learn / fast engine, CPU time per epoch, every config",
     _peer_ratios("scikit-learn"))  # fmt: skip
_add("peers.wall_over_cpu", PEERS, "wall-clock / CPU time per epoch, every configuration",
     _wall_over_cpu)  # fmt: skip
for _axis in ("width", "batch"):
    _add(f"growth.{_axis}_figure", PEERS, f"CPU seconds per epoch against the {_axis}",
         _growth_figure(_axis), html=True)  # fmt: skip
    for _framework in ("fast", "pytorch"):
        _add(f"growth.{_axis}_factor_{_framework}", PEERS,
             f"{_framework}: cost ratio across the {_axis} sweep",
             _growth_factor(_axis, _framework))  # fmt: skip

_add("growth.width_span", PEERS, "the hidden widths of the sweep", _growth_span("width"))
_add("growth.batch_span", PEERS, "the batch sizes of the sweep", _growth_span("batch"))
_add("growth.width_times", PEERS, "widest / narrowest layer of the sweep", _width_times)
_add("growth.width_last_step_fast", PEERS, "fast engine: cost ratio of the last width step",
     _last_doubling)  # fmt: skip
_add("peers.batch_accuracy_gap", PEERS, "fast float32: batch 32 minus batch 128, test accuracy",
     _batch_accuracy_gap)  # fmt: skip

for _dtype in ("float32", "float64"):
    _short = _dtype[5:]
    for _where in ("page", "native"):
        _add(f"site.epoch_{_where}_{_short}", SITE,
             f"one epoch of the fast engine, {_dtype}, {_where} (median seconds)",
             _site_epoch_seconds(_where, _dtype))  # fmt: skip
        _add(f"site.epoch_{_where}_{_short}_accuracy", SITE,
             f"test accuracy after the last epoch, {_dtype}, {_where}",
             _site_epoch_accuracy(_where, _dtype))  # fmt: skip
    _add(f"site.epoch_ratio_{_short}", SITE, f"page / native seconds per epoch, {_dtype}",
         _site_epoch_ratio(_dtype))  # fmt: skip
_add("site.epochs", SITE, "epochs per place and dtype in the browser benchmark", _site_epoch_count)

_add("stretch.budget", STRETCH, "the time budget of the paper check", _stretch_budget)
_add("stretch.epochs", STRETCH, "epochs the paper check finished within its budget",
     lambda r: str(_stretch(r)["final"]["epochs"]))  # fmt: skip
_add("stretch.recipe", STRETCH, "the paper check's network and settings", _stretch_recipe)
_add("stretch.command", STRETCH, "the paper check's network from the command line",
     _stretch_command)  # fmt: skip
_add("stretch.final_error", STRETCH, "test error (%) of the model when the budget ran out",
     _stretch_final_error)  # fmt: skip
_add("stretch.best_error", STRETCH, "lowest test error (%) after any epoch",
     _stretch_best("error"))  # fmt: skip
_add("stretch.best_epoch", STRETCH, "the epoch of the lowest test error", _stretch_best("epoch"))
_add("stretch.best_minutes", STRETCH, "minutes (budget clock) until the lowest test error",
     _stretch_best("minutes"))  # fmt: skip
_add("stretch.wall_minutes", STRETCH, "wall-clock minutes of the whole run",
     _stretch_minutes("elapsed_seconds"))  # fmt: skip
_add("stretch.cpu_minutes", STRETCH, "CPU minutes of the whole run",
     _stretch_minutes("elapsed_cpu_seconds"))  # fmt: skip
_add("stretch.epoch_cpu_seconds", STRETCH, "CPU seconds per epoch (median)",
     _stretch_epoch_seconds)  # fmt: skip
_add("stretch.machine", STRETCH, "the machine of the paper check",
     lambda r: describe_machine(_stretch(r)))  # fmt: skip
_add("stretch.figure", STRETCH, "test error after every epoch of the paper check",
     _stretch_figure, html=True)  # fmt: skip

for _size in ABLATION_SIZES:
    for _hidden in ABLATION_HIDDEN:
        _file, _where = _ablation_file(_size), f"{ABLATION_SIZES[_size]:,} images, {_hidden} hidden"
        for _slug, (_, _shown) in ABLATION_VARIANTS.items():
            _add(f"ablation.h{_hidden}.n{_size}.{_slug}", _file,
                 f"{_shown}, {_where}: test accuracy, mean ± std of seeds 1-5",
                 _ablation_cell(_size, _hidden, _slug))  # fmt: skip
        _add(f"ablation.h{_hidden}.n{_size}.winners", _file,
             f"{_where}: variants above no dropout by more than 2 standard deviations",
             _ablation_winners_text(_size, _hidden))  # fmt: skip
        _add(f"ablation.h{_hidden}.n{_size}.curves", _file,
             f"{_where}: mean learning curves of the six variants",
             _ablation_curves(_size, _hidden), html=True)  # fmt: skip
for _layer in KEEP_LAYERS:
    for _keep in KEEP_VALUES:
        _add(f"keep.{_layer}.k{round(_keep * 100)}", f"keep-{_layer}.jsonl",
             f"inverted dropout, keep_{_layer} = {_keep}: test accuracy, mean ± std of seeds 1-5",
             _keep_cell(_layer, _keep))  # fmt: skip
_add("ablation.compute.runs", _ablation_file("1k"), "runs in the ablation and keep grids",
     _ablation_compute("runs"))  # fmt: skip
_add("ablation.compute.hours", _ablation_file("1k"), "hours of training and scoring, summed",
     _ablation_compute("hours"))  # fmt: skip
_add("ablation.compute.wall_hours", _ablation_file("1k"), "hours from the first run's start "
     "to the last run's end", _ablation_compute("wall_hours"))  # fmt: skip
_add("keep.figure", "keep-hidden.jsonl", "test accuracy against the keep probability",
     _keep_figure, html=True)  # fmt: skip


def render(name: str, results: Results | None = None) -> str:
    """The text of quoted number ``name``; raises :class:`MissingResult` if it cannot be made."""
    if name not in NUMBERS:
        close = [n for n in NUMBERS if n.split(".")[0] == name.split(".")[0]]
        raise MissingResult(f"no quoted number named {name!r} (same group: {', '.join(close)})")
    return NUMBERS[name].render(results or Results())
