"""What a training loop reports: one :class:`TrainingEvent` per step and per epoch.

Both engines yield or pass these to a callback, so the command line's progress bar, a notebook
cell and the browser's live plots all read the same record.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class TrainingEvent:
    """Progress of a training run.

    Attributes
    ----------
    kind : {"step", "epoch"}
        ``"step"`` after each mini-batch (fast engine) or partition (tutorial engine);
        ``"epoch"`` once an epoch is complete.
    epoch : int
        1-based number of the epoch under way (or just finished), counted in this run.
    epochs : int
        Number of epochs asked for in this run.
    step : int
        Steps done in this epoch (equals ``steps`` on an ``"epoch"`` event).
    steps : int
        Steps per epoch.
    seconds : float
        Training time of this epoch so far (scoring, and time spent by the consumer of the
        events, excluded).
    metrics : dict of str to float
        A step's: ``{"loss": ...}`` of its batch where the engine measures it (the fast trainer),
        else empty. An epoch's: its record (``epoch``, ``seconds``, ``batch_loss`` where
        measured, the scores asked for), the dict appended to the engine's ``history_``.
    """

    kind: Literal["step", "epoch"]
    epoch: int
    epochs: int
    step: int
    steps: int
    seconds: float
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def fraction(self) -> float:
        """Share of the whole run done, in [0, 1]."""
        return ((self.epoch - 1) + self.step / self.steps) / self.epochs
