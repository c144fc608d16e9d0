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

Events are plain dicts (the second display form is the cell's result value)::

    {"type": "stream", "name": "stdout" | "stderr", "text": str}
    {"type": "display", "mime": str, "data": str, "display_id": str | None}
    {"type": "display", "mime": str, "data": str, "display_id": None, "result": True}
    {"type": "error", "ename": str, "traceback": str}
"""

from __future__ import annotations

import ast
import builtins
import io
import json
import linecache
import signal
import sys
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
    """Format ``error`` from the first frame of the cell on (drops the runtime's frames)."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    report = traceback.TracebackException(type(error), error, tb)
    frames = [frame for frame in report.stack if frame.filename != __file__]
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


class Session:
    """One page's Python namespace; :meth:`run` executes one cell in it.

    Parameters
    ----------
    emit : callable
        Receives every event (a dict, see the module docstring) while a cell runs.
    """

    def __init__(self, emit: Emit) -> None:
        self.emit = emit
        self.namespace: dict[str, Any] = {
            "__name__": "__main__",
            "__builtins__": builtins,
            "display": self.display,
        }

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
        streams = _Stream("stdout", self.emit), _Stream("stderr", self.emit)
        streams[0].partner, streams[1].partner = streams[1], streams[0]
        saved = sys.stdout, sys.stderr
        sys.stdout, sys.stderr = streams
        try:
            body, result = _split_result(ast.parse(source, filename), source)
            exec(compile(body, filename, "exec"), self.namespace)
            value = eval(compile(result, filename, "eval"), self.namespace) if result else None
        except BaseException as error:  # a cell may raise anything, even SystemExit
            for stream in streams:
                stream.flush()
            text = _user_traceback(error, filename)
            self.emit({"type": "error", "ename": type(error).__name__, "traceback": text})
            return False
        finally:
            for stream in streams:
                stream.flush()
            sys.stdout, sys.stderr = saved
        if value is not None:
            self.namespace["_"] = value
            mime, data = mime_bundle(value)
            self.emit(
                {"type": "display", "mime": mime, "data": data, "display_id": None, "result": True}
            )
        return True


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
