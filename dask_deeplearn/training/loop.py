"""The one driver loop shared by every backend: iterations, scoring, stopping, best model.

A backend only trains where the data is and scores fixed samples; iterations, the scoring
schedule, the history, early stopping, the runtime limit and the best model all live here.
"""

from __future__ import annotations

import logging
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

import numpy as np
import pandas as pd

from ..exceptions import UnstableModelError
from ..network import ModelState
from .progress import SHORT_NAMES, MAX_WIDTH, headline_metrics
from .schedule import ScoringSchedule, adjust_samples_per_iteration, samples_per_iteration
from .scoring import history_columns, history_values
from .stopping import StoppingRule, metric_value

__all__ = ["Backend", "FitObserver", "TimedBackend", "TrainResult", "fit_status",
           "run_training"]

logger = logging.getLogger("dask_deeplearn")


class Backend(Protocol):
    """What the loop needs from a place that trains (in-process threads, Dask workers)."""

    n_rows: int
    n_nodes: int
    replicate: bool
    has_validation: bool

    def train_iteration(self, state: ModelState, n_samples: int, seed: int, shuffle: bool) -> tuple[ModelState, int]:
        """Train about ``n_samples`` rows; return the (new or updated) state and rows done."""
        ...

    def score(self, state: ModelState, which: str) -> Any:
        """Metrics of ``state`` on the fixed training (``"train"``) or validation sample."""
        ...


class TimedBackend(Backend, Protocol):
    """A backend whose nodes exchange weights over a network (multi-node auto-tuning).

    ``last_timing`` is ``(comm_seconds, rows_per_second)`` of the last iteration (or of
    :meth:`calibrate`): the time spent moving weights and the cluster's training speed.
    """

    last_timing: tuple[float, float] | None

    def calibrate(self, state: ModelState) -> None:
        """Measure ``last_timing`` with a small throw-away iteration."""
        ...


class FitObserver(Protocol):
    """Live reporting of one run, outside the process (the Dask dashboard page).

    A backend with an ``observer(reporter)`` method returning one (or None) gets every
    run's start, scoring events and end; the loop never lets an observer's error stop
    training (observers report and swallow their own failures).
    """

    def started(self, state: ModelState, params: dict[str, Any]) -> None:
        """The run starts from ``state`` with the effective ``params``."""
        ...

    def scored(self, row: dict[str, Any]) -> None:
        """A scoring-history row was added."""
        ...

    def finished(self, status: str, reason: str, state: ModelState | None) -> None:
        """The run ended: :func:`fit_status`, the stop reason or error, the final model."""
        ...


#: iterations in a row that trained no rows before training stops ("no training rows"): an
#: iteration of one expected row comes out empty with probability 1/e, twenty in a row with
#: probability 2e-9
EMPTY_ITERATIONS = 20

#: the stop reasons of a run that ended before its epochs (see :func:`fit_status`)
_EARLY = ("early_stopping", "classification_stop", "regression_stop", "max_runtime_secs",
          "no training rows")


def fit_status(stop_reason: str) -> str:
    """A run's outcome from its stop reason.

    ``"finished"`` (all epochs), ``"stopped early"`` (a stopping rule, the time limit),
    ``"cancelled"`` (``FitHandle.cancel``, Ctrl-C) or ``"error"`` (diverged, cluster lost).
    """
    if stop_reason == "epochs":
        return "finished"
    if stop_reason in ("cancelled", "interrupted"):
        return "cancelled"
    if stop_reason in _EARLY:
        return "stopped early"
    return "error"


@dataclass
class TrainResult:
    """What a finished training run hands back to the estimator."""

    state: ModelState
    history: pd.DataFrame
    training_metrics: Any
    validation_metrics: Any
    stop_reason: str
    iterations: int
    epochs: float
    run_time: float
    events: list[str] = field(default_factory=list)


def run_training(
    backend: Backend,
    state: ModelState,
    params: dict[str, Any],
    *,
    task: str,
    n_classes: int | None,
    seed: int,
    verbose: bool = False,
    on_score: Callable[..., None] | None = None,
    stop_requested: Callable[[], bool] | None = None,
    history: pd.DataFrame | None = None,
    iterations_done: int = 0,
) -> TrainResult:
    """Train ``state`` with ``backend`` until the epochs, a stop rule or the time limit end it.

    A backend that offers a :class:`FitObserver` (``backend.observer(reporter)``, given
    the :func:`~dask_deeplearn.training.progress.current_reporter` of this thread) is
    told about the run's start, every scoring-history row and the run's end.

    Parameters
    ----------
    backend : Backend
    state : ModelState
        Initial model (not modified when the backend returns new states).
    params : dict
        Effective parameters.
    task : {"classification", "regression", "autoencoder"}
    n_classes : int or None
    seed : int
        Resolved model seed.
    verbose : bool, default=False
        Print every scoring-history row as it is added.
    on_score : callable, optional
        ``on_score(history, line, state, training_metrics, validation_metrics)`` after every
        scoring event: the history so far, a one-line summary (progress bars, live plots)
        and the scored model (checkpoint files).
    stop_requested : callable, optional
        Polled at every iteration boundary; when it returns True training stops there
        (H2O's cancel) and the model of the last finished iteration is kept.
    history : pandas.DataFrame, optional
        Scoring history of the checkpoint this run continues (H2O's checkpoint restart):
        new rows are appended to it, and iterations, samples and training time continue from it.
    iterations_done : int, default=0
        Iterations the checkpoint ran.

    Returns
    -------
    TrainResult
    """
    from .progress import current_reporter

    options = dict(task=task, n_classes=n_classes, seed=seed, verbose=verbose,
                   on_score=on_score, stop_requested=stop_requested, history=history,
                   iterations_done=iterations_done)
    make = getattr(backend, "observer", None)
    observer: FitObserver | None = make(current_reporter()) if make is not None else None
    if observer is None:
        return _train(backend, state, params, **options)
    observer.started(state, params)
    try:
        result = _train(backend, state, params, observer=observer, **options)
    except BaseException as exc:
        kept = getattr(exc, "result", None)
        reason = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        observer.finished("error", reason, None if kept is None else kept.state)
        raise
    observer.finished(fit_status(result.stop_reason), result.stop_reason, result.state)
    return result


def _train(
    backend: Backend,
    state: ModelState,
    params: dict[str, Any],
    *,
    task: str,
    n_classes: int | None,
    seed: int,
    verbose: bool,
    on_score: Callable[..., None] | None,
    stop_requested: Callable[[], bool] | None,
    history: pd.DataFrame | None,
    iterations_done: int,
    observer: FitObserver | None = None,
) -> TrainResult:
    """The loop of :func:`run_training` (``observer`` gets every new history row).

    Returns
    -------
    TrainResult
    """
    run = _Run(backend, state, params, task=task, n_classes=n_classes, seed=seed,
               verbose=verbose, on_score=on_score, stop_requested=stop_requested,
               history=history, iterations_done=iterations_done, observer=observer)
    run.start()
    try:
        while run.state.processed / run.n_rows < run.epochs:
            if not run.iterate():
                break
    except KeyboardInterrupt:
        run.interrupted()
    except Exception as exc:
        # a failure outside training (e.g. every worker lost while scoring): hand the model
        # of the last finished iteration to the caller with the error
        if not hasattr(exc, "result"):
            kept = run.last_good if run.in_training else run.state
            run.events.append(f"iteration {run.iteration}: {type(exc).__name__}: {exc}")
            exc.result = run.kept(exc, kept, run.iteration)  # type: ignore[attr-defined]
        raise
    return run.finish()


class _Run:
    """The state of one training run, changed only by its methods.

    :meth:`start` writes the first history row, :meth:`iterate` runs one iteration (and
    scores when the schedule says so), :meth:`score_now` adds a scoring-history row,
    :meth:`finish` applies the best model and returns the :class:`TrainResult`.
    """

    def __init__(self, backend: Backend, state: ModelState, params: dict[str, Any], *,
                 task: str, n_classes: int | None, seed: int, verbose: bool,
                 on_score: Callable[..., None] | None,
                 stop_requested: Callable[[], bool] | None, history: pd.DataFrame | None,
                 iterations_done: int, observer: FitObserver | None) -> None:
        self.t0 = time.time()
        self.backend = backend
        self.state = state
        self.params = params
        self.task = task
        self.seed = seed
        self.verbose = verbose
        self.on_score = on_score
        self.stop_requested = stop_requested
        self.observer = observer
        self.continued = history is not None and len(history) > 0
        self.iterations_done = int(iterations_done)
        self.n_rows = backend.n_rows
        self.epochs = float(params["epochs"])
        self.max_runtime = float(params["max_runtime_secs"])
        self.rule = StoppingRule.from_params(params, task)
        cols = history_columns(task, n_classes)
        if params.get("custom_metric_func") is not None:
            cols = cols + ["custom"]
        self.cols = cols
        self.has_valid = backend.has_validation
        self.schedule = ScoringSchedule(
            score_interval=float(params["score_interval"]),
            score_duty_cycle=float(params["score_duty_cycle"]),
            score_each_iteration=bool(params["score_each_iteration"]),
        )
        nan_row = {f"training_{c}": float("nan") for c in cols}
        if self.has_valid:
            nan_row.update({f"validation_{c}": float("nan") for c in cols})
        self.no_metrics = nan_row
        self.rows: list[dict[str, Any]] = [
            {"timestamp": pd.Timestamp.now(), "duration": 0.0, "training_speed": float("nan"),
             "epochs": state.processed / self.n_rows, "iterations": 0,
             "samples": float(state.processed), **nan_row}
        ]
        self.train_time = 0.0
        self.t_offset = 0.0
        if self.continued:
            self.rows = [dict(r) for r in history.to_dict("records")]  # type: ignore[union-attr]
            last = self.rows[-1]
            speed = float(last.get("training_speed", float("nan")))
            if speed > 0 and math.isfinite(speed):
                self.train_time = state.processed / speed
            self.t_offset = float(last.get("duration", 0.0))
        # the stopping rule looks at this run's scoring events only (the first row is skipped)
        self.stop_values: list[float] = []
        self.iteration = self.iterations_done
        self.stop_reason = "epochs"
        self.best_state: ModelState | None = None
        self.best_loss = math.inf
        self.train_m: Any = None
        self.valid_m: Any = None
        self.rows_per_10s: float | None = None
        self.events: list[str] = []
        self.last_dt = 0.0
        self.empty = 0  # iterations in a row that trained no rows
        self.tspi = 0
        self.in_training = False
        self.last_good = state
        self.tspi_param = int(params["train_samples_per_iteration"])
        self.target_ratio = float(params["target_ratio_comm_to_comp"])
        self.multi_auto = (self.tspi_param == -2 and backend.n_nodes > 1
                           and not params["single_node_mode"] and hasattr(backend, "calibrate"))

    # ------------------------------------------------------------------ results
    def result(self, state: ModelState, stop_reason: str, iterations: int) -> TrainResult:
        """The run's :class:`TrainResult` with ``state`` as its model."""
        return TrainResult(
            state=state, history=pd.DataFrame(self.rows), training_metrics=self.train_m,
            validation_metrics=self.valid_m, stop_reason=stop_reason, iterations=iterations,
            epochs=state.processed / self.n_rows, run_time=time.time() - self.t0,
            events=self.events)

    def kept(self, exc: BaseException, state: ModelState, iterations: int) -> TrainResult:
        """The result of a run that ``exc`` ended, with ``state`` as its model.

        An error with a ``stop_reason`` attribute ends the run from outside while the model
        is sound (the Dask backend's lost cluster: ``"interrupted: every worker lost"``,
        ``"interrupted: scheduler lost"``): that is the result's stop reason, and the
        scoring history says so in a ``status`` column added after H2O's columns, on its
        last row, which is the kept model: the row of its scoring event, or a new row with
        its epochs, iterations and samples and no metrics (nothing is left to score it
        on). Any other error gives the stop reason ``"failed"`` and the history as it was.
        """
        reason = getattr(exc, "stop_reason", None)
        if not isinstance(reason, str):
            return self.result(state, "failed", iterations)
        last = self.rows[-1]
        if last["iterations"] != iterations or last["samples"] != float(state.processed):
            self.rows.append({**self._progress(state, iterations, time.time()),
                              **self.no_metrics})
        self.rows[-1]["status"] = reason
        self.events.append(f"iteration {iterations}: {reason}; its model is kept")
        return self.result(state, reason, iterations)

    def _progress(self, state: ModelState, iterations: int, end: float) -> dict[str, Any]:
        """The history columns before the metrics, for ``state`` at time ``end``."""
        return {
            "timestamp": pd.Timestamp.now(),
            "duration": self.t_offset + end - self.t0,
            "training_speed": state.processed / max(self.train_time, 1e-9),
            "epochs": state.processed / self.n_rows,
            "iterations": iterations,
            "samples": float(state.processed),
        }

    # ------------------------------------------------------------------ scoring
    def score_now(self) -> None:
        """Score the current model, add a history row and track the best model."""
        backend, state = self.backend, self.state
        start = time.time()
        self.train_m = backend.score(state, "train")
        self.valid_m = backend.score(state, "valid") if self.has_valid else None
        end = time.time()
        self.schedule.record(start, end)
        row = self._progress(state, self.iteration, end)
        row.update({f"training_{k}": v
                    for k, v in history_values(self.train_m, self.cols).items()})
        if self.has_valid:
            row.update({f"validation_{k}": v
                        for k, v in history_values(self.valid_m, self.cols).items()})
        self.rows.append(row)
        if self.observer is not None:
            self.observer.scored(row)
        ref = self.valid_m if self.has_valid else self.train_m
        self.stop_values.append(self.rule.value(ref))
        loss = self.rule.loss(ref)
        if self.params["overwrite_with_best_model"] and not math.isnan(loss) \
                and loss < self.best_loss:
            self.best_loss = loss
            self.best_state = state.copy()
        line = _format_row(row, self.cols, self.has_valid)
        if self.verbose:
            print(line, flush=True)
        logger.info(line)
        if self.on_score is not None:
            self.on_score(pd.DataFrame(self.rows), line, state, self.train_m, self.valid_m)

    # ------------------------------------------------------------------ iterations
    def start(self) -> None:
        """The first scoring (an autoencoder's untrained model, or a run of 0 epochs)."""
        if self.task == "autoencoder" and not self.continued:
            # H2O starts an autoencoder's history with the untrained model scored, instead
            # of a supervised model's row of NaN
            self.rows.clear()
            self.score_now()
        elif self.epochs <= 0:
            self.score_now()
        if self.multi_auto and self.epochs > 0:
            self.backend.calibrate(self.state)  # type: ignore[attr-defined]

    def _samples(self) -> int:
        """Rows of the next iteration (``train_samples_per_iteration``, auto-tuned)."""
        backend, params = self.backend, self.params
        if self.multi_auto and self.iteration > self.iterations_done + 1:
            comm, _ = backend.last_timing or (0.0, 0.0)  # type: ignore[attr-defined]
            return adjust_samples_per_iteration(
                self.tspi, comm_seconds=comm, iteration_seconds=self.last_dt,
                target_ratio_comm_to_comp=self.target_ratio,
                max_rows=min(max(1.0, self.epochs * self.n_rows / 10.0),
                             100_000 * backend.n_nodes))
        timing = getattr(backend, "last_timing", None) if self.multi_auto else None
        return samples_per_iteration(
            self.tspi_param,
            n_rows=self.n_rows,
            epochs=self.epochs,
            n_nodes=backend.n_nodes,
            replicate=backend.replicate,
            single_node_mode=bool(params["single_node_mode"]),
            rows_per_10s=self.rows_per_10s,
            comm_seconds=None if timing is None else timing[0],
            rows_per_second=None if timing is None else timing[1],
            target_ratio_comm_to_comp=self.target_ratio,
        )

    def iterate(self) -> bool:
        """One iteration, scored when due; False when training stops here.

        Raises
        ------
        UnstableModelError
            The iteration diverged (``exc.result`` holds the last finite model).
        Exception
            The backend failed (``exc.result`` holds the model of the last iteration).
        """
        if self.stop_requested is not None and self.stop_requested():
            self.stop_reason = "cancelled"
            self.events.append(f"cancelled before iteration {self.iteration + 1}")
            return False
        self.iteration += 1
        iteration = self.iteration
        self.tspi = self._samples()
        shuffle = bool(self.params["shuffle_training_data"])
        state = self.state
        # the last finite model survives a diverging iteration (in-place backends mutate)
        self.last_good = state.copy() if getattr(self.backend, "in_place", False) else state
        it_start = time.time()
        self.in_training = True
        try:
            # (the seed moves on with the rows trained, and past an empty iteration)
            seed = self.seed + state.processed + 0x9E37 * self.empty
            new_state, done = self.backend.train_iteration(state, self.tspi, seed, shuffle)
            self.in_training = False
        except Exception as exc:
            # e.g. every worker lost: hand the last finished model to the caller
            self.events.append(f"iteration {iteration}: {type(exc).__name__}: {exc}")
            exc.result = self.kept(exc, self.last_good, iteration - 1)  # type: ignore[attr-defined]
            raise
        dt = time.time() - it_start
        self.last_dt = dt
        self.train_time += dt
        if done > 0 and dt > 0:
            self.rows_per_10s = done / dt * 10.0
        reason = new_state.unstable_reason()
        if reason is not None:
            exc = UnstableModelError(
                f"Training diverged: {reason} after iteration "
                f"{iteration} ({new_state.processed / self.n_rows:.3f} epochs). Likely causes: a "
                "manual 'rate' that is too large, no 'max_w2' constraint with Rectifier, or "
                "unscaled inputs with standardize=False. Try adaptive_rate=True, a smaller "
                "rate, or max_w2=10. The model keeps the last finite weights (iteration "
                f"{iteration - 1})."
            )
            self.events.append(f"iteration {iteration}: {reason}; training stopped")
            exc.result = self.result(self.last_good, "diverged",  # type: ignore[attr-defined]
                                     iteration - 1)
            raise exc
        self.state = new_state
        # an iteration of a few rows, drawn by Bernoulli sampling, can come out empty by
        # chance; training stops only when iterations keep training nothing
        self.empty = self.empty + 1 if done == 0 else 0
        if self.empty >= EMPTY_ITERATIONS:
            self.events.append(f"iteration {iteration}: no rows were trained in "
                               f"{EMPTY_ITERATIONS} iterations in a row")
            self.stop_reason = "no training rows"
            self.score_now()
            return False
        if done == 0:
            return True
        timed_out = self.max_runtime > 0 and time.time() - self.t0 > self.max_runtime
        final = self.state.processed / self.n_rows >= self.epochs or timed_out
        if self.schedule.due(time.time(), final=final):
            self.score_now()
            reason = self._stopped()
            if reason is not None:
                self.stop_reason = reason
                return False
        if timed_out:
            self.stop_reason = "max_runtime_secs"
            return False
        return True

    def _stopped(self) -> str | None:
        """The stop reason after a scoring event, or None to go on.

        ``classification_stop`` / ``regression_stop`` look at the training metrics (as in
        H2O), then the early-stopping rule at the run's stopping values.
        """
        params = self.params
        if self.task == "classification":
            cs = float(params["classification_stop"])
            err = metric_value(self.train_m, "misclassification")
            if cs >= 0 and not math.isnan(err) and err <= cs:
                return "classification_stop"
        else:
            rs = float(params["regression_stop"])
            mse = metric_value(self.train_m, "MSE")
            if rs >= 0 and not math.isnan(mse) and mse <= rs:
                return "regression_stop"
        if self.rule.should_stop(self.stop_values):
            return "early_stopping"
        return None

    def interrupted(self) -> None:
        """Ctrl-C: keep the model of the last finished iteration (as scikit-learn's MLP
        and H2O's cancel); an in-place backend may have been mid-update."""
        warnings.warn("Training interrupted by the user; the model of the last finished "
                      "iteration is kept.", UserWarning, stacklevel=3)
        if self.in_training:
            self.state = self.last_good
            self.iteration -= 1
        self.stop_reason = "interrupted"
        self.events.append(f"interrupted after iteration {self.iteration}")

    def finish(self) -> TrainResult:
        """Score a cancelled model, apply the best model, and return the result."""
        if self.stop_reason in ("cancelled", "interrupted") and (
                len(self.rows) == 1 or self.rows[-1]["iterations"] != self.iteration):
            self.score_now()  # a cancelled model still gets metrics for its last iteration
        # Overwrite with the best model scored. (H2O skips this after a timeout, which
        # looks like a bug; it is applied here in every case.)
        if self.params["overwrite_with_best_model"] and self.best_state is not None:
            ref = self.valid_m if self.has_valid else self.train_m
            if self.best_loss < self.rule.loss(ref):
                self.best_state.processed = self.state.processed
                self.state = self.best_state
                self.events.append("final model overwritten with the best scored model")
                self.score_now()
        return self.result(self.state, self.stop_reason, self.iteration)


def _format_row(row: dict[str, Any], cols: list[str], has_valid: bool) -> str:
    """One scoring-history row as a line of at most ``MAX_WIDTH`` characters: progress,
    then the task's headline metrics on training and validation data (never R^2 for a
    classifier); the speed, then the training metrics go first when it is too long."""
    names = headline_metrics(cols)

    def frame(which: str, label: str) -> str:
        values = " ".join(f"{SHORT_NAMES.get(n, n)} {row[f'{which}_{n}']:.4g}" for n in names)
        return f"{label} {values}"

    head = [f"epochs {row['epochs']:.2f}", f"iter {row['iterations']}"]
    speed = [f"{row['training_speed']:.0f} obs/s"]
    train = [frame("training", "train")] if names else []
    valid = [frame("validation", "valid")] if names and has_valid else []
    for parts in (head + speed + train + valid, head + train + valid, head + valid):
        line = " | ".join(parts)
        if len(line) <= MAX_WIDTH:
            return line
    return line[:MAX_WIDTH]
