"""A minimal text progress bar for the command line (stderr), used for downloads and training.

The library itself never prints: long operations accept a ``progress`` callback, and the command
line passes :meth:`ProgressBar.update` (or a wrapper around it) as that callback.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


class ProgressBar:
    """Draw ``label [#####.....] 42% 1.2/2.9 MB 3.1s`` on one terminal line.

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
        self._interactive = bool(getattr(self.stream, "isatty", lambda: False)())
        self.suffix = ""

    def update(self, done: float, total: float | None = None, suffix: str | None = None) -> None:
        """Set the amount done (and optionally a new total or trailing text) and redraw."""
        if total is not None:
            self.total = total
        if suffix is not None:
            self.suffix = suffix
        now = time.perf_counter()
        finished = self.total is not None and done >= self.total
        if not finished and now - self._last_draw < self.min_interval:
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
