"""The interface both engines share, and the epoch loop that lets training stop and resume.

:class:`Engine` is what :class:`~dropout_py.NeuralNetwork` (the chapter's network) and
:class:`~dropout_py.DropoutMLP` (the fast trainer) are to everything above them: the runs of
:mod:`dropout_py.run`, the command line and the pages use only these names.

* ``prepare(images)``: raw uint8 pixels, (n, 784) or (n, 28, 28), as this engine trains on them.
* ``fit_iter(X, y, epochs=...)``: train step by step, yielding a
  :class:`~dropout_py.nn.events.TrainingEvent` after every step (a mini-batch of the fast trainer,
  a partition of the chapter's network) and every epoch (its record, also in ``history_``).
* ``fit``, ``predict_proba``, ``predict``, ``score`` (an
  :class:`~dropout_py.nn.metrics.Evaluation`), ``save`` / ``load``; ``history_`` (one record per
  epoch), ``epochs_trained_``.

**Stopping and resuming.** Leaving a ``fit_iter`` loop between two events stops training cleanly.
The model keeps where the unfinished epoch stands in ``epoch_position_`` (an
:class:`EpochPosition`: the epoch's row order, its steps and how many are done, its learning rate,
the masks of the current partition, training time and step losses so far). The next ``fit_iter``
(or ``fit``) on data with the same number of rows finishes that epoch first, counted as the first
of the epochs asked for, then goes on. The random generator has by then drawn exactly what an
uninterrupted run draws, so a run stopped mid-epoch and resumed ends with the same weights as an
uninterrupted run with the same seed. Data of another length starts a fresh epoch instead;
``save`` does not store the position (a loaded model starts with a fresh epoch).

**Divergence.** A learning rate far too large (or keep probabilities so small that ``1 / keep``
overflows) drives the loss and the weights to ``inf`` or ``nan``, after which the network predicts
nothing. Training stops with a :class:`DivergenceError` at the first step whose loss is not a
finite number; the weights are checked too, every :data:`CHECK_ROWS` training rows and after
every epoch (engines that measure no loss per step rely on this alone). Both checks together cost
about 0.1 % of an epoch (``benchmarks/bench_divergence_check.py``).

A run left early can also be finished as it was asked for: :meth:`Engine.resume` (or
:meth:`Engine.resume_iter`) trains the epochs the last ``fit``/``fit_iter`` call had left, on its
data, with its scoring (and, for ``fit``, its callback). A ``KeyboardInterrupt`` (Ctrl+C, or the
site's Stop button) that arrives during a step is held back until the step is done, so it always
leaves the model between two steps, ready to resume.

:func:`observe_training` lets a host (the site's cell runtime) see the events of every training
run, e.g. to show how long an epoch takes, without any change to the code that trains.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import numpy as np

from dropout_py.nn import _validation as check
from dropout_py.nn.events import TrainingEvent
from dropout_py.nn.losses import Loss
from dropout_py.nn.metrics import Evaluation, confusion_counts
from dropout_py.nn.serialization import load_model_file, save_npz

EVAL_CHUNK = 10_000  # rows per forward pass when predicting or scoring
#: Training rows between two checks that the weights are finite (and after every epoch).
CHECK_ROWS = 10_000

Validation = tuple[np.ndarray, np.ndarray] | None
Callback = Callable[[TrainingEvent], bool | None]
Observer = Callable[["Engine", TrainingEvent], None]

_observers: list[Observer] = []


def observe_training(observer: Observer) -> Callable[[], None]:
    """Call ``observer(engine, event)`` with every event of every training run from now on.

    Returns
    -------
    callable
        Call it to stop observing. An observer must be quick and must not raise.
    """
    _observers.append(observer)
    return lambda: _observers.remove(observer)


@contextlib.contextmanager
def _holding_interrupts() -> Iterator[None]:
    """Hold back a KeyboardInterrupt that arrives inside the block until the block is done.

    Only where Python's default SIGINT handler is in place, in the main thread (natively Ctrl+C,
    in Pyodide the page's Stop through the interrupt buffer); elsewhere the block runs as is.
    """
    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGINT) is not signal.default_int_handler
    ):
        yield
        return
    received: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)
    if received:
        raise KeyboardInterrupt


@dataclass
class _Run:
    """One ``fit``/``fit_iter``/``train`` call: what it trains on and how far it got."""

    X: np.ndarray
    targets: np.ndarray
    epochs: int
    validation: Validation
    score_train: bool
    plan: dict[str, Any] | None = None
    callback: Callback | None = None
    done: int = 0


class DivergenceError(ArithmeticError):
    """Training made the loss or the weights infinite or not a number: the model is unusable.

    Raised by :meth:`Engine.fit_iter` (and so ``fit`` and ``train``) at the step where it shows,
    and by :meth:`Engine.check_finite`. The weights stay as they are (not finite); build a new
    model with a smaller learning rate or milder settings.

    Attributes
    ----------
    epoch : int
        The epoch under way, counted over the model's life (as in ``history_``).
    step, steps : int
        Steps done in that epoch, and its number of steps (0 and 0 outside training).
    """

    def __init__(self, message: str, *, epoch: int = 0, step: int = 0, steps: int = 0) -> None:
        super().__init__(message)
        self.epoch, self.step, self.steps = epoch, step, steps


@dataclass
class EpochPosition:
    """Where an unfinished epoch stands (an engine's ``epoch_position_``).

    Attributes
    ----------
    rows : int
        Number of training rows the epoch runs over.
    steps : list of (start, end)
        The epoch's steps: slices of its row order (mini-batches, or the chapter's partitions).
    learning_rate : float
        The epoch's step size (after any decay).
    order : numpy.ndarray of int, shape (rows,), or None
        The epoch's row order (a permutation); ``None`` is the data's own order.
    step : int
        Steps done.
    seconds : float
        Training time of the epoch so far.
    losses : list of float
        The loss of every step done (engines that measure one).
    state : dict
        What else an engine carries from step to step (the fast trainer: the masks of the
        current partition, and at which steps new ones are drawn).
    """

    rows: int
    steps: list[tuple[int, int]]
    learning_rate: float
    order: np.ndarray | None = None
    step: int = 0
    seconds: float = 0.0
    losses: list[float] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)


class Engine(ABC):
    """Base class of both engines: the shared training interface (see the module notes).

    A subclass provides the arithmetic (``_plan_epoch``, ``_train_step``, ``_outputs``), its
    data checks (``_check_data``, ``_check_inputs``, ``_from_pixels``) and what it saves
    (``config``, ``_arrays``, ``_set_arrays``); everything else is here, once.

    Attributes
    ----------
    epochs_trained_ : int
        Epochs completed.
    history_ : list of dict
        One record per completed epoch (see :meth:`fit_iter`).
    epoch_position_ : EpochPosition or None
        Where an unfinished epoch stands (see :mod:`dropout_py.nn.engine`); None between epochs.
    """

    _loss: Loss
    history_: list[dict[str, float]]
    epochs_trained_: int
    epoch_position_: EpochPosition | None
    _run: _Run | None = None

    def _reset_progress(self) -> None:
        self.history_ = []
        self.epochs_trained_ = 0
        self.epoch_position_ = None
        self._run = None

    @property
    def unfinished_epochs(self) -> int:
        """Epochs the last ``fit``/``fit_iter`` call still had to train when it was left (0: none).

        An epoch stopped halfway counts as one; :meth:`resume` trains them.
        """
        return 0 if self._run is None else self._run.epochs - self._run.done

    @property
    @abstractmethod
    def layer_sizes(self) -> tuple[int, ...]:
        """Nodes per layer of the full network, input first (bias nodes not counted)."""

    # --- data -----------------------------------------------------------------------------

    def prepare(self, images: np.ndarray) -> np.ndarray:
        """Turn raw MNIST pixels into this engine's inputs.

        Parameters
        ----------
        images : numpy.ndarray of uint8, shape (n, layer_sizes[0]) or (n, rows, cols)
            Pixels 0..255, e.g. :func:`~dropout_py.load_mnist`'s images.

        Returns
        -------
        numpy.ndarray, shape (n, layer_sizes[0])
            What :meth:`fit_iter`, :meth:`predict_proba` and :meth:`score` take.
        """
        pixels = np.asarray(images)
        if pixels.dtype != np.uint8:
            raise ValueError(f"images must be uint8 pixels 0..255, got dtype {pixels.dtype}")
        n_inputs = self.layer_sizes[0]
        if pixels.ndim < 2 or len(pixels) < 1 or int(np.prod(pixels.shape[1:])) != n_inputs:
            raise ValueError(
                f"images must be n >= 1 images of {n_inputs} pixels each, got shape {pixels.shape}"
            )
        return self._from_pixels(pixels.reshape(len(pixels), n_inputs))

    @abstractmethod
    def _from_pixels(self, pixels: np.ndarray) -> np.ndarray:
        """(n, inputs) uint8 pixels as this engine's inputs."""

    @abstractmethod
    def _check_data(self, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
        """Checked inputs and target rows (n, layer_sizes[-1]) for class labels or target rows."""

    @abstractmethod
    def _check_inputs(self, X: Any) -> np.ndarray:
        """Checked inputs (n, layer_sizes[0])."""

    # --- training -------------------------------------------------------------------------

    def fit_iter(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        epochs: int = 1,
        validation_data: tuple[np.ndarray, np.ndarray] | None = None,
        score_train: bool = False,
    ) -> Iterator[TrainingEvent]:
        """Train step by step, yielding a :class:`~dropout_py.nn.events.TrainingEvent` each time.

        Parameters
        ----------
        X : numpy.ndarray, shape (n, layer_sizes[0])
            Inputs as :meth:`prepare` returns them.
        y : numpy.ndarray, shape (n,) or (n, layer_sizes[-1])
            Class indices, or target rows.
        epochs : int
            Epochs to complete (an unfinished one from an earlier call counts as the first).
        validation_data : (X_test, y_test), optional
            Scored after every epoch (``test_loss``, ``test_accuracy``).
        score_train : bool
            Also score the whole training set after every epoch (``train_loss``,
            ``train_accuracy``).

        Returns
        -------
        iterator of TrainingEvent
            ``kind="step"`` after every step (``metrics`` holds the step's ``loss`` where the
            engine measures one) and ``kind="epoch"`` after every epoch (``metrics`` is the
            epoch's record, also appended to :attr:`history_`: ``epoch``, ``seconds`` of training,
            ``batch_loss`` where measured, and the scores asked for). Leaving the loop early stops
            training cleanly; a later call goes on from there (see :mod:`dropout_py.nn.engine`).
            The arguments are checked at once, before the first event.
        """
        return self._epochs(self._new_run(X, y, epochs, validation_data, score_train))

    def _new_run(
        self,
        X: np.ndarray,
        y: np.ndarray,
        epochs: int,
        validation_data: tuple[np.ndarray, np.ndarray] | None,
        score_train: bool,
    ) -> _Run:
        X, targets = self._check_data(X, y)
        epochs = check.positive_int(epochs, "epochs")
        validation = None if validation_data is None else self._check_data(*validation_data)
        return _Run(X, targets, epochs, validation, score_train)

    def fit(
        self,
        X: np.ndarray,
        y: np.ndarray,
        *,
        epochs: int = 1,
        validation_data: tuple[np.ndarray, np.ndarray] | None = None,
        score_train: bool = True,
        callback: Callable[[TrainingEvent], bool | None] | None = None,
    ) -> list[dict[str, float]]:
        """Train for ``epochs`` epochs; return the records of these epochs.

        Arguments as for :meth:`fit_iter`; ``callback`` is called with every event, and returning
        ``True`` from it stops training after that event (a later call resumes).

        Returns
        -------
        list of dict
            The records of the epochs completed in this call (also in :attr:`history_`).
        """
        run = self._new_run(X, y, epochs, validation_data, score_train)
        run.callback = callback
        return self._consume(self._epochs(run), callback)

    def resume_iter(self) -> Iterator[TrainingEvent]:
        """Go on with the ``fit``/``fit_iter`` call that was left early, as :meth:`fit_iter` would.

        Trains its :attr:`unfinished_epochs` on its data, scoring as it asked; the events count
        its epochs (``epoch`` 3 of ``epochs`` 5...).

        Raises
        ------
        RuntimeError
            If there is nothing to resume (no call was left early, or it has finished since).
        """
        if not self.unfinished_epochs:
            raise RuntimeError(
                "nothing to resume: no fit/fit_iter call of this model was left unfinished"
            )
        assert self._run is not None
        return self._epochs(self._run)

    def resume(self, callback: Callback | None = None) -> list[dict[str, float]]:
        """Finish the ``fit`` call (or ``fit_iter`` loop) that was left early, like :meth:`fit`.

        ``callback`` as for :meth:`fit`; by default the one that call was given. Returns the
        records of the epochs completed now (all of them are in :attr:`history_`).
        """
        events = self.resume_iter()
        assert self._run is not None
        return self._consume(events, callback if callback is not None else self._run.callback)

    @staticmethod
    def _consume(
        events: Iterator[TrainingEvent], callback: Callback | None
    ) -> list[dict[str, float]]:
        records = []
        for event in events:
            if event.kind == "epoch":
                records.append(event.metrics)
            if callback is not None and callback(event):
                break
        return records

    def _epochs(self, run: _Run) -> Iterator[TrainingEvent]:
        """The epoch loop behind :meth:`fit_iter`; ``run.plan`` goes to ``_plan_epoch``."""
        self._run = run
        X = run.X
        unchecked = 0  # training rows since the weights were last checked
        with self._compute_context():
            while run.done < run.epochs:
                epoch = run.done + 1
                with _holding_interrupts():
                    position = self.epoch_position_
                    if position is None or position.rows != len(X):
                        position = self.epoch_position_ = self._plan_epoch(
                            len(X), **(run.plan or {})
                        )
                steps = len(position.steps)
                while position.step < steps:
                    start, end = position.steps[position.step]
                    with _holding_interrupts():
                        started = time.perf_counter()
                        loss = self._train_step(X, run.targets, position)
                        position.seconds += time.perf_counter() - started
                        position.step += 1
                        if loss is not None and math.isfinite(loss):
                            position.losses.append(loss)
                    metrics = {}
                    if loss is not None:
                        if not math.isfinite(loss):
                            raise self._divergence(f"the loss of step {position.step} is {loss}")
                        metrics = {"loss": loss}
                    unchecked += end - start
                    if unchecked >= CHECK_ROWS:
                        self.check_finite()
                        unchecked = 0
                    yield self._observed(
                        TrainingEvent(
                            "step",
                            epoch,
                            run.epochs,
                            position.step,
                            steps,
                            position.seconds,
                            metrics,
                        )
                    )
                self.check_finite()
                unchecked = 0
                record = self._finish_epoch(position, run)
                yield self._observed(
                    TrainingEvent(
                        "epoch", epoch, run.epochs, steps, steps, position.seconds, record
                    )
                )

    def _observed(self, event: TrainingEvent) -> TrainingEvent:
        for observer in _observers:
            observer(self, event)
        return event

    def _finish_epoch(self, position: EpochPosition, run: _Run) -> dict[str, float]:
        """Score the finished epoch and record it (a stop while scoring leaves it unrecorded)."""
        record = {"epoch": float(self.epochs_trained_ + 1), "seconds": position.seconds}
        if position.losses:
            record["batch_loss"] = float(np.mean(position.losses))
        if run.score_train:
            scored = self._evaluate(run.X, run.targets)
            record.update(train_loss=scored.loss, train_accuracy=scored.accuracy)
        if run.validation is not None:
            scored = self._evaluate(*run.validation)
            record.update(test_loss=scored.loss, test_accuracy=scored.accuracy)
        for name, value in record.items():
            if not math.isfinite(value):
                raise self._divergence(f"the epoch's {name} is {value}")
        with _holding_interrupts():
            self.epoch_position_ = None
            self.epochs_trained_ += 1
            self.history_.append(record)
            run.done += 1
        return record

    def check_finite(self) -> None:
        """Raise :class:`DivergenceError` if a weight or bias is infinite or not a number."""
        name = self._nonfinite_parameter()
        if name is not None:
            raise self._divergence(f"the parameters {name} hold inf or nan")

    def _nonfinite_parameter(self) -> str | None:
        """The name of a parameter holding a value that is not finite (None: all are)."""
        for name, array in self._arrays().items():
            if not np.isfinite(array).all():
                return name
        return None

    def _divergence(self, what: str) -> DivergenceError:
        position = self.epoch_position_
        epoch = self.epochs_trained_ + 1
        if position is None:
            return DivergenceError(f"the model has diverged: {what}", epoch=epoch)
        steps = len(position.steps)
        return DivergenceError(
            f"training diverged in epoch {epoch} (step {position.step} of {steps}): {what}",
            epoch=epoch,
            step=position.step,
            steps=steps,
        )

    @abstractmethod
    def _plan_epoch(self, rows: int, **plan: Any) -> EpochPosition:
        """Draw what a new epoch over ``rows`` rows needs (order, steps, learning rate...)."""

    @abstractmethod
    def _train_step(
        self, X: np.ndarray, targets: np.ndarray, position: EpochPosition
    ) -> float | None:
        """Train step ``position.step`` of the epoch; return its loss, or None if not measured."""

    def _compute_context(self) -> AbstractContextManager[None]:
        """Held while training or predicting (the fast trainer limits BLAS threads here)."""
        return contextlib.nullcontext()

    # --- using the model ------------------------------------------------------------------

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Output-layer values for each row of ``X``, shape (n, layer_sizes[-1]).

        The full network, computed ``EVAL_CHUNK`` rows at a time.
        """
        X = self._check_inputs(X)
        with self._compute_context():
            chunks = [self._outputs(X[i : i + EVAL_CHUNK]) for i in range(0, len(X), EVAL_CHUNK)]
        return np.concatenate(chunks)

    @abstractmethod
    def _outputs(self, x: np.ndarray) -> np.ndarray:
        """The full network's outputs for a chunk of checked inputs."""

    def predict(self, X: np.ndarray) -> np.ndarray:
        """Predicted class (argmax of the outputs) for each row of ``X``, shape (n,)."""
        return np.argmax(self.predict_proba(X), axis=1)

    def score(self, X: np.ndarray, y: np.ndarray) -> Evaluation:
        """Accuracy, mean loss and confusion matrix on ``(X, y)``.

        ``y`` holds class indices (shape (n,), or the chapter's column (n, 1)) or target rows;
        the loss is the model's own against its target encoding.
        """
        return self._evaluate(*self._check_data(X, y))

    def _evaluate(self, X: np.ndarray, targets: np.ndarray) -> Evaluation:
        outputs = self.predict_proba(X)
        labels = np.argmax(targets, axis=1)
        counts = confusion_counts(labels, np.argmax(outputs, axis=1), self.layer_sizes[-1])
        accuracy = float(np.trace(counts) / len(labels))
        return Evaluation(accuracy, self._loss.value(targets, outputs), counts)

    # --- model files ----------------------------------------------------------------------

    @abstractmethod
    def config(self) -> dict[str, Any]:
        """The constructor settings as a JSON-friendly dict (seed excluded)."""

    @abstractmethod
    def _arrays(self) -> dict[str, np.ndarray]:
        """The learned parameters by name, as the model file stores them."""

    @abstractmethod
    def _set_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Take the parameters read from a file (shapes already checked)."""

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write settings, parameters, epochs trained and history to ``path`` (atomically).

        Not saved: the position of an unfinished epoch and momentum velocities (a loaded model
        starts a fresh epoch, with velocities at 0).
        """
        config = {**self.config(), "epochs_trained": self.epochs_trained_, "history": self.history_}
        return save_npz(path, kind=type(self).__name__, config=config, arrays=self._arrays())

    @staticmethod
    @abstractmethod
    def parameter_shapes(settings: Mapping[str, Any]) -> dict[str, tuple[int, ...]]:
        """Shape of every saved parameter for constructor ``settings``, allocating nothing.

        Lets a model file's arrays be checked before the model is built.
        """

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Self:
        """Read a model written by :meth:`save`, checking every array before reading it."""
        model, arrays, state = load_model_file(path, cls)
        model._set_arrays(arrays)
        model.epochs_trained_, model.history_ = state.epochs_trained, state.history
        return model
