"""Run the code cells of one page in one namespace and report what they print and show.

The same module serves twice, so the page and its static preview come from one code path:

* inside the Pyodide worker of the site, where every event is posted to the page as it happens;
* natively at site build time (``python web/cell_runtime.py IN.json OUT.json``), where the events
  of each cell are collected into the page's expected output.

Semantics, a small part of what a notebook does:

* the last statement of a cell, if it is an expression and the line does not end with ``;``, is
  the cell's result, shown by its richest representation: ``_repr_svg_``, then ``_repr_html_``,
  then ``repr``;
* ``display(obj, display_id=None, update=False)`` shows an object now; showing another object
  with the same ``display_id`` replaces the first one where it stands (a live figure during
  training), with or without IPython's ``update=True``;
* stdout and stderr are sent line by line while the cell runs;
* an exception becomes a traceback that starts at the cell's own code (no runtime frames).

In the page (``Session(emit, live=True)``) two more things happen, for the cells that train a
``dropout_py`` network:

* while any engine trains, its progress goes to the page a few times a second: the epoch and
  step, and how long an epoch takes here, measured from the first mini-batch on (then from the
  steps so far, plus the last epoch's scoring), and the seconds left;
* a cell stopped by the page's Stop (a ``KeyboardInterrupt``, which the engines take only between
  two steps) while a model was training keeps that model, and :meth:`Session.resume` finishes
  its run (:meth:`dropout_py.nn.engine.Engine.resume`).

Events are plain dicts (the second display form is the cell's result value)::

    {"type": "stream", "name": "stdout" | "stderr", "text": str}
    {"type": "display", "mime": str, "data": str, "display_id": str | None}
    {"type": "display", "mime": str, "data": str, "display_id": None, "result": True}
    {"type": "error", "ename": str, "traceback": str}
    {"type": "training", "text": str, "epoch": int, "epochs": int, "step": int, "steps": int,
     "per_epoch": float, "left": float}                                         (live only)
    {"type": "resumable", "text": str}                                           (live only)
    {"type": "models", "names": [str, ...]}                                      (live only)

The last one follows a cell that trained models kept under a name of the namespace: the page
offers each for download, as the ``.npz`` file :meth:`Session.model_file` makes (the model
file that ``dropout_py.load_model`` and ``dropout-py evaluate --model`` read natively).
"""

from __future__ import annotations

import ast
import builtins
import importlib
import io
import json
import linecache
import signal
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

Event = dict[str, Any]
Emit = Callable[[Event], None]

#: Rich representations, best first, as (method name, MIME type).
RICH_REPRS = (("_repr_svg_", "image/svg+xml"), ("_repr_html_", "text/html"))


def mime_bundle(obj: object) -> tuple[str, str]:
    """Return ``(mime, data)`` for the richest representation ``obj`` offers."""
    if not isinstance(obj, type):  # a class has the methods but cannot call them unbound
        for method, mime in RICH_REPRS:
            render = getattr(obj, method, None)
            data = render() if callable(render) else None
            if isinstance(data, str):
                return mime, data
    return "text/plain", repr(obj)


class _Stream(io.TextIOBase):
    """A text stream that emits complete lines (and whatever is flushed) as events."""

    def __init__(self, name: str, emit: Emit) -> None:
        self.name = name
        self._emit = emit
        self._pending = ""
        self.partner: _Stream | None = None  # stdout for stderr and back: keeps their order

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self.partner is not None:
            self.partner.flush()
        self._pending += text
        cut = max(self._pending.rfind("\n"), self._pending.rfind("\r"))
        if cut >= 0:
            self._send(self._pending[: cut + 1])
            self._pending = self._pending[cut + 1 :]
        return len(text)

    def flush(self) -> None:
        if self._pending:
            self._send(self._pending)
            self._pending = ""

    def _send(self, text: str) -> None:
        self._emit({"type": "stream", "name": self.name, "text": text})


def _split_result(tree: ast.Module, source: str) -> tuple[ast.Module, ast.Expression | None]:
    """Split off the last statement if it is an expression whose value should be shown."""
    if not tree.body or not isinstance(tree.body[-1], ast.Expr):
        return tree, None
    last = tree.body[-1]
    line = source.encode().splitlines()[last.end_lineno - 1]  # offsets count UTF-8 bytes
    if line[last.end_col_offset :].lstrip().startswith(b";"):
        return tree, None
    body = ast.Module(body=tree.body[:-1], type_ignores=[])
    return body, ast.Expression(body=last.value)


def _user_traceback(error: BaseException, filename: str) -> str:
    """Format ``error`` from the first frame of the cell on (drops the runtime's frames).

    A ``KeyboardInterrupt`` (Stop) shows the cell's own lines only: where the cell was, not
    where inside a library the interrupt happened to land.
    """
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    report = traceback.TracebackException(type(error), error, tb)
    frames = [frame for frame in report.stack if frame.filename != __file__]
    if isinstance(error, KeyboardInterrupt):
        frames = [frame for frame in frames if frame.filename == filename]
    for frame in frames:
        frame.filename = _short_path(frame.filename)
    report.stack = traceback.StackSummary.from_list(frames)
    return "".join(report.format())


def _short_path(filename: str) -> str:
    """Drop the import root: ``/…/site-packages/dropout_py/x.py`` becomes ``dropout_py/x.py``.

    Where a library is installed says nothing to the reader (and differs between the build
    machine and the browser); the module path does.
    """
    roots = sorted((p.rstrip("/") + "/" for p in sys.path if p.startswith("/")), key=len)
    for root in reversed(roots):  # the longest matching root gives the shortest name
        if filename.startswith(root):
            return filename[len(root) :]
    return filename


class TrainingStatus:
    """Turn the training events of every engine into a few ``training`` events a second.

    Parameters
    ----------
    emit : callable
        Receives the events.
    interval : float
        Seconds between two events during an epoch (a run's first step and every epoch's end
        are always sent).
    """

    def __init__(self, emit: Emit, interval: float = 0.25) -> None:
        self.emit = emit
        self.interval = interval
        self.engine: object = None
        self.last = 0.0
        self.scoring = 0.0  # seconds the last epoch's scoring took (wall time)
        self.last_step_at = 0.0

    def __call__(self, engine: object, event: Any) -> None:
        """Observe one :class:`~dropout_py.nn.events.TrainingEvent` of ``engine``."""
        now = time.perf_counter()
        fresh = engine is not self.engine
        if fresh:
            self.engine, self.scoring = engine, 0.0
        if event.kind == "step":
            self.last_step_at = now
        elif event.step == event.steps:
            self.scoring = now - self.last_step_at
        last_step = event.kind == "step" and event.step == event.steps
        if not (fresh or event.kind == "epoch") and (last_step or now - self.last < self.interval):
            return
        self.last = now
        self.emit(self.event(event, first=fresh))

    def event(self, event: Any, first: bool = False) -> Event:
        """The ``training`` event for ``event``: where the run stands and what is left."""
        per_step = event.seconds / max(event.step, 1)
        per_epoch = per_step * event.steps + self.scoring
        left = per_step * (event.steps - event.step) + per_epoch * (event.epochs - event.epoch)
        if event.kind == "epoch":
            left = per_epoch * (event.epochs - event.epoch)
        where = f"epoch {event.epoch}/{event.epochs}, step {event.step}/{event.steps}"
        how = "measured on the first batch" if first else "so far"
        text = f"Training: {where} · about {per_epoch:.1f} s per epoch here ({how})"
        text += f" · about {left:.0f} s left" if left >= 0.5 else " · done"
        return {
            "type": "training",
            "text": text,
            "epoch": event.epoch,
            "epochs": event.epochs,
            "step": event.step,
            "steps": event.steps,
            "per_epoch": per_epoch,
            "left": left,
        }


def _stopped_engine(error: BaseException) -> Any:
    """The ``dropout_py`` engine that was training when ``error`` (a Stop) came, or None.

    Looked for in the frames the interrupt passed through, innermost first: the engine itself
    (``self``), or a local variable holding it (the loop of ``compare_runs``...).
    """
    engine_module = sys.modules.get("dropout_py.nn.engine")
    if engine_module is None:
        return None
    frames = [frame for frame, _ in traceback.walk_tb(error.__traceback__)]
    for frame in reversed(frames):
        for value in frame.f_locals.values():
            if isinstance(value, engine_module.Engine) and value.unfinished_epochs:
                return value
    return None


class Session:
    """One page's Python namespace; :meth:`run` executes one cell in it.

    Parameters
    ----------
    emit : callable
        Receives every event (a dict, see the module docstring) while a cell runs.
    live : bool
        In the page: report training progress and keep what a Stop interrupted (see the module
        docstring). At build time the outputs stay what the cell itself prints and shows.
    """

    def __init__(self, emit: Emit, live: bool = False) -> None:
        self.emit = emit
        self.live = live
        self.stopped: dict[int, Any] = {}  # cell number -> engine whose run a Stop left
        self.namespace: dict[str, Any] = {
            "__name__": "__main__",
            "__builtins__": builtins,
            "display": self.display,
        }
        self._observing = False
        self._trained: list[Any] = []  # engines that trained while the current cell ran

    def _observe_training(self, source: str = "") -> None:
        """Report the training runs of dropout_py (live only) once a cell imports it.

        Called before a cell runs (a cell that names ``dropout_py`` has it imported first, so
        that its own training is seen) and after.
        """
        if not self.live or self._observing:
            return
        if "dropout_py" in source:
            importlib.import_module("dropout_py.nn.engine")
        engine_module = sys.modules.get("dropout_py.nn.engine")
        if engine_module is not None:
            status = TrainingStatus(self.emit)

            def observe(engine: Any, event: Any) -> None:
                if not any(engine is seen for seen in self._trained):
                    self._trained.append(engine)
                status(engine, event)

            engine_module.observe_training(observe)
            self._observing = True

    def _offer_models(self) -> None:
        """After a cell: name the models it trained that the namespace holds (live only)."""
        trained, self._trained = self._trained, []
        names = [
            name
            for name, value in self.namespace.items()
            if not name.startswith("_") and any(value is engine for engine in trained)
        ]
        if names:
            self.emit({"type": "models", "names": names})

    def model_file(self, name: str) -> bytes:
        """The model file (``.npz``, as ``save`` writes it) of the namespace's model ``name``.

        Raises
        ------
        ValueError
            If ``name`` holds no model that can be saved.
        """
        model = self.namespace.get(name)
        if not callable(getattr(model, "save", None)):
            raise ValueError(f"{name!r} is not a model of this page's Python")
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "model.npz"
            model.save(path)
            return path.read_bytes()

    def display(self, obj: object, display_id: str | None = None, update: bool = False) -> None:
        """Show ``obj`` below the running cell, or in place of the output with ``display_id``.

        ``update`` is accepted so that code written for IPython's ``display`` (first call
        without it, later calls with ``update=True``) runs unchanged: here an output with the
        same ``display_id`` is always replaced where it stands.
        """
        mime, data = mime_bundle(obj)
        self.emit({"type": "display", "mime": mime, "data": data, "display_id": display_id})

    def run(self, source: str, number: int) -> bool:
        """Run one cell; return ``False`` if it raised (the traceback was emitted).

        Parameters
        ----------
        source : str
            The cell's code.
        number : int
            The cell's number on the page (1-based); tracebacks name it ``<cell N>``.
        """
        filename = f"<cell {number}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)

        def cell() -> Any:
            body, result = _split_result(ast.parse(source, filename), source)
            self._observe_training(source)
            exec(compile(body, filename, "exec"), self.namespace)
            self._observe_training()
            return eval(compile(result, filename, "eval"), self.namespace) if result else None

        return self._capture(cell, filename, number)

    def resume(self, number: int) -> bool:
        """Finish the training run that a Stop left in cell ``number``; ``False`` on failure.

        Its events go to the cell's output, as if the cell went on.
        """
        engine = self.stopped.pop(number, None)

        def go_on() -> None:
            if engine is None or not engine.unfinished_epochs:
                raise RuntimeError(f"cell {number} has no stopped training run to resume")
            print(f"Resuming: {engine.unfinished_epochs} epoch(s) to go.")
            engine.resume()
            scores = {k: v for k, v in engine.history_[-1].items() if k.endswith("accuracy")}
            shown = ", ".join(f"{k.replace('_', ' ')} {v:.4f}" for k, v in scores.items())
            print(f"Finished: {engine.epochs_trained_} epoch(s) trained. {shown}".rstrip())

        return self._capture(go_on, f"<cell {number}>", number)

    def _capture(self, action: Callable[[], Any], filename: str, number: int) -> bool:
        """Run ``action`` with stdout/stderr as events; show its value; report what it raised."""
        streams = _Stream("stdout", self.emit), _Stream("stderr", self.emit)
        streams[0].partner, streams[1].partner = streams[1], streams[0]
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = streams
        try:
            value = action()
        except BaseException as error:  # a cell may raise anything, even SystemExit
            for stream in streams:
                stream.flush()
            text = _user_traceback(error, filename)
            self.emit({"type": "error", "ename": type(error).__name__, "traceback": text})
            if self.live and isinstance(error, KeyboardInterrupt):
                self._keep_stopped(error, number)
            return False
        finally:
            for stream in streams:
                stream.flush()
            sys.stdout, sys.stderr = saved
            if self.live:
                self._offer_models()
        if value is not None:
            self.namespace["_"] = value
            mime, data = mime_bundle(value)
            self.emit(
                {"type": "display", "mime": mime, "data": data, "display_id": None, "result": True}
            )
        return True

    def _keep_stopped(self, error: KeyboardInterrupt, number: int) -> None:
        """Tell the page that the model a Stop interrupted is kept, and how to go on."""
        engine = _stopped_engine(error)
        if engine is None:
            return
        self.stopped[number] = engine
        names = [k for k, v in self.namespace.items() if v is engine and not k.startswith("_")]
        which = f"`{names[0]}`" if names else "The model"
        position = engine.epoch_position_
        where = f"after epoch {engine.epochs_trained_}"
        if position is not None and position.step:
            where = f"in epoch {engine.epochs_trained_ + 1}, after step {position.step}"
            where += f" of {len(position.steps)}"
        text = (
            f"Stopped {where}. {which} keeps its weights and history "
            f"({engine.unfinished_epochs} epoch(s) of this run to go): Resume finishes the run"
        )
        if names:
            text += f"; {names[0]}.fit(...) trains on from here"
        self.emit({"type": "resumable", "text": text + "."})


# --- native runner (site build) ---------------------------------------------------------------


class CellTimeout(BaseException):
    """Raised inside a cell that ran longer than the build allows."""


class Recorder:
    """Collect a cell's events the way the page shows them (streams merged, displays replaced)."""

    def __init__(self) -> None:
        self.cells: list[list[Event]] = []

    def start_cell(self) -> None:
        """Open the output list of the next cell."""
        self.cells.append([])

    def __call__(self, event: Event) -> None:
        """Record one event of the current cell."""
        outputs = self.cells[-1]
        if event["type"] == "stream" and outputs and outputs[-1].get("name") == event["name"]:
            outputs[-1] = {**outputs[-1], "text": outputs[-1]["text"] + event["text"]}
            return
        if event["type"] == "display" and event["display_id"] is not None:
            for cell in self.cells:
                for i, old in enumerate(cell):
                    if old.get("display_id") == event["display_id"]:
                        cell[i] = event
                        return
        outputs.append(event)


def _on_alarm(signum: int, frame: object) -> None:
    raise CellTimeout("the cell ran longer than the build's per-cell timeout")


def run_page(cells: list[dict[str, Any]], timeout: float) -> list[dict[str, Any]]:
    """Run a page's cells in order in one fresh namespace; stop after an unexpected failure.

    Parameters
    ----------
    cells : list of dict
        ``{"source": str, "expect_error": bool}`` per cell, optionally ``"timeout"``.
    timeout : float
        Seconds a cell may run unless it sets its own ``"timeout"``.

    Returns
    -------
    list of dict
        ``{"ok": bool, "seconds": float, "outputs": [event, ...]}`` per cell that ran.
    """
    recorder = Recorder()
    session = Session(recorder)
    results = []
    signal.signal(signal.SIGALRM, _on_alarm)
    for number, cell in enumerate(cells, start=1):
        recorder.start_cell()
        start = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, float(cell.get("timeout", timeout)))
        try:
            ok = session.run(cell["source"], number)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        seconds = round(time.perf_counter() - start, 3)
        results.append({"ok": ok, "seconds": seconds, "outputs": recorder.cells[-1]})
        if ok == bool(cell.get("expect_error")):
            break  # the page is wrong here; later cells would only add noise
    return results


def main(argv: list[str]) -> int:
    """Build-time entry point: ``cell_runtime.py IN.json OUT.json`` (see :func:`run_page`)."""
    request = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    results = run_page(request["cells"], float(request["timeout"]))
    Path(argv[1]).write_text(json.dumps({"cells": results}), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
