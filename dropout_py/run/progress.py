r"""Text progress bars: for the command line (stderr) and for notebooks and the site's cells.

The library itself never prints: long operations accept a ``progress`` callback, and the command
line passes :meth:`ProgressBar.update` (or a wrapper around it) as that callback.
:class:`TrainingProgress` is such a callback for training: it redraws one line per run with
``\r``, which Jupyter, VS Code and the site's cells draw in place like a terminal does. Plain
text, no dependency: it works the same natively and in Pyodide.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

from dropout_py.nn.events import TrainingEvent


class ProgressBar:
    r"""Draw ``label [#####.....] 42% 1.2/2.9 MB 3.1s`` on one terminal line.

    Parameters
    ----------
    label : str
        Text in front of the bar.
    total : float or None
        The amount that means 100 %; ``None`` shows only the running count.
    unit : str
        Printed after the counts (``"MB"``, ``"batches"``...).
    scale : float
        Divides raw counts for display (``1e6`` shows bytes as MB).
    stream : file-like, optional
        Where to draw; stderr by default.
    min_interval : float
        Seconds between redraws (the last update always draws).
    redraw : bool, optional
        Redraw the line in place with ``\r``. By default only on a terminal; a log file then
        gets the final line only. ``True`` suits notebooks, whose output is not a terminal but
        draws ``\r`` like one.
    """

    def __init__(
        self,
        label: str,
        total: float | None = None,
        *,
        unit: str = "",
        scale: float = 1.0,
        stream: TextIO | None = None,
        width: int = 28,
        min_interval: float = 0.1,
        redraw: bool | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.scale = scale
        self.stream = stream if stream is not None else sys.stderr
        self.width = width
        self.min_interval = min_interval
        self._start = time.perf_counter()
        self._last_draw = float("-inf")
        if redraw is None:
            redraw = bool(getattr(self.stream, "isatty", lambda: False)())
        self._interactive = redraw
        self.suffix = ""

    def update(
        self,
        done: float,
        total: float | None = None,
        suffix: str | None = None,
        *,
        force: bool = False,
    ) -> None:
        """Set the amount done (and optionally a new total or trailing text) and redraw.

        A redraw sooner than ``min_interval`` after the last one is skipped unless ``force``.
        """
        if total is not None:
            self.total = total
        if suffix is not None:
            self.suffix = suffix
        now = time.perf_counter()
        finished = self.total is not None and done >= self.total
        if not (finished or force) and now - self._last_draw < self.min_interval:
            return
        if not self._interactive and not finished:
            return  # a log file gets the final line only, not hundreds of redraws
        self._last_draw = now
        line = self._render(done, now)
        self.stream.write(f"\r{line}" if self._interactive else f"{line}\n")
        self.stream.flush()

    def close(self) -> None:
        """End the bar's line (interactive terminals only)."""
        if self._interactive:
            self.stream.write("\n")
            self.stream.flush()

    def _render(self, done: float, now: float) -> str:
        elapsed = now - self._start
        shown = done / self.scale
        if self.total:
            frac = min(max(done / self.total, 0.0), 1.0)
            filled = round(frac * self.width)
            bar = "#" * filled + "." * (self.width - filled)
            digits = 1 if self.scale != 1 else 0
            counts = f"{shown:.{digits}f}/{self.total / self.scale:.{digits}f} {self.unit}".rstrip()
            text = f"{self.label} [{bar}] {frac:4.0%} {counts} {elapsed:.1f}s"
        else:
            text = " ".join(filter(None, (self.label, f"{shown:g}", self.unit, f"{elapsed:.1f}s")))
        return f"{text} {self.suffix}".rstrip()


class TrainingProgress:
    r"""Show a training run as one line that fills up: a callback for training events.

    ``dropout [############................] 45% 9/20 epochs 2.1s test accuracy 0.846``

    The line goes to stdout and is redrawn in place with ``\r`` (see :class:`ProgressBar`), so
    it suits notebooks and the site's cells; it ends with a newline after the last epoch.

    Parameters
    ----------
    label : str
        Text in front of the bar, e.g. the run's name.
    metric : str
        Key of the epoch records shown after the bar once an epoch has it (``"test_accuracy"``,
        ``"train_loss"``...); the newest value is shown.
    stream : file-like, optional
        Where to draw; ``sys.stdout`` at the time of the first event by default.
    min_interval : float
        Seconds between redraws during an epoch (an epoch's end always draws).

    Examples
    --------
    >>> import io
    >>> from dropout_py import DropoutMLP
    >>> import numpy as np
    >>> X, y = np.eye(4), np.arange(4) % 2
    >>> out = io.StringIO()
    >>> history = DropoutMLP((4, 3, 2), seed=1).fit(
    ...     X, y, epochs=2, callback=TrainingProgress("demo", metric="train_accuracy", stream=out)
    ... )
    >>> print(out.getvalue().rsplit("\r", 1)[-1], end="")  # doctest: +ELLIPSIS
    demo [############################] 100% 2/2 epochs ...s train accuracy 0.500
    """

    def __init__(
        self,
        label: str = "training",
        *,
        metric: str = "test_accuracy",
        stream: TextIO | None = None,
        min_interval: float = 0.1,
    ) -> None:
        self.label = label
        self.metric = metric
        self.stream = stream
        self.min_interval = min_interval
        self._bar: ProgressBar | None = None

    def __call__(self, event: TrainingEvent) -> None:
        """Redraw the line for ``event`` (a step or an epoch of the run)."""
        if self._bar is None:
            stream = self.stream if self.stream is not None else sys.stdout
            self._bar = ProgressBar(
                self.label,
                event.epochs,
                unit="epochs",
                stream=stream,
                min_interval=self.min_interval,
                redraw=True,
            )
        if event.kind == "step":
            self._bar.update(event.fraction * event.epochs)
            return
        value = event.metrics.get(self.metric)
        suffix = f"{self.metric.replace('_', ' ')} {value:.3f}" if value is not None else None
        self._bar.update(event.epoch, suffix=suffix, force=True)
        if event.epoch >= event.epochs:
            self.close()

    def close(self) -> None:
        """End the line (done by itself after the last epoch; call it if you stop early)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None
