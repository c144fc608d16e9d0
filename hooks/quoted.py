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

import functools
import html
import itertools
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


# --- which part of dropout matters: experiments/ablation-*.toml, keep-*.toml ------------------
# docs/ablation.md. Six variants x four training sizes x two hidden sizes x five seeds, and
# a sweep of the keep probability; every number, table, curve and conclusion comes from here.
# The grids run for hours, so the page builds from whatever rows are in: a setting (training
# size and hidden size) counts once all its runs are there; the others show how many are in.

EXPERIMENTS = REPO / "experiments"
ABLATION_SIZES = {"1k": 1000, "3k": 3000, "10k": 10000, "60k": 60000}
ABLATION_HIDDEN = (100, 800)
ABLATION_SEEDS = 5
FITS = 0.999  # "fits its training images almost perfectly": the mean final train accuracy
SIGMAS = 2.0  # "beats" = a mean higher by more than this many standard deviations
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
TRAIN_SCALED = ("chapter_train", "inverted")  # the two variants that divide by p in training
KEEP_VALUES = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)
KEEP_LAYERS = {"hidden": "keep_hidden", "input": "keep_input"}
KEEP_SHOWN = {"hidden": "the hidden layer", "input": "the inputs"}

Setting = tuple[str, int]  # (training size slug, hidden nodes)


def _ablation_file(size: str) -> str:
    return f"ablation-{size}.jsonl"


def _ablation_grids() -> dict[str, str]:
    """Grid name -> how the page names it, in the order the page lists them."""
    grids = {f"ablation-{s}": f"{n:,} images" for s, n in ABLATION_SIZES.items()}
    grids |= {f"keep-{layer}": f"the keep sweep of {KEEP_SHOWN[layer]}" for layer in KEEP_LAYERS}
    return grids


@functools.cache
def planned_runs(grid: str) -> int:
    """The number of points of ``experiments/<grid>.toml`` (checked as ``dropout-py sweep``)."""
    from dropout_py.run.sweep import load_grid

    return len(load_grid(EXPERIMENTS / f"{grid}.toml").points)


def _present(r: Results, file: str) -> list[dict]:
    """The rows of a results file; none if the sweep has not written it yet."""
    try:
        return r.all_rows(file)
    except MissingResult:
        return []


def _variant_rows(r: Results, size: str, hidden: int, slug: str) -> list[dict]:
    """The rows of one variant in one setting so far, by seed (0 to 5 of them)."""
    from dropout_py.run.summary import select

    label = ABLATION_VARIANTS[slug][0]
    return select(_present(r, _ablation_file(size)), label=label, settings__hidden=(hidden,))


def _ablation_rows(r: Results, size: str, hidden: int, slug: str) -> list[dict]:
    rows = _variant_rows(r, size, hidden, slug)
    label = ABLATION_VARIANTS[slug][0]
    return need(rows, ABLATION_SEEDS, f"ablation {size}, hidden {hidden}, {label!r}")


def _setting_runs(r: Results, size: str, hidden: int) -> int:
    return sum(len(_variant_rows(r, size, hidden, slug)) for slug in ABLATION_VARIANTS)


SETTING_RUNS = ABLATION_SEEDS * len(ABLATION_VARIANTS)


def complete(r: Results, size: str, hidden: int) -> bool:
    """Whether every variant of a setting has its five seeds."""
    return all(
        len(_variant_rows(r, size, hidden, slug)) == ABLATION_SEEDS for slug in ABLATION_VARIANTS
    )


def complete_settings(r: Results) -> list[Setting]:
    return [(s, h) for s in ABLATION_SIZES for h in ABLATION_HIDDEN if complete(r, s, h)]


def _ablation_spread(r: Results, size: str, hidden: int, slug: str, key: str = "test_accuracy"):
    from dropout_py.run.summary import finals, spread

    return spread(finals(_ablation_rows(r, size, hidden, slug), key))


def _beats(r: Results, setting: Setting, slug: str, base: str = "none") -> bool:
    from dropout_py.run.summary import beats

    a, b = _ablation_spread(r, *setting, slug), _ablation_spread(r, *setting, base)
    return beats(a, b, sigmas=SIGMAS)


def ablation_winners(r: Results, size: str, hidden: int) -> dict[str, float]:
    """The variants whose mean test accuracy beats no dropout's by more than two standard
    deviations (the larger of the two), with that margin in standard deviations."""
    from dropout_py.run.summary import margin

    base = _ablation_spread(r, size, hidden, "none")
    return {
        slug: margin(_ablation_spread(r, size, hidden, slug), base)
        for slug in DROPOUT_VARIANTS
        if _beats(r, (size, hidden), slug)
    }


def helping_settings(r: Results) -> list[Setting]:
    """The complete settings in which at least one dropout variant beats no dropout."""
    return [s for s in complete_settings(r) if ablation_winners(r, *s)]


def _so_far(have: int, planned: int, what: str = "runs") -> str:
    return f"not run yet (0 of {planned} {what})" if not have else f"{have} of {planned} {what}"


def _seeds_so_far(have: int) -> str:
    """A table cell whose seeds are not all in."""
    return "not run yet" if not have else f"{have} of {ABLATION_SEEDS} seeds so far"


def _ablation_cell(size: str, hidden: int, slug: str) -> Callable[[Results], str]:
    def derive(r: Results) -> str:
        have = len(_variant_rows(r, size, hidden, slug))
        if have < ABLATION_SEEDS:
            return _seeds_so_far(have)
        return f"{_ablation_spread(r, size, hidden, slug):.4f}"

    return derive


def _ablation_winners_text(size: str, hidden: int) -> Callable[[Results], str]:
    def derive(r: Results) -> str:
        if not complete(r, size, hidden):
            return _so_far(_setting_runs(r, size, hidden), SETTING_RUNS)
        found = ablation_winners(r, size, hidden)
        if not found:
            return "none"
        ranked = sorted(found, key=found.__getitem__, reverse=True)
        return "; ".join(f"{ABLATION_VARIANTS[s][1]} (+{found[s]:.1f} sd)" for s in ranked)

    return derive


def _pending_block(what: str, have: int, planned: int) -> str:
    text = f"{what}: {_so_far(have, planned)}; drawn once every run is in."
    return f'<p class="dp-pending"><em>{html.escape(text)}</em></p>'


def _ablation_curves(size: str, hidden: int) -> Callable[[Results], str]:
    def derive(r: Results) -> str:
        from dropout_py.figures import learning_curves
        from dropout_py.run.summary import mean_history

        title = f"{ABLATION_SIZES[size]:,} training images, {hidden} hidden nodes"
        if not complete(r, size, hidden):
            return _pending_block(title, _setting_runs(r, size, hidden), SETTING_RUNS)
        runs = {
            name: mean_history(_ablation_rows(r, size, hidden, slug))
            for slug, (_, name) in ABLATION_VARIANTS.items()
        }
        title += f": mean of {ABLATION_SEEDS} seeds"
        return learning_curves(runs, metrics=("accuracy",), title=title)._repr_html_()

    return derive


def _grid_runs(r: Results) -> dict[str, tuple[int, int]]:
    """Grid name -> (rows in its results file, points in its grid file)."""
    return {g: (len(_present(r, f"{g}.jsonl")), planned_runs(g)) for g in _ablation_grids()}


def _ablation_status(r: Results) -> str:
    """How many runs of each grid are in, e.g. "1,000 images: all 60 runs; 3,000 images: 28 of
    60 runs; ..."."""
    parts = []
    for grid, (have, planned) in _grid_runs(r).items():
        state = f"all {planned} runs" if have >= planned else _so_far(have, planned)
        parts.append(f"{_ablation_grids()[grid]}: {state}")
    return "; ".join(parts)


def _ablation_missing(r: Results) -> str:
    """A sentence naming the grids whose runs are not all in."""
    missing = [
        f"{_ablation_grids()[g]} ({planned - have} runs to go)"
        for g, (have, planned) in _grid_runs(r).items()
        if have < planned
    ]
    if not missing:
        return "Every grid is complete."
    return f"Still incomplete: {_and(missing)}."


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _ablation_compute(what: str) -> Callable[[Results], str]:
    """Runs in the results files so far (of those planned), summed hours of training and
    scoring."""

    def derive(r: Results) -> str:
        rows = [row for g in _ablation_grids() for row in _present(r, f"{g}.jsonl")]
        if what == "hours":
            return f"{sum(row['seconds'] for row in rows) / 3600:.1f}"
        planned = sum(planned_runs(g) for g in _ablation_grids())
        return f"all {planned:,}" if len(rows) >= planned else f"{len(rows):,} of the {planned:,}"

    return derive


# what the conclusion says, checked against the rows at every build (claim): each statement
# renders the settings it was checked in, and fails the build in any setting where it is false


def settings_text(settings: list[Setting]) -> str:
    """``[("1k", 100), ("1k", 800), ("3k", 800)]`` -> "1,000 images (100 and 800 hidden nodes)
    and 3,000 images (800 hidden nodes)"."""
    parts = []
    for size in ABLATION_SIZES:
        hidden = [str(h) for s, h in settings if s == size]
        if hidden:
            parts.append(f"{ABLATION_SIZES[size]:,} images ({_and(hidden)} hidden nodes)")
    return _and(parts) if parts else "no setting"


def _ablation_where(r: Results) -> str:
    """Where some dropout beats no dropout and where none does, among the complete settings."""
    done, helps = complete_settings(r), helping_settings(r)
    claim(bool(done), "which settings dropout helps in (no setting is complete yet)")
    sentences = []
    if helps:
        sentences.append(
            f"With {settings_text(helps)}, at least one kind of dropout beats no dropout by "
            f"more than two standard deviations."
        )
    rest = [s for s in done if s not in helps]
    if rest:
        sentences.append(f"With {settings_text(rest)}, none does.")
    return " ".join(sentences)


Check = tuple[Callable[[Results, Setting], bool], str]  # (holds in a setting, the statement)


def _checked(scope: Callable[[Results], list[Setting]], *checks: Check) -> Callable[[Results], str]:
    """Render the settings ``scope`` picks after checking each statement in each of them."""

    def derive(r: Results) -> str:
        settings = scope(r)
        for holds, statement in checks:
            claim(bool(settings), f"{statement} (there is no setting to check it in yet)")
            wrong = [s for s in settings if not holds(r, s)]
            claim(not wrong, f"{statement}; not so with {settings_text(wrong)}")
        return settings_text(settings)

    return derive


def _smallest(r: Results) -> list[Setting]:
    first = next(iter(ABLATION_SIZES))
    return [(first, h) for h in ABLATION_HIDDEN if complete(r, first, h)]


def _train_scaled_on_top(r: Results, setting: Setting) -> bool:
    means = {s: _ablation_spread(r, *setting, s).mean for s in DROPOUT_VARIANTS}
    return set(sorted(means, key=means.__getitem__)[-2:]) == set(TRAIN_SCALED)


def _mask_kind_matters_less(r: Results, setting: Setting) -> bool:
    """Switching between the two kinds of mask (both with 1/p in training) moves the mean test
    accuracy less than dividing by p in training does, with either kind of mask."""
    mean = {s: _ablation_spread(r, *setting, s).mean for s in ABLATION_VARIANTS}
    masks = abs(mean["inverted"] - mean["chapter_train"])
    return masks < mean["chapter_train"] - mean["chapter"] and masks < (
        mean["inverted"] - mean["paper"]
    )


def _partition_is_one_batch(r: Results, setting: Setting) -> bool:
    """Whether one of the chapter's masks serves a single mini-batch in this setting."""
    settings = _ablation_rows(r, *setting, "chapter_train")[0]["settings"]
    return settings["train_size"] // settings["partitions"] <= settings["batch_size"]


def _masks_either_way(r: Results) -> str:
    """Where per-example masks beat the chapter's (both with 1/p in training), and the reverse;
    the chapter's masks are ahead only where one of them serves a single mini-batch."""
    done = complete_settings(r)
    claim(bool(done), "how the two kinds of mask compare (no setting is complete yet)")
    example = [s for s in done if _beats(r, s, "inverted", "chapter_train")]
    chapter = [s for s in done if _beats(r, s, "chapter_train", "inverted")]
    several = [s for s in chapter if not _partition_is_one_batch(r, s)]
    claim(
        not several,
        "the chapter's masks (1/p in training) beat per-example masks by more than 2 standard "
        "deviations only where a partition is one mini-batch; not so with "
        + settings_text(several),
    )
    parts = []
    if example:
        parts.append(f"per-example masks with {settings_text(example)}")
    if chapter:
        parts.append(f"the chapter's masks with {settings_text(chapter)}")
    if not parts:
        return "neither kind of mask in any complete setting"
    rest = (
        "; neither in the other complete settings"
        if len(example) + len(chapter) < len(done)
        else ""
    )
    return "; ".join(parts) + rest


def _test_scaling_alone_no_matter(r: Results, setting: Setting) -> bool:
    """Weights x p at test neither beats nor loses to no scaling (the same trained network)."""
    return not _beats(r, setting, "chapter_test", "chapter") and not _beats(
        r, setting, "chapter", "chapter_test"
    )


def _chapter_trails_its_masks_with_scaling(r: Results, setting: Setting) -> bool:
    """The chapter's masks with 1/p in training beat them without, which fit their training
    images less well."""
    train = {s: _ablation_spread(r, *setting, s, "train_accuracy").mean for s in TRAIN_SCALED}
    chapter_train = _ablation_spread(r, *setting, "chapter", "train_accuracy").mean
    return _beats(r, setting, "chapter_train", "chapter") and chapter_train < train["chapter_train"]


def _paper_steps_too_small(r: Results, setting: Setting) -> bool:
    """Inverted beats the paper's recipe, which also fits its training images less well."""
    train = {s: _ablation_spread(r, *setting, s, "train_accuracy").mean for s in TRAIN_SCALED}
    paper_train = _ablation_spread(r, *setting, "paper", "train_accuracy").mean
    return _beats(r, setting, "inverted", "paper") and paper_train < train["inverted"]


def _best_lead_points(r: Results, setting: Setting) -> float:
    """How far the best dropout variant's mean test accuracy is above no dropout's, in points."""
    best = max(_ablation_spread(r, *setting, s).mean for s in DROPOUT_VARIANTS)
    return 100 * (best - _ablation_spread(r, *setting, "none").mean)


def _shrinking_lead(r: Results) -> str:
    """The best variant's lead over no dropout, size by size for each hidden size, checked to
    shrink as the training set grows."""
    done = complete_settings(r)
    parts = []
    for hidden in ABLATION_HIDDEN:
        sizes = [size for size, h in done if h == hidden]
        claim(len(sizes) >= 2, f"how the lead changes with the size ({hidden} hidden nodes: "
              "fewer than two complete sizes)")  # fmt: skip
        leads = [_best_lead_points(r, (size, hidden)) for size in sizes]
        for size, lead in zip(sizes, leads, strict=True):
            train = {v: _ablation_spread(r, size, hidden, v, "train_accuracy").mean
                     for v in ABLATION_VARIANTS}  # fmt: skip
            claim(
                lead >= 0 or all(train[v] < train["none"] for v in DROPOUT_VARIANTS),
                "where even the best variant ends below no dropout, every dropout variant fits "
                f"its training images less well; not so with {settings_text([(size, hidden)])}",
            )
        claim(
            all(a > b for a, b in itertools.pairwise(leads)),
            f"the best variant's lead over no dropout shrinks as the training set grows; not so "
            f"with {hidden} hidden nodes",
        )
        shown = _and([f"{lead:+.1f}" for lead in leads])
        images = _and([f"{ABLATION_SIZES[size]:,}" for size in sizes])
        parts.append(f"{shown} points with {hidden} hidden nodes ({images} images)")
    return _and(parts)


def _chapter_wins(r: Results) -> str:
    """In how many complete settings the chapter's scheme as published beats no dropout."""
    done = complete_settings(r)
    claim(bool(done), "how often the chapter's scheme helps (no setting is complete yet)")
    wins = sum(_beats(r, s, "chapter") for s in done)
    return f"{wins} of the {len(done)}"


def _keep_rows(r: Results, layer: str, keep: float) -> list[dict]:
    rows = [
        row
        for row in _present(r, f"keep-{layer}.jsonl")
        if row["settings"][KEEP_LAYERS[layer]] == keep
    ]
    return sorted(rows, key=lambda row: row["seed"])


def _keep_spread(r: Results, layer: str, keep: float, key: str = "test_accuracy") -> Any:
    from dropout_py.run.summary import finals, spread

    rows = need(_keep_rows(r, layer, keep), ABLATION_SEEDS, f"keep-{layer}, keep {keep}")
    return spread(finals(rows, key))


def _keep_cell(layer: str, keep: float) -> Callable[[Results], str]:
    def derive(r: Results) -> str:
        have = len(_keep_rows(r, layer, keep))
        if have < ABLATION_SEEDS:
            return _seeds_so_far(have)
        return f"{_keep_spread(r, layer, keep):.4f}"

    return derive


def _keep_best(layer: str) -> Callable[[Results], str]:
    """The keep probability with the best mean test accuracy among those whose seeds are all in,
    and whether it beats keeping every node (1.0) by more than two standard deviations."""

    def derive(r: Results) -> str:
        from dropout_py.run.summary import beats

        done = [k for k in KEEP_VALUES if len(_keep_rows(r, layer, k)) == ABLATION_SEEDS]
        if not done:
            return f"not known yet (none of the {len(KEEP_VALUES)} keep probabilities is complete)"
        best = max(done, key=lambda k: _keep_spread(r, layer, k).mean)
        text = f"{best}"
        if 1.0 in done and best != 1.0:
            ahead = beats(_keep_spread(r, layer, best), _keep_spread(r, layer, 1.0), SIGMAS)
            text += (" (ahead of no dropout by more than two standard deviations)" if ahead
                     else " (within two standard deviations of no dropout)")  # fmt: skip
        if len(done) < len(KEEP_VALUES):
            text += f", among the {len(done)} of {len(KEEP_VALUES)} values complete so far"
        return text

    return derive


def _inputs_more(r: Results) -> str:
    """The best mean test accuracy of input-only and of hidden-only dropout, checked that the
    inputs' is higher by more than two standard deviations."""
    from dropout_py.run.summary import beats

    best = {}
    for layer in KEEP_LAYERS:
        done = [k for k in KEEP_VALUES if len(_keep_rows(r, layer, k)) == ABLATION_SEEDS]
        claim(len(done) == len(KEEP_VALUES), f"which layer gains more (keep-{layer} incomplete)")
        best[layer] = max((_keep_spread(r, layer, k) for k in done), key=lambda s: s.mean)
    claim(
        beats(best["input"], best["hidden"], SIGMAS),
        "dropout on the inputs alone beats dropout on the hidden layer alone at their best keep "
        "probabilities",
    )
    return f"{best['input']:.4f} against {best['hidden']:.4f}"


def _keep_figure(r: Results) -> str:
    from dropout_py.figures import learning_curves

    runs = {}
    for layer in KEEP_LAYERS:
        done = [k for k in KEEP_VALUES if len(_keep_rows(r, layer, k)) == ABLATION_SEEDS]
        if len(done) >= 2:
            runs[f"dropout on {KEEP_SHOWN[layer]} only"] = [
                {
                    "keep probability": keep,
                    "train_accuracy": _keep_spread(r, layer, keep, "train_accuracy").mean,
                    "test_accuracy": _keep_spread(r, layer, keep).mean,
                }
                for keep in done
            ]
    grids = [f"keep-{layer}" for layer in KEEP_LAYERS]
    if not runs:
        have = sum(len(_present(r, f"{g}.jsonl")) for g in grids)
        planned = sum(planned_runs(g) for g in grids)
        return _pending_block("The keep-probability sweeps", have, planned)
    settings = next(row["settings"] for g in grids for row in _present(r, f"{g}.jsonl"))
    title = (
        f"{settings['train_size']:,} training images, {settings['hidden'][0]} hidden nodes, "
        f"inverted dropout: mean of {ABLATION_SEEDS} seeds"
    )
    figure = learning_curves(runs, metrics=("accuracy",), title=title, x="keep probability")
    return figure._repr_html_()


# --- training in the page beside native: benchmarks/bench_page_training.py ------------------

PAGE_TRAINING = "bench-page-training.jsonl"


def _page_epoch_seconds(
    r: Results, dtype: str, where: str, products: str, measure: str = "seconds"
) -> float:
    rows = r.rows(PAGE_TRAINING, name="epoch", dtype=dtype, where=where, products=products)
    return statistics.median(row[measure] for row in rows)


def _page_epoch(dtype: str, what: str) -> Callable[[Results], str]:
    """``what``: ``page`` / ``native`` training seconds (wall), ``ratio`` (CPU time of the epoch
    in the page with BLAS over native) or ``ratio_before`` (the same with numpy's ``@``)."""

    def derive(r: Results) -> str:
        if what in ("page", "native"):
            seconds = _page_epoch_seconds(r, dtype, what, "blas" if what == "page" else "numpy")
            return f"{seconds:.1f}" if what == "page" else f"{seconds:.2f}"
        native = _page_epoch_seconds(r, dtype, "native", "numpy", "cpu_seconds")
        kind = "numpy" if what == "ratio_before" else "blas"
        return f"{_page_epoch_seconds(r, dtype, 'page', kind, 'cpu_seconds') / native:.1f}"

    return derive


def _page_runs(r: Results) -> str:
    rows = r.rows(PAGE_TRAINING, name="epoch", dtype="float64", where="native")
    return str(len(rows))


def _demo_seconds(r: Results) -> str:
    seconds = r.rows(PAGE_TRAINING, name="demo")[0]["seconds_to_0.97"]
    if seconds is None:
        raise MissingResult(f"results/{PAGE_TRAINING}: the demo never reached 0.97")
    return f"{seconds:.0f}"


def _demo_cpu_seconds(r: Results) -> str:
    return f"{r.rows(PAGE_TRAINING, name='demo')[0]['cell_cpu_seconds']:.0f}"


def _demo_accuracy(r: Results) -> str:
    return f"{r.rows(PAGE_TRAINING, name='demo')[0]['epochs'][-1]['test_accuracy']:.4f}"


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
_add("ablation.compute.runs", _ablation_file("1k"), "runs of the ablation and keep grids in the "
     "results files, of those the grid files plan", _ablation_compute("runs"))  # fmt: skip
_add("ablation.compute.hours", _ablation_file("1k"), "hours of training and scoring, summed over "
     "the runs in the results files", _ablation_compute("hours"))  # fmt: skip
_add("ablation.status", _ablation_file("1k"), "runs in each results file, of its grid's points",
     _ablation_status)  # fmt: skip
_add("ablation.missing", _ablation_file("1k"), "the grids whose runs are not all in",
     _ablation_missing)  # fmt: skip
_add("ablation.says.where", _ablation_file("1k"), "complete settings where some dropout beats "
     "no dropout by more than 2 standard deviations, and where none does",
     _ablation_where)  # fmt: skip
_add("ablation.says.masks", _ablation_file("1k"), "complete settings where one kind of mask "
     "(both with 1/p in training) beats the other by more than 2 standard deviations",
     _masks_either_way)  # fmt: skip
_add("ablation.says.shrinking", _ablation_file("1k"), "the best variant's mean test accuracy "
     "minus no dropout's, in points, for each complete training size", _shrinking_lead)  # fmt: skip
_add("ablation.says.chapter_wins", _ablation_file("1k"), "complete settings where the chapter's "
     "scheme beats no dropout by more than 2 standard deviations", _chapter_wins)  # fmt: skip
_STATEMENTS: dict[str, tuple[Callable[[Results], list[Setting]], tuple[Check, ...]]] = {
    "smallest_helps": (_smallest, (
        (lambda r, s: bool(ablation_winners(r, *s)),
         "dropout beats no dropout on the smallest training set, with both hidden sizes"),
        (lambda r, s: _ablation_spread(r, *s, "none", "train_accuracy").mean >= FITS,
         "on the smallest training set, no dropout fits its training images almost perfectly"),
    )),
    "ingredient": (helping_settings, (
        (_train_scaled_on_top,
         "where dropout helps, the two variants with 1/p in training have the two best means"),
        (_chapter_trails_its_masks_with_scaling,
         "where dropout helps, the chapter's masks with 1/p in training beat the chapter's "
         "scheme, which fits its training images less well"),
        (_mask_kind_matters_less,
         "where dropout helps, switching between per-example and the chapter's masks (both with "
         "1/p in training) moves the mean test accuracy less than dividing by p in training "
         "does, with either kind of mask"),
    )),
    "test_scaling": (complete_settings, (
        (_test_scaling_alone_no_matter,
         "weights x p at test alone changes the chapter's result by less than 2 standard "
         "deviations either way"),
    )),
    "paper_steps": (helping_settings, (
        (_paper_steps_too_small,
         "where dropout helps, inverted dropout beats the paper's recipe at the same learning "
         "rate, and the paper's recipe fits its training images less well"),
    )),
}  # fmt: skip
for _name, (_scope, _checks) in _STATEMENTS.items():
    _add(f"ablation.says.{_name}", _ablation_file("1k"),
         "the settings in which the build checked: " + "; ".join(c[1] for c in _checks),
         _checked(_scope, *_checks))  # fmt: skip


for _layer in KEEP_LAYERS:
    _add(f"keep.best.{_layer}", f"keep-{_layer}.jsonl", f"the keep probability of {_layer} "
         "dropout with the best mean test accuracy (seeds 1-5)", _keep_best(_layer))  # fmt: skip
_add("keep.says.inputs_more", "keep-input.jsonl", "best mean test accuracy of input-only and "
     "of hidden-only dropout, checked to differ by more than 2 standard deviations",
     _inputs_more)  # fmt: skip
_add("keep.figure", "keep-hidden.jsonl", "test accuracy against the keep probability",
     _keep_figure, html=True)  # fmt: skip


for _dtype in ("float32", "float64"):
    for _what in ("page", "native", "ratio", "ratio_before"):
        _add(f"page_training.{_dtype}.{_what}", PAGE_TRAINING,
             f"full-MNIST epoch of 784-100-10 in the page beside native, {_dtype}: {_what}"
             " (seconds: training wall time; ratios: CPU time with scoring)",
             _page_epoch(_dtype, _what))  # fmt: skip
_add("page_training.runs", PAGE_TRAINING, "runs of the page/native epoch", _page_runs)
_add("page_training.demo_seconds", PAGE_TRAINING,
     "seconds of in-page training until the MNIST page's full-MNIST cell reaches 0.97",
     _demo_seconds)  # fmt: skip
_add("page_training.demo_accuracy", PAGE_TRAINING,
     "test accuracy of the MNIST page's full-MNIST cell after its last epoch, in the page",
     _demo_accuracy)  # fmt: skip
_add("page_training.demo_cpu_seconds", PAGE_TRAINING,
     "CPU seconds of Chromium for the MNIST page's whole full-MNIST cell (data, 3 epochs, scoring)",
     _demo_cpu_seconds)  # fmt: skip


def render(name: str, results: Results | None = None) -> str:
    """The text of quoted number ``name``; raises :class:`MissingResult` if it cannot be made."""
    if name not in NUMBERS:
        close = [n for n in NUMBERS if n.split(".")[0] == name.split(".")[0]]
        raise MissingResult(f"no quoted number named {name!r} (same group: {', '.join(close)})")
    return NUMBERS[name].render(results or Results())
