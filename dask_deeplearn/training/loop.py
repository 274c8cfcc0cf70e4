"""The one driver loop shared by every backend (semantics §7.1, §8, §9).

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
from .schedule import (
    MORE_IS_BETTER,
    ScoringSchedule,
    adjust_samples_per_iteration,
    samples_per_iteration,
    stop_early,
)
from .scoring import history_columns, history_values

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


def _metric_value(m: Any, name: str) -> float:
    if m is None:
        return float("nan")
    try:
        v = m.get(name)
    except (KeyError, AttributeError, ValueError):
        return float("nan")
    return float("nan") if v is None else float(v)


def _loss_for_best(m: Any, metric: str) -> float:
    """H2O's ``loss()`` for the best-model comparison: smaller is better (§9.3)."""
    v = _metric_value(m, metric)
    if metric in MORE_IS_BETTER:
        return 1.0 - v if metric in ("AUC", "AUCPR") else -v
    return v


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
        Scoring history of the checkpoint this run continues (semantics §1.4): new rows
        are appended to it, and iterations, samples and training time continue from it.
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
    t0 = time.time()
    N = backend.n_rows
    epochs = float(params["epochs"])
    stopping_rounds = int(params["stopping_rounds"])
    default_metric = {"classification": "logloss", "autoencoder": "MSE"}.get(task, "deviance")
    stopping_metric = params.get("stopping_metric") or default_metric
    best_metric = params.get("stopping_metric") or default_metric
    max_runtime = float(params["max_runtime_secs"])
    cols = history_columns(task, n_classes)
    if params.get("custom_metric_func") is not None:
        cols = cols + ["custom"]
    has_valid = backend.has_validation
    schedule = ScoringSchedule(
        score_interval=float(params["score_interval"]),
        score_duty_cycle=float(params["score_duty_cycle"]),
        score_each_iteration=bool(params["score_each_iteration"]),
    )
    nan_row = {f"training_{c}": float("nan") for c in cols}
    if has_valid:
        nan_row.update({f"validation_{c}": float("nan") for c in cols})
    rows: list[dict[str, Any]] = [
        {"timestamp": pd.Timestamp.now(), "duration": 0.0, "training_speed": float("nan"),
         "epochs": state.processed / N, "iterations": 0, "samples": float(state.processed), **nan_row}
    ]
    train_time = 0.0
    t_offset = 0.0
    if history is not None and len(history):
        rows = [dict(r) for r in history.to_dict("records")]
        last = rows[-1]
        speed = float(last.get("training_speed", float("nan")))
        if speed > 0 and math.isfinite(speed):
            train_time = state.processed / speed
        t_offset = float(last.get("duration", 0.0))
    # the stopping rule looks at this run's scoring events only (the first row is skipped)
    stop_values: list[float] = []
    iteration = int(iterations_done)
    stop_reason = "epochs"
    best_state: ModelState | None = None
    best_loss = math.inf
    train_m = valid_m = None
    rows_per_10s: float | None = None
    events: list[str] = []

    def score_now(final_flag: bool) -> None:
        nonlocal train_m, valid_m, best_state, best_loss
        start = time.time()
        train_m = backend.score(state, "train")
        valid_m = backend.score(state, "valid") if has_valid else None
        end = time.time()
        schedule.record(start, end)
        row = {
            "timestamp": pd.Timestamp.now(),
            "duration": t_offset + end - t0,
            "training_speed": state.processed / max(train_time, 1e-9),
            "epochs": state.processed / N,
            "iterations": iteration,
            "samples": float(state.processed),
        }
        row.update({f"training_{k}": v for k, v in history_values(train_m, cols).items()})
        if has_valid:
            row.update({f"validation_{k}": v for k, v in history_values(valid_m, cols).items()})
        rows.append(row)
        if observer is not None:
            observer.scored(row)
        ref = valid_m if has_valid else train_m
        stop_values.append(_metric_value(ref, stopping_metric))
        loss = _loss_for_best(ref, best_metric)
        if params["overwrite_with_best_model"] and not math.isnan(loss) and loss < best_loss:
            best_loss = loss
            best_state = state.copy()
        line = _format_row(row, cols, has_valid)
        if verbose:
            print(line, flush=True)
        logger.info(line)
        if on_score is not None:
            on_score(pd.DataFrame(rows), line, state, train_m, valid_m)

    last_dt = 0.0
    if task == "autoencoder" and (history is None or not len(history)):
        # H2O starts an autoencoder's history with the untrained model scored (§8.3),
        # instead of a supervised model's row of NaN
        rows.clear()
        score_now(epochs <= 0)
    elif epochs <= 0:
        score_now(True)
        stop_reason = "epochs"
    tspi_param = int(params["train_samples_per_iteration"])
    target_ratio = float(params["target_ratio_comm_to_comp"])
    multi_auto = (tspi_param == -2 and backend.n_nodes > 1
                  and not params["single_node_mode"] and hasattr(backend, "calibrate"))
    if multi_auto and epochs > 0:
        backend.calibrate(state)  # type: ignore[attr-defined]
    tspi = 0
    in_training = False
    last_good = state
    try:
        while state.processed / N < epochs:
            if stop_requested is not None and stop_requested():
                stop_reason = "cancelled"
                events.append(f"cancelled before iteration {iteration + 1}")
                break
            iteration += 1
            if multi_auto and iteration > iterations_done + 1:
                comm, _ = backend.last_timing or (0.0, 0.0)  # type: ignore[attr-defined]
                tspi = adjust_samples_per_iteration(
                    tspi, comm_seconds=comm, iteration_seconds=last_dt,
                    target_ratio_comm_to_comp=target_ratio,
                    max_rows=min(max(1.0, epochs * N / 10.0), 100_000 * backend.n_nodes))
            else:
                timing = getattr(backend, "last_timing", None) if multi_auto else None
                tspi = samples_per_iteration(
                    tspi_param,
                    n_rows=N,
                    epochs=epochs,
                    n_nodes=backend.n_nodes,
                    replicate=backend.replicate,
                    single_node_mode=bool(params["single_node_mode"]),
                    rows_per_10s=rows_per_10s,
                    comm_seconds=None if timing is None else timing[0],
                    rows_per_second=None if timing is None else timing[1],
                    target_ratio_comm_to_comp=target_ratio,
                )
            shuffle = bool(params["shuffle_training_data"])
            # the last finite model survives a diverging iteration (in-place backends mutate)
            last_good = state.copy() if getattr(backend, "in_place", False) else state
            it_start = time.time()
            in_training = True
            try:
                new_state, done = backend.train_iteration(state, tspi, seed + state.processed,
                                                          shuffle)
                in_training = False
            except Exception as exc:
                # e.g. every worker lost: hand the last finished model to the caller
                events.append(f"iteration {iteration}: {type(exc).__name__}: {exc}")
                exc.result = TrainResult(  # type: ignore[attr-defined]
                    state=last_good, history=pd.DataFrame(rows), training_metrics=train_m,
                    validation_metrics=valid_m, stop_reason="failed", iterations=iteration - 1,
                    epochs=last_good.processed / N, run_time=time.time() - t0, events=events)
                raise
            dt = time.time() - it_start
            last_dt = dt
            train_time += dt
            if done > 0 and dt > 0:
                rows_per_10s = done / dt * 10.0
            reason = new_state.unstable_reason()
            if reason is not None:
                exc = UnstableModelError(
                    f"Training diverged: {reason} after iteration "
                    f"{iteration} ({new_state.processed / N:.3f} epochs). Likely causes: a "
                    "manual 'rate' that is too large, no 'max_w2' constraint with Rectifier, or "
                    "unscaled inputs with standardize=False. Try adaptive_rate=True, a smaller "
                    "rate, or max_w2=10. The model keeps the last finite weights (iteration "
                    f"{iteration - 1})."
                )
                events.append(f"iteration {iteration}: {reason}; training stopped")
                exc.result = TrainResult(  # type: ignore[attr-defined]
                    state=last_good, history=pd.DataFrame(rows), training_metrics=train_m,
                    validation_metrics=valid_m, stop_reason="diverged", iterations=iteration - 1,
                    epochs=last_good.processed / N, run_time=time.time() - t0, events=events)
                raise exc
            state = new_state
            if done == 0:
                events.append(f"iteration {iteration}: no rows were trained")
                stop_reason = "no training rows"
                score_now(True)
                break
            timed_out = max_runtime > 0 and time.time() - t0 > max_runtime
            final = state.processed / N >= epochs or timed_out
            if schedule.due(time.time(), final=final):
                score_now(final)
                # classification_stop / regression_stop on the training sample (§9.2)
                if task == "classification":
                    cs = float(params["classification_stop"])
                    err = _metric_value(train_m, "misclassification")
                    if cs >= 0 and not math.isnan(err) and err <= cs:
                        stop_reason = "classification_stop"
                        break
                else:
                    rs = float(params["regression_stop"])
                    mse = _metric_value(train_m, "MSE")
                    if rs >= 0 and not math.isnan(mse) and mse <= rs:
                        stop_reason = "regression_stop"
                        break
                if stop_early(stop_values, stopping_rounds=stopping_rounds,
                              stopping_metric=stopping_metric,
                              stopping_tolerance=float(params["stopping_tolerance"])):
                    stop_reason = "early_stopping"
                    break
            if timed_out:
                stop_reason = "max_runtime_secs"
                break
    except KeyboardInterrupt:
        # as scikit-learn's MLP and H2O's cancel: keep the model of the last finished
        # iteration (an in-place backend may have been mid-update: restore its copy)
        warnings.warn("Training interrupted by the user; the model of the last finished "
                      "iteration is kept.", UserWarning, stacklevel=2)
        if in_training:
            state = last_good
            iteration -= 1
        stop_reason = "interrupted"
        events.append(f"interrupted after iteration {iteration}")
    except Exception as exc:
        # a failure outside training (e.g. every worker lost while scoring): hand the model
        # of the last finished iteration to the caller with the error
        if not hasattr(exc, "result"):
            kept = last_good if in_training else state
            events.append(f"iteration {iteration}: {type(exc).__name__}: {exc}")
            exc.result = TrainResult(  # type: ignore[attr-defined]
                state=kept, history=pd.DataFrame(rows), training_metrics=train_m,
                validation_metrics=valid_m, stop_reason="failed", iterations=iteration,
                epochs=kept.processed / N, run_time=time.time() - t0, events=events)
        raise
    if stop_reason in ("cancelled", "interrupted") and (
            len(rows) == 1 or rows[-1]["iterations"] != iteration):
        score_now(True)  # a cancelled model still gets metrics for its last iteration
    # Overwrite with the best model (§9.3). H2O skips this on timeout; we do not (a bug).
    if params["overwrite_with_best_model"] and best_state is not None:
        ref = valid_m if has_valid else train_m
        if best_loss < _loss_for_best(ref, best_metric):
            best_state.processed = state.processed
            state = best_state
            events.append("final model overwritten with the best scored model")
            score_now(True)
    history = pd.DataFrame(rows)
    return TrainResult(
        state=state,
        history=history,
        training_metrics=train_m,
        validation_metrics=valid_m,
        stop_reason=stop_reason,
        iterations=iteration,
        epochs=state.processed / N,
        run_time=time.time() - t0,
        events=events,
    )


def _format_row(row: dict[str, Any], cols: list[str], has_valid: bool) -> str:
    parts = [
        f"epochs {row['epochs']:.2f}",
        f"iter {row['iterations']}",
        f"{row['training_speed']:.0f} obs/s",
    ]
    for c in cols[:3]:
        parts.append(f"train {c} {row['training_' + c]:.5g}")
        if has_valid:
            parts.append(f"valid {c} {row['validation_' + c]:.5g}")
    return " | ".join(parts)
